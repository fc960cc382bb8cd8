/**
 * `fieldcast bench av-sync` (BENCHMARKS.md): the test pattern's white flash
 * and its 1 kHz beep are made at the same media time; after the encoders,
 * the muxer and SRT, the far end decodes both and measures audio minus video
 * for every flash. Figures for the start and the end of the run show drift.
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { avOffsets, beepOnsets, flashTimes, percentile } from '../media/far-end.js';
import { Pipeline } from '../media/pipeline.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { SrtConnection, startListening } from '../srt/index.js';
import type { Figure, Scenario, ScenarioResult } from './types.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAME_MS = 1000 / 30;

export const scenario: Scenario = {
  name: 'av-sync',
  description: 'audio minus video at the far end, from the flash and the beep',
  async run({ quick, workDir, signal }): Promise<ScenarioResult> {
    const seconds = quick ? 20 : 600;
    const file = path.join(workDir, 'received.ts');
    const out = createWriteStream(file);
    const listener = new SrtConnection('srt://127.0.0.1:0?mode=listener&latency=300', { role: 'receive' });
    listener.on('data', (c) => out.write(c));
    const port = await startListening(listener);
    const pipeline = new Pipeline({
      source: testPatternSource({ inputName: 'bench', width: WIDTH, height: HEIGHT, bitrate: 3_000_000 }),
      mux: defaultMux(),
      output: { url: `srt://127.0.0.1:${port}`, latencyMs: 300, pbkeylen: 32 },
      seconds,
    });
    const finished = new Promise<void>((resolve) => pipeline.on('finished', () => resolve()));
    const abort = (): void => void pipeline.stop();
    signal.addEventListener('abort', abort, { once: true });
    await pipeline.start();
    await finished;
    signal.removeEventListener('abort', abort);
    await new Promise((r) => setTimeout(r, 600));
    listener.close();
    await new Promise<void>((r) => out.end(() => r()));

    const flashes = flashTimes(file, WIDTH, HEIGHT);
    const offsets = avOffsets(flashes, beepOnsets(file));
    const n = offsets.length;
    const tail = offsets.slice(Math.max(0, n - 10));
    const head = offsets.slice(0, 10);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const worst = Math.max(...offsets.map(Math.abs));
    const figures: Figure[] = [
      { name: 'run_s', value: seconds, unit: 's' },
      { name: 'flashes_matched', value: n },
      { name: 'av_offset_ms', value: Math.round(mean(offsets) * 10) / 10, unit: 'ms (audio minus video, mean)' },
      { name: 'av_offset_ms_start', value: Math.round(mean(head) * 10) / 10, unit: 'ms (first 10 flashes)' },
      { name: 'av_offset_ms_end', value: Math.round(mean(tail) * 10) / 10, unit: 'ms (last 10 flashes)' },
      { name: 'av_offset_ms_p50_abs', value: Math.round(percentile(offsets.map(Math.abs), 50) * 10) / 10, unit: 'ms' },
      { name: 'av_offset_ms_max_abs', value: Math.round(worst * 10) / 10, unit: 'ms' },
    ];
    const verdict =
      n === 0
        ? 'no flash/beep pair was found at the far end'
        : `worst offset ${worst.toFixed(1)} ms over ${seconds} s (goal within ±${FRAME_MS.toFixed(0)} ms, one frame): ${worst <= FRAME_MS ? 'held' : 'not held'}; signal loss and return is not exercised here (the VM test covers the slate)`;
    return { figures, verdict };
  },
};
