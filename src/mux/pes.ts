/**
 * PES packet headers (ISO/IEC 13818-1 §2.4.3.6–§2.4.3.7) and the 33-bit
 * PTS/DTS fields.
 */
import { wrapPts } from '../lib/clock.js';

/** Longest PES header Fieldcast writes: 9 fixed bytes + PTS + DTS. */
export const MAX_PES_HEADER = 19;
/** PES_packet_length is 16 bits; video may use 0 (unbounded) in a TS (§2.4.3.7). */
export const MAX_PES_PACKET_LENGTH = 0xffff;

/**
 * Writes a 5-byte PTS or DTS: 4-bit prefix ('0010' PTS only, '0011' PTS with
 * DTS, '0001' DTS), then 3+15+15 bits with marker bits (§2.4.3.7).
 */
export function writeTimestamp(buf: Uint8Array, off: number, prefix: number, ts: number): void {
  const wire = wrapPts(ts);
  const top = Math.floor(wire / 0x40000000) & 7; // bits 32..30
  const low = wire % 0x40000000; // bits 29..0
  buf[off] = (prefix << 4) | (top << 1) | 1;
  buf[off + 1] = (low >>> 22) & 0xff;
  buf[off + 2] = ((low >>> 14) & 0xfe) | 1;
  buf[off + 3] = (low >>> 7) & 0xff;
  buf[off + 4] = ((low << 1) & 0xfe) | 1;
}

/** Reads a 5-byte PTS/DTS field: the 33-bit wire value. */
export function readTimestamp(buf: Uint8Array, off: number): number {
  const top = (buf[off]! >>> 1) & 7;
  const low = ((buf[off + 1]! << 22) | ((buf[off + 2]! >>> 1) << 15) | (buf[off + 3]! << 7) | (buf[off + 4]! >>> 1)) >>> 0;
  return top * 0x40000000 + low;
}

export interface PesHeaderFields {
  streamId: number;
  /** 90 kHz; undefined for a PES without timestamps (asynchronous KLV). */
  pts?: number | undefined;
  /** Written only when it differs from pts. */
  dts?: number | undefined;
  /** Bytes of payload after the header; 0 with `unbounded` for video. */
  payloadLength: number;
  /** PES_packet_length 0: allowed only for video in a TS (§2.4.3.7). */
  unbounded: boolean;
  /** data_alignment_indicator: the payload starts with an access unit (an AUD, an ADTS sync word). */
  aligned: boolean;
}

/** Header size for these fields. */
export function pesHeaderSize(pts: number | undefined, dts: number | undefined): number {
  if (pts === undefined) return 9;
  return dts !== undefined && dts !== pts ? 19 : 14;
}

/** Writes the PES header; returns its length. Throws RangeError when a bounded PES would not fit 16 bits. */
export function writePesHeader(buf: Uint8Array, off: number, f: PesHeaderFields): number {
  const hasDts = f.pts !== undefined && f.dts !== undefined && f.dts !== f.pts;
  const optLen = f.pts === undefined ? 0 : hasDts ? 10 : 5;
  const size = 9 + optLen;
  const len = f.unbounded ? 0 : 3 + optLen + f.payloadLength;
  if (len > MAX_PES_PACKET_LENGTH) throw new RangeError(`PES packet of ${len} bytes exceeds 65535`);
  buf[off] = 0;
  buf[off + 1] = 0;
  buf[off + 2] = 1;
  buf[off + 3] = f.streamId;
  buf[off + 4] = (len >>> 8) & 0xff;
  buf[off + 5] = len & 0xff;
  buf[off + 6] = 0x80 | (f.aligned ? 0x04 : 0); // '10', not scrambled, no priority
  buf[off + 7] = f.pts === undefined ? 0 : hasDts ? 0xc0 : 0x80;
  buf[off + 8] = optLen;
  if (f.pts !== undefined) {
    writeTimestamp(buf, off + 9, hasDts ? 3 : 2, f.pts);
    if (hasDts) writeTimestamp(buf, off + 14, 1, f.dts!);
  }
  return size;
}

/** The fields of a PES header an analyser needs; undefined when the bytes are not a PES header. */
export interface PesHeaderInfo {
  streamId: number;
  packetLength: number;
  headerLength: number;
  pts?: number;
  dts?: number;
}

/** Streams whose PES packets have no optional header (§2.4.3.7: padding, private 2, ECM, EMM, DSM-CC, H.222.1 E). */
const NO_OPTIONAL_HEADER = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

export function parsePesHeader(buf: Uint8Array, off: number, end: number): PesHeaderInfo | undefined {
  if (end - off < 6 || buf[off] !== 0 || buf[off + 1] !== 0 || buf[off + 2] !== 1) return undefined;
  const streamId = buf[off + 3]!;
  const packetLength = (buf[off + 4]! << 8) | buf[off + 5]!;
  if (NO_OPTIONAL_HEADER.has(streamId)) return { streamId, packetLength, headerLength: 6 };
  if (end - off < 9) return undefined;
  const flags = buf[off + 7]! >>> 6;
  const headerLength = 9 + buf[off + 8]!;
  const info: PesHeaderInfo = { streamId, packetLength, headerLength };
  if (flags >= 2 && end - off >= 14) info.pts = readTimestamp(buf, off + 9);
  if (flags === 3 && end - off >= 19) info.dts = readTimestamp(buf, off + 14);
  return info;
}
