/**
 * `fieldcast send` against real SRT peers: the whole chain — test pattern →
 * encoder → muxer → SRT (in the pipeline process) → srt-live-transmit or
 * ffmpeg as the listener — checked with ffprobe, the TS analyser and the
 * timestamps drawn into the pictures.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTimecode } from '../../src/media/timecode.js';
import { TsAnalyser } from '../../src/mux/index.js';
import { SrtConnection } from '../../src/srt/index.js';
import { missingTools, skipWithout } from '../peers.js';
import {
  Children,
  freeUdpPort,
  makeTestTs,
  pacedSend,
  probe,
  sleep,
  streamOrder,
  TempDir,
  udpPortBound,
  waitUntil,
} from './srt-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const PASS = 'fieldcast-test-passphrase-256';
const skip = skipWithout('the fieldcast send integration tests', missingTools('srt-live-transmit', 'ffmpeg', 'ffprobe'));

const children = new Children();
const dirs: TempDir[] = [];
afterEach(async () => {
  await children.killAll();
  for (const d of dirs.splice(0)) d.remove();
});

function tempDir(): TempDir {
  const d = new TempDir();
  dirs.push(d);
  return d;
}

interface SendRun {
  child: ChildProcess;
  output: () => string;
  done: Promise<number | null>;
}

function send(args: string[]): SendRun {
  const child = children.track(
    spawn(process.execPath, [CLI, 'send', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIELDCAST_LOG: 'warn' } }),
  );
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => text, done };
}

/** Decoded pictures of a TS as 8-bit luma, with the drawn capture times read back. */
function drawnTimes(file: string, width: number, height: number): number[] {
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-an', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      maxBuffer: 1 << 30,
      timeout: 60_000,
    },
  );
  const frame = width * height;
  const times: number[] = [];
  for (let off = 0; off + frame <= raw.length; off += frame) {
    const tc = readTimecode(raw.subarray(off, off + frame), width, height);
    if (tc) times.push(tc.captureUs);
  }
  return times;
}

function analyse(file: string) {
  const a = new TsAnalyser();
  a.push(readFileSync(file));
  return a.report();
}

function firstVideoKeyframe(file: string): boolean {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'packet=flags',
    '-read_intervals',
    '%+#1',
    '-of',
    'csv=p=0',
    file,
  ]).toString();
  return out.trim().startsWith('K');
}

