/**
 * Whole elementary-stream files turned into timed access units, for
 * `fieldcast mux`: H.264 Annex B (pictures found by H.264 §7.4.1.2.3, times
 * from the frame rate and, with B-frames, the picture order count), ADTS AAC
 * (1024 samples a frame) and KLV packets.
 */
import { type FrameRate, frameDurationPts, PTS_HZ } from '../lib/clock.js';
import { AAC_FRAME_SAMPLES, parseAdtsHeader } from './adts.js';
import { type ByteSource, bufferSource } from './byte-source.js';
import { ElementaryStreamError } from './errors.js';
import { isVcl, NAL_TYPE, parseSliceHeader, parseSps, type SpsInfo } from './h264.js';
import { scanKlvPackets } from './klv.js';
import type { AccessUnit } from './types.js';

/** Where an access unit lies in its source, and its times. */
export interface UnitIndex {
  offset: number;
  length: number;
  pts: number;
  dts: number;
  key: boolean;
}

export interface VideoIndex {
  units: UnitIndex[];
  frameRate: FrameRate;
  width: number;
  height: number;
  /** Pictures of reordering delay (B-frames): PTS leads DTS by this many frames. */
  reorderDelay: number;
}

export interface VideoTrack extends Omit<VideoIndex, 'units'> {
  units: AccessUnit[];
}

/** NAL types that, after a picture, begin the next access unit (§7.4.1.2.3). */
function startsAccessUnit(type: number): boolean {
  return type === NAL_TYPE.AUD || type === NAL_TYPE.SPS || type === NAL_TYPE.PPS || type === NAL_TYPE.SEI || (type >= 14 && type <= 18);
}

/** Bytes of a NAL unit kept for parsing: an SPS, or the head of a slice. */
const HEAD_BYTES = 512;

interface ScannedNal {
  start: number;
  header: number;
  end: number;
  type: number;
  refIdc: number;
  /** A copy of the NAL's first bytes (SPS and slices only). */
  head?: Buffer;
}

/** Every NAL unit of the source, in order, with the first bytes of those worth parsing. */
function* scanNals(src: ByteSource): Generator<ScannedNal> {
  let sc = src.findStartCode(0);
  let start = sc > 0 && src.read(sc - 1, 1)[0] === 0 ? sc - 1 : sc;
  while (sc >= 0 && sc + 3 < src.size) {
    const header = sc + 3;
    const first = src.read(header, 2);
    const type = first[0]! & 0x1f;
    const refIdc = (first[0]! >>> 5) & 3;
    const head = type === NAL_TYPE.SPS || isVcl(type) ? Buffer.from(src.read(header, HEAD_BYTES)) : undefined;
    const next = src.findStartCode(header);
    // A 4-byte start code's leading zero belongs to the next unit (§B.1.1 zero_byte).
    const nextStart = next > header && src.read(next - 1, 1)[0] === 0 ? next - 1 : next;
    const end = next < 0 ? src.size : nextStart;
    const nal: ScannedNal = { start, header, end, type, refIdc };
    if (head) nal.head = head.subarray(0, Math.min(head.length, end - header));
    yield nal;
    sc = next;
    start = nextStart;
  }
}

/** What scanning has learnt so far: the first SPS, and how many NAL units were seen. */
export interface H264ScanState {
  sps?: SpsInfo;
  nals: number;
}

export interface ScannedPicture {
  start: number;
  end: number;
  idr: boolean;
  /** Picture order count (POC type 0), else the decode index. */
  poc: number;
}

