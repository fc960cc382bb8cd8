/**
 * SRT data sequence numbers: 31 bits that wrap (SRTLA.md "SRT facts"). All
 * arithmetic on them lives here, so the wrap is handled in one place.
 */

export const SEQ_MOD = 0x8000_0000;
export const SEQ_MAX = 0x7fff_ffff;
const SEQ_HALF = 0x4000_0000;

/** `a - b` the shorter way round the 31-bit circle, in [-2^30, 2^30). */
export function seqDiff(a: number, b: number): number {
  let d = (a - b) % SEQ_MOD;
  if (d < 0) d += SEQ_MOD;
  return d >= SEQ_HALF ? d - SEQ_MOD : d;
}

export function seqLess(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLessOrEqual(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqAdd(a: number, n: number): number {
  const r = (a + n) % SEQ_MOD;
  return r < 0 ? r + SEQ_MOD : r;
}

/** An inclusive range of sequence numbers (`from === to` for one), as an SRT NAK names lost packets. */
export interface SeqRange {
  from: number;
  to: number;
}

/** Calls `fn` for each sequence number in the ranges, stopping after `limit` (a hostile NAK can name 2^30). */
export function forEachSeq(ranges: readonly SeqRange[], fn: (seq: number) => void, limit = 100_000): void {
  let n = 0;
  for (const r of ranges) {
    const len = seqDiff(r.to, r.from);
    for (let i = 0; i <= len; i++) {
      if (n++ >= limit) return;
      fn(seqAdd(r.from, i));
    }
  }
}
