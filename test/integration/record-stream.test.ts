/**
 * Recording in the stream unit, with real peers: the test pattern encoded
 * and sent to an srt-live-transmit listener that dies for 5 s mid-show and
 * comes back. The recording keeps running through the outage, the timeline
 * (from SRT's acknowledgements) shows the ingest's gap where it was, and
 * the recorded segments are uploaded to s3rver by `fieldcast record upload`
 * while the stream is live, without a single continuity error at the
 * listener meanwhile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DestinationConfig, RecordingConfig } from '../../src/config/schema.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { TsAnalyser, TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { findGaps, readIndex } from '../../src/record/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { type S3Peer, S3RVER_ENV, startS3rver } from './s3-peer.js';
import { Children, freeUdpPort, sleep, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the recording stream test', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);
const BIN = path.join(import.meta.dirname, '../../bin/fieldcast.js');
const OUTAGE_MS = 5000;

let unit: StreamUnit | undefined;
let sock: Socket | undefined;
let s3: S3Peer | undefined;
let upload: ChildProcess | undefined;
const children = new Children();
const temps: TempDir[] = [];
afterEach(async () => {
  upload?.kill('SIGKILL');
  await unit?.stop();
  unit = undefined;
  sock?.close();
  await children.killAll();
  await s3?.close();
  s3 = undefined;
  for (const t of temps.splice(0)) t.remove();
});

describe.skipIf(skip)('recording through an outage of the destination', () => {
  it('records on through the outage, shows the gap from the ACKs, and uploads while live with no CC error', async () => {
    const tmp = new TempDir();
    temps.push(tmp);
    const stateDir = tmp.file('state');
    const dir = path.join(stateDir, 'recordings');
    const srtPort = await freeUdpPort();
    const udpPort = await freeUdpPort();
    // What the listener delivers, by phase: the analyser is swapped for the upload.
    let arrivals = new TsArrivals();
    let analyser = new TsAnalyser();
    sock = createSocket('udp4');
    sock.on('message', (m) => {
      arrivals.push(m);
      analyser.push(m);
    });
    await new Promise<void>((r) => sock!.bind(udpPort, '127.0.0.1', r));
    const listen = async (): Promise<ChildProcess> => {
      const c = children.srtLiveTransmit([`srt://:${srtPort}?mode=listener&latency=200`, `udp://127.0.0.1:${udpPort}`]);
      await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
      return c;
    };
    let listener = await listen();
    unit = new StreamUnit(
      {
        source: testPatternSource({ width: 640, height: 360, bitrate: 2_000_000, keyframeSeconds: 1 }),
        mux: defaultMux(),
        destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 }),
      },
      { recording: { dir, settings: { ...RecordingConfig.parse({}), segmentSeconds: 4 } } },
    );
    await unit.start();
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 100, 30_000);
    await sleep(3000);

    // The destination goes away for 5 s and comes back.
    const downAt = Date.now();
    await children.stop(listener, 'SIGKILL');
    await sleep(OUTAGE_MS);
    arrivals = new TsArrivals();
    listener = await listen();
    await waitUntil('pictures again after the outage', () => arrivals.pictures.length > 60, 30_000);
    const backAt = Date.now();
    await sleep(5000); // a segment or so after the outage, closed

    // Upload what is recorded so far while live; the listener's TS is watched meanwhile.
    analyser = new TsAnalyser();
    s3 = await startS3rver();
    const closed = (await readIndex(dir)).segments.map((s) => s.file);
    expect(closed.length).toBeGreaterThanOrEqual(3);
    upload = spawn(
      process.execPath,
      [BIN, 'record', 'upload', '--state-dir', stateDir, '--bucket', s3.bucket, '--all', '--rate', '8M', '--endpoint', s3.endpoint],
      { env: { ...process.env, ...S3RVER_ENV, FIELDCAST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let said = '';
    upload.stdout?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    upload.stderr?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    const code = await new Promise<number | null>((r) => upload!.once('exit', r));
    expect(said).toContain(`Done: ${closed.length} uploaded`);
    expect(code).toBe(0);
    await sleep(1000);
    const rep = analyser.report();
    const stats = unit.stats();
    const stopAt = Date.now();
    await unit.stop();
    unit = undefined;

    expect(rep.checks.Continuity_count_error).toBe(0);
    expect(rep.checks.TS_sync_loss).toBe(0);
    expect(stats.recording).toMatchObject({ state: 'recording', droppedBytes: 0, drops: 0 });
    for (const f of closed) expect((await s3.get(f)).equals(readFileSync(path.join(dir, f)))).toBe(true);

    // The timeline: one gap where the destination was down (give or take the reconnect), nothing missed after.
    const summary = findGaps(await readIndex(dir));
    const outage = summary.gaps.filter((g) => g.to * 1000 >= downAt - 1000 && g.from * 1000 <= backAt);
    console.log(
      `outage ${((backAt - downAt) / 1000).toFixed(1)} s down→pictures back; gaps: ${JSON.stringify(
        summary.gaps.map((g) => ({ from: new Date(g.from * 1000).toISOString(), s: g.to - g.from + 1, missed: g.missedS })),
      )}; recorded ${summary.recordedS} s, acked ${summary.ackedS} s`,
    );
    expect(outage.length).toBe(1);
    const len = outage[0]!.to - outage[0]!.from + 1;
    expect(len).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 - 1);
    expect(len).toBeLessThanOrEqual((backAt - downAt) / 1000 + 3);
    // Nothing missed after the outage, up to the stop: the last second or two before it may be unconfirmed when the
    // session hangs up, and an unconfirmed second counts as missed (delivery.ts) — by design, not a loss.
    expect(summary.gaps.filter((g) => g.from * 1000 > backAt + 2000 && (g.to + 1) * 1000 < stopAt - 2000)).toEqual([]);
  }, 120_000);
});
