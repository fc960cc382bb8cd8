/**
 * The section writer: turns one PSI/SI section into ready transport packets
 * (pointer_field 0, the section, 0xFF stuffing — §2.4.4.1), built once. Each
 * send only stamps the continuity counter, so repeating the tables every
 * 100 ms costs a copy, not an encode.
 */
import { TS_PACKET_SIZE, TS_PAYLOAD_SIZE } from './constants.js';
import { NO_FLAGS, writePacketHeader } from './packet.js';

export class SectionPackets {
  readonly pid: number;
  /** The packets back to back; byte 3 of each gets its continuity counter when sent. */
  readonly packets: Buffer;
  readonly count: number;

  constructor(pid: number, section: Buffer) {
    this.pid = pid;
    const bytes = 1 + section.length; // pointer_field, then the section
    this.count = Math.ceil(bytes / TS_PAYLOAD_SIZE);
    this.packets = Buffer.alloc(this.count * TS_PACKET_SIZE, 0xff);
    const payload = Buffer.alloc(this.count * TS_PAYLOAD_SIZE, 0xff);
    payload[0] = 0;
    section.copy(payload, 1);
    for (let i = 0; i < this.count; i++) {
      const off = i * TS_PACKET_SIZE;
      const at = writePacketHeader(this.packets, off, pid, i === 0, 0, TS_PAYLOAD_SIZE, NO_FLAGS);
      payload.copy(this.packets, at, i * TS_PAYLOAD_SIZE, (i + 1) * TS_PAYLOAD_SIZE);
    }
  }

  /** Copies packet `i` to `dst` at `off` with continuity counter `cc`. */
  copyPacket(i: number, dst: Buffer, off: number, cc: number): void {
    const src = i * TS_PACKET_SIZE;
    this.packets.copy(dst, off, src, src + TS_PACKET_SIZE);
    dst[off + 3] = (dst[off + 3]! & 0xf0) | (cc & 0x0f);
  }
}
