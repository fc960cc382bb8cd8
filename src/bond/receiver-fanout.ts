/**
 * Two forwards: a group's SRT session ends at the receiver and its TS goes
 * on to two SRT listeners (a MediaConnect flow's two sources, MERGE or
 * FAILOVER, or two flows). The uplinks carry the stream once, with the unit's
 * one bit rate controller; the fan-out happens here, in the cloud, where
 * bandwidth is cheap (src/config/schema.ts, BOND_ONE_DESTINATION).
 *
 *   group's packets ──UDP, loopback──> SrtConnection listener (libsrt: decrypts, repairs, in order)
 *     ──TS──> TsSplicer (finds PAT/PMT/keyframes; bytes unchanged) ──> for each forward:
 *        DestinationOutput (src/destination: StartGate ──> SrtOutput, its own caller, reconnect, stats)
 *
 * Both forwards are handed the same chunks in the same turns, so both send
 * the same bytes cut the same way into SRT payloads (what MERGE needs). Each
 * has its own session, native send queue, reconnect with backoff and
 * statistics: one that fails drops only its own packets and calls again by
 * itself; when it is back it starts at the last random access point kept
 * (start mode 'buffered': a unit's keyframe cannot be asked for from here).
 *
 * The forwards live as long as the unit's session: made when it connects,
 * hung up when it ends (the unit hung up, or was silent for SRT's peer-idle
 * timeout), so a unit that restarts in a new group finds the listeners free,
 * as it would without the fan-out. Every group has its own session and its
 * own two forwards; the forwards are the same for every group, so two units
 * at once would contend for the same two listeners (a listener serves one
 * caller): in fan-out mode a receiver serves one unit — run one receiver
 * (port) per unit.
 *
 * This module loads the SRT addon: receiver.ts imports it only when there
 * are two forwards, so a relay-only receiver runs without native code.
 */
import type { DestinationConfigT } from '../config/schema.js';
import { DestinationOutput } from '../destination/index.js';
import { createLogger } from '../lib/logger.js';
import { TsSplicer } from '../mux/index.js';
import { loadSrtNative } from '../native/binding.js';
import { parseSrtUrl, type Secret, SrtConnection, startListening } from '../srt/index.js';
import type { FanoutStatsSnapshot, ForwardStatsSnapshot, TerminatedSessionSnapshot } from './receiver-fanout-stats.js';
import { forwardTarget } from './receiver-forwards.js';
import type { TerminatedSession } from './receiver-group.js';
import { callerEncryption, type UnitSessionProblem, unitSessionProblem } from './srt-handshake.js';

const log = createLogger('receive.fanout');

/**
 * The loopback listener's own latency (ms): SRT uses the larger of both
 * sides, so the unit's latency (set for its uplinks) is the one that holds.
 */
const LOOPBACK_LATENCY_MS = 20;
/** A forward that (re)connects starts at the last random access point kept this long (as the box's passthrough does). */
const KEEP_MS = 3000;

export interface FanoutOptions {
  /** The group's tag, for logs. */
  group: number;
  /** The two forwards, checked (receiver-forwards.ts). */
  forwards: readonly DestinationConfigT[];
  /** The unit's passphrase, to decrypt its session. */
  passphrase?: Secret;
}

interface Carried {
  sentBytes: number;
  droppedPackets: number;
  connects: number;
}

export class GroupFanout implements TerminatedSession {
  readonly port: Promise<number>;
  readonly #o: FanoutOptions;
  readonly #targets: string[];
  readonly #listener: SrtConnection;
  #outputs: DestinationOutput[] | undefined;
  #splicer: TsSplicer | undefined;
  /** Each forward's counters from the unit's earlier sessions in this group. */
  readonly #carried: Carried[];
  readonly #session = { connected: false, sessions: 0, receivedBytes: 0 };
  #unitEncryption: 'encrypted' | 'clear' | undefined;
  #problem: UnitSessionProblem | undefined;
  #refused = 0;
  #closed = false;

