/**
 * One destination of a stream: its own SRT session, its own start gate, its
 * own statistics and state.
 *
 * A stream goes to at most two destinations (a MediaConnect flow takes two
 * sources: FAILOVER or MERGE; or two flows in two regions). The box's stream
 * unit (src/supervisor/stream-unit.ts) and the bonding receiver's fan-out
 * (src/bond/receiver-fanout.ts, `fieldcast receive` with two forwards) hand
 * each destination the same TS chunks in the same event-loop turns, so
 * both send the same bytes cut the same way into SRT payloads of 7 × 188
 * bytes (SrtConnection.send): what MERGE needs, binary-identical sources.
 *
 * Nothing is shared between two destinations but the chunks they are given:
 * each SrtConnection has its own native send queue (bounded, never blocking
 * the caller: a full queue drops and counts), its own reconnect policy
 * (SrtOutput) and its own gate. A destination that is down holds its gate
 * shut (its chunks are not sent), reconnects by itself, and when it comes back
 * starts again at a random access point (StartGate) — the other one goes on
 * with every packet, unchanged.
 */
import type { DestinationConfigT } from '../config/schema.js';
import { TypedEmitter } from '../lib/events.js';
import { type ChunkInfo, StartGate, type StartGateStats, type StartMode } from '../mux/index.js';
import { parseSrtUrl, type SrtError, SrtOutput, type SrtStats } from '../srt/index.js';

const SRT_STATS_INTERVAL_MS = 100;

export type DestinationOutputState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** One destination's SRT figures, as the status snapshot and the metrics show them. */
export interface DestinationSrtStats {
  /** The destination's name (config), and its place in `destinations`. */
  name: string;
  index: number;
  state: DestinationOutputState;
  connected: boolean;
  rttMs: number;
  sendRateBps: number;
  sendBufferMs: number;
  lossPackets: number;
  retransPackets: number;
  dropPackets: number;
  bandwidthBps: number;
  /** Bytes handed to SRT while connected, and chunks not sent while it was not (since the stream started). */
  sentBytes: number;
  droppedPackets: number;
  connects: number;
  /** Seconds since the connection came up, while it is up. */
  connectedForS?: number;
  /** Why it is not up, in words, and whether only the operator can fix it (a wrong passphrase). */
  lastError?: { code: string; message: string };
  needsOperator: boolean;
  gate: StartGateStats;
}

/** The figures of the destination the bit rate follows, as `StreamStats.srt` carries them. */
export type LeadSrtStats = Pick<
  DestinationSrtStats,
  | 'connected'
  | 'rttMs'
  | 'sendRateBps'
  | 'sendBufferMs'
  | 'lossPackets'
  | 'retransPackets'
  | 'dropPackets'
  | 'bandwidthBps'
  | 'connectedForS'
  | 'lastError'
  | 'needsOperator'
>;

/** The leading destination's figures, or zero ones while there is none. */
export function leadSrtStats(d: DestinationSrtStats | undefined): LeadSrtStats {
  return {
    connected: d?.connected ?? false,
    rttMs: d?.rttMs ?? 0,
    sendRateBps: d?.sendRateBps ?? 0,
    sendBufferMs: d?.sendBufferMs ?? 0,
    lossPackets: d?.lossPackets ?? 0,
    retransPackets: d?.retransPackets ?? 0,
    dropPackets: d?.dropPackets ?? 0,
    bandwidthBps: d?.bandwidthBps ?? 0,
    ...(d?.connectedForS !== undefined ? { connectedForS: d.connectedForS } : {}),
    ...(d?.lastError ? { lastError: d.lastError } : {}),
    needsOperator: d?.needsOperator ?? false,
  };
}

export type DestinationOutputEvents = {
  connecting: [attempt: number];
  connected: [peer: string];
  disconnected: [error: SrtError];
  failed: [error: SrtError, retryInMs: number];
  stats: [stats: SrtStats];
};

export interface DestinationOutputOptions {
  /** How the gate starts this destination's stream: see StartGate. */
  startMode: StartMode;
  bufferMs: number;
  /** Bonded: the local bonding sender's port, called instead of the destination's address. */
  bondPort?: number;
}

