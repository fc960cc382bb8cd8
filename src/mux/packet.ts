/**
 * The transport packet header and adaptation field (ISO/IEC 13818-1
 * §2.4.3.2–§2.4.3.5), written straight into a caller's buffer.
 */
import { PCR_HZ, TS_WRAP, wrapPcr } from '../lib/clock.js';
import { TS_PACKET_SIZE, TS_PAYLOAD_SIZE, TS_SYNC_BYTE } from './constants.js';

/** Adaptation field bytes (length byte, flags byte, PCR) a packet carrying a PCR needs. */
export const PCR_AF_SIZE = 8;
/** Where the PCR field starts in a packet whose adaptation field carries one. */
export const PCR_OFFSET = 6;
/**
 * The PCR stamps the arrival of the byte holding the last bit of
 * program_clock_reference_base (§2.4.2.2): byte 10 of the packet, done at byte 11.
 */
export const PCR_BYTE_IN_PACKET = 11;

/** Optional adaptation-field contents of one packet; `pcr` < 0 means none. */
export interface AdaptationFlags {
  pcr: number;
  randomAccess: boolean;
  discontinuity: boolean;
}

export const NO_FLAGS: AdaptationFlags = Object.freeze({ pcr: -1, randomAccess: false, discontinuity: false });

/** Adaptation field bytes the flags need (0 when no field is needed). */
export function adaptationSize(f: AdaptationFlags): number {
  if (f.pcr >= 0) return PCR_AF_SIZE;
  return f.randomAccess || f.discontinuity ? 2 : 0;
}

/**
 * Encodes a 27 MHz PCR (reduced to its wire value) into 6 bytes: 33-bit base
 * at 90 kHz, 6 reserved bits, 9-bit extension (§2.4.3.5).
 */
export function writePcr(buf: Uint8Array, off: number, pcr: number): void {
  const wire = wrapPcr(pcr);
  const base = Math.floor(wire / 300) % TS_WRAP;
  const ext = wire - Math.floor(wire / 300) * 300;
  const hi = Math.floor(base / 2); // top 32 bits of the 33-bit base
  buf[off] = (hi >>> 24) & 0xff;
  buf[off + 1] = (hi >>> 16) & 0xff;
  buf[off + 2] = (hi >>> 8) & 0xff;
  buf[off + 3] = hi & 0xff;
  buf[off + 4] = ((base & 1) << 7) | 0x7e | ((ext >>> 8) & 1);
  buf[off + 5] = ext & 0xff;
}

/** Reads a PCR written by writePcr: 27 MHz wire value. */
export function readPcr(buf: Uint8Array, off: number): number {
  const hi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  const base = hi * 2 + (buf[off + 4]! >>> 7);
  const ext = ((buf[off + 4]! & 1) << 8) | buf[off + 5]!;
  return base * 300 + ext;
}

/** PCR in seconds, for logs and reports. */
export function pcrSeconds(pcr: number): number {
  return pcr / PCR_HZ;
}

/**
 * Writes the 4-byte header and an adaptation field sized so that exactly
 * `payloadLength` payload bytes follow (stuffing with 0xFF, §2.4.3.5).
 * Returns the offset of the payload. `payloadLength` must fit beside the
 * flags' adaptation field; 0 makes an adaptation-only packet.
 */
export function writePacketHeader(
  buf: Uint8Array,
  off: number,
  pid: number,
  unitStart: boolean,
  cc: number,
  payloadLength: number,
  flags: AdaptationFlags,
): number {
  const afBytes = TS_PAYLOAD_SIZE - payloadLength;
  const control = afBytes === 0 ? 1 : payloadLength === 0 ? 2 : 3;
  buf[off] = TS_SYNC_BYTE;
  buf[off + 1] = (unitStart ? 0x40 : 0) | ((pid >>> 8) & 0x1f);
  buf[off + 2] = pid & 0xff;
  buf[off + 3] = (control << 4) | (cc & 0x0f);
  if (afBytes === 0) return off + 4;
  buf[off + 4] = afBytes - 1;
  if (afBytes === 1) return off + 5;
  const hasPcr = flags.pcr >= 0;
  buf[off + 5] = (flags.discontinuity ? 0x80 : 0) | (flags.randomAccess ? 0x40 : 0) | (hasPcr ? 0x10 : 0);
  let p = off + 6;
  if (hasPcr) {
    writePcr(buf, p, flags.pcr);
    p += 6;
  }
  const payloadAt = off + TS_PACKET_SIZE - payloadLength;
  if (p < payloadAt) buf.fill(0xff, p, payloadAt);
  return payloadAt;
}

/** A null packet (PID 0x1FFF), payload 0xFF (§2.4.3.3). */
export function writeNullPacket(buf: Uint8Array, off: number): void {
  buf[off] = TS_SYNC_BYTE;
  buf[off + 1] = 0x1f;
  buf[off + 2] = 0xff;
  buf[off + 3] = 0x10;
  buf.fill(0xff, off + 4, off + TS_PACKET_SIZE);
}