/** The pictures of an Annex B stream in decode order, found one at a time (H.264 §7.4.1.2.3). */
export function* scanPictures(src: ByteSource, state: H264ScanState): Generator<ScannedPicture> {
  let current: { start: number; hasVcl: boolean; first?: ScannedNal } | undefined;
  let prevPocMsb = 0;
  let prevPocLsb = 0;
  let count = 0;
  const close = (end: number): ScannedPicture | undefined => {
    const sps = state.sps;
    const cur = current;
    current = undefined;
    if (!cur?.hasVcl || !cur.first?.head || !sps) return undefined;
    const vcl = cur.first;
    const idr = vcl.type === NAL_TYPE.IDR;
    let poc = count;
    if (sps.pocType === 0) {
      const slice = parseSliceHeader(vcl.head!, sps);
      const max = 2 ** sps.log2MaxPocLsb;
      if (idr) {
        prevPocMsb = 0;
        prevPocLsb = 0;
      }
      // §8.2.1.1: the MSB follows the LSB's wrap.
      let msb = prevPocMsb;
      if (slice.pocLsb < prevPocLsb && prevPocLsb - slice.pocLsb >= max / 2) msb += max;
      else if (slice.pocLsb > prevPocLsb && slice.pocLsb - prevPocLsb > max / 2) msb -= max;
      poc = msb + slice.pocLsb;
      if (vcl.refIdc !== 0) {
        prevPocMsb = msb;
        prevPocLsb = slice.pocLsb;
      }
    } else if (sps.pocType === 1) {
      throw new ElementaryStreamError('H.264 with picture order count type 1 is not supported by fieldcast mux');
    }
    count++;
    return { start: cur.start, end, idr, poc };
  };
  try {
    for (const nal of scanNals(src)) {
      state.nals++;
      if (nal.type === NAL_TYPE.SPS && nal.head) state.sps ??= parseSps(nal.head);
      const vcl = isVcl(nal.type);
      let newUnit = current === undefined;
      if (current?.hasVcl) {
        if (startsAccessUnit(nal.type)) newUnit = true;
        // A slice with first_mb_in_slice 0 (ue(v) "1": the top bit) starts a new picture.
        else if (vcl && nal.head && nal.head.length > 1 && (nal.head[1]! & 0x80) !== 0) newUnit = true;
      }
      if (newUnit) {
        if (current) {
          const pic = close(nal.start);
          if (pic) yield pic;
        }
        current = { start: nal.start, hasVcl: false };
      }
      if (vcl && current && !current.hasVcl) {
        current.hasVcl = true;
        current.first = nal;
      }
    }
    const last = close(src.size);
    if (last) yield last;
  } catch (e) {
    if (e instanceof ElementaryStreamError) throw e;
    throw new ElementaryStreamError(`the video file has a malformed SPS or slice header: ${(e as Error).message}`);
  }
}

/** Throws when a scanned stream cannot be muxed; returns its frame rate (given, else from the SPS). */
export function checkScan(state: H264ScanState, pictures: number, frameRate: FrameRate | undefined): FrameRate {
  if (state.nals === 0) throw new ElementaryStreamError('the video file is not H.264 Annex B (no start codes found)');
  if (!state.sps) throw new ElementaryStreamError('the video file has no SPS: it does not start a decodable H.264 stream');
  if (pictures === 0) throw new ElementaryStreamError('the video file holds no pictures');
  const rate = frameRate ?? state.sps.frameRate;
  if (!rate) throw new ElementaryStreamError('the video stream carries no frame rate (no VUI timing info): give one with --fps');
  return rate;
}

/**
 * Finds the pictures of an Annex B stream and times them: DTS one frame apart
 * from `startPts`, PTS from the picture order count (POC type 0) or equal to DTS.
 */
