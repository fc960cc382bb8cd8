/**
 * The bonding scheduler: which uplink carries each SRT data packet.
 *
 * The common sender (SRTLA.md "Sending") picks the link with the largest
 * window / (in_flight + 1) and ignores delay, so on links whose RTTs differ
 * by 100 ms the SRT listener sees packets out of order, reports them lost at
 * once, and the SRT sender retransmits what was never lost. Here:
 *
 * - Expected arrival time: each packet goes to the link on which it would
 *   reach the receiver first (virtual queue at the link's estimated capacity
 *   + half its smoothed RTT). Arrivals stay close to sequence order.
 * - A per-link cap: a link whose virtual queue exceeds FULL_QUEUE_MS, or
 *   whose in-flight exceeds its bandwidth x (RTT + that queue), is full.
 * - Priority: higher-priority links are filled first; a lower one only
 *   takes what they cannot carry; `backupOnly` links idle until every other
 *   link is full (or gone).
 * - Cost: with metered links "when needed" (the default), a metered link
 *   (a cellular data plan) is a tier below every free one, whatever its
 *   priority: it carries only what the free links cannot. It stays
 *   registered (keepalives) and counted in the capacity the bit rate
 *   controller sees, so when a free link fails its traffic moves there within
 *   STALL_MS, as to any other link.
 * - Loss is attributed to the link that carried the sequence (SRT NAKs);
 *   delivery per link comes from SRTLA ACKs; SRT ACKs clear everything older.
 * - A link that goes silent (no keepalive echo, no ACK) for STALL_MS loses
 *   its traffic; after DEAD_MS it is dead and must register again.
 *
 * Which links are registered it reads from the sender's registration
 * (sender-registration.ts), which alone keeps that fact; what each packet
 * became is in flights.ts, what each link measured in link-state.ts.
 *
 * Like irlserver's `srtla-core` it does no I/O and takes its clock as a
 * parameter, so tests drive it deterministically (CONVENTIONS.md §10).
 */

import { FLIGHT_TUNING, FlightLog } from './flights.js';
import { LinkState } from './link-state.js';
import { isRedundantRepair, nakReturnMs } from './redundant-repair.js';
import type { SeqRange } from './sequence.js';

export const SCHEDULER_TUNING = {
  /** A virtual queue deeper than this makes a link full (below linksim's and modems' ~200 ms buffers). */
  FULL_QUEUE_MS: 150,
  /** In-flight cap = rate x (RTT + FULL_QUEUE_MS) x this. */
  INFLIGHT_CAP_FACTOR: 1.5,
  /**
   * Silence, beyond the freshest link's, after which a link's traffic moves elsewhere
   * (issue 5: within 300 ms). Measured against the other links, not the clock: SRT ACKs
   * come back on every live link every 10 ms, so a live link is never far behind the
   * freshest one, while a pause of the whole process (or of the receiver) leaves every
   * link equally silent and must not tear the bond down.
   */
  STALL_MS: 250,
  /** Silence of every link at once after which they stall (a receiver gone, or a single link dark); above common process pauses. */
  ALL_SILENT_STALL_MS: 500,
  /**
   * Silence, beyond the freshest link's, after which retransmissions avoid a link. While
   * SRT runs its ACKs come back on every live link every 10 ms, so a link this far behind
   * is very likely dark, and a retransmission sent there would be lost a second time.
   */
  QUIET_MS: 80,
  /** Silence after which a link is dead and registers again (SRTLA.md: 4 s). */
  DEAD_MS: 4000,
  /** The virtual queue never predicts more than this: when every link is full, the stream is spread in proportion to capacity. */
  MAX_QUEUE_MS: 2000,
  /** A link unused for this long is reported idle (with why). */
  IDLE_MS: 1000,
  ...FLIGHT_TUNING,
} as const;

export type LinkStateName = 'registering' | 'live' | 'backup-idle' | 'stalled' | 'dead';

export interface LinkStats {
  id: string;
  state: LinkStateName;
  /** Why the link carries nothing, in words an operator understands; absent when it carries traffic. */
  why?: string;
  priority: number;
  backupOnly: boolean;
  metered: boolean;
  throughputBps: number;
  /** Share of the data sent in the last second. */
  share: number;
  rttMs?: number;
  minRttMs?: number;
  /** Fraction of packets reported lost (recent, exponentially weighted). */
  loss: number;
  lostPackets: number;
  sentPackets: number;
  ackedPackets: number;
  inFlight: number;
  capacityBps: number;
  deliveredBps: number;
}

