/**
 * `fieldcast demo`, what `npm start` runs, judged only from outside: what it
 * prints, and what a viewer gets on `--watch` (the received TS re-served on
 * UDP) — decodable H.264 + AAC, the capture times drawn in the pictures
 * running forward at the picture rate, no continuity errors — and whether
 * its printed figures agree with what arrived.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTimecode } from '../../src/media/timecode.js';
import { TsAnalyser } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { freeUdpPort, sleep, TempDir, waitUntil } from './srt-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const skip = skipWithout('fieldcast demo', [
  ...missingTools('ffmpeg', 'ffprobe'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve(import.meta.dirname, '../../dist/cli/demo.js')) ? [] : ['dist/ (npm run build:ts)']),
]);

const TS_PACKET = 188;
/** The demo's test pattern (the default config): 1280x720 at 30 fps. */
const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface DemoRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function demo(args: string[]): DemoRun {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FIELDCAST_LOG: 'warn' },
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => text, exited };
}

/** A viewer on udp://127.0.0.1:PORT: every datagram the demo re-serves. */
async function viewer(port: number): Promise<{ bytes: () => Buffer; datagrams: () => number; largest: () => number }> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  const chunks: Buffer[] = [];
  sock.on('message', (m) => chunks.push(m));
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  cleanups.push(() => {
    sock.close();
  });
  return {
    bytes: () => Buffer.concat(chunks),
    datagrams: () => chunks.length,
    largest: () => chunks.reduce((n, c) => Math.max(n, c.length), 0),
  };
}

/** The per-second status lines: the supervisor's state, and the rate the listener received over that second. */
function statusLines(text: string): { state: string; receivedBps: number; ccErrors: number }[] {
  const unit: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9 };
  return [...text.matchAll(/^\d\d:\d\d:\d\d ([A-Z-]+) .*\| far end: received ([\d.]+) ([kMG]?)bit\/s \| CC errors (\d+)$/gm)].map((m) => ({
    state: m[1]!.toLowerCase(),
    receivedBps: Number(m[2]) * unit[m[3]!]!,
    ccErrors: Number(m[4]),
  }));
}

