/**
 * A TS passthrough (an existing encoder's stream, keyframes 10 s apart) over
 * four emulated links, through the bonding receiver, to an srt-live-transmit
 * listener: the far end must decode from the input's first keyframe, whether
 * the input starts before the connection (the listener comes up late, after
 * an attempt to reach it has failed), with it, or after it (the listener was
 * up first and the session idles a while) — and the session must never be
 * dropped as lost because it was idle (an idle SRT session gets keepalives,
 * no ACKs). Each case runs several times: the start is a race.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type BondedPath, startBondedPath } from '../../src/bench/bonded-path.js';
import { DestinationConfig } from '../../src/config/schema.js';
import type { LinkSpecInput } from '../../src/linksim/index.js';
import type { PipelineEvent } from '../../src/media/channel.js';
import { defaultMux } from '../../src/media/spec.js';
import { nativeAvailable } from '../../src/native/index.js';
import { StreamUnit } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, type FarEnd, freeUdpPort, pacedSend, sleep, streamOrder, TempDir, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the bonded passthrough start tests', [
  ...missingTools('srt-live-transmit', 'ffmpeg'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

const RUNS_PER_CASE = 5;
/** The stream unit keeps a passthrough's last keyframe this long for a destination not yet connected. */
const KEPT_MS = 3000;
const LATENCY_MS = 800;
/** x264's default GOP: 250 frames at 25 fps. */
const TS_SECONDS = 8;
/** Pictures at the far end before a run is judged (its first picture is what matters). */
const PICTURES = 25;
/**
 * How long a run waits for them once both the input and the connection are
 * there: the latency and a second of pictures, with room; far less than the
 * 10 s to the input's next keyframe, which a lost start would wait for.
 */
const FIRST_PICTURE_WAIT_MS = 6000;

/** Four cellular-like uplinks: RTTs of 90 to 200 ms, a little jitter and loss. */
function link(name: string, rate: string, rttMs: number, loss: number): LinkSpecInput {
  return {
    name,
    listen: '127.0.0.1:0',
    up: { rate, delayMs: rttMs / 2, jitterMs: 5, loss, queueMs: 300 },
    down: { delayMs: rttMs / 2, jitterMs: 2 },
  };
}
const LINKS: LinkSpecInput[] = [
  link('cell-a', '6M', 90, 0.002),
  link('cell-b', '5M', 120, 0.005),
  link('cell-c', '4M', 150, 0.005),
  link('cell-d', '3M', 200, 0.01),
];

