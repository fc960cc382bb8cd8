/**
 * The scheduler's record of each data packet it sent: on which link, when,
 * when it should arrive, and what became of it. From these records come each
 * link's in-flight count, its delivery meter, RTT samples (SRTLA ACKs) and
 * loss verdicts (SRT NAKs). No I/O; every method takes the time (ms).
 *
 * Loss is attributed to the link that carried the sequence only if that
 * link's SRTLA ACK does not turn up within its RTT: a NAK for a packet still
 * on its way over a slower link is reordering, not loss.
 */
import type { LinkState } from './link-state.js';
import { forEachSeq, type SeqRange, seqDiff, seqLess } from './sequence.js';

export const FLIGHT_TUNING = {
  /** How long send records are kept (an SRTLA ACK over a slow link may come after the SRT ACK over a fast one). */
  RECORD_TTL_MS: 3000,
  /** Cap on in-flight records (a stuck SRT ACK must not grow memory). */
  MAX_RECORDS: 200_000,
} as const;

/** No packet is this many sequence numbers in flight: a record that far from an SRT ACK belongs to another session. */
const STALE_SEQ_DISTANCE = 1 << 20;

export interface Flight {
  seq: number;
  link: LinkState;
  bytes: number;
  sentAt: number;
  queueMs: number;
  /** Late bound of its expected arrival at the receiver (LinkState.expectedArrival when sent). */
  due: number;
  /**
   * flight: unconfirmed; acked: SRTLA ACK on its link; srtacked: covered by
   * an SRT ACK first; suspect: NAKed (or sent again) and not yet confirmed
   * either way; gone: lost, or its link left.
   */
  state: 'flight' | 'acked' | 'srtacked' | 'suspect' | 'gone';
  /** A retransmission: its RTT is ambiguous (Karn's rule), no sample from it. */
  retx: boolean;
  /** The copy this one replaced (its SRTLA ACK may still come, over its own link). */
  prev?: Flight;
  nakAt?: number;
}

export class FlightLog {
  private readonly bySeq = new Map<number, Flight>();
  /** NAKed packets awaiting their verdict: an SRTLA ACK (reordering, not loss) or a timeout (lost). */
  private suspects: Flight[] = [];
  /** Send order, for SRT ACK clean-up and expiry. */
  private order: Flight[] = [];
  /** order[expireHead..] are kept; order[ackHead..] are not yet covered by an SRT ACK. */
  private expireHead = 0;
  private ackHead = 0;

  /** The latest copy of `seq` sent (`prev` leads to the one it replaced). */
  latest(seq: number): Flight | undefined {
    return this.bySeq.get(seq);
  }

  /** Records that data packet `seq` goes out on `l` now (a retransmission replaces the earlier record). */
  record(l: LinkState, seq: number, bytes: number, now: number, retransmission: boolean, maxQueueMs: number): void {
    const old = this.bySeq.get(seq);
    if (old) {
      old.prev = undefined; // keep one earlier copy, not a chain
      if (old.state === 'flight') this.suspect(old, now);
    }
    const due = l.expectedArrival(bytes, now);
    const queueMs = l.recordSend(bytes, now, maxQueueMs);
    const f: Flight = { seq, link: l, bytes, sentAt: now, queueMs, due, state: 'flight', retx: retransmission || old !== undefined };
    if (old) f.prev = old;
    this.bySeq.set(seq, f);
    this.order.push(f);
    if (this.bySeq.size > FLIGHT_TUNING.MAX_RECORDS) this.expire(now, true);
  }

  /** SRTLA ACK on link `l`: these packets arrived over it. */
  srtlaAck(l: LinkState, seqs: readonly number[], now: number): void {
    let last: Flight | undefined;
    for (const seq of seqs) {
      // Every entry is a packet this link delivered, whether or not its record is still here
      // (a retransmission storm replaces records faster than ACKs come back).
      l.recordDelivered(now);
      let f = this.bySeq.get(seq);
      while (f && f.link !== l) f = f.prev;
      if (!f) continue;
      if (f.state === 'flight' || f.state === 'srtacked' || f.state === 'suspect') {
        if (f.state === 'flight') l.leaveFlight(f.bytes);
        if (f.state === 'suspect') l.falseLosses++;
        f.state = 'acked';
      }
      if (!f.retx && (!last || seqLess(last.seq, seq))) last = f;
    }
    // The receiver sends the ACK when the last of the batch arrives: an RTT sample.
    if (last) l.recordRtt(now - last.sentAt, last.queueMs, now);
  }

