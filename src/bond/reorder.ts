/**
 * The receiver's bounded reorder stage. Links differ in delay by 100 ms and
 * more, and an SRT listener with no reorder tolerance (SRTO_LOSSMAXTTL 0,
 * the default, and what a managed ingest gives) reports a gap as lost the
 * moment a later packet arrives (FACTS.md, SRTLA.md). Holding data packets
 * briefly and releasing them in sequence order turns most of those false
 * losses into nothing.
 *
 * Bounded: no packet waits longer than `holdMs`; when the oldest held
 * packet's time is up, everything up to it is released in order and the gap
 * before it is left to SRT's own recovery. Retransmissions (R flag) pass
 * straight through: SRT asked for them, and holding them only delays repair.
 * Sequence numbers are 31 bits and wrap (seqDiff). Pure: no I/O, the clock is
 * a parameter.
 */
import { seqAdd, seqDiff } from './sequence.js';

export interface ReorderStats {
  /** Packets held at least briefly because one before them was missing. */
  held: number;
  /** Packets that arrived after a later-numbered one (put back in order, or passed late). */
  reordered: number;
  /** Times a gap was given up on when the hold time ran out. */
  gapTimeouts: number;
  /** Sequence numbers skipped over by those timeouts (left to SRT to recover). */
  skipped: number;
  /** Packets that came after their place had already been released (passed straight on). */
  late: number;
  /** Retransmissions passed straight through. */
  retransmissions: number;
  /** Duplicates of a packet already held (dropped). */
  duplicates: number;
}

/** Beyond this many packets ahead or behind, a jump is a new stream position, not reordering: flush. */
const DEFAULT_CAPACITY = 8192;

export class ReorderBuffer {
  private next: number | undefined;
  private highest: number | undefined;
  /** Held packets by sequence; `null` marks a number already sent (a retransmission ahead of the gap). */
  private readonly held = new Map<number, Buffer | null>();
  /** Held packets in arrival order (their deadlines are in the same order). */
  private order: { seq: number; deadline: number }[] = [];
  private head = 0;
  private readonly counts: ReorderStats = { held: 0, reordered: 0, gapTimeouts: 0, skipped: 0, late: 0, retransmissions: 0, duplicates: 0 };

  constructor(
    readonly holdMs: number,
    private readonly release: (pkt: Buffer) => void,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  stats(): ReorderStats {
    return { ...this.counts };
  }

  /** Packets waiting now. */
  get size(): number {
    let n = 0;
    for (const v of this.held.values()) if (v) n++;
    return n;
  }

  push(pkt: Buffer, seq: number, retransmission: boolean, now: number): void {
    if (this.highest === undefined || seqDiff(seq, this.highest) > 0) this.highest = seq;
    else if (seq !== this.highest && !retransmission) this.counts.reordered++;
    if (this.holdMs <= 0) {
      this.release(pkt);
      return;
    }
    if (this.next === undefined) this.next = seq;
    const d = seqDiff(seq, this.next);
    if (retransmission) {
      this.counts.retransmissions++;
      this.release(pkt);
      if (d === 0) {
        this.next = seqAdd(seq, 1);
        this.drain();
      } else if (d > 0 && d < this.capacity && !this.held.has(seq)) {
        this.held.set(seq, null);
      }
      return;
    }
    if (d <= -this.capacity) {
      // Far behind where the stream was: a new SRT session (a fresh random initial sequence
      // number) through the same group, not a late packet. Follow it, or nothing of the new
      // session would ever be put back in order.
      this.flush();
      this.release(pkt);
      this.next = seqAdd(seq, 1);
      this.highest = seq;
      return;
    }
    if (d < 0) {
      this.counts.late++;
      this.release(pkt);
      return;
    }
    if (d === 0) {
      this.release(pkt);
      this.next = seqAdd(seq, 1);
      this.drain();
      return;
    }
    if (d >= this.capacity) {
      this.flush();
      this.release(pkt);
      this.next = seqAdd(seq, 1);
      return;
    }
    if (this.held.has(seq)) {
      this.counts.duplicates++;
      return;
    }
    this.held.set(seq, pkt);
    this.order.push({ seq, deadline: now + this.holdMs });
    this.counts.held++;
  }

  /** When the next held packet's time is up, or undefined when nothing waits. */
  nextDeadline(): number | undefined {
    this.skipStale();
    return this.order[this.head]?.deadline;
  }

  /** Releases, in order, everything whose hold time is up (and what follows it without a gap). */
  expire(now: number): void {
    for (;;) {
      this.skipStale();
      const e = this.order[this.head];
      if (!e || e.deadline > now) break;
      this.head++;
      this.counts.gapTimeouts++;
      while (this.next !== undefined && seqDiff(this.next, e.seq) <= 0) {
        const v = this.held.get(this.next);
        if (v === undefined) this.counts.skipped++;
        else {
          this.held.delete(this.next);
          if (v) this.release(v);
        }
        this.next = seqAdd(this.next, 1);
      }
      this.drain();
    }
    this.compact();
  }

  /** Releases everything held, in order (closing, or a jump in the stream). */
  flush(): void {
    const seqs = [...this.held.keys()].sort((a, b) => seqDiff(a, b));
    for (const s of seqs) {
      const v = this.held.get(s);
      if (v) this.release(v);
    }
    this.held.clear();
    this.order = [];
    this.head = 0;
  }

  private drain(): void {
    while (this.next !== undefined && this.held.has(this.next)) {
      const v = this.held.get(this.next)!;
      this.held.delete(this.next);
      if (v) this.release(v);
      this.next = seqAdd(this.next, 1);
    }
  }

  private skipStale(): void {
    const next = this.next;
    while (this.head < this.order.length && next !== undefined && seqDiff(this.order[this.head]!.seq, next) < 0) this.head++;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
