/**
 * Whole elementary-stream files turned into timed access units, for
 * `fieldcast mux`: H.264 Annex B (pictures found by H.264 §7.4.1.2.3, times
 * from the frame rate and, with B-frames, the picture order count), ADTS AAC
 * (1024 samples a frame) and KLV packets.
 */
import { type FrameRate, frameDurationPts, PTS_HZ } from '../lib/clock.js';
import { AAC_FRAME_SAMPLES, scanAdtsFrames } from './adts.js';
import { ElementaryStreamError } from './errors.js';
import { isVcl, NAL_TYPE, type NalUnit, parseSliceHeader, parseSps, type SpsInfo, splitNalUnits } from './h264.js';
import { scanKlvPackets } from './klv.js';
import type { AccessUnit } from './types.js';

export interface VideoTrack {
  units: AccessUnit[];
  frameRate: FrameRate;
  width: number;
  height: number;
  /** Pictures of reordering delay (B-frames): PTS leads DTS by this many frames. */
  reorderDelay: number;
}

/** NAL types that, after a picture, begin the next access unit (§7.4.1.2.3). */
function startsAccessUnit(type: number): boolean {
  return type === NAL_TYPE.AUD || type === NAL_TYPE.SPS || type === NAL_TYPE.PPS || type === NAL_TYPE.SEI || (type >= 14 && type <= 18);
}

interface Picture {
  start: number;
  end: number;
  idr: boolean;
  poc: number;
}

/**
 * Splits an Annex B file into pictures and times them: DTS one frame apart from
 * `startPts`, PTS from the picture order count (POC type 0) or equal to DTS.
 */
export function readH264File(data: Buffer, opts: { frameRate?: FrameRate | undefined; startPts?: number } = {}): VideoTrack {
  const nals = splitNalUnits(data);
  if (nals.length === 0) throw new ElementaryStreamError('the video file is not H.264 Annex B (no start codes found)');
  let sps: SpsInfo | undefined;
  const pictures: Picture[] = [];
  let current: { start: number; hasVcl: boolean; first?: NalUnit } | undefined;
  let prevPocMsb = 0;
  let prevPocLsb = 0;
  const close = (end: number) => {
    if (!current?.hasVcl || !current.first || !sps) {
      current = undefined;
      return;
    }
    const vcl = current.first;
    const idr = vcl.type === NAL_TYPE.IDR;
    let poc = pictures.length;
    if (sps.pocType === 0) {
      const slice = parseSliceHeader(data.subarray(vcl.header, vcl.end), sps);
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
    pictures.push({ start: current.start, end, idr, poc });
    current = undefined;
  };
  try {
    for (const nal of nals) {
      if (nal.type === NAL_TYPE.SPS) sps ??= parseSps(data.subarray(nal.header, nal.end));
      const vcl = isVcl(nal.type);
      let newUnit = current === undefined;
      if (current?.hasVcl) {
        if (startsAccessUnit(nal.type)) newUnit = true;
        // A slice with first_mb_in_slice 0 (ue(v) "1": the top bit) starts a new picture.
        else if (vcl && (data[nal.header + 1]! & 0x80) !== 0) newUnit = true;
      }
      if (newUnit) {
        if (current) close(nal.start);
        current = { start: nal.start, hasVcl: false };
      }
      if (vcl && current && !current.hasVcl) {
        current.hasVcl = true;
        current.first = nal;
      }
    }
    close(data.length);
  } catch (e) {
    if (e instanceof ElementaryStreamError) throw e;
    throw new ElementaryStreamError(`the video file has a malformed SPS or slice header: ${(e as Error).message}`);
  }
  if (!sps) throw new ElementaryStreamError('the video file has no SPS: it does not start a decodable H.264 stream');
  if (pictures.length === 0) throw new ElementaryStreamError('the video file holds no pictures');
  const frameRate = opts.frameRate ?? sps.frameRate;
  if (!frameRate) throw new ElementaryStreamError('the video stream carries no frame rate (no VUI timing info): give one with --fps');
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
    data: data.subarray(p.start, p.end),
    dts: start + Math.round(i * dur),
    pts: start + Math.round((display[i]! + reorderDelay) * dur),
    key: p.idr,
  }));
  return { units, frameRate, width: sps.width, height: sps.height, reorderDelay };
}

export interface AudioTrack {
  units: AccessUnit[];
  sampleRate: number;
  channels: number;
}

/** One access unit per ADTS frame, timed by its sample count from `startPts`. */
export function readAdtsFile(data: Buffer, opts: { startPts?: number } = {}): AudioTrack {
  const { frames, badOffset } = scanAdtsFrames(data);
  if (badOffset !== undefined) throw new ElementaryStreamError(`the audio file is not ADTS AAC (bad frame header at byte ${badOffset})`);
  if (frames.length === 0) throw new ElementaryStreamError('the audio file is empty');
  const { sampleRate, channels } = frames[0]!.header;
  const start = opts.startPts ?? 0;
  let samples = 0;
  const units = frames.map((f) => {
    const t = start + Math.floor((samples * PTS_HZ) / sampleRate);
    samples += f.header.blocks * AAC_FRAME_SAMPLES;
    return { data: data.subarray(f.offset, f.offset + f.header.frameLength), pts: t, dts: t, key: true };
  });
  return { units, sampleRate, channels };
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
