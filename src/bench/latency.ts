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
 *
 * What Fieldcast adds is the transport time minus what the path itself
 * costs: the SRT latency it was asked for, and the one-way delay of the
 * fastest emulated link, measured with probes before the stream. SRT delivers
 * each packet at its send time plus the latency plus the one-way delay its
 * delivery clock was set with at the handshake — and the bonding sender sends
 * handshakes on every link, so the first to arrive, over the fastest link,
 * sets it; slower links' extra delay is absorbed inside the latency.
 */
import { spawn } from 'node:child_process';
import { DestinationConfig } from '../config/schema.js';
import { captureMicrosFromPts, monotonicMicros } from '../lib/clock.js';
import { percentile, videoPesStarts } from '../media/far-end.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { readTimecode } from '../media/timecode.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { startBondedPath } from './bonded-path.js';
import { measureOneWayDelays } from './path-delay.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const WIDTH = 1280;
const HEIGHT = 720;
const SRT_LATENCY_MS = 500;
/** CLOCK_MONOTONIC, as the capture stamps. */
const nowUs = monotonicMicros;

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
        if (started && now - started > warmupUs) transport.push((now - captureMicrosFromPts(pts, now)) / 1000);
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
    const links = [20, 35, 60].map((d, i) => ({ name: `link-${i + 1}`, up: { delayMs: d, rate: '20M' }, down: { delayMs: d } }));
    const delays = await measureOneWayDelays(links, 1);
    const path = await startBondedPath(port, links, 1);
    const unit = new StreamUnit({
      source: testPatternSource({ inputName: 'bench', width: WIDTH, height: HEIGHT }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: SRT_LATENCY_MS, pbkeylen: 32 }),
      bond: path.bond,
      seconds,
      reportUnits: true,
    });
    unit.on('unit', (captureUs) => {
      const now = nowUs();
      if (started && now - started > warmupUs) encode.push((now - captureUs) / 1000);
    });
    const finished = new Promise<void>((resolve) => unit.on('finished', () => resolve()));
    const abort = (): void => void unit.stop();
    signal.addEventListener('abort', abort, { once: true });
    started = nowUs();
    await unit.start();
    await finished;
    signal.removeEventListener('abort', abort);
    await new Promise((r) => setTimeout(r, 800));
    decoder.stdin.end();
    decoder.kill();
    const bond = unit.stats().bond ?? { heldTotal: 0 };
    path.close();
    listener.close();

    if (transport.length === 0) throw new NotObservedError('latency', 'no picture reached the SRT listener');
    const r1 = (v: number): number => Math.round(v * 10) / 10;
    const p = (xs: number[], q: number): number | undefined => (xs.length ? r1(percentile(xs, q)) : undefined);
    const sheet = new FigureSheet();
    sheet.add('srt_latency_ms', SRT_LATENCY_MS, 'ms');
    for (const d of delays)
      sheet.measured(
        `link_one_way_ms_${d.name.replace('-', '_')}`,
        d.received ? r1(d.p50Ms) : undefined,
        `ms (p50 of ${d.received}/${d.probes} probes)`,
        'no probe came through',
      );
    const fastest = delays.filter((d) => d.received > 0).sort((a, b) => a.p50Ms - b.p50Ms)[0];
    sheet.add('pictures_measured', g2g.length);
    sheet.measured('encode_ms_p50', p(encode, 50), 'ms', 'no access unit came out of the encoder after the warm-up');
    sheet.measured('encode_ms_p99', p(encode, 99), 'ms', 'no access unit came out of the encoder after the warm-up');
    sheet.add('transport_ms_p50', r1(percentile(transport, 50)), 'ms');
    sheet.add('transport_ms_p99', r1(percentile(transport, 99)), 'ms');
    const decoded = g2g.length > 0;
    const why = 'the reference decoder returned no picture with a readable timecode';
    sheet.measured('decode_ms_p50', decoded ? r1(percentile(g2g, 50) - percentile(transport, 50)) : undefined, 'ms', why);
    sheet.measured('g2g_ms_p50', p(g2g, 50), 'ms', why);
    sheet.measured('g2g_ms_p99', p(g2g, 99), 'ms', why);
    sheet.measured(
      'g2g_minus_srt_latency_ms',
      decoded ? r1(percentile(g2g, 99) - SRT_LATENCY_MS) : undefined,
      'ms (p99, the path and the reference decoder included)',
      why,
    );
    let added: number | undefined;
    if (!fastest) sheet.missing('fieldcast_added_ms', "no probe crossed the emulated links, so the path's own delay is unknown");
    else {
      const path = SRT_LATENCY_MS + fastest.p50Ms;
      const how = `ms (capture to the listener, minus the ${SRT_LATENCY_MS} ms SRT latency and ${fastest.name}'s measured ${fastest.p50Ms.toFixed(1)} ms one-way delay)`;
      sheet.add('path_cost_ms', r1(path), `ms (SRT latency + the fastest link's one-way delay)`);
      sheet.add('fieldcast_added_ms_p50', r1(percentile(transport, 50) - path), how);
      added = percentile(transport, 99) - path;
      sheet.add('fieldcast_added_ms_p99', r1(added), how);
    }
    sheet.add('held_in_sender', bond.heldTotal, 'packets (waited because every link was full)');
    // The far-end decoder (ffmpeg here, a MediaConnect flow's consumer in the field) is not
    // Fieldcast's: the goal is judged on capture → listener output, minus what the path costs.
    const verdict =
      added === undefined
        ? 'what Fieldcast adds could not be told apart from the path'
        : `Fieldcast adds ${added.toFixed(0)} ms at p99 on top of the ${SRT_LATENCY_MS} ms SRT latency and the links' own delay (goal < 100 ms): ${added < 100 ? 'held' : 'not held'}` +
          (decoded ? `; the reference decoder adds ${(percentile(g2g, 50) - percentile(transport, 50)).toFixed(0)} ms more at p50` : '');
    return sheet.result(verdict);
  },
};
