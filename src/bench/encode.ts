/**
 * `fieldcast bench encode`: libx264 from the test pattern, unpaced, at 720p30
 * and 1080p30 — pictures per second and CPU seconds per picture (user+sys of
 * the whole process, from the OS) — beside ffmpeg with the same settings
 * (preset, tune, bitrate, VBV, keyframe interval, no B-frames, AAC 128k,
 * MPEG-TS out) on the same pictures and sound: Fieldcast's own test pattern
 * and tone, recorded once at 60 Mbit/s and decoded to raw frames and PCM,
 * which ffmpeg reads from a file. Fieldcast draws its pictures live, and that
 * drawing is in its figure; ffmpeg's reading of raw frames is in its own.
 * Both outputs are decoded back and their frame counts checked.
 */

import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMeasured } from './cpu.js';
import { FigureSheet, type Scenario } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));

interface Case {
  label: string;
  width: number;
  height: number;
  bitrate: number;
  preset: string;
}

const FPS = 30;
const KEYINT_S = 2;

async function fieldcast(c: Case, frames: number, out: string, signal: AbortSignal): Promise<{ cpu: number; wall: number }> {
  const r = await runMeasured(
    process.execPath,
    [
      CLI,
      'encode',
      '--fast',
      '--codec',
      'libx264',
      '--size',
      `${c.width}x${c.height}`,
      '--fps',
      String(FPS),
      '--bitrate',
      String(c.bitrate),
      '--preset',
      c.preset,
      '--keyint',
      String(KEYINT_S),
      '--seconds',
      String(frames / FPS),
      '-o',
      out,
    ],
    { signal },
  );
  if (r.code !== 0) throw new Error(`fieldcast encode failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return { cpu: r.cpuSeconds, wall: r.wallSeconds };
}

/** Fieldcast's test pattern and tone for `frames` pictures, as raw yuv420p frames and s16le stereo PCM. */
async function rawSource(c: Case, frames: number, dir: string, signal: AbortSignal): Promise<{ video: string; audio: string }> {
  const ref = path.join(dir, `ref-${c.label}.ts`);
  const video = path.join(dir, `ref-${c.label}.yuv`);
  const audio = path.join(dir, `ref-${c.label}.pcm`);
  await fieldcast({ ...c, bitrate: 60_000_000 }, frames, ref, signal);
  const r = await runMeasured(
    'ffmpeg',
    [
      ...['-v', 'error', '-y', '-i', ref],
      ...['-map', '0:v', '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', video],
      ...['-map', '0:a', '-f', 's16le', '-ar', '48000', '-ac', '2', audio],
    ],
    { signal },
  );
  if (r.code !== 0) throw new Error(`ffmpeg could not decode the reference: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  rmSync(ref, { force: true });
  return { video, audio };
}

/** Pictures a decoder finds in a TS file. */
async function countFrames(file: string, signal: AbortSignal): Promise<number> {
  const r = await runMeasured(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
    { signal },
  );
  return r.code === 0 ? Number.parseInt(r.stdout.trim(), 10) : Number.NaN;
}

async function peer(
  c: Case,
  frames: number,
  src: { video: string; audio: string },
  out: string,
  signal: AbortSignal,
): Promise<{ cpu: number; wall: number }> {
  const b = String(c.bitrate);
  const r = await runMeasured(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${c.width}x${c.height}`, '-r', String(FPS), '-i', src.video],
      ...['-f', 's16le', '-ar', '48000', '-ac', '2', '-i', src.audio],
      '-frames:v',
      String(frames),
      '-c:v',
      'libx264',
      '-preset',
      c.preset,
      '-tune',
      'zerolatency',
      '-profile:v',
      'high',
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      b,
      '-maxrate',
      b,
      '-bufsize',
      b,
      '-g',
      String(FPS * KEYINT_S),
      '-bf',
      '0',
      '-x264-params',
      'scenecut=0',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-shortest',
      '-f',
      'mpegts',
      out,
    ],
    { signal },
  );
  if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return { cpu: r.cpuSeconds, wall: r.wallSeconds };
}

export const scenario: Scenario = {
  name: 'encode',
  description: 'libx264 from the test pattern at 720p30 and 1080p30 (fps, CPU per frame) beside ffmpeg on the same pictures',
  async run({ quick, workDir, signal }) {
    const frames = quick ? 150 : 600;
    const cases: Case[] = [
      { label: '720p30', width: 1280, height: 720, bitrate: 4_000_000, preset: 'superfast' },
      { label: '1080p30', width: 1920, height: 1080, bitrate: 6_000_000, preset: 'superfast' },
    ];
    if (!quick) {
      cases.push({ label: '720p30_ultrafast', width: 1280, height: 720, bitrate: 4_000_000, preset: 'ultrafast' });
      cases.push({ label: '1080p30_ultrafast', width: 1920, height: 1080, bitrate: 6_000_000, preset: 'ultrafast' });
    }
    // Node start-up and addon load, taken off Fieldcast's side (ffmpeg's own start-up is a few ms).
    const base = await runMeasured(process.execPath, [CLI, 'encode', '--help'], { signal });
    const sheet = new FigureSheet();
    sheet.add('frames_per_run', frames);
    sheet.add('node_startup_cpu_s', base.cpuSeconds, 's');
    const verdicts: string[] = [];
    const sources = new Map<string, { video: string; audio: string }>();
    try {
      for (const c of cases) {
        const size = `${c.width}x${c.height}`;
        let src = sources.get(size);
        if (!src) {
          src = await rawSource(c, frames, workDir, signal);
          sources.set(size, src);
        }
        const fcOut = path.join(workDir, `fc-${c.label}.ts`);
        const ffOut = path.join(workDir, `ff-${c.label}.ts`);
        const f = await fieldcast(c, frames, fcOut, signal);
        const p = await peer(c, frames, src, ffOut, signal);
        // Both outputs must hold the pictures asked for, or the CPU figures compare different work.
        const fcFrames = await countFrames(fcOut, signal);
        const ffFrames = await countFrames(ffOut, signal);
        if (fcFrames < frames - 1 || ffFrames < frames - 1) {
          sheet.missing(`cpu_ratio_${c.label}`, `the outputs hold ${fcFrames} (Fieldcast) and ${ffFrames} (ffmpeg) of ${frames} pictures`);
          continue;
        }
        const fcCpu = Math.max(0.001, f.cpu - base.cpuSeconds);
        const fcPerFrame = (fcCpu / frames) * 1000;
        const ffPerFrame = (p.cpu / frames) * 1000;
        sheet
          .add(`fieldcast_${c.label}_fps`, frames / f.wall, 'frames/s')
          .add(`fieldcast_${c.label}_cpu_ms_per_frame`, fcPerFrame, 'ms')
          .add(`fieldcast_${c.label}_realtime_cores`, (fcPerFrame * FPS) / 1000, 'cores')
          .add(`ffmpeg_${c.label}_fps`, frames / p.wall, 'frames/s')
          .add(`ffmpeg_${c.label}_cpu_ms_per_frame`, ffPerFrame, 'ms')
          .add(`cpu_ratio_${c.label}`, fcPerFrame / ffPerFrame, 'fieldcast/ffmpeg');
        verdicts.push(
          `${c.label} ${((fcPerFrame * FPS) / 1000).toFixed(2)} cores real time, ${(fcPerFrame / ffPerFrame).toFixed(2)}x ffmpeg`,
        );
        rmSync(fcOut, { force: true });
        rmSync(ffOut, { force: true });
      }
    } finally {
      for (const src of sources.values()) {
        rmSync(src.video, { force: true });
        rmSync(src.audio, { force: true });
      }
    }
    return sheet.result(
      `${verdicts.join('; ') || 'nothing compared'} (same pictures and sound: Fieldcast draws its test pattern live, ffmpeg reads it raw)`,
    );
  },
};