/** The SRT URL to call: the destination's, or the local bonding sender's port with the destination's options. */
export function destinationUrl(d: DestinationConfigT, bondPort?: number): string {
  const u = new URL(d.url);
  if (bondPort !== undefined) {
    u.hostname = '127.0.0.1';
    u.port = String(bondPort);
  }
  u.searchParams.set('latency', String(d.latencyMs));
  if (d.passphrase) {
    u.searchParams.set('passphrase', d.passphrase);
    u.searchParams.set('pbkeylen', String(d.pbkeylen));
  }
  if (d.streamId) u.searchParams.set('streamid', d.streamId);
  return u.toString();
}

export class DestinationOutput extends TypedEmitter<DestinationOutputEvents> {
  readonly destination: DestinationConfigT;
  readonly index: number;
  readonly #srt: SrtOutput;
  readonly #gate: StartGate;
  #state: DestinationOutputState = 'connecting';
  #connectedAt = 0;

  constructor(destination: DestinationConfigT, index: number, options: DestinationOutputOptions) {
    super();
    this.destination = structuredClone(destination);
    this.index = index;
    const srt = new SrtOutput(parseSrtUrl(destinationUrl(destination, options.bondPort)), { statsIntervalMs: SRT_STATS_INTERVAL_MS });
    this.#srt = srt;
    this.#gate = new StartGate({ mode: options.startMode, bufferMs: options.bufferMs, onChunk: (c) => srt.send(c) });
    srt.on('connecting', (attempt) => {
      if (attempt === 1 && this.#state === 'live') this.#state = 'reconnecting';
      this.emit('connecting', attempt);
    });
    srt.on('connected', (info) => {
      this.#connectedAt = Date.now();
      this.#state = 'live';
      this.#gate.open();
      this.emit('connected', info.peer);
    });
    srt.on('disconnected', (e) => {
      this.#gate.close();
      this.#state = 'reconnecting';
      this.emit('disconnected', e);
    });
    srt.on('failed', (e, retryInMs) => {
      this.#gate.close();
      this.emit('failed', e, retryInMs);
    });
    srt.on('stats', (s) => this.emit('stats', s));
  }

  get state(): DestinationOutputState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#srt.connected;
  }

  get needsOperator(): boolean {
    return this.#srt.needsOperator;
  }

  start(): void {
    this.#srt.start();
  }

  /** A chunk of the stream, through the gate (held back until this destination is connected and at a random access point). */
  push(chunk: Buffer, info: ChunkInfo): void {
    this.#gate.push(chunk, info);
  }

  /** A chunk sent as it is while connected, past the gate (a file sent whole from its first byte). */
  sendIfConnected(chunk: Buffer): void {
    if (this.#srt.connected) this.#srt.send(chunk);
  }

  /** Lets what is queued reach the destination (at most `timeoutMs`), then hangs up. */
  async end(timeoutMs?: number): Promise<void> {
    this.#state = 'closed';
    this.#gate.close();
    await this.#srt.end(timeoutMs);
  }

  /** Hangs up at once (idempotent). */
  close(): void {
    this.#state = 'closed';
    this.#gate.close();
    this.#srt.close();
  }

  /** The latest SRT sample, for the bit rate controller. */
  get srtStats(): SrtStats | undefined {
    return this.#srt.stats;
  }

  stats(): DestinationSrtStats {
    const s = this.#srt.stats;
    const c = this.#srt.counters;
    const up = this.#srt.connected;
    const err = this.#srt.lastError;
    return {
      name: this.destination.name,
      index: this.index,
      state: this.#state,
      connected: up,
      rttMs: s?.msRTT ?? 0,
      sendRateBps: (s?.mbpsSendRate ?? 0) * 1e6,
      sendBufferMs: s?.msSndBuf ?? 0,
      lossPackets: s?.pktSndLossTotal ?? 0,
      retransPackets: s?.pktRetransTotal ?? 0,
      dropPackets: s?.pktSndDropTotal ?? 0,
      bandwidthBps: (s?.mbpsBandwidth ?? 0) * 1e6,
      sentBytes: c.sentBytes,
      droppedPackets: c.droppedPackets,
      connects: c.connects,
      ...(up && this.#connectedAt > 0 ? { connectedForS: Math.round((Date.now() - this.#connectedAt) / 1000) } : {}),
      ...(err && !up ? { lastError: { code: err.code, message: err.message } } : {}),
      needsOperator: this.#srt.needsOperator,
      gate: this.#gate.stats,
    };
  }
}
