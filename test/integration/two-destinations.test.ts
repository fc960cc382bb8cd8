/**
 * Two destinations (a MediaConnect flow's two sources, MERGE or FAILOVER; or
 * two flows): one stream unit sends the test pattern to two srt-live-transmit
 * listeners. MERGE needs binary-identical sources, so what each listener
 * writes must be the same bytes; and one destination failing must not touch
 * the other: its listener is killed mid-stream and started again while the
 * other's file must stay whole — every packet handed to it arrived, no
 * continuity counter broke, its session never re-made. The recording made
 * meanwhile keeps a timeline for each destination: the outage is a gap of the
 * one that failed only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTs, DualListener, overlap, wholePackets } from '../../src/bench/dual-rig.js';
import { DestinationConfig, RecordingConfig } from '../../src/config/schema.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { nativeAvailable } from '../../src/native/index.js';
import { findGaps, readIndex } from '../../src/record/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { expectSameAroundOutage } from './dual-checks.js';
import { freeUdpPort, sleep, udpPortBound, waitUntil } from './srt-helpers.js';

const LATENCY_MS = 200;

const skip = skipWithout('the two-destination tests', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

let unit: StreamUnit | undefined;
const listeners: DualListener[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await unit?.stop();
  unit = undefined;
  await Promise.all(listeners.map((l) => l.kill()));
  listeners.length = 0;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function listener(): Promise<DualListener> {
  const l = new DualListener(await freeUdpPort(), LATENCY_MS);
  listeners.push(l);
  l.start();
  await waitUntil('the listener to bind', () => udpPortBound(l.port), 10_000);
  return l;
}

async function startUnit(a: DualListener, b: DualListener, recordTo?: string): Promise<StreamUnit> {
  const u = new StreamUnit(
    {
      source: testPatternSource({ width: 320, height: 180, bitrate: 600_000, keyframeSeconds: 1 }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ name: 'flow-a', url: `srt://127.0.0.1:${a.port}`, latencyMs: LATENCY_MS }),
      secondDestination: DestinationConfig.parse({ name: 'flow-b', url: `srt://127.0.0.1:${b.port}`, latencyMs: LATENCY_MS }),
    },
    recordTo ? { recording: { dir: recordTo, settings: { ...RecordingConfig.parse({}), segmentSeconds: 5 } } } : {},
  );
  await u.start();
  return u;
}

/**
 * A listener drops what it holds for its latency when the sender hangs up,
 * so what was sent is checked while the stream runs: what was handed to each
 * destination until now must all arrive (bounded in time).
 */
async function allArrived(u: StreamUnit, ls: DualListener[]): Promise<number[]> {
  const sent = u.stats().destinations.map((d) => d.sentBytes);
  await waitUntil('what was sent to arrive', () => ls.every((l, i) => l.received() >= sent[i]!), 20_000);
  return sent;
}

/** Stops the unit and the listeners (cleanly: they write out what they have); the unit's stats as it ended. */
async function finish(u: StreamUnit): Promise<ReturnType<StreamUnit['stats']>> {
  await u.stop();
  const s = u.stats();
  await Promise.all(listeners.map((l) => l.stop()));
  return s;
}

/** A listener's latency of a 600 kbit/s stream, which it may drop at the hang-up: ~15 kB. */
const HANG_UP_BYTES = 20 * 1316;