export interface SchedulerLinkOptions {
  priority?: number;
  backupOnly?: boolean;
  /** A data plan pays for what it carries (a cellular modem). */
  metered?: boolean;
}

/** Which links the receiver has accepted: the scheduler asks, the sender's registration answers. */
export interface LinkRegistration {
  isRegistered(id: string): boolean;
}

export class Scheduler {
  private readonly links = new Map<string, LinkState>();
  private readonly flights = new FlightLog();
  private readonly stalled = new Set<string>();
  private readonly dead = new Set<string>();
  /** Metered links carry only what the free ones cannot (false: they are bonded like any other). */
  meteredWhenNeeded = true;

  constructor(private readonly registration: LinkRegistration) {}

  addLink(id: string, opts: SchedulerLinkOptions, now: number): void {
    if (this.links.has(id)) return;
    const l = new LinkState(id, opts.priority ?? 5, opts.backupOnly ?? false, now);
    l.metered = opts.metered ?? false;
    this.links.set(id, l);
  }

  /** The order links are filled in, lower first: free, then metered (when needed), then backup-only. */
  private tier(l: LinkState): number {
    if (l.backupOnly) return 2;
    return this.meteredWhenNeeded && l.metered ? 1 : 0;
  }

  removeLink(id: string): void {
    const l = this.links.get(id);
    if (!l) return;
    this.flights.forget(l);
    this.links.delete(id);
    this.stalled.delete(id);
    this.dead.delete(id);
  }

  link(id: string): LinkState | undefined {
    return this.links.get(id);
  }

  private registered(l: LinkState): boolean {
    return this.registration.isRegistered(l.id);
  }

  /** The receiver has just accepted link `id` (REG3): it starts afresh, neither stalled nor dead. */
  onRegistered(id: string, now: number): void {
    const l = this.links.get(id);
    if (!l) return;
    l.recordReceive(now);
    this.dead.delete(id);
    this.stalled.delete(id);
    l.restart(now);
  }

  private usable(l: LinkState): boolean {
    return this.registered(l) && !this.stalled.has(l.id) && !this.dead.has(l.id);
  }

  private full(l: LinkState, now: number): boolean {
    if (l.queueDelay(now) > SCHEDULER_TUNING.FULL_QUEUE_MS) return true;
    const capBytes = ((l.rateBps / 8) * (l.rttOrGuess() + SCHEDULER_TUNING.FULL_QUEUE_MS) * SCHEDULER_TUNING.INFLIGHT_CAP_FACTOR) / 1000;
    return l.inFlightBytes > Math.max(capBytes, 20 * 1500);
  }

