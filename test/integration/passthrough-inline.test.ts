/**
 * A UDP passthrough is read in the stream unit's own process
 * (src/supervisor/pipeline-inline.ts), not in a pipeline process: a TS fed
 * to the UDP input reaches an srt-live-transmit listener packet for packet;
 * the operator's pipeline restart rebinds the same port and the stream goes
 * on unbroken on the same session; a port that cannot be bound ends the
 * stream with the input's code; and a stream whose input changes between a
 * file (read in a pipeline process of its own) and UDP hands over from one
 * to the other on the same session.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTs, DualListener, overlap } from '../../src/bench/dual-rig.js';
import { DestinationConfig } from '../../src/config/schema.js';
import { defaultMux } from '../../src/media/spec.js';
import { TS_PACKET_SIZE } from '../../src/mux/constants.js';
import { nativeAvailable } from '../../src/native/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { freeUdpPort, makeTestTs, pacedSend, sleep, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the in-process UDP passthrough tests', [
  ...missingTools('srt-live-transmit', 'ffmpeg'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

const LATENCY_MS = 200;
const NULL_PID = 0x1fff;

let unit: StreamUnit | undefined;
const listeners: DualListener[] = [];
const sockets: Socket[] = [];
const temps: TempDir[] = [];
const feeds: AbortController[] = [];
afterEach(async () => {
  for (const f of feeds.splice(0)) f.abort();
  await unit?.stop();
  unit = undefined;
  await Promise.all(listeners.splice(0).map((l) => l.kill()));
  for (const s of sockets.splice(0)) s.close();
  for (const t of temps.splice(0)) t.remove();
});

/** The TS without its null packets (the stream unit fills gaps in the input with them). */
function withoutNulls(ts: Buffer): Buffer {
  const kept: Buffer[] = [];
  for (let o = 0; o + TS_PACKET_SIZE <= ts.length; o += TS_PACKET_SIZE) {
    if ((((ts[o + 1]! & 0x1f) << 8) | ts[o + 2]!) !== NULL_PID) kept.push(ts.subarray(o, o + TS_PACKET_SIZE));
  }
  return Buffer.concat(kept);
}

async function rig(): Promise<{ listener: DualListener; inPort: number; ts: Buffer; bps: number; feed: (loop?: boolean) => void }> {
  const tmp = new TempDir();
  temps.push(tmp);
  const { bytes: ts, bitsPerSecond: bps } = makeTestTs(tmp.file('in.ts'), 6);
  const listener = new DualListener(await freeUdpPort(), LATENCY_MS);
  listeners.push(listener);
  listener.start();
  await waitUntil('the listener to bind', () => udpPortBound(listener.port), 10_000);
  const inPort = await freeUdpPort();
  const out = createSocket('udp4');
  sockets.push(out);
  const feed = (loop = true): void => {
    const ac = new AbortController();
    feeds.push(ac);
    void pacedSend(ts, bps, (c) => out.send(c, inPort, '127.0.0.1'), { loop, signal: ac.signal });
  };
  return { listener, inPort, ts, bps, feed };
}

