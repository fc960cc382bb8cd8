/**
 * `fieldcast bench av-sync` (BENCHMARKS.md): the test pattern's white flash
 * and its beep are made at the same media time, both marked with the code of
 * their second; after the encoders, the muxer and SRT, the far end decodes
 * both and measures audio minus video for every beep paired with the flash of
 * its own code, so an offset of whole seconds is measured, not folded back to
 * 0. Figures for the start and the end of the run show drift.
 */
import { createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { DestinationConfig } from '../config/schema.js';
import { avOffsets, beepOnsets, flashTimes, percentile } from '../media/far-end.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAME_MS = 1000 / 30;
/**
 * Below this share of the flashes paired, the offsets describe too little of
 * the run to hold the goal. The first and last flash are left out of the
 * share: the first beep has no quiet before it to show its onset, and the
 * last may be cut off by the end of the run.
 */
const MIN_PAIRED = 0.9;
const EDGE_FLASHES = 2;

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
    const unit = new StreamUnit({
      source: testPatternSource({ inputName: 'bench', width: WIDTH, height: HEIGHT, bitrate: 3_000_000 }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: 300, pbkeylen: 32 }),
      seconds,
    });
    const finished = new Promise<void>((resolve) => unit.on('finished', () => resolve()));
    const abort = (): void => void unit.stop();
    signal.addEventListener('abort', abort, { once: true });
    await unit.start();
    await finished;
    signal.removeEventListener('abort', abort);
    await new Promise((r) => setTimeout(r, 600));
    listener.close();
    await new Promise<void>((r) => out.end(() => r()));

    if (statSync(file).size === 0) throw new NotObservedError('av_offset_ms', 'the far end received nothing');
    const flashes = flashTimes(file, WIDTH, HEIGHT);
    const beeps = beepOnsets(file);
    const offsets = avOffsets(flashes, beeps);
    const n = offsets.length;
    const round = (x: number): number => Math.round(x * 10) / 10;
    const mean = (xs: number[]): number | undefined => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : undefined);
    const abs = offsets.map(Math.abs);
    const why = `no beep was paired with a flash of the same second code (${flashes.length} flashes, ${beeps.length} beeps seen)`;
    const sheet = new FigureSheet()
      .add('run_s', seconds, 's')
      .add('flashes_seen', flashes.length)
      .add('flashes_unread', flashes.filter((f) => f.code === undefined).length, 'with no second code read')
      .add('beeps_seen', beeps.length)
      .add('beeps_unread', beeps.filter((b) => b.code === undefined).length, 'with no clear pitch')
      .add('flashes_matched', n, 'beeps paired with the flash of their code')
      .measured('av_offset_ms', mean(offsets), 'ms (audio minus video, mean)', why)
      .measured('av_offset_ms_start', mean(offsets.slice(0, 10)), 'ms (first 10 pairs)', 'no pairs (see av_offset_ms)')
      .measured('av_offset_ms_end', mean(offsets.slice(Math.max(0, n - 10))), 'ms (last 10 pairs)', 'no pairs (see av_offset_ms)')
      .measured('av_offset_ms_p50_abs', n ? round(percentile(abs, 50)) : undefined, 'ms', 'no pairs (see av_offset_ms)')
      .measured('av_offset_ms_max_abs', n ? round(Math.max(...abs)) : undefined, 'ms', 'no pairs (see av_offset_ms)');
    if (n === 0) return sheet.result(`not observed: ${why}`);
    const worst = Math.max(...abs);
    const covered = n >= MIN_PAIRED * (flashes.length - EDGE_FLASHES);
    const held = worst <= FRAME_MS && covered;
    const verdict =
      `worst offset ${worst.toFixed(1)} ms over ${n} pairs of ${flashes.length} flashes in ${seconds} s ` +
      `(goal within ±${FRAME_MS.toFixed(0)} ms, one frame${covered ? '' : `, with ${MIN_PAIRED * 100}% of the flashes paired`}): ` +
      `${held ? 'held' : 'not held'}; signal loss and return is not exercised here (the VM test covers the slate)`;
    return sheet.result(verdict);
  },
};
