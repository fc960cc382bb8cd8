/**
 * Where each SRT data packet from the caller goes: nowhere when it only
 * repeats a copy still due (Scheduler.redundantRetransmission), over the link
 * the scheduler chooses when one has room, or into the hold while every link
 * is full (sender-hold.ts), released as the links drain. A packet held for
 * `holdMaxMs` leaves over the least-full link anyway.
 *
 * No I/O and no timers: the sender (sender.ts) hands packets in with the time,
 * gives a `send` that puts a packet on a link, and calls release() while
 * something is held (CONVENTIONS.md §10).
 */
import type { Scheduler } from './scheduler.js';
import { HoldQueue } from './sender-hold.js';

export interface DispatchCounters {
  /** Retransmissions not forwarded: an earlier copy had arrived or was still on its way. */
  redundant: number;
  /** Packets that ever waited in the hold. */
  heldTotal: number;
  /** Packets that left over a full link: held too long, or the hold was at its limit. */
  overflowed: number;
  /** Packets no link took. */
  unrouted: number;
}

export class DataDispatch {
  readonly counters: DispatchCounters = { redundant: 0, heldTotal: 0, overflowed: 0, unrouted: 0 };
  private readonly held: HoldQueue;

  constructor(
    private readonly scheduler: Pick<Scheduler, 'send' | 'redundantRetransmission'>,
    /** Puts a packet on the link the scheduler chose; false when that link is not there. */
    private readonly send: (link: string, msg: Buffer) => boolean,
    private readonly holdMaxMs: number,
    holdMaxBytes: number,
  ) {
    this.held = new HoldQueue(holdMaxBytes);
  }

  /** Packets waiting now. */
  get holding(): number {
    return this.held.length;
  }

  /** A data packet from the caller. */
  offer(msg: Buffer, seq: number, retransmission: boolean, now: number): void {
    if (retransmission && this.scheduler.redundantRetransmission(seq, now)) {
      this.counters.redundant++;
      return;
    }
    // New data keeps its order behind what is held; a repair may pass it.
    const mustWait = retransmission ? this.held.holdingRepairs : this.held.holdingData;
    if (!mustWait && this.sendData(msg, seq, retransmission, now, false)) return;
    if (this.held.push({ msg, seq, retransmission, at: now })) this.counters.heldTotal++;
    else if (!this.sendData(msg, seq, retransmission, now, true)) this.counters.unrouted++;
  }

  /** Offers held packets to the links, oldest repair first; one held too long leaves over the least-full link. */
  release(now: number): void {
    // Held at or before this, a packet has waited its limit: it leaves first, from
    // either queue (a repair that waits must not hold older data past the cap).
    const overdueAt = now - this.holdMaxMs;
    for (let p = this.held.peek(overdueAt); p; p = this.held.peek(overdueAt)) {
      if (p.retransmission && this.scheduler.redundantRetransmission(p.seq, now)) {
        this.held.shift(overdueAt);
        this.counters.redundant++;
        continue;
      }
      const overdue = p.at <= overdueAt;
      if (!this.sendData(p.msg, p.seq, p.retransmission, now, overdue)) {
        if (!overdue) break;
        this.counters.unrouted++;
      }
      this.held.shift(overdueAt);
    }
  }

  clear(): void {
    this.held.clear();
  }

  /**
   * Sends a data packet over a link with room; with `overflow`, when none has
   * room, over the least-full one (counted). False when no link took it.
   */
  private sendData(msg: Buffer, seq: number, retx: boolean, now: number, overflow: boolean): boolean {
    let id = this.scheduler.send(seq, msg.length, now, retx, false);
    if (id === undefined && overflow) {
      id = this.scheduler.send(seq, msg.length, now, retx, true);
      if (id !== undefined) this.counters.overflowed++;
    }
    return id !== undefined && this.send(id, msg);
  }
}
