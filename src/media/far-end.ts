/**
 * What a decoder at the far end sees of the test pattern: the white flashes
 * (once a second) and the beeps laid on them, each marked with its second's
 * code (native/src/test_pattern.h: a black cell in the flash, the beep's
 * pitch), read from a received TS with ffmpeg. Used by the A/V sync benchmark
 * and the tests; the drawn capture times are read by ./timecode.ts.
 */
import { execFileSync } from 'node:child_process';
import { PTS_HZ, ptsDiff, ptsToMs } from '../lib/clock.js';
import { PID } from '../mux/constants.js';
import { readTimestamp } from '../mux/pes.js';
import { isFlashFrame, readSecondCode, SECOND_CODES } from './timecode.js';

/** A flash or a beep as decoded: its PTS (90 kHz) and its second code, undefined when it could not be read. */
export interface SecondMark {
  pts: number;
  code: number | undefined;
}

const RATE = 48_000;
const PTS_PER_SAMPLE = PTS_HZ / RATE;
/** A beep starts at the first 1 ms window above -30 dBFS RMS after at least 100 ms of quiet. */
const ONSET_WINDOW = 48;
const ONSET_RMS = 0.03;
const ONSET_QUIET_WINDOWS = 100;
/** The beep of code c is a sine of BEEP_BASE_HZ + BEEP_STEP_HZ * c (kBeepBaseHz, kBeepStepHz). */
export const BEEP_BASE_HZ = 500;
export const BEEP_STEP_HZ = 100;
/**
 * The pitch is measured on 4096 samples (85 ms) from 5 ms after the onset:
 * inside the 100 ms beep even when the onset reads a few ms early or late.
 * Hann-windowed, its main lobe is ±23 Hz wide, so the neighbouring pitches
 * (100 Hz away) fall deep in the side lobes (below -60 dB).
 */
const PITCH_DELAY = 240;
const PITCH_SAMPLES = 4096;
/** The strongest pitch must carry 100x (20 dB) the power of the next: a beep through AAC at 128 kbit/s reads about 65 dB. */
const PITCH_MARGIN = 100;
/** A beep pairs with the flash of its code nearest in time, within half the code's period. */
const PAIR_WINDOW = (SECOND_CODES / 2) * PTS_HZ;

const HANN = Float64Array.from({ length: PITCH_SAMPLES }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (PITCH_SAMPLES - 1)));

/** Whether the file holds a stream of this type: a far end that received none sees no marks in it. */
function hasStream(file: string, type: 'audio' | 'video'): boolean {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', file]).toString();
  return out.split(/\s+/).includes(type);
}

/** Each flash in a TS's first video stream, with the code drawn in it. */
export function flashTimes(file: string, width: number, height: number): SecondMark[] {
  if (!hasStream(file, 'video')) return [];
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-map', '0:v', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      maxBuffer: 2 ** 31,
    },
  );
  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts', '-of', 'json', file], {
      maxBuffer: 1 << 28,
    }).toString(),
  ) as { frames: { pts?: number }[] };
  const size = width * height;
  const out: SecondMark[] = [];
  probe.frames.forEach((f, i) => {
    const off = i * size;
    if (f.pts === undefined || off + size > raw.length) return;
    const gray = raw.subarray(off, off + size);
    if (isFlashFrame(gray, width, height)) out.push({ pts: f.pts, code: readSecondCode(gray, width, height) });
  });
  return out;
}

/** A TS's first audio stream decoded to 48 kHz mono, and the PTS (90 kHz) of its first sample. */
export function decodeAudio(file: string): { samples: Float32Array; startPts: number } {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-ac', '1', '-ar', String(RATE), '-f', 'f32le', '-'], {
    maxBuffer: 1 << 30,
  });
  const samples = new Float32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4));
  const first = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'a',
      '-show_entries',
      'packet=pts',
      '-read_intervals',
      '%+#1',
      '-of',
      'json',
      file,
    ]).toString(),
  ) as { packets: { pts: number }[] };
  return { samples, startPts: first.packets[0]?.pts ?? 0 };
}

