/**
 * What a decoder at the far end sees of the test pattern: the white flashes
 * (once a second) and the 1 kHz beeps laid on them, read from a received TS
 * with ffmpeg. Used by the A/V sync benchmark and the tests; the drawn
 * capture times are read by ./timecode.ts.
 */
import { execFileSync } from 'node:child_process';
import { PID } from '../mux/constants.js';
import { readTimestamp } from '../mux/pes.js';
import { isFlashFrame } from './timecode.js';

const PTS_PER_SAMPLE = 90_000 / 48_000;
/** A beep starts at the first 1 ms window above -30 dBFS RMS after at least 100 ms of quiet. */
const ONSET_WINDOW = 48;
const ONSET_RMS = 0.03;
const ONSET_QUIET_WINDOWS = 100;

/** PTS (90 kHz) of each decoded picture that is a flash. */
export function flashTimes(file: string, width: number, height: number): number[] {
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
  const out: number[] = [];
  probe.frames.forEach((f, i) => {
    const off = i * size;
    if (f.pts !== undefined && off + size <= raw.length && isFlashFrame(raw.subarray(off, off + size), width, height)) out.push(f.pts);
  });
  return out;
}

/** PTS (90 kHz) of each beep onset in the first audio stream. */
export function beepOnsets(file: string): number[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'], {
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
  const start = first.packets[0]?.pts ?? 0;
  const onsets: number[] = [];
  let quiet = 0;
  for (let off = 0; off + ONSET_WINDOW <= samples.length; off += ONSET_WINDOW) {
    let e = 0;
    for (let i = off; i < off + ONSET_WINDOW; i++) e += samples[i]! * samples[i]!;
    const loud = Math.sqrt(e / ONSET_WINDOW) > ONSET_RMS;
    if (loud && quiet >= ONSET_QUIET_WINDOWS) onsets.push(start + Math.round(off * PTS_PER_SAMPLE));
    quiet = loud ? 0 : quiet + 1;
  }
  return onsets;
}

/** Audio minus video, ms, for each beep whose flash lies within half a second of it. */
export function avOffsets(flashes: number[], beeps: number[]): number[] {
  const out: number[] = [];
  for (const b of beeps) {
    let best: number | undefined;
    for (const f of flashes) if (best === undefined || Math.abs(b - f) < Math.abs(b - best)) best = f;
    if (best !== undefined && Math.abs(b - best) < 45_000) out.push((b - best) / 90);
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
