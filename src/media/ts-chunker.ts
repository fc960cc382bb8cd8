/**
 * Re-chunks a byte stream of MPEG-TS into whole 1316-byte SRT payloads
 * (7 × 188, ISO/IEC 13818-1 §2.4.3), finding and keeping sync on 0x47.
 * Live sources deliver arbitrary boundaries (a pipe, UDP datagrams of
 * other sizes); SRT wants every payload to start on a packet.
 */

import { CHUNK_PACKETS, CHUNK_SIZE, TS_PACKET_SIZE } from '../mux/constants.js';
import { readPcr } from '../mux/packet.js';

export const TS_PACKET = TS_PACKET_SIZE;
export const CHUNK_BYTES = CHUNK_SIZE;
const SYNC = 0x47;

export class TsChunker {
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES * 16);
  private len = 0;
  private resyncs = 0;

  constructor(private readonly onChunk: (chunk: Buffer) => void) {}

  /** How many times sync had to be searched for (damaged or misaligned input). */
  get syncLosses(): number {
    return this.resyncs;
  }

  push(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.buf.length - this.len);
      data.copy(this.buf, this.len, off, off + n);
      this.len += n;
      off += n;
      this.drain();
    }
  }

  /** Emits what is left as a short chunk of whole packets. */
  flush(): void {
    this.drain();
    const whole = this.len - (this.len % TS_PACKET);
    if (whole > 0) this.onChunk(Buffer.from(this.buf.subarray(0, whole)));
    this.len = 0;
  }

  private drain(): void {
    let start = 0;
    for (;;) {
      start = this.align(start);
      if (this.len - start < CHUNK_BYTES) break;
      // Every packet of the chunk must start with sync; else resync inside it.
      let ok = true;
      for (let p = 1; p < CHUNK_PACKETS; p++) {
        if (this.buf[start + p * TS_PACKET] !== SYNC) {
          ok = false;
          start += p * TS_PACKET;
          this.resyncs++;
          break;
        }
      }
      if (!ok) continue;
      this.onChunk(Buffer.from(this.buf.subarray(start, start + CHUNK_BYTES)));
      start += CHUNK_BYTES;
    }
    if (start > 0) {
      this.buf.copy(this.buf, 0, start, this.len);
      this.len -= start;
    }
  }

  /** Index of the next sync byte that a following sync byte confirms (or the end of what can be judged). */
  private align(from: number): number {
    let i = from;
    while (i < this.len && !(this.buf[i] === SYNC && (i + TS_PACKET >= this.len || this.buf[i + TS_PACKET] === SYNC))) i++;
    if (i > from) this.resyncs++;
    return i;
  }
}

/** The PCR carried by a TS packet at `off`, in 27 MHz ticks, or undefined (§2.4.3.5). */
export function packetPcr(buf: Buffer, off: number): number | undefined {
  if (buf[off] !== SYNC) return undefined;
  const afc = (buf[off + 3]! >> 4) & 0x3;
  if (afc !== 2 && afc !== 3) return undefined;
  const afLen = buf[off + 4]!;
  if (afLen < 7 || !(buf[off + 5]! & 0x10)) return undefined;
  return readPcr(buf, off + 6);
}

export function packetPid(buf: Buffer, off: number): number {
  return ((buf[off + 1]! & 0x1f) << 8) | buf[off + 2]!;
}
