/**
 * SRTLA wire format and the SRT facts the bonding layer needs (SRTLA.md).
 *
 * Pure, length-checked encode/decode. Decoders never throw on network input:
 * they return a typed value or `{ kind: 'malformed', reason }`. All integers
 * are big-endian. SRTLA control types live in SRT's control space (top bit
 * set, type field 0x1000-0x12ff) so they never collide with SRT's own.
 * Sequence arithmetic (31-bit wrap) is in sequence.ts.
 */

import { SEQ_MAX, type SeqRange, seqLess } from './sequence.js';

/** SRTLA packet types: the first 16 bits of every SRTLA control packet (SRTLA.md table). */
export const SRTLA_TYPE = {
  KEEPALIVE: 0x9000,
  ACK: 0x9100,
  REG1: 0x9200,
  REG2: 0x9201,
  REG3: 0x9202,
  REG_ERR: 0x9210,
  REG_NGP: 0x9211,
  REG_NAK: 0x9212,
} as const;

/** The group id: 256 bytes; the first half the sender's, the second the receiver's. */
export const SRTLA_ID_LEN = 256;
export const SRTLA_ID_HALF = 128;
/** REG1 and REG2: type + id; common receivers accept exactly this length. */
export const SRTLA_REG_LEN = 2 + SRTLA_ID_LEN;
/** Short replies (REG3, REG_ERR, REG_NGP): common senders expect exactly 2 bytes, so receivers send them unpadded. */
export const SRTLA_SHORT_LEN = 2;
/** Keepalive with a u64 ms timestamp after the type. */
export const KEEPALIVE_TS_LEN = 10;
/** irlserver's extended keepalive (SRTLA.md "What the best senders … do"). */
export const KEEPALIVE_EXT_LEN = 38;
export const KEEPALIVE_EXT_MAGIC = 0xc01f;
export const KEEPALIVE_EXT_VERSION = 1;
/** Carrier NAT drops very small UDP packets on some networks (SRTLA.md): pad to this where the protocol allows. */
export const MIN_CONTROL_LEN = 32;
/** Sequence numbers per SRTLA ACK in the common receiver. */
export const SRTLA_ACK_COMMON_COUNT = 10;
/** Cap on SRTLA ACK entries we decode: one MTU's worth. */
export const SRTLA_ACK_MAX_COUNT = 368;

/** SRT packet header (data and control): 16 bytes. */
export const SRT_HEADER_LEN = 16;
/** SRT control types (bits 1-15 of the first word). */
export const SRT_CONTROL = {
  HANDSHAKE: 0x0000,
  KEEPALIVE: 0x0001,
  ACK: 0x0002,
  NAK: 0x0003,
  CONGESTION: 0x0004,
  SHUTDOWN: 0x0005,
  ACKACK: 0x0006,
  DROPREQ: 0x0007,
  PEERERROR: 0x0008,
  USER: 0x7fff,
} as const;

export interface Malformed {
  kind: 'malformed';
  reason: string;
}

function malformed(reason: string): Malformed {
  return { kind: 'malformed', reason };
}

export function isMalformed(v: { kind: string }): v is Malformed {
  return v.kind === 'malformed';
}

// ---------------------------------------------------------------------------
// SRT facts

/** Any packet whose first bit is set is a control packet (SRT's or SRTLA's). */
export function isControl(buf: Uint8Array): boolean {
  return buf.length >= 2 && (buf[0]! & 0x80) !== 0;
}

/** An SRT data packet: first bit 0 and a full 16-byte header. */
export function isSrtData(buf: Uint8Array): boolean {
  return buf.length >= SRT_HEADER_LEN && (buf[0]! & 0x80) === 0;
}

/** The first 16 bits of a control packet (SRTLA type, or 0x8000 | SRT control type). */
export function controlWord(buf: Uint8Array): number | undefined {
  if (!isControl(buf)) return undefined;
  return (buf[0]! << 8) | buf[1]!;
}

/** True for the SRTLA range 0x9000-0x92ff (SRT uses types 0x0000-0x0008 and 0x7fff). */
export function isSrtla(buf: Uint8Array): boolean {
  const w = controlWord(buf);
  return w !== undefined && w >= 0x9000 && w <= 0x92ff;
}

/** SRT control type (bits 1-15) of an SRT control packet with a full header; undefined otherwise. */
export function srtControlType(buf: Uint8Array): number | undefined {
  if (buf.length < SRT_HEADER_LEN || isSrtla(buf)) return undefined;
  const w = controlWord(buf);
  return w === undefined ? undefined : w & 0x7fff;
}

function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

function putU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** The 31-bit sequence number of an SRT data packet, or undefined if it is not one. */
export function srtDataSeq(buf: Uint8Array): number | undefined {
  return isSrtData(buf) ? u32(buf, 0) & SEQ_MAX : undefined;
}