function passthroughUnit(input: string, listenerPort: number): StreamUnit {
  return new StreamUnit({
    source: { kind: 'passthrough', input, loop: false },
    mux: defaultMux(),
    destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${listenerPort}`, latencyMs: LATENCY_MS }),
  });
}

describe.skipIf(skip)("UDP passthrough in the stream unit's process", () => {
  it('has no pipeline process, and the listener gets the input packet for packet', async () => {
    const { listener, inPort, ts, feed } = await rig();
    unit = passthroughUnit(`udp://127.0.0.1:${inPort}`, listener.port);
    await unit.start();
    await waitUntil('the input socket bound', () => udpPortBound(inPort), 10_000);
    feed(false);
    await waitUntil('the input at the listener', () => listener.received() > ts.length * 0.8, 30_000);
    expect(unit.pipelinePid).toBeUndefined();
    const s = unit.stats();
    expect(s.pipeline.pid).toBeUndefined();
    expect(s.picture).toBe('passthrough');
    expect(s.tsBitrate).toBeGreaterThan(0);
    await sleep(1000);
    await unit.stop();
    unit = undefined;
    await Promise.all(listeners.map((l) => l.stop()));
    const got = listener.files()[0]!;
    expect(checkTs(got)).toMatchObject({ tailBytes: 0, continuityErrors: 0, syncErrors: 0 });
    // What arrived is the input, packet for packet (from the keyframe the stream started on).
    const sent = withoutNulls(got);
    expect(sent.length).toBeGreaterThan(ts.length * 0.8);
    const o = overlap(withoutNulls(ts), sent);
    expect(o.at).toBeGreaterThanOrEqual(0);
    expect(o.differ).toBe(0);
    expect(o.same).toBe(sent.length);
  }, 60_000);

  it('a pipeline restart rebinds the same port; the stream goes on, unbroken, on the same session', async () => {
    const { listener, inPort, ts, feed } = await rig();
    unit = passthroughUnit(`udp://127.0.0.1:${inPort}`, listener.port);
    await unit.start();
    await waitUntil('the input socket bound', () => udpPortBound(inPort), 10_000);
    feed();
    await waitUntil('a second at the listener', () => listener.received() > ts.length / 4, 30_000);
    expect(unit.restartPipeline()).toBe(true);
    await sleep(300);
    const before = listener.received();
    await waitUntil('the stream going on after the restart', () => listener.received() > before + ts.length / 2, 20_000);
    const s = unit.stats();
    expect(s.destinations[0]).toMatchObject({ connects: 1 });
    expect(s.pipeline.pid).toBeUndefined();
    await unit.stop();
    unit = undefined;
    await Promise.all(listeners.map((l) => l.stop()));
    expect(listener.files().length).toBe(1);
    expect(checkTs(listener.files()[0]!)).toMatchObject({ continuityErrors: 0, syncErrors: 0 });
  }, 60_000);

  it("a port that cannot be bound ends the stream with the input's code and says which port", async () => {
    const { listener } = await rig();
    const taken = createSocket('udp4');
    sockets.push(taken);
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const port = taken.address().port;
    unit = passthroughUnit(`udp://127.0.0.1:${port}`, listener.port);
    const events: string[] = [];
    unit.on('event', (e) => events.push(`${e.code}: ${e.message}`));
    const finished = new Promise<string | null>((r) => unit!.on('finished', (code) => r(code)));
    await unit.start();
    expect(await finished).toBe('INPUT_UNAVAILABLE');
    expect(events.join('\n')).toContain(`udp://127.0.0.1:${port}`);
  }, 30_000);

  it('from a file (a pipeline process) to UDP (this process) and back, on the same session', async () => {
    const { listener, inPort, ts, feed } = await rig();
    unit = passthroughUnit(temps[0]!.file('in.ts'), listener.port);
    await unit.start();
    await waitUntil('a pipeline process', () => unit!.pipelinePid !== undefined, 20_000);
    await waitUntil('the file at the listener', () => listener.received() > ts.length / 4, 30_000);
    const filePid = unit.pipelinePid;
    unit.setPipeline({ kind: 'passthrough', input: `udp://127.0.0.1:${inPort}`, loop: false }, defaultMux());
    await waitUntil('the input socket bound', () => udpPortBound(inPort), 10_000);
    expect(unit.pipelinePid).toBeUndefined();
    feed();
    const before = listener.received();
    await waitUntil('the UDP input streaming', () => listener.received() > before + ts.length / 2, 20_000);
    unit.setPipeline({ kind: 'passthrough', input: temps[0]!.file('in.ts'), loop: false }, defaultMux());
    await waitUntil('a pipeline process again', () => unit!.pipelinePid !== undefined, 20_000);
    expect(unit.pipelinePid).not.toBe(filePid);
    await waitUntil('the UDP port let go', () => !udpPortBound(inPort), 5_000);
    const s = unit.stats();
    expect(s.destinations[0]).toMatchObject({ connects: 1 });
    expect(s.splicer.splices).toBeGreaterThanOrEqual(2);
    await unit.stop();
    unit = undefined;
    await Promise.all(listeners.map((l) => l.stop()));
    expect(listener.files().length).toBe(1);
    expect(checkTs(listener.files()[0]!)).toMatchObject({ syncErrors: 0 });
  }, 60_000);
});
