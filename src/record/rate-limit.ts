/**
 * A token bucket in bit/s for uploads: a part's body is fed to the socket in
 * small pieces no faster than the limit, so an upload never bursts a whole
 * part onto an uplink the live stream shares (the average alone would not
 * do: a 5 MiB part at line rate fills a cellular modem's queue for seconds).
 */
import { Readable } from 'node:stream';
import { pause } from '../lib/sleep.js';

/** Bytes per piece handed to the socket. */
const PIECE_BYTES = 16 << 10;
/** At most this much may go at once after a pause (ms worth of the rate). */
const BURST_MS = 100;

export class RateLimiter {
  private tokens = 0;
  private last = performance.now();
  private readonly burst: number;

  constructor(readonly bitsPerSecond: number) {
    this.burst = Math.max(PIECE_BYTES, (bitsPerSecond / 8) * (BURST_MS / 1000));
  }

  /** Waits until `bytes` may go. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * (this.bitsPerSecond / 8));
      this.last = now;
      if (this.tokens >= bytes) {
        this.tokens -= bytes;
        return;
      }
      const waitMs = ((bytes - this.tokens) * 8 * 1000) / this.bitsPerSecond;
      await pause(Math.max(1, Math.ceil(waitMs)), signal);
    }
  }

  /** `data` as a stream paced by this limiter. */
  stream(data: Buffer, signal?: AbortSignal): Readable {
    let off = 0;
    const readable: Readable = new Readable({
      read: () => {
        if (off >= data.length) {
          readable.push(null);
          return;
        }
        const piece = data.subarray(off, Math.min(data.length, off + PIECE_BYTES));
        off += piece.length;
        this.take(piece.length, signal).then(
          () => {
            readable.push(piece);
          },
          (e: unknown) => readable.destroy(e as Error),
        );
      },
    });
    return readable;
  }
}
