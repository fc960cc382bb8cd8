/**
 * One SRT socket in live mode: caller, rendezvous, or a listener that serves
 * ONE peer at a time (a second caller is refused with "already receiving from
 * another sender" until the first leaves; the box sends one stream, the demo
 * and tests receive one).
 *
 * All libsrt work runs on a native thread (native/src/srt_socket.cc); `send`
 * only copies into a bounded native queue and never blocks. When the queue
 * is full the OLDEST messages are dropped and counted (live video wants the
 * newest data); sends while not connected are dropped and counted too.
 *
 * A caller or rendezvous connection is single-use: after 'failed' or
 * 'disconnected' it ends with 'closed' (SrtOutput makes new ones). A listener
 * keeps listening after its peer leaves, until close().
 */
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { loadSrtNative } from '../native/binding.js';
import type { SrtNativeMessage, SrtNativeOptions, SrtNativeSocket } from '../native/srt.js';
import { type SrtError, srtErrorFromNative } from './errors.js';
import type { SrtStats } from './stats.js';
import { endpointTarget, formatSrtUrl, parseSrtUrl, type SrtEndpoint } from './url.js';

const log = createLogger('srt');

export interface SrtConnectionOptions {
  /** 'send' (default) or 'receive': which way the stream flows. */
  role?: 'send' | 'receive';
  /** Statistics period in ms (10..1000, default 100 = 10 per second). */
  statsIntervalMs?: number;
  /** Bound of the native send queue in messages (default 4096 ≈ 5.4 MB of 1316-byte messages). */
  sendQueuePackets?: number;
  /** Listener only: accept callers with one of these stream ids, refuse the rest (default: any). */
  acceptStreamIds?: string[];
}

export interface SrtPeerInfo {
  /** "ip:port" or "[ipv6]:port". */
  peer: string;
  /** The stream id the caller sent (listener side), or ''. */
  streamId: string;
}

export type SrtConnectionEvents = {
  /** A listener is bound; `port` is the real one (useful with port 0). */
  listening: [port: number];
  connected: [info: SrtPeerInfo];
  /** A connected peer went away (SRT_PEER_CLOSED, SRT_CONNECTION_LOST). */
  disconnected: [error: SrtError];
  /** Could not connect or listen (SRT_AUTH_FAILED, SRT_CONNECT_TIMEOUT, SRT_BIND_FAILED, ...). */
  failed: [error: SrtError];
  stats: [stats: SrtStats];
  /** Received data (role 'receive'), in order, whole SRT messages concatenated. */
  data: [chunk: Buffer];
  /** The native thread has stopped; nothing more will be emitted. */
  closed: [];
};

export type SrtConnectionState = 'idle' | 'connecting' | 'listening' | 'connected' | 'closed';

export function toNativeOptions(e: SrtEndpoint, o: SrtConnectionOptions): SrtNativeOptions {
  const statsIntervalMs = o.statsIntervalMs ?? 100;
  if (!Number.isInteger(statsIntervalMs) || statsIntervalMs < 10 || statsIntervalMs > 1000) {
    throw new RangeError(`statsIntervalMs must be 10..1000 ms, not ${statsIntervalMs}`);
  }
  const sendQueuePackets = o.sendQueuePackets ?? 4096;
  if (!Number.isInteger(sendQueuePackets) || sendQueuePackets < 1 || sendQueuePackets > 1_000_000) {
    throw new RangeError(`sendQueuePackets must be 1..1000000, not ${sendQueuePackets}`);
  }
  const acceptStreamIds = o.acceptStreamIds ?? [];
  if (acceptStreamIds.length > 0 && e.mode !== 'listener') {
    throw new RangeError('acceptStreamIds applies to a listener only');
  }
  for (const id of acceptStreamIds) {
    if (typeof id !== 'string' || id.length > 512)
      throw new RangeError('acceptStreamIds: each stream id is a string of at most 512 characters');
  }
  return {
    mode: e.mode,
    acceptStreamIds,
    role: o.role ?? 'send',
    host: e.host,
    port: e.port,
    localHost: e.adapter,
    localPort: e.localPort,
    ipv6: e.ipv6,
    latencyMs: e.latencyMs,
    rcvLatencyMs: e.rcvLatencyMs,
    peerLatencyMs: e.peerLatencyMs,
    passphrase: e.passphrase?.reveal(),
    pbkeylen: e.pbkeylen,
    streamId: e.streamId,
    maxBw: e.maxBw,
    inputBw: e.inputBw,
    overheadBw: e.overheadBw,
    payloadSize: e.payloadSize,
    connectTimeoutMs: e.connectTimeoutMs,
    peerIdleTimeoutMs: e.peerIdleTimeoutMs,
    statsIntervalMs,
    sendQueuePackets,
  };
}

/** The staging buffer's first size: a 1080p keyframe's packets, more than a turn of the loop brings at 20 Mbit/s. */
const STAGE_BYTES = 256 * 1024;

export class SrtConnection extends TypedEmitter<SrtConnectionEvents> {
  readonly endpoint: SrtEndpoint;
  readonly role: 'send' | 'receive';
  #socket: SrtNativeSocket | undefined;
  #state: SrtConnectionState = 'idle';
  #port = 0;
  #stats: SrtStats | undefined;
  #stage = Buffer.alloc(0);
  #staged = 0;
  #flushScheduled = false;
  #dropped = 0;

