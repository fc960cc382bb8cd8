/**
 * Leak check: the resident set size of a process running a long unpaced
 * encode (test pattern + tone → libx264 + AAC → JS), sampled every 1000
 * frames, and across many sessions opened and closed. Method: RSS sampling
 * with forced GC in a child process (valgrind is not part of the setup; an RSS
 * that does not grow over 10000 frames catches any per-frame, per-packet or
 * per-session leak, since each picture is ~350 kB and each packet ~16 kB).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';
import { skipWithout } from '../peers.js';

const DIST = path.resolve(import.meta.dirname, '../../dist/media/index.js');
const skip = skipWithout('the encode leak check', [
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(DIST) ? [] : ['the built TypeScript in dist/ (npm run build:ts)']),
]);

const SCRIPT = `
import { EncoderSession } from ${JSON.stringify(DIST)};
const mb = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().rss / 2 ** 20; };
const base = { video: 'testpattern', audio: 'testtone', width: 640, height: 360, fps: '30', bitrate: 4000000, codec: 'libx264', preset: 'ultrafast', paced: false };
// 1. one long encode: RSS every 1000 frames
const s = await EncoderSession.start({ ...base, maxFrames: 10100 });
let n = 0, bytes = 0;
const frames = [];
s.on('accessUnit', (u) => {
  bytes += u.data.length;
  if (u.stream !== 'video') return;
  if (++n % 1000 === 0) frames.push(mb());
});
await s.whenClosed();
// 2. many sessions opened and closed: RSS after every 5th
const sessions = [];
for (let i = 1; i <= 40; i++) {
  const t = await EncoderSession.start({ ...base, maxFrames: 15 });
  t.on('accessUnit', () => {});
  await t.whenClosed();
  if (i % 5 === 0) sessions.push(mb());
}
process.stdout.write(JSON.stringify({ frames: n, bytes, rss: frames, sessions, stats: s.stats() }));
`;

/**
 * Growth that a leak would show and noise would not: the lowest of the last
 * three samples above the highest of the first three. A leak grows steadily,
 * so all the late samples sit above all the early ones; the bounded unit queue
 * filling on a loaded machine, heap and allocator steps move single samples.
 */
function steadyGrowth(samples: number[]): number {
  return Math.min(...samples.slice(-3)) - Math.max(...samples.slice(0, 3));
}

describe.skipIf(skip)('encode leak check (RSS sampling)', () => {
  it('memory stays flat over 10000 frames and over 40 sessions opened and closed', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], {
      timeout: 240_000,
      env: { ...process.env, FIELDCAST_LOG: 'warn' },
    }).toString();
    const r = JSON.parse(out.slice(out.indexOf('{'))) as {
      frames: number;
      bytes: number;
      rss: number[];
      sessions: number[];
    };
    const mbs = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
    console.info(`leak check: RSS (MB) every 1000 frames: ${mbs(r.rss)}; every 5 sessions: ${mbs(r.sessions)}`);
    expect(r.frames).toBe(10100);
    // A sample every 1000 frames and every 5 sessions: the first and last three are far apart.
    expect(r.rss).toHaveLength(10);
    expect(r.sessions).toHaveLength(8);
    // Samples at 1000..3000 frames against 8000..10000, 5000 frames apart. One leaked
    // 640x360 picture per frame would be 1.7 GB; one leaked packet
    // (16 kB at 4 Mbit/s), about 80 MB. A flat run measures under 1 MB here;
    // on a loaded machine the queue and the heap move samples by up to ~20 MB.
    const perFrame = r.bytes / r.frames / 2 ** 20;
    expect(5000 * perFrame).toBeGreaterThan(60);
    expect(steadyGrowth(r.rss)).toBeLessThan(40);
    // A leaked session (threads, encoders, queue) is several MB: 15 of them
    // between the first three samples and the last three, far above this.
    expect(steadyGrowth(r.sessions)).toBeLessThan(24);
  }, 300_000);
});
