/**
 * Two destinations (a MediaConnect flow's two sources, MERGE or FAILOVER; or
 * two flows): one stream unit sends the test pattern to two srt-live-transmit
 * listeners. MERGE needs binary-identical sources, so what each listener
 * writes must be the same bytes; and one destination failing must not touch
 * the other: its listener is killed mid-stream and started again while the
 * other's file must stay whole — every packet handed to it arrived, no
 * continuity counter broke, its session never re-made.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkTs, DualListener, overlap, wholePackets } from '../../src/bench/dual-rig.js';
import { DestinationConfig } from '../../src/config/schema.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { nativeAvailable } from '../../src/native/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { freeUdpPort, sleep, udpPortBound, waitUntil } from './srt-helpers.js';

const LATENCY_MS = 200;

const skip = skipWithout('the two-destination tests', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

let unit: StreamUnit | undefined;
const listeners: DualListener[] = [];
afterEach(async () => {
  await unit?.stop();
  unit = undefined;
  await Promise.all(listeners.map((l) => l.kill()));
  listeners.length = 0;
});

async function listener(): Promise<DualListener> {
  const l = new DualListener(await freeUdpPort(), LATENCY_MS);
  listeners.push(l);
  l.start();
  await waitUntil('the listener to bind', () => udpPortBound(l.port), 10_000);
  return l;
}

async function startUnit(a: DualListener, b: DualListener): Promise<StreamUnit> {
  const u = new StreamUnit({
    source: testPatternSource({ width: 320, height: 180, bitrate: 600_000, keyframeSeconds: 1 }),
    mux: defaultMux(),
    destination: DestinationConfig.parse({ name: 'flow-a', url: `srt://127.0.0.1:${a.port}`, latencyMs: LATENCY_MS }),
    secondDestination: DestinationConfig.parse({ name: 'flow-b', url: `srt://127.0.0.1:${b.port}`, latencyMs: LATENCY_MS }),
  });
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
    unit = await startUnit(a, b);
    await waitUntil('both live', () => unit!.stats().destinations.every((d) => d.connected), 20_000);
    await waitUntil('a second at both', () => a.received() > 80_000 && b.received() > 80_000, 20_000);
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
    const before = overlap(fa, b1);
    const after = overlap(fa, b2);
    expect(before).toMatchObject({ differ: 0, same: b1.length });
    expect(after.at).toBeGreaterThan(before.at + b1.length);
    expect(after.differ).toBe(0);
    expect(after.same).toBeGreaterThan(b2.length - HANG_UP_BYTES);
    expect(checkTs(b2)).toMatchObject({ continuityErrors: 0, syncErrors: 0 });
  }, 90_000);
});
