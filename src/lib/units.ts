/** Parsing and printing of the units operators type: bit rates, durations. */
import { InvalidInputError } from './errors.js';

const RATE = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bit\/s|bps|b)?$/;

/** "6M", "6000k", "6000000", "2.5Mbps" -> bits per second. */
export function parseBitrate(text: string, what = 'bit rate'): number {
  const m = RATE.exec(text.trim());
  if (!m) throw new InvalidInputError(`${what} "${text}" is not a bit rate (examples: 6M, 4500k, 2000000)`, { value: text });
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bps = Math.round(Number(m[1]) * mult);
  if (bps <= 0) throw new InvalidInputError(`${what} must be above zero`, { value: text });
  return bps;
}

export function formatBitrate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}
