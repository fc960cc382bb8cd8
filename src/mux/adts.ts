/** ADTS headers of AAC (ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2). */

/** sampling_frequency_index → Hz (ISO/IEC 14496-3 Table 1.18). */
export const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** An AAC frame carries 1024 samples per raw data block. */
export const AAC_FRAME_SAMPLES = 1024;

export interface AdtsHeader {
  /** Whole frame, header included. */
  frameLength: number;
  headerLength: 7 | 9;
  /** AAC object type (1 = Main, 2 = LC, …). */
  objectType: number;
  sampleRate: number;
  channels: number;
  /** Raw data blocks in the frame (each 1024 samples). */
  blocks: number;
}

/** Parses the ADTS header at `off`; undefined when there is no valid header there. */
export function parseAdtsHeader(buf: Uint8Array, off: number): AdtsHeader | undefined {
  if (off + 7 > buf.length) return undefined;
  if (buf[off] !== 0xff || (buf[off + 1]! & 0xf6) !== 0xf0) return undefined; // syncword 0xFFF, layer 00
  const protectionAbsent = buf[off + 1]! & 1;
  const srIndex = (buf[off + 2]! >>> 2) & 0x0f;
  const sampleRate = ADTS_SAMPLE_RATES[srIndex];
  if (sampleRate === undefined) return undefined;
  const objectType = ((buf[off + 2]! >>> 6) & 3) + 1;
  const channels = ((buf[off + 2]! & 1) << 2) | (buf[off + 3]! >>> 6);
  const frameLength = ((buf[off + 3]! & 3) << 11) | (buf[off + 4]! << 3) | (buf[off + 5]! >>> 5);
  const headerLength = protectionAbsent ? 7 : 9;
  if (frameLength < headerLength) return undefined;
  return { frameLength, headerLength, objectType, sampleRate, channels, blocks: (buf[off + 6]! & 3) + 1 };
}

/** Frames of a buffer of back-to-back ADTS frames; stops at the first bad header and reports where. */
export function scanAdtsFrames(buf: Uint8Array): { frames: { offset: number; header: AdtsHeader }[]; badOffset?: number } {
  const frames: { offset: number; header: AdtsHeader }[] = [];
  let off = 0;
  while (off < buf.length) {
    const h = parseAdtsHeader(buf, off);
    if (!h || off + h.frameLength > buf.length) return { frames, badOffset: off };
    frames.push({ offset: off, header: h });
    off += h.frameLength;
  }
  return { frames };
}