describe.skipIf(skip)('fieldcast send → real SRT listeners', () => {
  it('streams AES-256 to srt-live-transmit: decodable, drawn timestamps increase, no CC errors, passphrase not in ps', async () => {
    const dir = tempDir();
    const port = await freeUdpPort();
    const file = dir.file('rx.ts');
    const listener = children.srtLiveTransmit(
      [`srt://:${port}?mode=listener&passphrase=${PASS}&pbkeylen=32&latency=300`, 'file://con'],
      file,
    );
    await waitUntil('listener bound', () => udpPortBound(port));
    const run = send([
      '--source',
      'testpattern',
      '--size',
      '1280x720',
      '--to',
      `srt://127.0.0.1:${port}?latency=300&passphrase=${PASS}&pbkeylen=32`,
      '--bitrate',
      '2M',
      '--seconds',
      '6',
    ]);
    await waitUntil('stream live', () => run.output().includes('live'), 15_000);
    // Nothing a local user can list shows the passphrase.
    const cmdline = readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(PASS);
    expect(await run.done).toBe(0);
    expect(run.output()).not.toContain(PASS);
    // srt-live-transmit buffers its file output: it writes the tail as it exits.
    await children.stop(listener);

    const p = probe(file);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThan(60);
    expect(firstVideoKeyframe(file)).toBe(true);
    const times = drawnTimes(file, 1280, 720);
    expect(times.length).toBeGreaterThan(p.videoFrames * 0.9);
    const backwards = times.flatMap((t, i) =>
      i > 0 && t <= times[i - 1]! ? [`${i}: ${times.slice(Math.max(0, i - 3), i + 3).join(' ')}`] : [],
    );
    expect(backwards).toEqual([]);
    const report = analyse(file);
    expect(report.checks.Continuity_count_error).toBe(0);
    expect(report.priority1Errors).toBe(0);
  });

  it('streams to ffmpeg as a second listener peer', async () => {
    const dir = tempDir();
    const port = await freeUdpPort();
    const file = dir.file('ffmpeg.ts');
    // ffmpeg takes SRT latency in microseconds.
    children.ffmpeg(['-i', `srt://127.0.0.1:${port}?mode=listener&latency=300000`, '-c', 'copy', '-f', 'mpegts', file]);
    await waitUntil('ffmpeg listening', () => udpPortBound(port), 10_000);
    const run = send(['--to', `srt://127.0.0.1:${port}?latency=300`, '--bitrate', '1M', '--size', '1280x720', '--seconds', '5']);
    expect(await run.done).toBe(0);
    await waitUntil('ffmpeg wrote the file', () => statSync(file, { throwIfNoEntry: false })?.size !== undefined, 5000);
    await sleep(500);
    const p = probe(file);
    expect(p.codecs).toEqual(['aac', 'h264']);
    expect(p.videoFrames).toBeGreaterThan(30);
  });

  it('reports a wrong passphrase as SRT_AUTH_FAILED, fast, and exits non-zero', async () => {
    const port = await freeUdpPort();
    children.srtLiveTransmit([`srt://:${port}?mode=listener&passphrase=${PASS}&pbkeylen=32`, 'file://con']);
    await waitUntil('listener bound', () => udpPortBound(port));
    const started = Date.now();
    const run = send(['--to', `srt://127.0.0.1:${port}?passphrase=not-the-right-one`, '--seconds', '4']);
    await waitUntil('auth failure reported', () => run.output().includes('SRT_AUTH_FAILED'), 4000);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(run.output()).toMatch(/passphrase/);
    expect(run.output()).not.toContain('not-the-right-one');
    expect(await run.done).toBe(1);
  });

  it('a listener that comes back gets pictures within 2 s, PAT, PMT and a keyframe with SPS/PPS first, that decode', async () => {
    const dir = tempDir();
    const port = await freeUdpPort();
    const url = `srt://:${port}?mode=listener&latency=200`;
    const a = children.farEnd(url);
    await waitUntil('listener bound', () => udpPortBound(port));
    const run = send(['--to', `srt://127.0.0.1:${port}?latency=200`, '--bitrate', '1M', '--size', '1280x720', '--seconds', '16']);
    await waitUntil('pictures at the first listener', () => a.arrivals.pictures.length > 30, 15_000);
    await children.stop(a.child, 'SIGKILL');
    await sleep(2000);
    const b = children.farEnd(url);
    await waitUntil('listener bound again', () => udpPortBound(port));
    const back = performance.now();
    await waitUntil('pictures at the second listener', () => b.arrivals.pictures.length > 0, 10_000);
    const firstPictureMs = b.arrivals.pictures[0]!.atMs - back;
    console.info(`the listener that came back had its first picture ${firstPictureMs.toFixed(0)} ms after it opened its port`);
    expect(firstPictureMs).toBeLessThan(2000);
    await run.done;
    await children.stop(b.child); // writes its buffered tail as it exits
    const second = b.bytes();
    // In the order a decoder meets them: PAT, PMT, then a keyframe carrying SPS and PPS.
    const order = streamOrder(second);
    const first = order.pictures[0]!;
    expect(order.pats[0]).toBeLessThan(first.atMs);
    expect(order.pmts[0]).toBeLessThan(first.atMs);
    expect(first).toMatchObject({ key: true, parameterSets: true });
    // And what came after decodes: every picture, without a TR 101 290 priority 1 error.
    const file = dir.file('second.ts');
    writeFileSync(file, second);
    expect(probe(file).videoFrames).toBe(order.pictures.length);
    expect(order.pictures.length).toBeGreaterThan(100);
    expect(analyse(file).priority1Errors).toBe(0);
  });

  it('passes an existing TS through unchanged (bonding gateway)', async () => {
    const dir = tempDir();
    const input = dir.file('in.ts');
    const { bytes } = makeTestTs(input, 3);
    const port = await freeUdpPort();
    const file = dir.file('pass.ts');
    const listener = children.srtLiveTransmit([`srt://:${port}?mode=listener&latency=200`, 'file://con'], file);
    await waitUntil('listener bound', () => udpPortBound(port));
    const run = send(['--input', input, '--to', `srt://127.0.0.1:${port}?latency=200`, '--seconds', '8']);
    expect(await run.done).toBe(0);
    await children.stop(listener); // writes its buffered tail as it exits
    const got = readFileSync(file);
    expect(got.length).toBeGreaterThan(bytes.length * 0.9);
    expect(bytes.subarray(0, got.length).equals(got)).toBe(true);
  });

  it('relays a TS arriving over SRT (an existing encoder as caller) to the destination', async () => {
    const dir = tempDir();
    const input = dir.file('in.ts');
    const { bytes, bitsPerSecond } = makeTestTs(input, 4);
    const inPort = await freeUdpPort();
    const outPort = await freeUdpPort();
    const file = dir.file('relayed.ts');
    const listener = children.srtLiveTransmit([`srt://:${outPort}?mode=listener&latency=200`, 'file://con'], file);
    await waitUntil('listener bound', () => udpPortBound(outPort));
    const run = send([
      '--input',
      `srt://:${inPort}?mode=listener&latency=200`,
      '--to',
      `srt://127.0.0.1:${outPort}?latency=200`,
      '--seconds',
      '9',
    ]);
    await waitUntil('relay input listening', () => udpPortBound(inPort), 10_000);
    const encoder = new SrtConnection(`srt://127.0.0.1:${inPort}?latency=200`);
    const connected = new Promise<void>((r) => encoder.once('connected', () => r()));
    encoder.start();
    await connected;
    await sleep(500);
    await pacedSend(bytes, bitsPerSecond, (c) => encoder.send(c));
    await encoder.end();
    expect(await run.done).toBe(0);
    await children.stop(listener); // writes its buffered tail as it exits
    const got = readFileSync(file);
    // What arrives is the encoder's stream, unchanged and in order.
    expect(got.length).toBeGreaterThan(bytes.length * 0.8);
    const start = bytes.indexOf(got.subarray(0, 188 * 70));
    expect(start).toBeGreaterThanOrEqual(0);
    expect(bytes.subarray(start, start + got.length).equals(got)).toBe(true);
  });

  it('rejects malformed destinations and options with a clear message, before streaming', async () => {
    const bad = send(['--to', 'http://example.com:5000']);
    expect(await bad.done).not.toBe(0);
    expect(bad.output()).toMatch(/srt:\/\//);
    const rate = send(['--to', 'srt://127.0.0.1:9', '--bitrate', 'fast']);
    expect(await rate.done).toBe(2);
    expect(rate.output()).toMatch(/--bitrate "fast"/);
    const latency = send(['--to', 'srt://127.0.0.1:9?latency=-5']);
    expect(await latency.done).not.toBe(0);
    expect(latency.output()).toMatch(/latency/);
  });
});
