/**
 * De-duplication of the receiver's return traffic. A Fieldcast receiver sends
 * SRT ACKs, NAKs and handshake replies on every live link (SRTLA.md
 * "Receiving"), so the same packet arrives once per link. Passing every copy
 * to the SRT caller would make it retransmit each NAKed packet once per link.
 * Copies are byte-identical (SRT stamps each control packet with its own
 * microsecond timestamp, SRT RFC §3), while a periodic NAK report repeating a
 * loss list carries a new timestamp, so exact-content matching within a short
 * window drops copies and keeps genuine repeats.
 */

/** Longer than the spread of the links' one-way delays (a few hundred ms on cellular). */
export const DEDUPE_WINDOW_MS = 1000;
const MAX_ENTRIES = 20_000;

export class ReturnDedupe {
  private readonly seen = new Map<string, number>();

  /** True when an identical packet passed within the window (then it should be dropped). */
  isDuplicate(buf: Uint8Array, now: number): boolean {
    for (const [k, t] of this.seen) {
      if (now - t <= DEDUPE_WINDOW_MS && this.seen.size < MAX_ENTRIES) break;
      this.seen.delete(k);
    }
    const key = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
    if (this.seen.has(key)) return true;
    this.seen.set(key, now);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }
}