  /** Validates everything here: a bad URL or option throws SrtUrlInvalidError/RangeError and opens nothing. */
  constructor(endpoint: SrtEndpoint | string, options: SrtConnectionOptions = {}) {
    super();
    this.endpoint = typeof endpoint === 'string' ? parseSrtUrl(endpoint) : endpoint;
    this.role = options.role ?? 'send';
    const native = toNativeOptions(this.endpoint, options);
    const { SrtSocket } = loadSrtNative();
    this.#socket = new SrtSocket(native, (m) => this.#onMessage(m));
  }

  get state(): SrtConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** The bound port of a listener (after 'listening'), else the remote port. */
  get port(): number {
    return this.#port || this.endpoint.port;
  }

  /** The latest statistics sample (while connected). */
  get stats(): SrtStats | undefined {
    return this.#stats;
  }

  /** Messages dropped by send() on this connection (queue full or not connected). */
  get droppedPackets(): number {
    return this.#dropped;
  }

  start(): this {
    if (this.#state !== 'idle' || !this.#socket) return this;
    this.#state = this.endpoint.mode === 'listener' ? 'listening' : 'connecting';
    log.debug('starting', { url: formatSrtUrl(this.endpoint), role: this.role });
    this.#socket.start();
    return this;
  }

  /**
   * Sends TS data, cut into payloadSize messages (7 × 188 bytes). It is
   * held until the current event-loop turn ends, so one muxer burst becomes
   * full packets, in one call into native code, while nothing waits longer
   * than that.
   */
  send(data: Uint8Array): void {
    if (!this.#socket || data.length === 0) return;
    // Staged and handed to the native queue once per turn of the event loop: what one read
    // of the pipeline's pipe brings (a picture's packets) crosses into native code in one call.
    if (this.#staged + data.length > this.#stage.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#stage.length * 2, this.#staged + data.length, STAGE_BYTES));
      this.#stage.copy(grown, 0, 0, this.#staged);
      this.#stage = grown;
    }
    this.#stage.set(data, this.#staged);
    this.#staged += data.length;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is staged now (the native queue copies it). */
  flush(): void {
    this.#flushScheduled = false;
    if (!this.#socket || this.#staged === 0) return;
    const n = this.#staged;
    this.#staged = 0;
    this.#dropped += this.#socket.send(this.#stage.subarray(0, n));
  }

  /**
   * Graceful close for a sender: waits (at most `timeoutMs`) until everything
   * queued has been sent and acknowledged, then closes. close() alone drops
   * what libsrt still holds, as live mode does (SRTO_LINGER 0).
   */
  async end(timeoutMs = 1000): Promise<void> {
    this.flush();
    if (this.connected && this.role === 'send') {
      const deadline = Date.now() + timeoutMs;
      const before = this.#stats; // a sample taken after the last send is needed
      while (this.connected && Date.now() < deadline) {
        const s = this.#stats;
        if (s && s !== before && s.queuePackets === 0 && s.pktSndBuf === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.close();
  }

  /** Idempotent; stops the native thread (joins it) and closes the socket. 'closed' follows. */
  close(): void {
    if (!this.#socket) return;
    this.flush();
    const s = this.#socket;
    this.#socket = undefined;
    s.close();
    if (this.#state === 'idle') {
      // Never started: the native thread never ran, so say 'closed' ourselves.
      this.#state = 'closed';
      queueMicrotask(() => this.emit('closed'));
    }
  }

  #onMessage(m: SrtNativeMessage): void {
    switch (m.type) {
      case 'data':
        this.emit('data', m.data);
        return;
      case 'stats':
        this.#stats = m.stats;
        this.emit('stats', m.stats);
        return;
      case 'listening':
        this.#port = m.port;
        this.#state = 'listening';
        this.emit('listening', m.port);
        return;
      case 'connected':
        this.#state = 'connected';
        if (this.endpoint.mode === 'listener') log.info('peer connected', { port: this.port, peer: m.peer });
        else log.info('connected', { to: endpointTarget(this.endpoint) });
        this.emit('connected', { peer: m.peer, streamId: m.streamId });
        return;
      case 'disconnected': {
        this.#stats = undefined;
        this.#state = this.endpoint.mode === 'listener' ? 'listening' : 'closed';
        this.emit('disconnected', srtErrorFromNative(m.code, m.message, { target: endpointTarget(this.endpoint) }));
        return;
      }
      case 'failed':
        if (this.endpoint.mode !== 'listener') this.#state = 'closed';
        this.emit('failed', srtErrorFromNative(m.code, m.message, { target: endpointTarget(this.endpoint), rejectReason: m.rejectReason }));
        return;
      case 'closed': {
        this.#state = 'closed';
        this.#stats = undefined;
        // The native thread has ended by itself (a caller that failed or was
        // dropped): release the socket so it no longer holds the process open.
        const s = this.#socket;
        this.#socket = undefined;
        s?.close();
        this.emit('closed');
        return;
      }
    }
  }
}

/** Starts a listener and resolves with the port it bound (useful with port 0), or rejects with why it could not. */
export function startListening(conn: SrtConnection): Promise<number> {
  return new Promise((resolve, reject) => {
    conn.once('listening', resolve);
    conn.once('failed', reject);
    conn.start();
  });
}