/** The R flag of a data packet (bit 5 of word 1): set on retransmissions (SRT RFC §3.1). */
export function isRetransmission(buf: Uint8Array): boolean {
  return isSrtData(buf) && (buf[4]! & 0x04) !== 0;
}

/** The destination socket id of any SRT packet (bytes 12-15). */
export function srtDestSocket(buf: Uint8Array): number | undefined {
  return buf.length >= SRT_HEADER_LEN && !isSrtla(buf) ? u32(buf, 12) : undefined;
}

/** The sequence number an SRT ACK acknowledges (everything before it arrived): the u32 at byte 16. */
export function srtAckSeq(buf: Uint8Array): number | undefined {
  if (srtControlType(buf) !== SRT_CONTROL.ACK || buf.length < SRT_HEADER_LEN + 4) return undefined;
  return u32(buf, SRT_HEADER_LEN) & SEQ_MAX;
}

export interface NakLossList {
  kind: 'nak';
  ranges: SeqRange[];
}

/**
 * The loss list of an SRT NAK (from byte 16): u32 entries; a set top bit
 * starts a range `from..to` given by that entry and the next (SRT RFC §3.2.5).
 */
export function decodeSrtNak(buf: Uint8Array): NakLossList | Malformed {
  if (srtControlType(buf) !== SRT_CONTROL.NAK) return malformed('not an SRT NAK');
  const body = buf.length - SRT_HEADER_LEN;
  if (body <= 0 || body % 4 !== 0) return malformed(`NAK loss list of ${body} bytes is not a whole number of u32`);
  const ranges: SeqRange[] = [];
  for (let off = SRT_HEADER_LEN; off < buf.length; off += 4) {
    const v = u32(buf, off);
    if (v & 0x8000_0000) {
      if (off + 8 > buf.length) return malformed('NAK range start without its end');
      const to = u32(buf, off + 4);
      if (to & 0x8000_0000) return malformed('NAK range end has its top bit set');
      const from = v & SEQ_MAX;
      if (seqLess(to, from)) return malformed('NAK range ends before it starts');
      ranges.push({ from, to });
      off += 4;
    } else {
      ranges.push({ from: v, to: v });
    }
  }
  return { kind: 'nak', ranges };
}

/** Builds an SRT NAK (for tests and tools): header with the given socket id, then the loss list. */
export function encodeSrtNak(ranges: readonly SeqRange[], destSocket = 0, timestamp = 0): Buffer {
  const words: number[] = [];
  for (const r of ranges) {
    if (r.from === r.to) words.push(r.from & SEQ_MAX);
    else words.push(((r.from & SEQ_MAX) | 0x8000_0000) >>> 0, r.to & SEQ_MAX);
  }
  const buf = Buffer.alloc(SRT_HEADER_LEN + 4 * words.length);
  putU16(buf, 0, 0x8000 | SRT_CONTROL.NAK);
  putU32(buf, 8, timestamp);
  putU32(buf, 12, destSocket);
  words.forEach((w, i) => {
    putU32(buf, SRT_HEADER_LEN + 4 * i, w);
  });
  return buf;
}

/** Builds an SRT ACK (for tests and tools): `ackNo` in word 1, the acknowledged sequence at byte 16. */
export function encodeSrtAck(ackSeq: number, ackNo = 1, destSocket = 0, full = true): Buffer {
  const buf = Buffer.alloc(full ? 44 : 20);
  putU16(buf, 0, 0x8000 | SRT_CONTROL.ACK);
  putU32(buf, 4, ackNo);
  putU32(buf, 12, destSocket);
  putU32(buf, SRT_HEADER_LEN, ackSeq & SEQ_MAX);
  return buf;
}

/** Builds an SRT data packet header + payload (for tests and tools). */
export function encodeSrtData(seq: number, payload: Uint8Array, destSocket = 0, retransmitted = false): Buffer {
  const buf = Buffer.alloc(SRT_HEADER_LEN + payload.length);
  putU32(buf, 0, seq & SEQ_MAX);
  putU32(buf, 4, (0xc000_0000 | (retransmitted ? 0x0400_0000 : 0) | 1) >>> 0);
  putU32(buf, 12, destSocket);
  buf.set(payload, SRT_HEADER_LEN);
  return buf;
}

// ---------------------------------------------------------------------------
// SRTLA packets

/** irlserver's connection info in an extended keepalive (38 bytes, receivers echo it whole). */
export interface KeepaliveInfo {
  linkId: number;
  window: number;
  inFlight: number;
  rttMs: number;
  nakCount: number;
  bytesPerSecond: number;
}

