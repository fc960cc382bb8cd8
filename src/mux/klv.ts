/** KLV packets (SMPTE ST 336): a 16-byte Universal Label key, a BER length, the value. */

/** Every SMPTE Universal Label starts with these four bytes (ST 336 §5). */
export const UL_PREFIX = Buffer.from([0x06, 0x0e, 0x2b, 0x34]);
export const KLV_KEY_SIZE = 16;

/** Total size of the KLV packet at `off` (key + length + value), or undefined if it is not one or is truncated. */
export function klvPacketSize(buf: Uint8Array, off: number): number | undefined {
  if (off + KLV_KEY_SIZE + 1 > buf.length) return undefined;
  for (let i = 0; i < UL_PREFIX.length; i++) if (buf[off + i] !== UL_PREFIX[i]) return undefined;
  let p = off + KLV_KEY_SIZE;
  const first = buf[p++]!;
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) return undefined; // BER long form; 4 bytes is far beyond any PES
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++]!;
  }
  const size = p - off + length;
  return off + size <= buf.length ? size : undefined;
}

/** Splits back-to-back KLV packets; stops at the first bad one and reports where. */
export function scanKlvPackets(buf: Uint8Array): { packets: { offset: number; size: number }[]; badOffset?: number } {
  const packets: { offset: number; size: number }[] = [];
  let off = 0;
  while (off < buf.length) {
    const size = klvPacketSize(buf, off);
    if (size === undefined) return { packets, badOffset: off };
    packets.push({ offset: off, size });
    off += size;
  }
  return { packets };
}
