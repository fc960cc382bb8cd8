/**
 * Leak check: the resident set size of a process running a long unpaced
 * encode (test pattern + tone → libx264 + AAC → JS), sampled after warm-up and
 * at the end, and across many sessions opened and closed. Method: RSS
 * sampling with forced GC in a child process (valgrind is not part of the
 * setup; an RSS that does not grow over 8000 frames catches any
 * per-frame, per-packet or per-session leak, since each frame is ~350 kB).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';

const DIST = path.resolve(import.meta.dirname, '../../dist/media/index.js');
const missing: string[] = [];
if (!nativeAvailable()) missing.push('the native addon (npm run build:native)');
if (!existsSync(DIST)) missing.push('the built CLI in dist/ (npm run build:ts)');
if (missing.length) console.warn(`\n*** SKIPPING encode leak check: missing ${missing.join(', ')} ***\n`);

const SCRIPT = `
import { EncoderSession } from ${JSON.stringify(DIST)};
const mb = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().rss / 2 ** 20; };
const base = { video: 'testpattern', audio: 'testtone', width: 640, height: 360, fps: '30', bitrate: 1000000, codec: 'libx264', preset: 'ultrafast', paced: false };
// 1. one long encode: RSS after 600 frames, then after 8000 (still running)
const s = await EncoderSession.start({ ...base, maxFrames: 8100 });
let n = 0, warm = 0, end = 0, bytes = 0;
s.on('accessUnit', (u) => {
  bytes += u.data.length;
  if (u.stream !== 'video') return;
  if (++n === 600) warm = mb();
  if (n === 8000) end = mb();
});
await s.whenClosed();
// 2. many sessions opened and closed: RSS after the 5th, then after the 40th
let afterFew = 0;
for (let i = 1; i <= 40; i++) {
  const t = await EncoderSession.start({ ...base, maxFrames: 15 });
  t.on('accessUnit', () => {});
  await t.whenClosed();
  if (i === 5) afterFew = mb();
}
const afterMany = mb();
process.stdout.write(JSON.stringify({ frames: n, bytes, warm, end, afterFew, afterMany, stats: s.stats() }));
`;

describe.skipIf(missing.length > 0)('encode leak check (RSS sampling)', () => {
  it('memory stays flat over 8000 frames and over 40 sessions opened and closed', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], {
      timeout: 240_000,
      env: { ...process.env, FIELDCAST_LOG: 'warn' },
    }).toString();
    const r = JSON.parse(out.slice(out.indexOf('{'))) as {
      frames: number;
      warm: number;
      end: number;
      afterFew: number;
      afterMany: number;
      stats: { droppedVideo: number };
    };
    console.info(
      `leak check: RSS ${r.warm.toFixed(1)} MB after 600 frames, ${r.end.toFixed(1)} MB after 8000; ` +
        `${r.afterFew.toFixed(1)} MB after 5 sessions, ${r.afterMany.toFixed(1)} MB after 40`,
    );
    expect(r.frames).toBe(8100);
    // One leaked 640x360 picture per frame would be 2.5 GB; one leaked packet, about 30 MB.
    // (Allocator and heap noise measured here: up to about 10 MB.)
    expect(r.end - r.warm).toBeLessThan(18);
    // A leaked session (threads, encoders, queue) is several MB each: 35 of them, far above this.
    expect(r.afterMany - r.afterFew).toBeLessThan(24);
  }, 300_000);
});