/** Each beep in a TS's first audio stream (mixed to mono), with the code its pitch carries. */
export function beepOnsets(file: string): SecondMark[] {
  if (!hasStream(file, 'audio')) return [];
  const { samples, startPts } = decodeAudio(file);
  return findBeeps(samples, startPts);
}

/**
 * The beeps in 48 kHz mono samples whose first sample is at `startPts`. A
 * beep cut off by the end of the samples before its pitch could be measured
 * is not counted: it was not seen whole.
 */
export function findBeeps(samples: Float32Array, startPts: number): SecondMark[] {
  const out: SecondMark[] = [];
  let quiet = 0;
  for (let off = 0; off + PITCH_DELAY + PITCH_SAMPLES <= samples.length; off += ONSET_WINDOW) {
    let e = 0;
    for (let i = off; i < off + ONSET_WINDOW; i++) e += samples[i]! * samples[i]!;
    const loud = Math.sqrt(e / ONSET_WINDOW) > ONSET_RMS;
    if (loud && quiet >= ONSET_QUIET_WINDOWS) out.push({ pts: startPts + Math.round(off * PTS_PER_SAMPLE), code: beepCode(samples, off) });
    quiet = loud ? 0 : quiet + 1;
  }
  return out;
}

/**
 * The code of the beep starting at sample `onset`: the pitch of the
 * SECOND_CODES with the most power (Goertzel), or undefined when it is not
 * clearly stronger than every other (a mixture, noise, a beep cut short).
 */
export function beepCode(samples: Float32Array, onset: number): number | undefined {
  const from = onset + PITCH_DELAY;
  if (from < 0 || from + PITCH_SAMPLES > samples.length) return undefined;
  const power: number[] = [];
  for (let c = 0; c < SECOND_CODES; c++) {
    const coeff = 2 * Math.cos((2 * Math.PI * (BEEP_BASE_HZ + BEEP_STEP_HZ * c)) / RATE);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < PITCH_SAMPLES; i++) {
      const s0 = samples[from + i]! * HANN[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    power.push(s1 * s1 + s2 * s2 - coeff * s1 * s2);
  }
  const best = power.indexOf(Math.max(...power));
  const next = Math.max(...power.filter((_, c) => c !== best));
  return power[best]! > 0 && power[best]! >= PITCH_MARGIN * next ? best : undefined;
}

/**
 * Audio minus video, ms, for each beep paired with the flash of the same code
 * nearest in time, within ±SECOND_CODES/2 s: the codes repeat only every
 * SECOND_CODES seconds, so an offset of whole seconds reads as such instead
 * of folding back to the nearest flash. Marks without a code pair with
 * nothing.
 */
export function avOffsets(flashes: SecondMark[], beeps: SecondMark[]): number[] {
  const out: number[] = [];
  for (const b of beeps) {
    if (b.code === undefined) continue;
    let best: number | undefined;
    for (const f of flashes) {
      if (f.code !== b.code) continue;
      const d = ptsDiff(b.pts, f.pts);
      if (best === undefined || Math.abs(d) < Math.abs(best)) best = d;
    }
    if (best !== undefined && Math.abs(best) < PAIR_WINDOW) out.push(ptsToMs(best));
  }
  return out;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** PTS of each video PES that starts in a chunk of TS packets. */
export function videoPesStarts(chunk: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 188 <= chunk.length; off += 188) {
    if (chunk[off] !== 0x47 || !(chunk[off + 1]! & 0x40)) continue;
    if ((((chunk[off + 1]! & 0x1f) << 8) | chunk[off + 2]!) !== PID.VIDEO) continue;
    const afc = (chunk[off + 3]! >> 4) & 3;
    let p = off + 4;
    if (afc === 2) continue;
    if (afc === 3) p += 1 + chunk[p]!;
    if (p + 14 > off + 188 || chunk[p] !== 0 || chunk[p + 1] !== 0 || chunk[p + 2] !== 1) continue;
    if (!(chunk[p + 7]! & 0x80)) continue;
    const pts = readTimestamp(chunk, p + 9);
    out.push(pts);
  }
  return out;
}