describe.skipIf(skip)('two destinations: the same TS to two SRT listeners', () => {
  it('both listeners receive byte-identical streams, each over its own session', async () => {
    const a = await listener();
    const b = await listener();
    unit = await startUnit(a, b);
    await waitUntil('both live', () => unit!.stats().destinations.every((d) => d.connected), 20_000);
    await waitUntil('a few seconds at both', () => a.received() > 150_000 && b.received() > 150_000, 20_000);
    const sent = await allArrived(unit, [a, b]);
    const s = await finish(unit);
    const [fa, fb] = [a.files()[0]!, b.files()[0]!];
    expect(s.destinations.map((d) => [d.name, d.connects, d.droppedPackets])).toEqual([
      ['flow-a', 1, 0],
      ['flow-b', 1, 0],
    ]);
    for (const [i, f] of [fa, fb].entries()) {
      expect(f.length).toBeGreaterThanOrEqual(sent[i]!);
      expect(checkTs(f)).toMatchObject({ tailBytes: 0, continuityErrors: 0, syncErrors: 0 });
    }
    // The later one started at a later keyframe; from there on the two are the same bytes, to the end.
    const [long, short] = fa.length >= fb.length ? [fa, fb] : [fb, fa];
    const o = overlap(long, short);
    expect(o.at).toBeGreaterThanOrEqual(0);
    expect(o.differ).toBe(0);
    expect(o.same).toBeGreaterThan(short.length - HANG_UP_BYTES);
    expect(o.same).toBeGreaterThan(long.length * 0.5);
  }, 60_000);

  it('one listener killed and started again mid-stream: the other gets every packet on one session; the first comes back on its own', async () => {
    const a = await listener();
    const b = await listener();
    const recordings = mkdtempSync(path.join(tmpdir(), 'fieldcast-dual-rec-'));
    dirs.push(recordings);
    unit = await startUnit(a, b, recordings);
    await waitUntil('both live', () => unit!.stats().destinations.every((d) => d.connected), 20_000);
    await waitUntil('a second at both', () => a.received() > 80_000 && b.received() > 80_000, 20_000);
    const downAt = Date.now();
    await b.kill();
    await waitUntil('flow-b seen down', () => unit!.stats().destinations[1]!.connected === false, 20_000);
    // The stream stays live on the other; the one down has its own state.
    expect(unit.stats().state).toBe('live');
    expect(unit.stats().destinations.map((d) => d.state)).toEqual(['live', 'reconnecting']);
    const aBefore = a.received();
    await sleep(1000);
    expect(a.received()).toBeGreaterThan(aBefore);
    b.start();
    await waitUntil('flow-b back', () => unit!.stats().destinations[1]!.connected, 20_000);
    const backAt = Date.now();
    await waitUntil('a second at flow-b again', () => b.received() > 80_000, 20_000);
    const [sentA] = await allArrived(unit, [a]);
    const s = await finish(unit);

    const fa = a.files()[0]!;
    const [b1cut, b2] = b.files() as [Buffer, Buffer];
    const b1 = wholePackets(b1cut);
    // The other one: one session, nothing dropped, all that was handed to it arrived, the TS unbroken.
    expect(s.destinations[0]).toMatchObject({ connects: 1, droppedPackets: 0 });
    expect(fa.length).toBeGreaterThanOrEqual(sentA!);
    expect(checkTs(fa)).toMatchObject({ tailBytes: 0, continuityErrors: 0, syncErrors: 0 });
    // The one that failed reconnected by itself; what it got either side of its outage is the same bytes as the other's.
    expect(s.destinations[1]!.connects).toBe(2);
    expect(b1.length).toBeGreaterThan(40_000);
    expectSameAroundOutage(fa, b1, b2, HANG_UP_BYTES);

    // The recording's timelines: the outage is flow-b's gap, not flow-a's (which missed nothing in it).
    const summary = findGaps(await readIndex(recordings));
    const [ofA, ofB] = summary.destinations ?? [];
    console.log(
      JSON.stringify({
        downAt: downAt / 1000,
        backAt: backAt / 1000,
        d: summary.destinations,
        segs: summary.segments,
        rec: summary.recordedS,
      }),
    );
    const within = (g: { from: number; to: number }): boolean =>
      g.to >= Math.floor(downAt / 1000) + 1 && g.from <= Math.floor(backAt / 1000) - 1;
    expect(ofB?.gaps.filter(within).length).toBeGreaterThanOrEqual(1);
    expect(ofB!.gaps.filter(within).reduce((n, g) => n + g.missedS, 0)).toBeGreaterThanOrEqual(1);
    expect(ofA?.gaps.filter(within)).toEqual([]);
  }, 90_000);
});
