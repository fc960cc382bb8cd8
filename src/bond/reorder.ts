/**
 * The receiver's bounded reorder stage. Links differ in delay by 100 ms and
 * more, and an SRT listener with no reorder tolerance (SRTO_LOSSMAXTTL 0,
 * the default, and what a managed ingest gives) reports a gap as lost the
 * moment a later packet arrives (FACTS.md, SRTLA.md). Holding data packets
 * briefly and releasing them in sequence order turns most of those false
 * losses into nothing.
 *
 * Bounded: no packet waits longer than the hold; when the oldest held
 * packet's time is up, everything up to it is released in order and the gap
 * before it is left to SRT's own recovery. Retransmissions (R flag) pass
 * straight through: SRT asked for them, and holding them only delays repair.
 * Sequence numbers are 31 bits and wrap (seqDiff). Pure: no I/O, the clock is
 * a parameter.
 *
 * The hold adapts to the links (holdMs is its floor): each time a missing
 * packet turns up, how long its gap was open is a sample (and a packet that
 * came after its gap was given up is one too, from when the gap opened). The
 * hold is the 98th percentile of the samples of the last 30 s, with a 20 %
 * margin, between the floor and ADAPTIVE_MAX_MS. On links whose one-way
 * delays differ by 100 ms and jitter by ±60 ms (bond-harsh), a fixed 50 ms
 * hold released most gaps before their packet came, and the listener asked
 * again for each: retransmissions of packets that were on their way. A gap
 * that is a real loss waits at most the hold longer for its NAK, well inside
 * SRT's latency.
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
  /** The hold last applied to a gap, in ms (adapted to how late reordered packets come). */
  holdMs: number;
}

export const REORDER_TUNING = {
  /** The adaptive hold never goes above this (or the floor, if that is higher). */
  ADAPTIVE_MAX_MS: 200,
  /** Samples older than this no longer count. */
  WINDOW_MS: 30_000,
  /** The hold covers this share of the gaps that filled. */
  PERCENTILE: 0.98,
  MARGIN: 1.2,
  /** Gap-fill samples kept (the most recent). */
  SAMPLES: 512,
  /** The hold is worked out again after this many new samples, or this long. */
  RECOMPUTE_EVERY: 16,
  RECOMPUTE_MS: 1000,
  /** Gaps given up on that are remembered (for a packet that still comes). */
  SKIPPED_REMEMBERED: 4096,
} as const;

/** Beyond this many packets ahead or behind, a jump is a new stream position, not reordering: flush. */
const DEFAULT_CAPACITY = 8192;

export class ReorderBuffer {
  private next: number | undefined;
  private highest: number | undefined;
  /** Held packets by sequence; `null` marks a number already sent (a retransmission ahead of the gap). */
  private readonly held = new Map<number, Buffer | null>();
  /** Held packets in arrival order (their deadlines are in the same order). */
  private order: { seq: number; at: number; deadline: number }[] = [];
  private head = 0;
  private readonly counts: Omit<ReorderStats, 'holdMs'> = {
    held: 0,
    reordered: 0,
    gapTimeouts: 0,
    skipped: 0,
    late: 0,
    retransmissions: 0,
    duplicates: 0,
  };
  /** The hold now: between the floor and the ceiling, from the samples. */
  private hold: number;
  private readonly maxHold: number;
  /** How long filled gaps were open, and when (a ring of the most recent). */
  private readonly sampleMs = new Float64Array(REORDER_TUNING.SAMPLES);
  private readonly sampleAt = new Float64Array(REORDER_TUNING.SAMPLES);
  private samples = 0;
  private sinceRecompute = 0;
  private recomputedAt = 0;
  /** Sequence numbers a timeout skipped, with when their gap opened. */
  private readonly skippedAt = new Map<number, number>();

  /** `holdMs` is the floor of the hold (0: no reordering at all). */
  constructor(
    readonly holdMs: number,
    private readonly release: (pkt: Buffer) => void,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {
    this.hold = holdMs;
    this.maxHold = Math.max(holdMs, REORDER_TUNING.ADAPTIVE_MAX_MS);
  }

  stats(): ReorderStats {
    return { ...this.counts, holdMs: Math.round(this.hold) };
  }

  /** The hold now, in ms. */
  get currentHoldMs(): number {
    return this.hold;
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
      const opened = this.skippedAt.get(seq);
      if (opened !== undefined) {
        this.skippedAt.delete(seq);
        this.sample(now - opened, now);
      }
      this.release(pkt);
      return;
    }
    if (d === 0) {
      // The packet a gap waited for: how long the gap was open is a sample.
      this.skipStale();
      const waiting = this.order[this.head];
      if (waiting) this.sample(now - waiting.at, now);
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
    // A gap opens: its hold must not be one worked out before a quiet spell (the receiver
    // calls expire() only while packets are held, so nothing recomputed it meanwhile).
    if (now - this.recomputedAt >= REORDER_TUNING.RECOMPUTE_MS) this.recompute(now);
    this.order.push({ seq, at: now, deadline: now + this.hold });
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
        if (v === undefined) {
          this.counts.skipped++;
          this.rememberSkipped(this.next, e.at);
        } else {
          this.held.delete(this.next);
          if (v) this.release(v);
        }
        this.next = seqAdd(this.next, 1);
      }
      this.drain();
    }
    this.compact();
    if (now - this.recomputedAt >= REORDER_TUNING.RECOMPUTE_MS) this.recompute(now);
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

  private sample(ms: number, now: number): void {
    const i = this.samples % REORDER_TUNING.SAMPLES;
    this.sampleMs[i] = ms;
    this.sampleAt[i] = now;
    this.samples++;
    if (++this.sinceRecompute >= REORDER_TUNING.RECOMPUTE_EVERY) this.recompute(now);
  }

  /** The hold from the samples of the window: their high percentile with a margin, within the bounds. */
  private recompute(now: number): void {
    this.sinceRecompute = 0;
    this.recomputedAt = now;
    const recent: number[] = [];
    const n = Math.min(this.samples, REORDER_TUNING.SAMPLES);
    for (let i = 0; i < n; i++) if (now - this.sampleAt[i]! <= REORDER_TUNING.WINDOW_MS) recent.push(this.sampleMs[i]!);
    if (recent.length === 0) {
      this.hold = this.holdMs;
      return;
    }
    recent.sort((a, b) => a - b);
    const p = recent[Math.min(recent.length - 1, Math.floor(recent.length * REORDER_TUNING.PERCENTILE))]!;
    this.hold = Math.min(this.maxHold, Math.max(this.holdMs, Math.ceil(p * REORDER_TUNING.MARGIN)));
  }

  private rememberSkipped(seq: number, openedAt: number): void {
    if (this.skippedAt.size >= REORDER_TUNING.SKIPPED_REMEMBERED) {
      const oldest = this.skippedAt.keys().next();
      if (!oldest.done) this.skippedAt.delete(oldest.value);
    }
    this.skippedAt.set(seq, openedAt);
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
