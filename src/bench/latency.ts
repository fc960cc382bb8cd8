/**
 * `fieldcast bench latency` (BENCHMARKS.md): glass to glass. The test
 * pattern draws each picture's capture time (the media clock) into the
 * picture; it goes through the encoder (libx264, zerolatency, 720p30), the
 * muxer, SRT with latency L, three bonded emulated links and the receiver to
 * an SRT listener, then into a decoder (ffmpeg, low-delay flags) whose
 * pictures are read back. Both ends share this machine's monotonic clock, so
 * the difference is the true glass-to-glass time (display excluded).
 *
 * Stages: encode (capture → access unit out of the encoder), transport
 * (capture → the picture's first TS packet out of the SRT listener: encode,
 * mux, SRT latency, links), decode (that → decoded picture).
 */
import { spawn } from 'node:child_process';
import { percentile, videoPesStarts } from '../media/far-end.js';
import { Pipeline } from '../media/pipeline.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { readTimecode } from '../media/timecode.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { startBondedPath } from './bonded-path.js';
import type { Figure, Scenario, ScenarioResult } from './types.js';

const WIDTH = 1280;
const HEIGHT = 720;
const SRT_LATENCY_MS = 500;
const WRAP_US = (2 ** 33 * 100) / 9;

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as the capture stamps
}

/** The capture time (µs) a 33-bit PTS stands for, taking the wrap nearest to now. */
function ptsToCaptureUs(pts: number, now: number): number {
  const us = (pts * 100) / 9;
  return us + Math.round((now - us) / WRAP_US) * WRAP_US;
}

export const scenario: Scenario = {
  name: 'latency',
  description: 'glass to glass through encoder, mux, SRT, bonded links and a decoder',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const seconds = quick ? 12 : 60;
    const warmupUs = 3_000_000;
    const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=${SRT_LATENCY_MS}`, { role: 'receive' });
    const decoder = spawn(
      'ffmpeg',
      // One decoding thread: frame threading holds a picture per extra thread.
      [
        '-v',
        'error',
        '-threads',
        '1',
        '-fflags',
        'nobuffer',
        '-flags',
        'low_delay',
        '-probesize',
        '65536',
        '-analyzeduration',
        '0',
        '-f',
        'mpegts',
        '-i',
        'pipe:0',
        '-map',
        '0:v',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    decoder.stdin.on('error', () => undefined);
    const transport: number[] = [];
    const g2g: number[] = [];
    const encode: number[] = [];
    let started = 0;
    listener.on('data', (chunk) => {
      const now = nowUs();
      for (const pts of videoPesStarts(chunk))
        if (started && now - started > warmupUs) transport.push((now - ptsToCaptureUs(pts, now)) / 1000);
      decoder.stdin.write(chunk);
    });
    const frame = WIDTH * HEIGHT;
    let pending: Buffer = Buffer.alloc(0);
    decoder.stdout.on('data', (d: Buffer) => {
      const now = nowUs();
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= frame) {
        const tc = readTimecode(pending.subarray(0, frame), WIDTH, HEIGHT);
        if (tc && started && now - started > warmupUs) g2g.push((now - tc.captureUs) / 1000);
        pending = pending.subarray(frame);
      }
    });
    const port = await startListening(listener);
    // Three clean links of different delay: the SRT latency absorbs the spread.
    const path = await startBondedPath(
      port,
      [20, 35, 60].map((d, i) => ({ name: `link-${i + 1}`, up: { delayMs: d, rate: '20M' }, down: { delayMs: d } })),
      1,
    );
    const pipeline = new Pipeline({
      source: testPatternSource({ inputName: 'bench', width: WIDTH, height: HEIGHT }),
      mux: defaultMux(),
      output: { url: `srt://127.0.0.1:${path.local}`, latencyMs: SRT_LATENCY_MS, pbkeylen: 32 },
      seconds,
    });
    pipeline.on('videoUnit', (captureUs) => {
      const now = nowUs();
      if (started && now - started > warmupUs) encode.push((now - captureUs) / 1000);
    });
    const finished = new Promise<void>((resolve) => pipeline.on('finished', () => resolve()));
    const abort = (): void => void pipeline.stop();
    signal.addEventListener('abort', abort, { once: true });
    started = nowUs();
    await pipeline.start();
    await finished;
    signal.removeEventListener('abort', abort);
    await new Promise((r) => setTimeout(r, 800));
    decoder.stdin.end();
    decoder.kill();
    const bond = path.sender.stats();
    await path.close();
    listener.close();

    const p = (xs: number[], q: number): number => Math.round(percentile(xs, q) * 10) / 10;
    const figures: Figure[] = [
      { name: 'srt_latency_ms', value: SRT_LATENCY_MS, unit: 'ms' },
      { name: 'pictures_measured', value: g2g.length },
      { name: 'encode_ms_p50', value: p(encode, 50), unit: 'ms' },
      { name: 'encode_ms_p99', value: p(encode, 99), unit: 'ms' },
      { name: 'transport_ms_p50', value: p(transport, 50), unit: 'ms' },
      { name: 'decode_ms_p50', value: Math.round((percentile(g2g, 50) - percentile(transport, 50)) * 10) / 10, unit: 'ms' },
      { name: 'g2g_ms_p50', value: p(g2g, 50), unit: 'ms' },
      { name: 'g2g_ms_p99', value: p(g2g, 99), unit: 'ms' },
      {
        name: 'g2g_minus_srt_latency_ms',
        value: Math.round((percentile(g2g, 99) - SRT_LATENCY_MS) * 10) / 10,
        unit: 'ms (p99, reference decoder included)',
      },
      { name: 'fieldcast_added_ms_p50', value: Math.round((percentile(transport, 50) - SRT_LATENCY_MS) * 10) / 10, unit: 'ms' },
      {
        name: 'fieldcast_added_ms_p99',
        value: Math.round((percentile(transport, 99) - SRT_LATENCY_MS) * 10) / 10,
        unit: 'ms (capture to the listener, minus the SRT latency)',
      },
      { name: 'held_in_sender', value: bond.heldTotal, unit: 'packets (waited because every link was full)' },
    ];
    // The far-end decoder (ffmpeg here, a MediaConnect flow's consumer in the field) is not
    // Fieldcast's: the goal is judged on capture → listener output, minus the SRT latency.
    const added = percentile(transport, 99) - SRT_LATENCY_MS;
    const verdict =
      g2g.length === 0
        ? 'no picture was read back at the far end'
        : `Fieldcast adds ${added.toFixed(0)} ms at p99 on top of the ${SRT_LATENCY_MS} ms SRT latency (goal < 100 ms): ${added < 100 ? 'held' : 'not held'}; the reference decoder adds ${(percentile(g2g, 50) - percentile(transport, 50)).toFixed(0)} ms more at p50`;
    return { figures, verdict };
  },
};
