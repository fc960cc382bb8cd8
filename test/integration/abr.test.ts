/**
 * The adaptive bitrate controller on a real path: the pipeline process sends
 * through an emulated link (linksim) to srt-live-transmit; the link's rate
 * halves mid-stream and the encoder's bit rate must follow it down, and the
 * stream must arrive whole.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkSim } from '../../src/linksim/index.js';
import type { PipelineStats } from '../../src/media/channel.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { TsAnalyser } from '../../src/mux/index.js';
import { PipelineChild } from '../../src/supervisor/pipeline-child.js';
import { Children, freeUdpPort, hasTool, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const missing = ['srt-live-transmit'].filter((t) => !hasTool(t));
if (missing.length)
  console.warn(`\n*** SKIPPING adaptive bitrate integration test: missing ${missing.join(', ')} (npm run setup installs it) ***\n`);

const children = new Children();
let sim: LinkSim | undefined;
let pipeline: PipelineChild | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await pipeline?.stop();
  sim?.close();
  await children.killAll();
  dir?.remove();
});

describe.skipIf(missing.length > 0)('adaptive bitrate through an emulated link', () => {
  it('follows the link down when its rate halves, and the stream arrives whole', async () => {
    dir = new TempDir();
    const port = await freeUdpPort();
    const file = dir.file('rx.ts');
    const listener = children.srtLiveTransmit([`srt://:${port}?mode=listener&latency=2000`, 'file://con'], file);
    await waitUntil('listener bound', () => udpPortBound(port));
    sim = new LinkSim({
      seed: 3,
      target: `127.0.0.1:${port}`,
      links: [{ name: 'cell', listen: '127.0.0.1:0', up: { rate: '6M', delayMs: 20, queueMs: 600 }, down: { delayMs: 20 } }],
    });
    await sim.start();
    const link = sim.link('cell');
    pipeline = new PipelineChild({
      spec: {
        source: testPatternSource({ bitrate: 3_000_000, minBitrate: 500_000, maxBitrate: 5_000_000, adaptive: true, keyframeSeconds: 1 }),
        mux: defaultMux(),
        output: { url: `srt://${link.address}`, latencyMs: 2000, pbkeylen: 32 },
        seconds: 0,
      },
    });
    const stats: { t: number; s: PipelineStats }[] = [];
    pipeline.on('stats', (s) => {
      stats.push({ t: Date.now(), s });
      if (process.env.FIELDCAST_TEST_DEBUG)
        console.log(
          JSON.stringify({ st: s.state, v: s.videoBitrate, ts: s.tsBitrate, r: s.abrReason, rtt: s.srt.rttMs, buf: s.srt.sendBufferMs }),
        );
    });
    pipeline.on('event', (e) => {
      if (e.level === 'error') console.warn(`pipeline: ${e.code}: ${e.message}`);
    });
    pipeline.start();
    await waitUntil('climbed above 4 Mbit/s', () => (stats.at(-1)?.s.videoBitrate ?? 0) > 4_000_000, 40_000);

    const halvedAt = Date.now();
    link.set({ up: { rate: '3M' } });
    // Video plus audio plus TS/SRT overhead must fit in 3 Mbit/s.
    await waitUntil('bit rate below the new capacity', () => (stats.at(-1)?.s.videoBitrate ?? Infinity) < 2_600_000, 5_000);
    const reacted = stats.find((x) => x.t >= halvedAt && x.s.videoBitrate < 2_600_000)!;
    expect(reacted.s.abrReason).toMatch(/congestion/);
    // It stays below the link's rate on average; probes may touch it briefly, never far above it.
    const settleFrom = Date.now();
    await waitUntil('settled', () => Date.now() - settleFrom > 8000, 10_000);
    const after = stats.filter((x) => x.t > settleFrom).map((x) => x.s.videoBitrate);
    expect(after.reduce((a, b) => a + b, 0) / after.length).toBeLessThan(2_800_000);
    expect(Math.max(...after)).toBeLessThan(3_500_000);
    const last = stats.at(-1)!.s;
    expect(last.srt.sendBufferMs).toBeLessThan(2000);
    await pipeline.stop();

    await children.stop(listener); // srt-live-transmit writes its buffered tail as it exits
    const a = new TsAnalyser();
    a.push(readFileSync(file));
    const r = a.report();
    expect(r.checks.Continuity_count_error).toBe(0);
    expect(r.priority1Errors).toBe(0);
  }, 90_000);
});