  /** SRT ACK: everything before `ackSeq` arrived. Records stay until their link's SRTLA ACK or expiry. */
  srtAck(ackSeq: number, now: number): void {
    this.ackHead = Math.max(this.ackHead, this.expireHead);
    while (this.ackHead < this.order.length) {
      const f = this.order[this.ackHead]!;
      // A record far "ahead" of the ACK is from an earlier SRT session (another initial sequence number): step over it.
      if (!seqLess(f.seq, ackSeq) && seqDiff(f.seq, ackSeq) < STALE_SEQ_DISTANCE) break;
      this.ackHead++;
      if (f.state === 'flight') {
        f.link.leaveFlight(f.bytes);
        f.state = 'srtacked';
      }
    }
    this.expire(now, false);
  }

  /** SRT NAK: these sequences were reported missing; each awaits its link's SRTLA ACK before it counts as lost. */
  nak(ranges: readonly SeqRange[], now: number): void {
    forEachSeq(
      ranges,
      (seq) => {
        const f = this.bySeq.get(seq);
        if (!f) return;
        if (f.state === 'acked') f.link.falseLosses++;
        else if (f.state === 'flight') this.suspect(f, now);
      },
      10_000,
    );
  }

  /** Suspects whose SRTLA ACK did not come in time are lost: counted against their link if it is still `current`. */
  judge(now: number, current: (l: LinkState) => boolean): void {
    let i = 0;
    for (; i < this.suspects.length; i++) {
      const f = this.suspects[i]!;
      if (f.state !== 'suspect') continue;
      if (now - f.nakAt! < verdictMs(f.link, now)) break;
      f.state = 'gone';
      if (current(f.link)) f.link.recordLoss(now);
    }
    if (i > 0) this.suspects = this.suspects.slice(i);
  }

  /** What was in flight on a silent link is SRT's to recover; it no longer occupies the link. */
  dropInFlight(l: LinkState): void {
    for (const f of this.bySeq.values()) if (f.link === l && f.state === 'flight') f.state = 'gone';
    l.inFlight = 0;
    l.inFlightBytes = 0;
  }

  /** The link left: nothing it carried is waited for any more. */
  forget(l: LinkState): void {
    for (const f of this.bySeq.values()) if (f.link === l) f.state = 'gone';
  }

  /** Drops records older than RECORD_TTL_MS (with `force`, also the oldest while there are too many). */
  expire(now: number, force = false): void {
    while (this.expireHead < this.order.length) {
      const f = this.order[this.expireHead]!;
      const tooMany = force && this.bySeq.size > FLIGHT_TUNING.MAX_RECORDS * 0.9;
      if (!tooMany && now - f.sentAt < FLIGHT_TUNING.RECORD_TTL_MS) break;
      this.expireHead++;
      if (f.state === 'flight') {
        f.link.leaveFlight(f.bytes);
        f.state = 'gone';
      }
      if (this.bySeq.get(f.seq) === f) this.bySeq.delete(f.seq);
    }
    if (this.expireHead > 4096 && this.expireHead * 2 > this.order.length) {
      this.order = this.order.slice(this.expireHead);
      this.ackHead = Math.max(0, this.ackHead - this.expireHead);
      this.expireHead = 0;
    }
  }

  private suspect(f: Flight, now: number): void {
    f.link.leaveFlight(f.bytes);
    f.state = 'suspect';
    f.nakAt = now;
    this.suspects.push(f);
  }
}

/** Time to wait for a NAKed packet's SRTLA ACK: its RTT plus the receiver's 10-packet ACK batching. */
function verdictMs(l: LinkState, now: number): number {
  const rate = l.sent.bps(now);
  const batch = rate > 0 ? Math.min(1000, (10 * 1360 * 8 * 1000) / rate) : 1000;
  return Math.max(150, l.rttOrGuess() * 1.5) + batch;
}
