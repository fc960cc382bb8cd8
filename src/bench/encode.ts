/**
 * `fieldcast bench encode`: libx264 from the test pattern, unpaced, at 720p30
 * and 1080p30 — pictures per second and CPU seconds per picture (user+sys of
 * the whole process, from the OS) — beside `ffmpeg -f lavfi -i testsrc2` with
 * the same settings (preset, tune, bitrate, VBV, keyframe interval, no
 * B-frames, AAC 128k, MPEG-TS out). Both sides encode sound too, and both
 * write a TS file, so the ratio compares like with like.
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMeasured } from './cpu.js';
import type { Figure, Scenario } from './types.js';

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

async function peer(c: Case, frames: number, out: string, signal: AbortSignal): Promise<{ cpu: number; wall: number }> {
  const b = String(c.bitrate);
  const r = await runMeasured(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${c.width}x${c.height}:rate=${FPS}`,
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
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
  description: 'libx264 from the test pattern at 720p30 and 1080p30 (fps, CPU per frame) beside ffmpeg testsrc2',
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
    const figures: Figure[] = [
      { name: 'frames_per_run', value: frames },
      { name: 'node_startup_cpu_s', value: base.cpuSeconds, unit: 's' },
    ];
    const verdicts: string[] = [];
    for (const c of cases) {
      const f = await fieldcast(c, frames, path.join(workDir, `fc-${c.label}.ts`), signal);
      const p = await peer(c, frames, path.join(workDir, `ff-${c.label}.ts`), signal);
      const fcCpu = Math.max(0.001, f.cpu - base.cpuSeconds);
      const fcPerFrame = (fcCpu / frames) * 1000;
      const ffPerFrame = (p.cpu / frames) * 1000;
      figures.push(
        { name: `fieldcast_${c.label}_fps`, value: frames / f.wall, unit: 'frames/s' },
        { name: `fieldcast_${c.label}_cpu_ms_per_frame`, value: fcPerFrame, unit: 'ms' },
        { name: `fieldcast_${c.label}_realtime_cores`, value: (fcPerFrame * FPS) / 1000, unit: 'cores' },
        { name: `ffmpeg_${c.label}_fps`, value: frames / p.wall, unit: 'frames/s' },
        { name: `ffmpeg_${c.label}_cpu_ms_per_frame`, value: ffPerFrame, unit: 'ms' },
        { name: `cpu_ratio_${c.label}`, value: fcPerFrame / ffPerFrame, unit: 'fieldcast/ffmpeg' },
      );
      verdicts.push(
        `${c.label} ${((fcPerFrame * FPS) / 1000).toFixed(2)} cores real time, ${(fcPerFrame / ffPerFrame).toFixed(2)}x ffmpeg`,
      );
    }
    return { figures, verdict: `${verdicts.join('; ')} (pictures differ: test pattern vs testsrc2)` };
  },
};
