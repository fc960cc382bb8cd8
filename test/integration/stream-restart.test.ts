/**
 * The pipeline runs in its own process. When it dies (a driver or encoder
 * crash) or hangs, what matters is what the destination sees: these tests
 * watch the stream arrive at an srt-live-transmit listener and measure the
 * gap in pictures, and check that it resumes as a decoder needs it (PAT,
 * PMT, then a keyframe with SPS/PPS). A malformed command from the
 * supervisor is ignored without harm.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { PipelineChild } from '../../src/supervisor/pipeline-child.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, sleep, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the pipeline restart tests', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

/**
 * README: a pipeline that dies is restarted at once and the destination has
 * pictures again within this; one that hangs is killed once it has been
 * silent for the watchdog's time, then the same.
 */
const CRASH_GAP_MS = 8_000;
const HANG_GAP_MS = 12_000;

let child: PipelineChild | undefined;
let sock: Socket | undefined;
const children = new Children();
afterEach(async () => {
  await child?.stop();
  child = undefined;
  sock?.close();
  sock = undefined;
  await children.killAll();
});

/** An srt-live-transmit listener re-serving what it receives on UDP, where TsArrivals logs it as it comes. */
async function farEnd(): Promise<{ srtPort: number; arrivals: TsArrivals }> {
  const srtPort = await freeUdpPort();
  const udpPort = await freeUdpPort();
  const arrivals = new TsArrivals();
  sock = createSocket('udp4');
  sock.on('message', (m) => arrivals.push(m));
  await new Promise<void>((r) => sock!.bind(udpPort, '127.0.0.1', r));
  children.srtLiveTransmit([`srt://:${srtPort}?mode=listener&latency=200`, `udp://127.0.0.1:${udpPort}`]);
  await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
  return { srtPort, arrivals };
}

function startPipeline(srtPort: number): PipelineChild {
  const c = new PipelineChild({
    spec: {
      source: testPatternSource({ width: 640, height: 360, bitrate: 1_000_000, keyframeSeconds: 2 }),
      mux: defaultMux(),
      output: { url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 },
    },
    forwardLogs: false,
  });
  c.start();
  return c;
}

describe.skipIf(skip)('pipeline process: what the destination sees when it dies or hangs', () => {
  it('a pipeline killed mid-stream is restarted with its reason, and the listener gets pictures again, PAT, PMT and a keyframe first', async () => {
    const { srtPort, arrivals } = await farEnd();
    child = startPipeline(srtPort);
    const reasons: string[] = [];
    child.on('restarting', (e) => reasons.push(`${e.code}: ${e.message}`));
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 60, 30_000);
    const first = child.pid!;
    const killedAt = performance.now();
    process.kill(first, 'SIGKILL');
    await waitUntil('pictures again at the listener', () => arrivals.picturesAfter(killedAt).length > 30, 30_000);
    const r = arrivals.resumptionAfter(killedAt)!;
    console.log(`SIGKILL: the listener had no picture for ${r.gapMs.toFixed(0)} ms; resumed ${JSON.stringify(r)}`);
    expect(child.pid).not.toBe(first);
    expect(child.restartCount).toBe(1);
    expect(reasons[0]).toMatch(/^PIPELINE_CRASHED: the media pipeline killed by SIGKILL; restarting it$/);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    expect(r.gapMs).toBeLessThan(CRASH_GAP_MS);

    // A malformed command does not take the pipeline down, nor the stream.
    child.send({ type: 'setBitrate', bps: -5 } as never);
    const sentAt = performance.now();
    await sleep(2000);
    expect(child.restartCount).toBe(1);
    expect(arrivals.picturesAfter(sentAt).length).toBeGreaterThan(45);
    expect(arrivals.longestGap(sentAt)).toBeLessThan(500);
  }, 90_000);

  it('a pipeline that hangs (SIGSTOP) is killed by the watchdog and the listener gets pictures again, keyframe first', async () => {
    const { srtPort, arrivals } = await farEnd();
    child = startPipeline(srtPort);
    const reasons: string[] = [];
    child.on('restarting', (e) => reasons.push(`${e.code}: ${e.message}`));
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 60, 30_000);
    const hung = child.pid!;
    const stoppedAt = performance.now();
    process.kill(hung, 'SIGSTOP');
    await waitUntil('pictures again at the listener', () => arrivals.picturesAfter(stoppedAt).length > 30, 40_000);
    const r = arrivals.resumptionAfter(stoppedAt)!;
    console.log(`SIGSTOP: the listener had no picture for ${r.gapMs.toFixed(0)} ms; resumed ${JSON.stringify(r)}`);
    expect(child.pid).not.toBe(hung);
    expect(reasons[0]).toMatch(/^PIPELINE_CRASHED: the media pipeline (stopped answering|killed by SIGKILL)/);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    expect(r.gapMs).toBeLessThan(HANG_GAP_MS);
  }, 90_000);
});
