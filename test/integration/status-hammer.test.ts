/**
 * The status page hammered while the box streams bonded: `fieldcast demo`
 * (the supervisor, three emulated cellular links, the bonding receiver, an
 * SRT listener analysing every packet) with 20 live clients on the page's
 * feed and 50 API requests a second. The stream must stay clean at the far
 * end: no continuity error, no TR 101 290 priority 1 error, pictures all along;
 * and the page answers throughout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/index.js';
import { skipWithout } from '../peers.js';
import { sleep, waitUntil } from './srt-helpers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const skip = skipWithout('the status page under load', [
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve(import.meta.dirname, '../../dist/cli/demo.js')) ? [] : ['dist/ (npm run build:ts)']),
]);

const CLIENTS = 20;
const REQUESTS_PER_S = 50;
const HAMMER_S = 15;
const PASSWORD = 'a long enough password';

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe.skipIf(skip)('the status page under load', () => {
  it(`${CLIENTS} live clients and ${REQUESTS_PER_S} requests a second during a bonded stream: no CC error at the listener`, async () => {
    let text = '';
    child = spawn(process.execPath, [CLI, 'demo', '--seconds', String(HAMMER_S + 20), '--watch', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FIELDCAST_LOG: 'warn' },
    });
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    await waitUntil('the page address and setup code', () => /setup code: [A-Z2-9]{8}/.test(text), 30_000);
    const base = /status page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(text)![1]!;
    const code = /setup code: ([A-Z2-9]{8})/.exec(text)![1]!;
    const setup = await fetch(`${base}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, password: PASSWORD }),
    });
    expect(setup.status).toBe(200);
    const cookie = setup.headers.get('set-cookie')!.split(';')[0]!;
    await waitUntil('live', () => / LIVE /.test(text), 30_000);

    // 20 live feeds, each counting the snapshots it gets.
    const feeds = new AbortController();
    const received = new Array<number>(CLIENTS).fill(0);
    const readers = received.map(async (_, i) => {
      const r = await fetch(`${base}/api/v1/live`, { headers: { cookie }, signal: feeds.signal });
      const reader = r.body!.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          received[i]! += (decoder.decode(value).match(/^data: /gm) ?? []).length;
        }
      } catch {
        // aborted at the end
      }
    });
    // 50 requests a second of the snapshot, the history and the event log, for HAMMER_S seconds.
    const urls = ['/api/v1/status', '/api/v1/history', '/api/v1/events?limit=50', '/api/v1/status', '/api/v1/config'];
    let answered = 0;
    let failed = 0;
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let n = 0; performance.now() - t0 < HAMMER_S * 1000; n++) {
      pending.push(
        fetch(`${base}${urls[n % urls.length]}`, { headers: { cookie } })
          .then(async (r) => {
            await r.arrayBuffer();
            if (r.status === 200) answered++;
            else failed++;
          })
          .catch(() => {
            failed++;
          }),
      );
      const next = t0 + ((n + 1) * 1000) / REQUESTS_PER_S;
      await sleep(Math.max(0, next - performance.now()));
    }
    await Promise.all(pending);
    feeds.abort();
    await Promise.all(readers);
    const elapsedS = (performance.now() - t0) / 1000;
    console.log(
      `hammer: ${answered} answers (${(answered / elapsedS).toFixed(0)}/s), ${failed} failed; live feeds got ${Math.min(...received)}-${Math.max(...received)} snapshots each in ${elapsedS.toFixed(0)} s`,
    );
    expect(failed).toBe(0);
    expect(answered).toBeGreaterThanOrEqual(HAMMER_S * REQUESTS_PER_S * 0.9);
    // Twice a second each, give or take the machine's load.
    for (const n of received) expect(n).toBeGreaterThanOrEqual(HAMMER_S);

    expect(await exited).toBe(0);
    const lines = [...text.matchAll(/^\d\d:\d\d:\d\d ([A-Z-]+) .*\| far end: received ([\d.]+) ([kMG]?)bit\/s \| CC errors (\d+)$/gm)];
    expect(lines.length).toBeGreaterThanOrEqual(HAMMER_S);
    expect(
      lines.every((m) => m[4] === '0'),
      text,
    ).toBe(true);
    const summary = /^received ([\d.]+) MB; TR 101 290 priority 1 errors: (\d+), priority 2: (\d+)$/m.exec(text);
    expect(summary, text).not.toBeNull();
    expect(Number(summary![2])).toBe(0);
    // Pictures all along: from the first second the far end received something (the SRT latency
    // holds the start back), no second on air without.
    const first = lines.findIndex((m) => Number(m[2]) > 0);
    expect(first).toBeGreaterThanOrEqual(0);
    const onAir = lines.slice(first).filter((m) => m[1] === 'LIVE' || m[1] === 'DEGRADED');
    expect(
      onAir.every((m) => Number(m[2]) > 0),
      text,
    ).toBe(true);
  }, 120_000);
});
