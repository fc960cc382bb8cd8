/**
 * The media clock: one monotonic time base for every timestamp.
 *
 * Capture stamps frames in microseconds of CLOCK_MONOTONIC; everything
 * downstream speaks 90 kHz (PTS/DTS) and 27 MHz (PCR) units. MPEG-TS carries
 * PTS/DTS and the PCR base in 33 bits (ISO/IEC 13818-1 §2.4.3.7 and
 * §2.4.3.5): the wrap is handled here and nowhere else.
 */

export const PTS_HZ = 90_000;
export const PCR_HZ = 27_000_000;
/** 2^33: the modulus of PTS, DTS and the PCR base. */
export const TS_WRAP = 2 ** 33;
/** PCR = base * 300 + extension, base modulo 2^33 (§2.4.3.5). */
export const PCR_WRAP = TS_WRAP * 300;

/** Microseconds of the monotonic clock, as a float that keeps integer precision for centuries. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function microsToPts(us: number): number {
  return Math.round((us * 9) / 100);
}

export function ptsToMicros(pts: number): number {
  return (pts * 100) / 9;
}

export function ptsToMs(pts: number): number {
  return pts / 90;
}

/**
 * The capture time (µs of the monotonic clock) a PTS stands for: the encoder
 * stamps each unit's PTS from its capture time modulo 2^33 ticks, so the
 * wrap nearest `nearUs` (say, now) is the one.
 */
export function captureMicrosFromPts(pts: number, nearUs: number): number {
  const wrapUs = ptsToMicros(TS_WRAP);
  const us = ptsToMicros(pts);
  return us + Math.round((nearUs - us) / wrapUs) * wrapUs;
}

/** 27 MHz ticks from 90 kHz ticks. */
export function ptsToPcr(pts: number): number {
  return pts * 300;
}

/** Reduces an unbounded 90 kHz count to its 33-bit wire value. */
export function wrapPts(pts: number): number {
  const r = pts % TS_WRAP;
  return r < 0 ? r + TS_WRAP : r;
}

/** Reduces an unbounded 27 MHz count to its wire value (base mod 2^33, extension 0..299). */
export function wrapPcr(pcr: number): number {
  const r = pcr % PCR_WRAP;
  return r < 0 ? r + PCR_WRAP : r;
}

/**
 * Signed difference `a - b` of two 33-bit wire timestamps, taking the shorter
 * way round the wrap: the result lies in [-2^32, 2^32).
 */
export function ptsDiff(a: number, b: number): number {
  let d = wrapPts(a - b);
  if (d >= TS_WRAP / 2) d -= TS_WRAP;
  return d;
}

/** Signed difference of two wire PCR values (27 MHz), the shorter way round. */
export function pcrDiff(a: number, b: number): number {
  let d = wrapPcr(a - b);
  if (d >= PCR_WRAP / 2) d -= PCR_WRAP;
  return d;
}

/**
 * Turns a stream of wrapped 33-bit timestamps back into an unbounded,
 * monotonic-ish count (for analysers reading a long TS).
 */
export class PtsUnwrapper {
  private last: number | undefined;
  private offset = 0;

  unwrap(pts: number): number {
    if (this.last !== undefined) {
      const d = ptsDiff(pts, this.last);
      const naive = pts - this.last;
      if (naive !== d) this.offset += d - naive;
    }
    this.last = pts;
    return pts + this.offset;
  }
}

/** A rational frame rate; 30000/1001 for 29.97. */
export interface FrameRate {
  num: number;
  den: number;
}

/** Frame duration in 90 kHz ticks (exact for 1001 rates: 3003 at 29.97). */
export function frameDurationPts(rate: FrameRate): number {
  return (PTS_HZ * rate.den) / rate.num;
}

/** Parses "30", "29.97", "30000/1001", "59.94" into an exact rational rate. */
export function parseFrameRate(text: string): FrameRate | undefined {
  const t = text.trim();
  const frac = /^(\d+)\/(\d+)$/.exec(t);
  if (frac) {
    const num = Number(frac[1]);
    const den = Number(frac[2]);
    return num > 0 && den > 0 ? { num, den } : undefined;
  }
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0 || n > 1000) return undefined;
  for (const base of [24, 30, 60, 120]) {
    if (Math.abs(n - (base * 1000) / 1001) < 0.01) return { num: base * 1000, den: 1001 };
  }
  if (Number.isInteger(n)) return { num: n, den: 1 };
  return { num: Math.round(n * 1000), den: 1000 };
}
