/**
 * Reassembles PSI/SI sections from the payloads of one PID (ISO/IEC 13818-1
 * §2.4.4: pointer_field on payload_unit_start, sections spanning packets,
 * several sections in one packet, 0xFF stuffing after the last).
 */

/** Private sections may be 4096 bytes (§2.4.4.10); PSI at most 1024. */
const MAX_SECTION = 4096;

export class SectionAssembler {
  private readonly buf = Buffer.alloc(MAX_SECTION + 188);
  private len = 0;
  private active = false;

  constructor(private readonly onSection: (section: Buffer) => void) {}

  /** Forget a partial section (after a continuity error). */
  reset(): void {
    this.active = false;
    this.len = 0;
  }

  push(payload: Uint8Array, unitStart: boolean): void {
    if (payload.length === 0) return;
    if (!unitStart) {
      if (this.active) this.append(payload, 0, payload.length);
      return;
    }
    const pointer = payload[0]!;
    const start = 1 + pointer;
    if (start > payload.length) {
      this.reset();
      return;
    }
    if (this.active) this.append(payload, 1, start);
    this.reset();
    if (start < payload.length && payload[start] !== 0xff) {
      this.active = true;
      this.append(payload, start, payload.length);
    }
  }

  private append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (this.len + n > this.buf.length) {
      this.reset();
      return;
    }
    this.buf.set(src.subarray(from, to), this.len);
    this.len += n;
    this.drain();
  }

  /** Emits every complete section in the buffer; keeps a partial one. */
  private drain(): void {
    let off = 0;
    while (this.active && this.len - off >= 3) {
      if (this.buf[off] === 0xff) {
        this.reset();
        return;
      }
      const total = 3 + (((this.buf[off + 1]! & 0x0f) << 8) | this.buf[off + 2]!);
      if (total > MAX_SECTION) {
        this.reset();
        return;
      }
      if (this.len - off < total) break;
      this.onSection(Buffer.from(this.buf.subarray(off, off + total)));
      off += total;
      if (off >= this.len) {
        this.reset();
        return;
      }
    }
    if (off > 0 && this.active) {
      this.buf.copy(this.buf, 0, off, this.len);
      this.len -= off;
    }
  }
}