export type SrtlaPacket =
  | { kind: 'keepalive'; timestampMs?: number; info?: KeepaliveInfo }
  | { kind: 'ack'; seqs: number[] }
  | { kind: 'reg1'; id: Buffer }
  | { kind: 'reg2'; id: Buffer }
  | { kind: 'reg3' }
  | { kind: 'regErr' }
  | { kind: 'regNgp' }
  | { kind: 'regNak'; text: string };

/**
 * Decodes an SRTLA control packet. Returns undefined when the packet is not
 * SRTLA at all (SRT data or SRT control, to be forwarded as is).
 */
export function decodeSrtla(buf: Uint8Array): SrtlaPacket | Malformed | undefined {
  if (!isSrtla(buf)) return undefined;
  const w = controlWord(buf)!;
  const n = buf.length;
  switch (w) {
    case SRTLA_TYPE.KEEPALIVE:
      return decodeKeepalive(buf);
    case SRTLA_TYPE.ACK:
      return decodeSrtlaAck(buf);
    case SRTLA_TYPE.REG1:
    case SRTLA_TYPE.REG2: {
      if (n !== SRTLA_REG_LEN) return malformed(`REG${w === SRTLA_TYPE.REG1 ? 1 : 2} of ${n} bytes, expected ${SRTLA_REG_LEN}`);
      const id = Buffer.from(buf.subarray(2, SRTLA_REG_LEN));
      return w === SRTLA_TYPE.REG1 ? { kind: 'reg1', id } : { kind: 'reg2', id };
    }
    // Short replies: accept the standard 2-byte form and padded forms.
    case SRTLA_TYPE.REG3:
      return { kind: 'reg3' };
    case SRTLA_TYPE.REG_ERR:
      return { kind: 'regErr' };
    case SRTLA_TYPE.REG_NGP:
      return { kind: 'regNgp' };
    case SRTLA_TYPE.REG_NAK:
      return { kind: 'regNak', text: printable(buf.subarray(2)) };
    default:
      return malformed(`unknown SRTLA type 0x${w.toString(16)}`);
  }
}

/** Text from the network, safe for a log line: printable ASCII only, at most 200 characters. */
function printable(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0) break;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?';
    if (s.length >= 200) break;
  }
  return s.trim();
}

function decodeKeepalive(buf: Uint8Array): SrtlaPacket | Malformed {
  if (buf.length < KEEPALIVE_TS_LEN) return { kind: 'keepalive' };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ts = view.getBigUint64(2);
  // A timestamp beyond 2^53 ms is not one we wrote: treat as a plain keepalive.
  const timestampMs = ts <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ts) : undefined;
  if (buf.length >= KEEPALIVE_EXT_LEN && view.getUint16(10) === KEEPALIVE_EXT_MAGIC && view.getUint16(12) === KEEPALIVE_EXT_VERSION) {
    const info: KeepaliveInfo = {
      linkId: view.getUint32(14),
      window: view.getInt32(18),
      inFlight: view.getInt32(22),
      rttMs: view.getUint32(26),
      nakCount: view.getUint32(30),
      bytesPerSecond: view.getUint32(34),
    };
    return timestampMs === undefined ? { kind: 'keepalive', info } : { kind: 'keepalive', timestampMs, info };
  }
  return timestampMs === undefined ? { kind: 'keepalive' } : { kind: 'keepalive', timestampMs };
}

function decodeSrtlaAck(buf: Uint8Array): SrtlaPacket | Malformed {
  const n = buf.length;
  if (n < 4 || (n - 4) % 4 !== 0) return malformed(`SRTLA ACK of ${n} bytes is not 4 + 4*N`);
  const count = (n - 4) / 4;
  if (count > SRTLA_ACK_MAX_COUNT) return malformed(`SRTLA ACK with ${count} entries`);
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = u32(buf, 4 + 4 * i);
    if (v & 0x8000_0000) return malformed('SRTLA ACK entry is not a data sequence number');
    seqs.push(v);
  }
  return { kind: 'ack', seqs };
}

/** A preflight probe: a keepalive whose bytes 10-11 say so, numbered, padded to the size being tried. */
export const PROBE_MAGIC = 0xf1e1;
export const PROBE_MIN_LEN = 16;

/** A probe: a keepalive with our clock, the probe magic and its number, padded to `bytes` (receivers echo keepalives unchanged). */
export function encodeProbe(timestampMs: number, seq: number, bytes: number): Buffer {
  const buf = Buffer.alloc(Math.max(PROBE_MIN_LEN, Math.min(bytes, 1500)));
  buf.writeUInt16BE(SRTLA_TYPE.KEEPALIVE, 0);
  buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(timestampMs))), 2);
  buf.writeUInt16BE(PROBE_MAGIC, 10);
  buf.writeUInt32BE(seq >>> 0, 12);
  return buf;
}