/** An H.264 + AAC TS as a stock encoder makes it: x264 with its default 250-frame GOP at 25 fps, so one keyframe in `seconds`. */
function makeLongGopTs(path: string, seconds: number): { bytes: Buffer; bitsPerSecond: number } {
  execFileSync(
    'ffmpeg',
    [
      ...['-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc=size=640x360:rate=25:duration=${seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '1500k'],
      ...['-g', '250', '-x264-params', 'scenecut=0'],
      ...['-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', path],
    ],
    { timeout: 30_000 },
  );
  const bytes = readFileSync(path);
  return { bytes, bitsPerSecond: (bytes.length * 8) / seconds };
}

type Start = 'before' | 'with' | 'after';

interface RunResult {
  start: Start;
  /** Input start minus the connection (ms): negative when the input came first. */
  inputVsConnectMs: number;
  /** The far end's first picture: a keyframe with SPS/PPS, its PTS, and when it came (ms after both input and connection were there). */
  firstKey: boolean;
  firstPts: number | undefined;
  firstPictureMs: number | undefined;
  /** Connections made, and sessions given up as lost or broken. */
  connects: number;
  lost: string[];
  /** Attempts to reach the destination that failed after the input had started. */
  failedAttempts: number;
}

const children = new Children();
let dir: TempDir | undefined;
let ts: { bytes: Buffer; bitsPerSecond: number; firstKeyPts: number } | undefined;
let unit: StreamUnit | undefined;
let bonded: BondedPath | undefined;
let input: Socket | undefined;
afterEach(async () => {
  await teardown();
  dir?.remove();
  dir = undefined;
});

async function teardown(): Promise<void> {
  await unit?.stop();
  unit = undefined;
  input?.close();
  input = undefined;
  await children.killAll();
  bonded?.close();
  bonded = undefined;
}

function theInput(): { bytes: Buffer; bitsPerSecond: number; firstKeyPts: number } {
  if (ts) return ts;
  dir ??= new TempDir();
  const made = makeLongGopTs(dir.file('long-gop.ts'), TS_SECONDS);
  const order = streamOrder(made.bytes);
  const first = order.pictures[0]!;
  expect(first, 'the input starts on a keyframe').toMatchObject({ key: true, parameterSets: true });
  expect(
    order.pictures.filter((p) => p.key),
    'one keyframe in the whole input',
  ).toHaveLength(1);
  ts = { ...made, firstKeyPts: first.pts! };
  return ts;
}

/**
 * One run; `run` (0, 1, ...) moves the input's start in steps of 20 ms
 * against the 100 ms statistics period, so the first data meets the samples
 * at every phase.
 */
async function oneRun(start: Start, run: number): Promise<RunResult> {
  const { bytes, bitsPerSecond } = theInput();
  const srtPort = await freeUdpPort();
  const inPort = await freeUdpPort();
  bonded = await startBondedPath(srtPort, LINKS, 100 + run);
  const listenerUrl = `srt://:${srtPort}?mode=listener&latency=${LATENCY_MS}`;
  let far: FarEnd | undefined;
  const openListener = async (): Promise<void> => {
    far = children.farEnd(listenerUrl);
    await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
  };
  if (start !== 'before') await openListener();

  const events: { at: number; e: PipelineEvent }[] = [];
  const lost: string[] = [];
  let connectedAt: number | undefined;
  unit = new StreamUnit({
    source: { kind: 'passthrough', input: `udp://127.0.0.1:${inPort}`, loop: false },
    mux: defaultMux(),
    // A short connect timeout: while the listener is not up yet, attempts fail within the run.
    destination: DestinationConfig.parse({ url: `srt://${bonded.bond.receiver}?conntimeo=1000`, latencyMs: LATENCY_MS }),
    bond: bonded.bond,
  });
  unit.on('event', (e) => {
    events.push({ at: performance.now(), e });
    if (e.code === 'SRT_CONNECTED') connectedAt ??= performance.now();
    if (e.code === 'SRT_CONNECTION_LOST' || e.code === 'SRT_PEER_CLOSED') lost.push(`${e.code}: ${e.message}`);
  });
  await unit.start();
  await waitUntil('the pipeline to listen for the input', () => udpPortBound(inPort), 15_000);

  input = createSocket('udp4');
  const sock = input;
  const stopInput = new AbortController();
  let inputAt = 0;
  const startInput = (): void => {
    inputAt = performance.now();
    void pacedSend(bytes, bitsPerSecond, (c) => sock.send(c, inPort, '127.0.0.1'), { signal: stopInput.signal });
  };
  if (start === 'before') {
    startInput();
    // The listener comes up late: after an attempt to reach it has failed, and a second into the input.
    await waitUntil(
      'a failed attempt to reach the destination',
      () => events.some((x) => x.at >= inputAt && x.e.level === 'warn' && x.e.code !== 'SRT_CONNECTION_LOST'),
      5_000,
    );
    await sleep(Math.max(0, inputAt + 1000 - performance.now()));
    await openListener();
    await waitUntil('the connection', () => connectedAt !== undefined, 10_000);
  } else {
    await waitUntil('the connection', () => connectedAt !== undefined, 10_000);
    if (start === 'after') await sleep(1200 + 20 * (run % 5));
    startInput();
  }
  // Bounded, and not an error by itself: a far end with no picture yet is what a run reports.
  const from = Math.max(inputAt, connectedAt!);
  while ((far?.arrivals.pictures.length ?? 0) < PICTURES && performance.now() - from < FIRST_PICTURE_WAIT_MS) await sleep(20);
  stopInput.abort();
  const first = far?.arrivals.pictures[0];
  const result: RunResult = {
    start,
    inputVsConnectMs: Math.round(inputAt - connectedAt!),
    firstKey: (first?.key && first.parameterSets) === true,
    firstPts: first?.pts,
    firstPictureMs: first ? Math.round(first.atMs - from) : undefined,
    connects: events.filter((x) => x.e.code === 'SRT_CONNECTED').length,
    lost,
    failedAttempts: events.filter((x) => x.at >= inputAt && x.at < connectedAt! && x.e.level === 'warn').length,
  };
  await teardown();
  return result;
}

describe.skipIf(skip)('a bonded TS passthrough: the far end decodes from the first keyframe', () => {
  it(`input before, with and after the connection, ${RUNS_PER_CASE} runs each: the first picture is the input's first keyframe, and no session is dropped`, async () => {
    const results: RunResult[] = [];
    const starts: Start[] = ['before', 'with', 'after'];
    for (let i = 0; i < RUNS_PER_CASE; i++) {
      for (const start of starts) results.push(await oneRun(start, i));
    }
    const { firstKeyPts } = theInput();
    for (const r of results) {
      console.info(
        `${r.start.padEnd(6)} input ${r.inputVsConnectMs >= 0 ? '+' : ''}${r.inputVsConnectMs} ms vs connection: ` +
          (r.firstPictureMs === undefined
            ? `NO picture within ${FIRST_PICTURE_WAIT_MS} ms; `
            : `first picture after ${r.firstPictureMs} ms, ${r.firstKey ? 'a keyframe' : 'NOT a keyframe'}, ` +
              `${r.firstPts === firstKeyPts ? 'the first one' : `pts ${r.firstPts} (the first is ${firstKeyPts})`}; `) +
          `${r.connects} connection(s), ${r.failedAttempts} failed attempt(s) after the input started, ${r.lost.length} dropped${r.lost.length ? `: ${r.lost.join('; ')}` : ''}`,
      );
    }
    for (const r of results) {
      // What the case means: the input came first (within what is kept), or not.
      if (r.start === 'before') {
        expect(r.inputVsConnectMs).toBeLessThan(0);
        expect(-r.inputVsConnectMs).toBeLessThan(KEPT_MS);
        expect(r.failedAttempts).toBeGreaterThan(0);
      } else expect(r.inputVsConnectMs).toBeGreaterThanOrEqual(0);
    }
    expect(
      results.map((r) => ({ start: r.start, firstKey: r.firstKey, firstPts: r.firstPts, connects: r.connects, lost: r.lost })),
    ).toEqual(results.map((r) => ({ start: r.start, firstKey: true, firstPts: firstKeyPts, connects: 1, lost: [] })));
  }, 150_000);
});