  /**
   * Chooses the link for a packet of `bytes`, without recording it. Among
   * usable links of the highest priority that are not full, the earliest
   * expected arrival; when all are full, the next priority; metered links
   * (when needed) after every free one, backup-only links last; when everything is full, the shortest virtual queue — or, with
   * `overflow` false, nothing (the caller holds the packet until a link has room).
   */
  choose(bytes: number, now: number, retransmission = false, overflow = true): string | undefined {
    let best: LinkState | undefined;
    let bestKey: [number, number, number] | undefined; // [tier (lower first), -priority, arrival]
    let fallback: LinkState | undefined;
    let fallbackArrival = Infinity;
    // A retransmission is SRT's second chance: keep it off a link that has gone quiet,
    // even before that link is declared stalled.
    const freshest = retransmission ? this.freshestRecv(true) : -Infinity;
    for (const l of this.links.values()) {
      if (!this.usable(l)) continue;
      if (retransmission && this.quiet(l, freshest)) continue;
      const arrival = l.expectedArrival(bytes, now);
      // Overloaded (every link full): spread by virtual queue, i.e. in proportion to capacity,
      // rather than piling the excess onto the lowest-delay link.
      const q = l.queueDelay(now) + l.serialiseMs(bytes);
      if (q < fallbackArrival) {
        fallbackArrival = q;
        fallback = l;
      }
      if (this.full(l, now)) continue;
      const key: [number, number, number] = [this.tier(l), -l.priority, arrival];
      if (
        !bestKey ||
        key[0] < bestKey[0] ||
        (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))
      ) {
        bestKey = key;
        best = l;
      }
    }
    return (best ?? (overflow ? fallback : undefined))?.id;
  }

  /**
   * Whether a retransmission of `seq` that SRT asks for now would only duplicate a copy
   * that already arrived (its link's SRTLA ACK came: the NAK was reordering) or is still
   * on its way over a live link (redundant-repair.ts). Not forwarding it costs nothing if
   * the copy arrives; if it was lost, SRT asks again.
   */
  redundantRetransmission(seq: number, now: number): boolean {
    return isRedundantRepair(this.flights.latest(seq), now, nakReturnMs(this.answering()), this.carrying);
  }

  /** The links a NAK can come back over: usable and not gone quiet (one gone quiet is likely dark). */
  private *answering(): Generator<LinkState> {
    const freshest = this.freshestRecv(true);
    for (const l of this.links.values()) if (this.usable(l) && !this.quiet(l, freshest)) yield l;
  }

  /** Heard from more than QUIET_MS before the freshest usable link was. */
  private quiet(l: LinkState, freshest: number): boolean {
    return freshest - l.lastRecvAt > SCHEDULER_TUNING.QUIET_MS;
  }

  /** Whether a copy's link still carries traffic: usable, and not replaced by a new link of the same name. */
  private readonly carrying = (l: LinkState): boolean => this.usable(l) && this.links.get(l.id) === l;

  /** Chooses a link for data packet `seq` and records it as in flight there. */
  send(seq: number, bytes: number, now: number, retransmission = false, overflow = true): string | undefined {
    const id = this.choose(bytes, now, retransmission, overflow);
    if (id === undefined) return undefined;
    this.record(id, seq, bytes, now, retransmission);
    return id;
  }

  /** Records that data packet `seq` went out on link `id` (a retransmission replaces the earlier record). */
  record(id: string, seq: number, bytes: number, now: number, retransmission = false): void {
    const l = this.links.get(id);
    if (l) this.flights.record(l, seq, bytes, now, retransmission, SCHEDULER_TUNING.MAX_QUEUE_MS);
  }

  /** Something arrived from the receiver on link `id`. */
  onReceive(id: string, now: number): void {
    const l = this.links.get(id);
    if (!l) return;
    l.recordReceive(now);
    if (this.stalled.delete(id) || this.dead.delete(id)) l.restart(now);
  }

  /** A keepalive echo: the RTT of a probe sent `rttMs` ago. */
  onKeepaliveRtt(id: string, rttMs: number, sentAt: number, now: number): void {
    const l = this.links.get(id);
    if (!l) return;
    // The probe waited behind whatever the virtual queue held when it was sent.
    l.recordRtt(rttMs, Math.max(0, l.queueFreeAt - sentAt), now);
  }

  /** SRTLA ACK on link `id`: these packets arrived over it. */
  onSrtlaAck(id: string, seqs: readonly number[], now: number): void {
    const l = this.links.get(id);
    if (l) this.flights.srtlaAck(l, seqs, now);
  }

  /** SRT ACK: everything before `ackSeq` arrived. */
  onSrtAck(ackSeq: number, now: number): void {
    this.flights.srtAck(ackSeq, now);
  }

  /**
   * SRT NAK: these sequences were reported missing. The link that carried
   * each is blamed only if its SRTLA ACK does not turn up within its RTT.
   */
  onNak(ranges: readonly SeqRange[], now: number): void {
    this.flights.nak(ranges, now);
  }

  /** The latest time anything arrived on a registered link (only usable ones if `usableOnly`). */
  private freshestRecv(usableOnly: boolean): number {
    let t = -Infinity;
    for (const l of this.links.values()) if ((usableOnly ? this.usable(l) : this.registered(l)) && l.lastRecvAt > t) t = l.lastRecvAt;
    return t;
  }

  /** Housekeeping: stalls and deaths from silence. Returns the links whose state changed. */
  tick(now: number): string[] {
    this.flights.judge(now, (l) => this.links.get(l.id) === l);
    const changed: string[] = [];
    const freshest = this.freshestRecv(false);
    for (const l of this.links.values()) {
      if (!this.registered(l)) continue;
      const silent = now - l.lastRecvAt;
      const behind = freshest - l.lastRecvAt;
      if (silent > SCHEDULER_TUNING.DEAD_MS && !this.dead.has(l.id)) {
        this.dead.add(l.id);
        this.stalled.delete(l.id);
        this.flights.dropInFlight(l);
        changed.push(l.id);
      } else if (
        (behind > SCHEDULER_TUNING.STALL_MS || silent > SCHEDULER_TUNING.ALL_SILENT_STALL_MS) &&
        !this.stalled.has(l.id) &&
        !this.dead.has(l.id)
      ) {
        this.stalled.add(l.id);
        this.flights.dropInFlight(l);
        changed.push(l.id);
      }
    }
    this.flights.expire(now);
    return changed;
  }

  stateOf(id: string): LinkStateName | undefined {
    const l = this.links.get(id);
    if (!l) return undefined;
    if (!this.registered(l)) return 'registering';
    if (this.dead.has(id)) return 'dead';
    if (this.stalled.has(id)) return 'stalled';
    return 'live';
  }

  /** Summed capacity of the links that can carry the stream, bit/s (for the bitrate controller). */
  capacityBps(now: number): number {
    let primary = 0;
    let backup = 0;
    for (const l of this.links.values()) {
      if (!this.usable(l)) continue;
      const c = Math.max(l.rateBps, l.delivered.bps(now));
      if (l.backupOnly) {
        // A backup counts once it carries traffic: the stream needs it.
        if (now - l.lastSentAt < SCHEDULER_TUNING.IDLE_MS) backup += c;
      } else primary += c;
    }
    return primary + backup;
  }

  stats(now: number): LinkStats[] {
    let total = 0;
    for (const l of this.links.values()) total += l.sent.bytes(now);
    const anyPrimaryUsable = [...this.links.values()].some((l) => !l.backupOnly && this.usable(l));
    const out: LinkStats[] = [];
    for (const l of this.links.values()) {
      const sentBytes = l.sent.bytes(now);
      let state = this.stateOf(l.id)!;
      const idle = now - l.lastSentAt > SCHEDULER_TUNING.IDLE_MS;
      if (state === 'live' && l.backupOnly && idle) state = 'backup-idle';
      const s: LinkStats = {
        id: l.id,
        state,
        priority: l.priority,
        backupOnly: l.backupOnly,
        metered: l.metered,
        throughputBps: l.sent.bps(now),
        share: total > 0 ? sentBytes / total : 0,
        loss: l.lossRate,
        lostPackets: l.lostPackets,
        sentPackets: l.sentPackets,
        ackedPackets: l.ackedPackets,
        inFlight: l.inFlight,
        capacityBps: l.rateBps,
        deliveredBps: l.delivered.bps(now),
      };
      if (l.srtt !== undefined) s.rttMs = Math.round(l.srtt * 10) / 10;
      if (l.minRtt !== undefined) s.minRttMs = Math.round(l.minRtt * 10) / 10;
      const why = this.why(l, state, idle, anyPrimaryUsable, now);
      if (why) s.why = why;
      out.push(s);
    }
    return out;
  }

  private why(l: LinkState, state: LinkStateName, idle: boolean, anyPrimaryUsable: boolean, now: number): string | undefined {
    const silentS = ((now - l.lastRecvAt) / 1000).toFixed(1);
    switch (state) {
      case 'registering':
        return 'waiting for the bonding receiver to accept this link';
      case 'dead':
        return `no answer from the bonding receiver for ${silentS} s: registering the link again`;
      case 'stalled':
        return `no answer from the bonding receiver for ${silentS} s: its traffic moved to the other links`;
      case 'backup-idle':
        return anyPrimaryUsable ? 'backup link: idle while the other links carry the stream' : 'backup link: waiting for traffic';
      default:
        break;
    }
    if (!idle) return undefined;
    if (![...this.links.values()].some((o) => now - o.lastSentAt <= SCHEDULER_TUNING.IDLE_MS)) return 'no stream to send right now';
    if (this.tier(l) === 1 && [...this.links.values()].some((o) => this.tier(o) === 0 && this.usable(o)))
      return 'metered: idle while the free links carry the stream';
    const higher = [...this.links.values()].some(
      (o) => o !== l && this.usable(o) && o.priority > l.priority && this.tier(o) <= this.tier(l),
    );
    if (higher) return 'not needed: higher-priority links carry the stream';
    if (this.full(l, now)) return 'full: carrying all it can';
    return 'not needed: the other links deliver sooner';
  }
}