export function indexH264(src: ByteSource, opts: { frameRate?: FrameRate | undefined; startPts?: number } = {}): VideoIndex {
  const state: H264ScanState = { nals: 0 };
  const pictures = [...scanPictures(src, state)];
  const frameRate = checkScan(state, pictures.length, opts.frameRate);
  const sps = state.sps!;
  const dur = frameDurationPts(frameRate);
  const start = opts.startPts ?? 0;

  // Display order: rank by POC within each IDR period; PTS waits out the deepest reordering.
  const display = new Array<number>(pictures.length);
  let periodStart = 0;
  for (let i = 0; i <= pictures.length; i++) {
    if (i === pictures.length || (i > periodStart && pictures[i]!.idr)) {
      const idx = Array.from({ length: i - periodStart }, (_, k) => periodStart + k).sort(
        (a, b) => pictures[a]!.poc - pictures[b]!.poc || a - b,
      );
      idx.forEach((pic, rank) => {
        display[pic] = periodStart + rank;
      });
      periodStart = i;
    }
  }
  let reorderDelay = 0;
  for (let i = 0; i < pictures.length; i++) reorderDelay = Math.max(reorderDelay, i - display[i]!);
  const units = pictures.map((p, i) => ({
    offset: p.start,
    length: p.end - p.start,
    dts: start + Math.round(i * dur),
    pts: start + Math.round((display[i]! + reorderDelay) * dur),
    key: p.idr,
  }));
  return { units, frameRate, width: sps.width, height: sps.height, reorderDelay };
}

/** The pictures of an Annex B stream in memory, timed (see indexH264). */
export function readH264File(data: Buffer, opts: { frameRate?: FrameRate | undefined; startPts?: number } = {}): VideoTrack {
  const index = indexH264(bufferSource(data), opts);
  return {
    ...index,
    units: index.units.map(({ offset, length, pts, dts, key }) => ({ data: data.subarray(offset, offset + length), pts, dts, key })),
  };
}

export interface AudioIndex {
  units: UnitIndex[];
  sampleRate: number;
  channels: number;
}

/** One access unit per ADTS frame, timed by its sample count from `startPts`. */
export function indexAdts(src: ByteSource, opts: { startPts?: number } = {}): AudioIndex {
  const units: UnitIndex[] = [];
  const start = opts.startPts ?? 0;
  let samples = 0;
  let sampleRate = 0;
  let channels = 0;
  for (let off = 0; off < src.size; ) {
    const h = parseAdtsHeader(src.read(off, 9), 0);
    if (!h || off + h.frameLength > src.size)
      throw new ElementaryStreamError(`the audio file is not ADTS AAC (bad frame header at byte ${off})`);
    if (units.length === 0) {
      sampleRate = h.sampleRate;
      channels = h.channels;
    }
    const t = start + Math.floor((samples * PTS_HZ) / sampleRate);
    samples += h.blocks * AAC_FRAME_SAMPLES;
    units.push({ offset: off, length: h.frameLength, pts: t, dts: t, key: true });
    off += h.frameLength;
  }
  if (units.length === 0) throw new ElementaryStreamError('the audio file is empty');
  return { units, sampleRate, channels };
}

export interface AudioTrack extends Omit<AudioIndex, 'units'> {
  units: AccessUnit[];
}

/** The ADTS frames of a buffer, timed (see indexAdts). */
export function readAdtsFile(data: Buffer, opts: { startPts?: number } = {}): AudioTrack {
  const index = indexAdts(bufferSource(data), opts);
  return {
    ...index,
    units: index.units.map(({ offset, length, pts, dts, key }) => ({ data: data.subarray(offset, offset + length), pts, dts, key })),
  };
}

/** KLV packets spread evenly over [startPts, startPts + spanPts): a file of packets carries no times. */
export function readKlvFile(data: Buffer, opts: { startPts?: number; spanPts: number }): AccessUnit[] {
  const { packets, badOffset } = scanKlvPackets(data);
  if (badOffset !== undefined) throw new ElementaryStreamError(`the metadata file is not KLV (bad packet at byte ${badOffset})`);
  const start = opts.startPts ?? 0;
  const step = packets.length > 0 ? opts.spanPts / packets.length : 0;
  return packets.map((p, i) => {
    const t = start + Math.round(i * step);
    return { data: data.subarray(p.offset, p.offset + p.size), pts: t, dts: t, key: true };
  });
}