  constructor(o: FanoutOptions) {
    this.#o = o;
    this.#targets = o.forwards.map(forwardTarget);
    this.#carried = o.forwards.map(() => ({ sentBytes: 0, droppedPackets: 0, connects: 0 }));
    const endpoint = parseSrtUrl(
      `srt://127.0.0.1:0?mode=listener&latency=${LOOPBACK_LATENCY_MS}`,
      o.passphrase ? { passphrase: o.passphrase } : {},
    );
    const listener = new SrtConnection(endpoint, { role: 'receive' });
    this.#listener = listener;
    listener.on('connected', () => this.#sessionUp());
    listener.on('disconnected', (e) => this.#sessionDown(e.message));
    listener.on('data', (chunk) => {
      this.#session.receivedBytes += chunk.length;
      this.#splicer?.push(chunk);
    });
    listener.on('failed', (e) => log.warn('the unit session failed', { group: o.group, code: e.code, message: e.message }));
    this.port = startListening(listener);
    // The group reports a failure to listen; nothing else awaits this.
    this.port.catch(() => undefined);
  }

  /** An SRT control packet from the unit: its conclusion handshake says whether it encrypts. */
  fromUnit(msg: Buffer): void {
    const enc = callerEncryption(msg);
    if (enc === undefined) return;
    this.#unitEncryption = enc;
    if (!this.#session.connected) this.#refused++;
    const p = unitSessionProblem(enc, this.#o.passphrase !== undefined, this.#refused - 1);
    if (p && p.code !== this.#problem?.code) log.error(p.message, { group: this.#o.group, code: p.code });
    this.#problem = p;
  }

  stats(): FanoutStatsSnapshot {
    const s = this.#listener.stats;
    const session: TerminatedSessionSnapshot = {
      connected: this.#session.connected,
      sessions: this.#session.sessions,
      receivedBytes: this.#session.receivedBytes,
      rttMs: s?.msRTT ?? 0,
      lossPackets: s?.pktRcvLossTotal ?? 0,
      dropPackets: s?.pktRcvDropTotal ?? 0,
      ...(this.#unitEncryption ? { unitEncryption: this.#unitEncryption } : {}),
      ...(this.#problem && !this.#session.connected ? { lastError: { code: this.#problem.code, message: this.#problem.message } } : {}),
    };
    return { session, forwards: this.#o.forwards.map((d, i) => this.#forwardStats(d, i)) };
  }

  /** Idempotent: hangs up the forwards and stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#hangUp(false);
    this.#listener.close();
  }

  #forwardStats(d: DestinationConfigT, i: number): ForwardStatsSnapshot {
    const c = this.#carried[i]!;
    const o = this.#outputs?.[i];
    const s = o?.stats() ?? idleForward(d, i);
    const connects = c.connects + s.connects;
    return {
      ...s,
      target: this.#targets[i]!,
      sentBytes: c.sentBytes + s.sentBytes,
      droppedPackets: c.droppedPackets + s.droppedPackets,
      connects,
      reconnects: Math.max(0, connects - 1),
    };
  }

  #sessionUp(): void {
    if (this.#closed) return;
    this.#session.connected = true;
    this.#session.sessions++;
    this.#refused = 0;
    this.#problem = undefined;
    this.#hangUp(false);
    const outputs = this.#o.forwards.map((d, i) => {
      const out = new DestinationOutput(d, i, { startMode: 'buffered', bufferMs: KEEP_MS });
      const fields = { group: this.#o.group, forward: i + 1, to: this.#targets[i] };
      out.on('connected', () => log.info('forward live', fields));
      out.on('disconnected', (e) => log.warn('forward lost; calling again', { ...fields, code: e.code }));
      return out;
    });
    this.#outputs = outputs;
    this.#splicer = new TsSplicer({
      fill: false,
      onChunk: (chunk, info) => {
        for (const out of outputs) out.push(chunk, info);
      },
    });
    for (const out of outputs) out.start();
    log.info('unit session up: sending it on to both forwards', { group: this.#o.group, forwards: this.#targets });
  }

  #sessionDown(why: string): void {
    this.#session.connected = false;
    log.info('unit session ended: the forwards hang up', { group: this.#o.group, why });
    this.#hangUp(true);
  }

  /** Hangs up the current session's forwards (letting what is queued go when `drain`), keeping their counts. */
  #hangUp(drain: boolean): void {
    const outputs = this.#outputs;
    this.#outputs = undefined;
    this.#splicer = undefined;
    if (!outputs) return;
    outputs.forEach((out, i) => {
      const s = out.stats();
      const c = this.#carried[i]!;
      c.sentBytes += s.sentBytes;
      c.droppedPackets += s.droppedPackets;
      c.connects += s.connects;
      if (drain) out.end().catch((err: unknown) => log.debug('forward hang-up failed', { group: this.#o.group, err }));
      else out.close();
    });
  }
}

/** A forward while the unit has no session: nothing to send, no call made. */
function idleForward(d: DestinationConfigT, index: number): ReturnType<DestinationOutput['stats']> {
  return {
    name: d.name,
    index,
    state: 'closed',
    connected: false,
    rttMs: 0,
    sendRateBps: 0,
    sendBufferMs: 0,
    lossPackets: 0,
    retransPackets: 0,
    dropPackets: 0,
    bandwidthBps: 0,
    sentBytes: 0,
    droppedPackets: 0,
    connects: 0,
    needsOperator: false,
    gate: { open: false, heldBack: 0, sentFromBuffer: 0, buffered: 0 },
  };
}

/** The factory receiver.ts hands its groups (GroupDeps.terminate); throws now when the SRT addon cannot load. */
export function fanoutFactory(
  forwards: readonly DestinationConfigT[],
  passphrase: Secret | undefined,
): (group: { tag: number }) => GroupFanout {
  loadSrtNative();
  return (group) => new GroupFanout({ group: group.tag, forwards, passphrase });
}