/** The probe number of an echoed keepalive, or undefined when it is not one of our probes. */
export function probeSeq(buf: Uint8Array): number | undefined {
  if (buf.length < PROBE_MIN_LEN || ((buf[0]! << 8) | buf[1]!) !== SRTLA_TYPE.KEEPALIVE) return undefined;
  if (((buf[10]! << 8) | buf[11]!) !== PROBE_MAGIC) return undefined;
  return ((buf[12]! << 24) | (buf[13]! << 16) | (buf[14]! << 8) | buf[15]!) >>> 0;
}

/**
 * A keepalive carrying `timestampMs` (receivers echo it, so the echo gives the
 * RTT). With `info`, the 38-byte extended form; without, the 10-byte form
 * padded to MIN_CONTROL_LEN (receivers read only the first 10 bytes).
 */
export function encodeKeepalive(timestampMs?: number, info?: KeepaliveInfo): Buffer {
  if (timestampMs === undefined) {
    const b = Buffer.alloc(MIN_CONTROL_LEN);
    putU16(b, 0, SRTLA_TYPE.KEEPALIVE);
    return b;
  }
  const buf = Buffer.alloc(info ? KEEPALIVE_EXT_LEN : MIN_CONTROL_LEN);
  buf.writeUInt16BE(SRTLA_TYPE.KEEPALIVE, 0);
  buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(timestampMs))), 2);
  if (info) {
    buf.writeUInt16BE(KEEPALIVE_EXT_MAGIC, 10);
    buf.writeUInt16BE(KEEPALIVE_EXT_VERSION, 12);
    buf.writeUInt32BE(info.linkId >>> 0, 14);
    buf.writeInt32BE(clampI32(info.window), 18);
    buf.writeInt32BE(clampI32(info.inFlight), 22);
    buf.writeUInt32BE(clampU32(info.rttMs), 26);
    buf.writeUInt32BE(clampU32(info.nakCount), 30);
    buf.writeUInt32BE(clampU32(info.bytesPerSecond), 34);
  }
  return buf;
}

function clampI32(v: number): number {
  return Math.max(-0x8000_0000, Math.min(0x7fff_ffff, Math.round(v)));
}

function clampU32(v: number): number {
  return Math.max(0, Math.min(0xffff_ffff, Math.round(v)));
}

/** An SRTLA ACK: 0x9100 in the top 16 bits of the first u32, then the sequence numbers. */
export function encodeSrtlaAck(seqs: readonly number[]): Buffer {
  const buf = Buffer.alloc(4 + 4 * seqs.length);
  putU16(buf, 0, SRTLA_TYPE.ACK);
  seqs.forEach((s, i) => {
    putU32(buf, 4 + 4 * i, s & SEQ_MAX);
  });
  return buf;
}

function encodeReg(type: number, id: Uint8Array): Buffer {
  if (id.length !== SRTLA_ID_LEN) throw new RangeError(`SRTLA group id must be ${SRTLA_ID_LEN} bytes, got ${id.length}`);
  const buf = Buffer.alloc(SRTLA_REG_LEN);
  putU16(buf, 0, type);
  buf.set(id, 2);
  return buf;
}

/** REG1: create a group with this 256-byte id (only its first 128 bytes matter to the receiver). */
export function encodeReg1(id: Uint8Array): Buffer {
  return encodeReg(SRTLA_TYPE.REG1, id);
}

/** REG2: the full group id (sender -> receiver to register a link; receiver -> sender as REG1's answer). */
export function encodeReg2(id: Uint8Array): Buffer {
  return encodeReg(SRTLA_TYPE.REG2, id);
}

/**
 * A short reply (REG3, REG_ERR, REG_NGP). Common senders accept only the
 * 2-byte form, so padding is opt-in (`pad`) for peers known to accept it.
 */
export function encodeShortReply(kind: 'reg3' | 'regErr' | 'regNgp', pad = false): Buffer {
  const type = kind === 'reg3' ? SRTLA_TYPE.REG3 : kind === 'regErr' ? SRTLA_TYPE.REG_ERR : SRTLA_TYPE.REG_NGP;
  const buf = Buffer.alloc(pad ? MIN_CONTROL_LEN : SRTLA_SHORT_LEN);
  putU16(buf, 0, type);
  return buf;
}

/** True when `full` (a REG2 from the receiver) carries our 128-byte half of the id. */
export function idMatchesOurHalf(ours: Uint8Array, full: Uint8Array): boolean {
  if (ours.length < SRTLA_ID_HALF || full.length < SRTLA_ID_HALF) return false;
  for (let i = 0; i < SRTLA_ID_HALF; i++) if (ours[i] !== full[i]) return false;
  return true;
}
