/**
 * The pipeline runs in its own process; the SRT session lives in the stream
 * unit, beside it. When the pipeline dies (a driver or encoder crash) or
 * hangs, what matters is what the destination sees: these tests watch the
 * stream arrive at an srt-live-transmit listener, measure the gap in
 * pictures, check that it resumes as a decoder needs it (PAT, PMT, then a
 * keyframe with SPS/PPS) and that the transport stream itself never breaks
 * (the session is the same one, continuity counters run on, PAT/PMT and PCR
 * are kept up meanwhile). A malformed command to the pipeline is ignored
 * without harm.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DestinationConfig } from '../../src/config/schema.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { TsAnalyser, TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, sleep, stderrOf, udpPortBound, waitUntil } from './srt-helpers.js';

/** A restart is looked for in the pictures that arrive this long after the kill (the longest gap there, however short). */
const KILL_WINDOW_MS = 2_500;

const skip = skipWithout('the pipeline restart tests', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

/** README: the destination has pictures again within 2 s of a crash or a hang (a hang is a second's silence). */
const CRASH_GAP_MS = 2_000;
const HANG_GAP_MS = 2_500;

let unit: StreamUnit | undefined;
let sock: Socket | undefined;
const children = new Children();
afterEach(async () => {
  await unit?.stop();
  unit = undefined;
  sock?.close();
  sock = undefined;
  await children.killAll();
});

/** An srt-live-transmit listener re-serving what it receives on UDP, where TsArrivals and an analyser read it as it comes. */
async function farEnd(): Promise<{ srtPort: number; arrivals: TsArrivals; analyser: TsAnalyser; sessions: () => number }> {
  const srtPort = await freeUdpPort();
  const udpPort = await freeUdpPort();
  const arrivals = new TsArrivals();
  const analyser = new TsAnalyser();
  sock = createSocket('udp4');
  sock.on('message', (m) => {
    arrivals.push(m);
    analyser.push(m);
  });
  await new Promise<void>((r) => sock!.bind(udpPort, '127.0.0.1', r));
  // Verbose: it says each time it takes a caller, so the test sees the session was never re-made.
  const slt = children.track(
    spawn('srt-live-transmit', ['-v', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=200`, `udp://127.0.0.1:${udpPort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let said = '';
  slt.stdout?.on('data', (d: Buffer) => {
    said += d.toString();
  });
  await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
  return {
    srtPort,
    arrivals,
    analyser,
    sessions: () => (said + stderrOf(slt)).match(/Accepted SRT source connection/g)?.length ?? 0,
  };
}

async function startUnit(srtPort: number): Promise<StreamUnit> {
  const u = new StreamUnit({
    source: testPatternSource({ width: 640, height: 360, bitrate: 1_000_000, keyframeSeconds: 2 }),
    mux: defaultMux(),
    destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 }),
  });
  await u.start();
  return u;
}

describe.skipIf(skip)('a pipeline that dies or hangs: what the destination sees', () => {
  it('killed mid-stream: restarted with its reason, pictures back at the listener within 2 s, PAT, PMT and a keyframe first, on the same session, the TS unbroken', async () => {
    const { srtPort, arrivals, analyser, sessions } = await farEnd();
    unit = await startUnit(srtPort);
    const reasons: string[] = [];
    unit.on('restarting', (e) => reasons.push(`${e.code}: ${e.message}`));
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 60, 30_000);
    const first = unit.pipelinePid!;
    const killedAt = performance.now();
    process.kill(first, 'SIGKILL');
    await waitUntil(
      'pictures again at the listener',
      () => arrivals.resumptionWithin(killedAt, KILL_WINDOW_MS) !== undefined && arrivals.picturesAfter(killedAt).length > 60,
      30_000,
    );
    const r = arrivals.resumptionWithin(killedAt, KILL_WINDOW_MS)!;
    console.log(`SIGKILL: the listener had no picture for ${r.gapMs.toFixed(0)} ms; resumed ${JSON.stringify(r)}`);
    expect(unit.pipelinePid).not.toBe(first);
    expect(reasons).toEqual(['PIPELINE_CRASHED: the media pipeline killed by SIGKILL; restarting it']);
    expect(unit.stats().pipeline.restarts).toBe(1);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    expect(r.gapMs).toBeLessThan(CRASH_GAP_MS);
    // The destination kept its session, and the TS never broke: no continuity error, PAT/PMT kept up.
    const rep = analyser.report();
    expect(sessions()).toBe(1);
    expect(rep.checks.Continuity_count_error).toBe(0);
    expect(rep.checks.PAT_error).toBe(0);
    expect(rep.checks.PMT_error).toBe(0);
    expect(rep.checks.PCR_discontinuity_indicator_error).toBe(0);
    expect(unit.stats().splicer.splices).toBe(1);
  }, 90_000);

  it('hung (SIGSTOP): killed after a second of silence, pictures back within 2.5 s on the same session', async () => {
    const { srtPort, arrivals, analyser, sessions } = await farEnd();
    unit = await startUnit(srtPort);
    const reasons: string[] = [];
    unit.on('restarting', (e) => reasons.push(`${e.code}: ${e.message}`));
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 60, 30_000);
    const hung = unit.pipelinePid!;
    const stoppedAt = performance.now();
    process.kill(hung, 'SIGSTOP');
    await waitUntil(
      'pictures again at the listener',
      () => arrivals.resumptionAfter(stoppedAt) !== undefined && arrivals.picturesAfter(stoppedAt).length > 60,
      40_000,
    );
    const r = arrivals.resumptionAfter(stoppedAt)!;
    console.log(`SIGSTOP: the listener had no picture for ${r.gapMs.toFixed(0)} ms; resumed ${JSON.stringify(r)}`);
    expect(unit.pipelinePid).not.toBe(hung);
    expect(reasons[0]).toMatch(/^PIPELINE_CRASHED: the media pipeline stopped answering and was killed; restarting it$/);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    expect(r.gapMs).toBeLessThan(HANG_GAP_MS);
    expect(sessions()).toBe(1);
    expect(analyser.report().checks.Continuity_count_error).toBe(0);
  }, 90_000);

  it('a malformed command does not take the pipeline down, nor the stream', async () => {
    const { srtPort, arrivals } = await farEnd();
    unit = await startUnit(srtPort);
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 30, 30_000);
    const child = (unit as unknown as { child: { send(m: unknown): void } }).child;
    child.send({ type: 'setBitrate', bps: -5 });
    child.send({ type: 'reboot' });
    const sentAt = performance.now();
    await sleep(2000);
    expect(unit.stats().pipeline.restarts).toBe(0);
    expect(arrivals.picturesAfter(sentAt).length).toBeGreaterThan(45);
    expect(arrivals.longestGap(sentAt)).toBeLessThan(500);
  }, 60_000);

  it('a crash loop (killed as soon as it starts, five times) backs off, reports its last error, and streams again once it stops', async () => {
    const { srtPort, arrivals } = await farEnd();
    unit = await startUnit(srtPort);
    const delays: number[] = [];
    unit.on('restarting', (_e, ms) => delays.push(ms));
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 30, 30_000);
    const killed = new Set<number>();
    for (let k = 0; k < 5; k++) {
      await waitUntil('a pipeline process to kill', () => unit!.pipelinePid !== undefined && !killed.has(unit!.pipelinePid), 30_000);
      const pid = unit.pipelinePid!;
      killed.add(pid);
      process.kill(pid, 'SIGKILL');
    }
    const lastKillAt = performance.now();
    await waitUntil('pictures again after the loop', () => arrivals.picturesAfter(lastKillAt).length > 30, 30_000);
    // The first death restarts at once; each early one after it waits twice as long.
    expect(delays).toEqual([0, 250, 500, 1000, 2000]);
    const s = unit.stats();
    expect(s.pipeline.restarts).toBe(5);
    expect(s.pipeline.lastError).toBe('the media pipeline killed by SIGKILL; restarting it');
    expect(s.state).toBe('live');
  }, 90_000);
});
