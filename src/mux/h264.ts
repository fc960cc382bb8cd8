/**
 * H.264 Annex B parsing the muxer and the encoders share: NAL unit
 * splitting, the SPS fields that give size and frame rate (VUI timing info,
 * ITU-T H.264 §7.3.2.1, §E.1.1), and the slice-header fields that give
 * picture order (§7.3.3, §8.2.1).
 */
import type { FrameRate } from '../lib/clock.js';
import { BitReader, unescapeRbsp } from './bits.js';

/** nal_unit_type values (H.264 Table 7-1). */
export const NAL_TYPE = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
} as const;

/** An access unit delimiter with primary_pic_type 7 (any slice type) (§7.3.2.4). */
export const AUD_NAL = Buffer.from([0, 0, 0, 1, NAL_TYPE.AUD, 0xf0]);

export interface NalUnit {
  /** Offset of the start code (its leading zero byte when 4 bytes long). */
  start: number;
  /** Offset of the NAL header byte. */
  header: number;
  /** End (exclusive): the next start code, or the end of the buffer. */
  end: number;
  type: number;
  refIdc: number;
}

export function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/**
 * Offset of the next 3-byte start code at or after `from`, or -1. Searches
 * for the 0x01 byte (a memchr, several times faster than a 3-byte search)
 * and checks the two zeros before it.
 */
export function findStartCode(buf: Buffer, from: number): number {
  let i = buf.indexOf(1, from + 2);
  while (i >= 0) {
    if (buf[i - 1] === 0 && buf[i - 2] === 0) return i - 2;
    i = buf.indexOf(1, i + 1);
  }
  return -1;
}

/** True when the buffer begins with an Annex B start code (00 00 01 or 00 00 00 01). */
export function startsWithStartCode(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0 && buf[1] === 0 && (buf[2] === 1 || (buf[2] === 0 && buf[3] === 1));
}

/**
 * Calls `visit` for each NAL unit of an Annex B buffer, in order; stops when
 * it returns false. Allocates nothing.
 */
export function forEachNal(buf: Buffer, visit: (start: number, header: number, end: number) => boolean): void {
  let sc = findStartCode(buf, 0);
  while (sc >= 0) {
    const header = sc + 3;
    if (header >= buf.length) return;
    const start = sc > 0 && buf[sc - 1] === 0 ? sc - 1 : sc;
    const next = findStartCode(buf, header);
    // A 4-byte start code's leading zero belongs to the next unit (§B.1.1 zero_byte).
    const end = next < 0 ? buf.length : next > header && buf[next - 1] === 0 ? next - 1 : next;
    if (!visit(start, header, end)) return;
    sc = next;
  }
}

export function splitNalUnits(buf: Buffer): NalUnit[] {
  const units: NalUnit[] = [];
  forEachNal(buf, (start, header, end) => {
    const h = buf[header]!;
    units.push({ start, header, end, type: h & 0x1f, refIdc: (h >>> 5) & 3 });
    return true;
  });
  return units;
}

export interface SpsInfo {
  spsId: number;
  profileIdc: number;
  levelIdc: number;
  width: number;
  height: number;
  /** From the VUI timing info, when present. */
  frameRate?: FrameRate;
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  frameMbsOnly: boolean;
  separateColourPlane: boolean;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses an SPS NAL unit (header byte included). Throws RangeError when it is truncated or malformed. */
export function parseSps(nal: Uint8Array): SpsInfo {
  const r = new BitReader(unescapeRbsp(nal, 1));
  const profileIdc = r.u(8);
  r.skip(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      for (let i = 0; i < (chromaFormatIdc === 3 ? 12 : 8); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  let log2MaxPocLsb = 0;
  if (pocType === 0) log2MaxPocLsb = r.ue() + 4;
  else if (pocType === 1) {
    r.skip(1);
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1);
  r.skip(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.flag()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  // Crop units (§7.4.2.1.1, Table 6-1).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const cropX = chromaArrayType === 0 ? 1 : chromaFormatIdc === 3 ? 1 : 2;
  const cropY = (chromaArrayType === 0 ? 1 : chromaFormatIdc === 1 ? 2 : 1) * (frameMbsOnly ? 1 : 2);
  const width = widthMbs * 16 - cropX * (crop[0]! + crop[1]!);
  const height = heightMapUnits * 16 * (frameMbsOnly ? 1 : 2) - cropY * (crop[2]! + crop[3]!);
  const info: SpsInfo = {
    spsId,
    profileIdc,
    levelIdc,
    width,
    height,
    log2MaxFrameNum,
    pocType,
    log2MaxPocLsb,
    frameMbsOnly,
    separateColourPlane,
  };
  if (r.flag()) {
    const rate = parseVuiTiming(r);
    if (rate) info.frameRate = rate;
  }
  return info;
}

/** Reads the VUI up to timing_info (§E.1.1); frame rate = time_scale / (2 × num_units_in_tick) for frame pictures (§E.2.1). */
function parseVuiTiming(r: BitReader): FrameRate | undefined {
  if (r.flag()) {
    if (r.u(8) === 255) r.skip(32); // Extended_SAR: sar_width, sar_height
  }
  if (r.flag()) r.skip(1); // overscan_appropriate_flag
  if (r.flag()) {
    r.skip(4); // video_format, video_full_range_flag
    if (r.flag()) r.skip(24); // colour primaries, transfer, matrix
  }
  if (r.flag()) {
    r.ue();
    r.ue();
  }
  if (!r.flag()) return undefined;
  const unitsInTick = r.u(32);
  const timeScale = r.u(32);
  if (unitsInTick === 0 || timeScale === 0) return undefined;
  const den = unitsInTick * 2;
  const g = gcd(timeScale, den);
  return { num: timeScale / g, den: den / g };
}

export interface SliceHeader {
  firstMb: number;
  sliceType: number;
  ppsId: number;
  frameNum: number;
  fieldPic: boolean;
  bottomField: boolean;
  /** pic_order_cnt_lsb (POC type 0 only). */
  pocLsb: number;
}

/** Parses the start of a slice header (NAL header byte included) far enough for picture order. */
export function parseSliceHeader(nal: Uint8Array, sps: SpsInfo): SliceHeader {
  const type = nal[0]! & 0x1f;
  const r = new BitReader(unescapeRbsp(nal, 1, Math.min(nal.length, 64)));
  const firstMb = r.ue();
  const sliceType = r.ue();
  const ppsId = r.ue();
  if (sps.separateColourPlane) r.skip(2);
  const frameNum = r.u(sps.log2MaxFrameNum);
  let fieldPic = false;
  let bottomField = false;
  if (!sps.frameMbsOnly) {
    fieldPic = r.flag();
    if (fieldPic) bottomField = r.flag();
  }
  if (type === NAL_TYPE.IDR) r.ue(); // idr_pic_id
  const pocLsb = sps.pocType === 0 ? r.u(sps.log2MaxPocLsb) : 0;
  return { firstMb, sliceType, ppsId, frameNum, fieldPic, bottomField, pocLsb };
}
