/**
 * mux (BENCHMARKS.md): the cost of packetising. The same H.264 + AAC
 * elementary streams (a 10 Mbit/s libx264 encode made once) go through
 * `fieldcast mux` and through `ffmpeg -c copy -f mpegts`, each as a child
 * process measured in CPU seconds from the OS. Both runs include process
 * start-up and reading/writing the files; the start-up of each (`--version`)
 * is measured too and also shown subtracted. Each is run three times and the
 * lowest kept, as the machine is shared.
 *
 * The live cost is measured apart, in this process: the access units are read
 * first, then a fresh TsMuxer muxes them all (JIT warm-up included) with the
 * CPU time of the process (selfCpuSeconds) taken around that loop only — no
 * process start-up and no file I/O, as in the pipeline. The core share at
 * 20 Mbit/s comes from that figure.
 */
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readAdtsFile, readH264File, TsAnalyser, TsMuxer } from '../mux/index.js';
import { runMeasured, selfCpuSeconds } from './cpu.js';
import type { Figure, Scenario, ScenarioOptions, ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const RUNS = 3;
const GOAL_CORE_SHARE_PCT = 2;

async function makeStreams(dir: string, seconds: number, signal: AbortSignal): Promise<{ video: string; audio: string }> {
  const video = path.join(dir, 'in.h264');
  const audio = path.join(dir, 'in.aac');
  await promisify(execFile)(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${seconds}`],
      ...[
        '-map',
        '0:v',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-b:v',
        '10M',
        '-maxrate',
        '10M',
        '-bufsize',
        '5M',
      ],
      ...['-g', '60', '-pix_fmt', 'yuv420p', '-f', 'h264', video],
      ...['-map', '1:a', '-c:a', 'aac', '-b:a', '128k', '-f', 'adts', audio],
    ],
    { signal },
  );
  return { video, audio };
}

async function lowestCpu(cmd: string, args: string[], signal: AbortSignal): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const r = await runMeasured(cmd, args, { signal });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(0, 500)}`);
    best = Math.min(best, r.cpuSeconds);
  }
  return best;
}

/** CPU seconds of this process for muxing every access unit once, as live (no file I/O, no start-up). */
function inProcessCpu(video: string, audio: string): number {
  const v = readH264File(readFileSync(video)).units;
  const track = readAdtsFile(readFileSync(audio));
  const a = track.units;
  const sink = Buffer.allocUnsafe(1316);
  const muxer = new TsMuxer({ audio: { sampleRate: track.sampleRate, channels: track.channels }, onChunk: (c) => c.copy(sink) });
  const before = selfCpuSeconds();
  let vi = 0;
  let ai = 0;
  while (vi < v.length || ai < a.length) {
    if (ai >= a.length || (vi < v.length && v[vi]!.dts <= a[ai]!.dts)) muxer.writeVideo(v[vi++]!);
    else muxer.writeAudio(a[ai++]!);
  }
  muxer.flush();
  return selfCpuSeconds() - before;
}

async function priority1Errors(file: string): Promise<number> {
  const a = new TsAnalyser();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) a.push(chunk as Buffer);
  return a.report().priority1Errors;
}

export const scenario: Scenario = {
  name: 'mux',
  description: 'MPEG-TS packetiser cost: fieldcast mux against ffmpeg -c copy -f mpegts on a 10 Mbit/s H.264 + AAC stream',
  async run({ quick, workDir, signal }: ScenarioOptions): Promise<ScenarioResult> {
    const seconds = quick ? 30 : 180;
    const { video, audio } = await makeStreams(workDir, seconds, signal);
    const inputMbps = ((statSync(video).size + statSync(audio).size) * 8) / seconds / 1e6;
    const fcOut = path.join(workDir, 'fieldcast.ts');
    const ffOut = path.join(workDir, 'ffmpeg.ts');

    const fc = await lowestCpu('node', [CLI, 'mux', '--video', video, '--audio', audio, '-o', fcOut], signal);
    const ff = await lowestCpu(
      'ffmpeg',
      [
        '-v',
        'error',
        '-y',
        '-f',
        'h264',
        '-framerate',
        '30',
        '-i',
        video,
        '-f',
        'aac',
        '-i',
        audio,
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c',
        'copy',
        '-f',
        'mpegts',
        ffOut,
      ],
      signal,
    );
    const fcStart = await lowestCpu('node', [CLI, '--version'], signal);
    const ffStart = await lowestCpu('ffmpeg', ['-version'], signal);

    const live = inProcessCpu(video, audio);
    const perHour = (cpu: number) => (cpu * 3600) / seconds;
    const fcNet = Math.max(0, fc - fcStart);
    const ffNet = Math.max(0, ff - ffStart);
    // Share of one core to mux a 20 Mbit/s stream live, from the in-process cost scaled by rate.
    const coreShare = (live / seconds) * (20 / inputMbps) * 100;
    const errors = await priority1Errors(fcOut);
    const figures: Figure[] = [
      { name: 'stream_seconds', value: seconds, unit: 's' },
      { name: 'stream_mbps', value: inputMbps, unit: 'Mbit/s' },
      { name: 'mux_cpu_s_per_stream_hour_fieldcast', value: perHour(fc), unit: 's' },
      { name: 'mux_cpu_s_per_stream_hour_ffmpeg', value: perHour(ff), unit: 's' },
      { name: 'mux_cpu_ratio_fieldcast_to_ffmpeg', value: perHour(fc) / perHour(ff) },
      { name: 'startup_cpu_s_fieldcast', value: fcStart, unit: 's' },
      { name: 'startup_cpu_s_ffmpeg', value: ffStart, unit: 's' },
      { name: 'mux_cpu_s_per_stream_hour_fieldcast_net', value: perHour(fcNet), unit: 's' },
      { name: 'mux_cpu_s_per_stream_hour_ffmpeg_net', value: perHour(ffNet), unit: 's' },
      { name: 'mux_cpu_ratio_net', value: ffNet > 0 ? fcNet / ffNet : Number.NaN },
      { name: 'mux_cpu_s_per_stream_hour_fieldcast_in_process', value: perHour(live), unit: 's' },
      { name: 'core_share_20mbps_fieldcast', value: coreShare, unit: '%' },
      { name: 'fieldcast_output_priority1_errors', value: errors },
      { name: 'output_mb_fieldcast', value: statSync(fcOut).size / 1e6, unit: 'MB' },
      { name: 'output_mb_ffmpeg', value: statSync(ffOut).size / 1e6, unit: 'MB' },
    ];
    const cheaper = fc <= ff;
    const verdict = [
      cheaper
        ? `fieldcast mux costs ${((fc / ff) * 100).toFixed(0)}% of ffmpeg's CPU, both as commands (goal ≤ 100%: held)`
        : `fieldcast mux costs ${(fc / ff).toFixed(2)}× ffmpeg's CPU, both as commands (goal ≤ 1×: NOT held)`,
      `the muxer alone (in process, no file I/O) ${((live / Math.max(ffNet, 1e-9)) * 100).toFixed(0)}% of ffmpeg's net cost`,
      coreShare < GOAL_CORE_SHARE_PCT
        ? `${coreShare.toFixed(2)}% of a core at 20 Mbit/s (goal < 2%: held)`
        : `${coreShare.toFixed(2)}% of a core at 20 Mbit/s (goal < 2%: NOT held)`,
      errors === 0 ? 'output clean' : `output has ${errors} priority 1 errors`,
      quick ? 'quick run: noisier' : '',
    ]
      .filter(Boolean)
      .join('; ');
    return { figures, verdict };
  },
};