/** `fieldcast ctl` on the socket the demo printed, as its user would. */
function ctlStatus(text: string): { state: string; bond?: { links: { name: string }[] } } {
  const socket = /drive it: node bin\/fieldcast\.js ctl --socket (\S+) status/.exec(text)?.[1];
  expect(socket, text).toBeDefined();
  const r = spawnSync(process.execPath, [CLI, 'ctl', '--socket', socket!, '--json', 'status'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ReturnType<typeof ctlStatus>;
}

function summary(text: string): { mb: number; p1: number; p2: number } | undefined {
  const m = /^received ([\d.]+) MB; TR 101 290 priority 1 errors: (\d+), priority 2: (\d+)$/m.exec(text);
  return m ? { mb: Number(m[1]), p1: Number(m[2]), p2: Number(m[3]) } : undefined;
}

function ffprobeStreams(
  file: string,
): { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }[] {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', file],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return (JSON.parse(r.stdout) as { streams: ReturnType<typeof ffprobeStreams> }).streams;
}

/** Decodes the pictures as 8-bit luma, one at a time, and reads the capture time drawn in each (undefined: unreadable). */
async function drawnTimes(file: string): Promise<(number | undefined)[]> {
  const ff = spawn('ffmpeg', ['-v', 'error', '-i', file, '-an', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  cleanups.push(() => {
    if (ff.exitCode === null) ff.kill('SIGKILL');
  });
  const size = WIDTH * HEIGHT;
  let pending: Buffer = Buffer.alloc(0);
  const times: (number | undefined)[] = [];
  ff.stdout.on('data', (d: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= size) {
      times.push(readTimecode(pending.subarray(0, size), WIDTH, HEIGHT)?.captureUs);
      pending = pending.subarray(size);
    }
  });
  await new Promise<void>((r) => ff.once('close', () => r()));
  return times;
}

describe.skipIf(skip)('fieldcast demo (npm start)', () => {
  it('--help gives its usage; an unknown flag is a usage error', () => {
    const help = spawnSync(process.execPath, [CLI, 'demo', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: fieldcast demo /);
    expect(help.stdout).toContain('SRT (AES-256)');
    expect(help.stdout).toMatch(/--direct +no bonding/);
    expect(help.stdout).toMatch(/--seconds N +stop after N seconds/);
    expect(help.stdout).toMatch(/--watch PORT +re-serve the received TS on udp:\/\/127\.0\.0\.1:PORT \(default 5600; 0 = off\)/);
    const bad = spawnSync(process.execPath, [CLI, 'demo', '--no-such-flag'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--no-such-flag'");
    expect(bad.stderr).toContain('Usage: fieldcast demo');
  });

  it('--seconds 8 --watch PORT: a viewer gets decodable H.264 + AAC whose drawn times run forward, no CC errors, as the demo reports', async () => {
    const dir = new TempDir();
    cleanups.push(() => dir.remove());
    const port = await freeUdpPort();
    const watch = await viewer(port);
    const seconds = 8;
    const run = demo(['--seconds', String(seconds), '--watch', String(port)]);
    // The supervisor runs it: fieldcast ctl on the printed socket reads it live, over the three links.
    await waitUntil('live', () => statusLines(run.output()).some((l) => l.state === 'live') || run.child.exitCode !== null, 30_000);
    const live = ctlStatus(run.output());
    expect(live.state).toBe('live');
    expect(live.bond?.links.map((l) => l.name)).toEqual(['cell-a', 'cell-b', 'cell-c']);
    const code = await run.exited;
    await sleep(200); // the last datagrams in flight
    const text = run.output();
    expect(code, text).toBe(0);

    // What it prints: the chain, the three links, where to watch, a line a second, a summary.
    expect(text).toContain(
      'Fieldcast demo: test pattern → encoder → MPEG-TS → SRT (AES-256) → 3 bonded emulated cellular links → receiver → local SRT listener',
    );
    expect(text.match(/^ {2}link cell-[abc]: .* uplink, RTT \d+ ms, [\d.]+% loss/gm)).toHaveLength(3);
    expect(text).toContain(`watch it: ffplay -fflags nobuffer udp://127.0.0.1:${port}`);
    expect(text).toMatch(/^ {2}drive it: node bin\/fieldcast\.js ctl --socket \S+ status/m);
    expect(text).toMatch(/^ {2}status page: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(text).toMatch(/^ {2}setup code: [A-Z2-9]{8} \(open the page and set a password with it\)$/m);
    const lines = statusLines(text);
    expect(lines.length).toBeGreaterThanOrEqual(seconds - 2);
    expect(lines.some((l) => l.state === 'live')).toBe(true);
    expect(
      lines.every((l) => l.ccErrors === 0),
      text,
    ).toBe(true);
    const s = summary(text);
    expect(s, text).toBeDefined();
    expect(s!.p1).toBe(0);

    // What the viewer got agrees with what the demo says its listener received.
    const bytes = watch.bytes();
    const file = dir.file('watch.ts');
    writeFileSync(file, bytes);
    expect(bytes.length % TS_PACKET).toBe(0);
    // TS over UDP is 7 packets a datagram, what players expect. Bigger ones are not just unusual: past
    // 65,507 bytes a datagram cannot be sent at all, and a burst the listener hands over at once is lost.
    expect(watch.largest(), 'the demo must re-serve the TS in datagrams of 7 TS packets (1316 bytes)').toBeLessThanOrEqual(7 * TS_PACKET);
    expect(Math.abs(bytes.length - s!.mb * 1e6)).toBeLessThanOrEqual(0.05e6 + bytes.length * 0.02);
    const perSecondBytes = lines.reduce((n, l) => n + l.receivedBps / 8, 0);
    expect(perSecondBytes).toBeGreaterThan(bytes.length * 0.6);
    expect(perSecondBytes).toBeLessThan(bytes.length * 1.2);

    // No continuity errors (nor any other priority 1 error) in what the viewer got.
    const analyser = new TsAnalyser();
    analyser.push(bytes);
    const report = analyser.report();
    expect(report.checks.Continuity_count_error).toBe(0);
    expect(report.priority1Errors).toBe(0);

    // It decodes: H.264 video of the test pattern, AAC sound.
    const streams = ffprobeStreams(file);
    const video = streams.find((x) => x.codec_type === 'video');
    const audio = streams.find((x) => x.codec_type === 'audio');
    expect(video).toMatchObject({ codec_name: 'h264', width: WIDTH, height: HEIGHT });
    expect(audio?.codec_name).toBe('aac');
    expect(Number(audio?.nb_read_frames)).toBeGreaterThan(0);

    // The capture times drawn in the pictures: nearly every picture has one, they only go forward,
    // a picture period apart, over about the time the demo ran. The last picture is left out: the
    // demo stops mid-stream, and a cut-short picture is concealed from its predecessor.
    const pictures = await drawnTimes(file);
    expect(pictures.length).toBe(Number(video?.nb_read_frames));
    const timesUs = pictures.slice(0, -1).filter((t): t is number => t !== undefined);
    expect(timesUs.length).toBeGreaterThanOrEqual((pictures.length - 1) * 0.95);
    const steps = timesUs.slice(1).map((t, i) => t - timesUs[i]!);
    expect(steps.filter((d) => d <= 0)).toEqual([]);
    const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
    expect(median).toBeGreaterThan((1e6 / FPS) * 0.8);
    expect(median).toBeLessThan((1e6 / FPS) * 1.2);
    const spanS = (timesUs.at(-1)! - timesUs[0]!) / 1e6;
    expect(spanS).toBeGreaterThan(seconds / 2);
    expect(spanS).toBeLessThan(seconds + 1);
  }, 90_000);

  it('--direct, stopped with Ctrl-C as npm start is: it says so, prints its summary and exits 0; the viewer still gets a decodable stream', async () => {
    const dir = new TempDir();
    cleanups.push(() => dir.remove());
    const port = await freeUdpPort();
    const watch = await viewer(port);
    const run = demo(['--direct', '--watch', String(port)]);
    await waitUntil('three status lines', () => statusLines(run.output()).length >= 3 || run.child.exitCode !== null, 40_000);
    expect(run.output()).toContain('Ctrl-C stops.');
    run.child.kill('SIGINT');
    const code = await run.exited;
    const text = run.output();
    expect(code, text).toBe(0);
    expect(text).toContain('Fieldcast demo: test pattern → encoder → MPEG-TS → SRT (AES-256) → local SRT listener');
    expect(text).not.toMatch(/link cell-/);
    const s = summary(text);
    expect(s, text).toBeDefined();
    expect(s!.p1).toBe(0);

    await sleep(200);
    const file = dir.file('watch-direct.ts');
    writeFileSync(file, watch.bytes());
    const after = watch.datagrams();
    await sleep(500);
    expect(watch.datagrams()).toBe(after); // stopped means stopped
    const streams = ffprobeStreams(file);
    expect(streams.map((x) => x.codec_name).sort()).toEqual(['aac', 'h264']);
  }, 90_000);
});
