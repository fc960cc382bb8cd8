/**
 * A data plan under `fieldcast run`, as real processes: a bonded stream over
 * two links (both leaving by the loopback interface here, whose counters the
 * plan reads) through `fieldcast receive` to an srt-live-transmit listener.
 * A tiny allowance with stopAtLimit on cell-a: once it is used up the plan's
 * alert is raised, cell-a is taken out, the stream goes on over cell-b (the
 * pictures keep arriving), and the count is still there after a restart.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import type { StatusSnapshot } from '../../src/supervisor/snapshot.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the data plan tests', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve('dist/cli/main.js')) ? [] : ['the built CLI (npm run build:ts)']),
]);

const BIN = path.resolve('bin/fieldcast.js');
const children = new Children();
let dir: string;
let socketPath: string;
let configFile: string;
let sock: Socket | undefined;
const arrivals = new TsArrivals();

function startRun(): ChildProcess {
  return children.track(
    spawn(
      process.execPath,
      [BIN, 'run', '--config', configFile, '--state-dir', path.join(dir, 'state'), '--socket', socketPath, '--quiet'],
      {
        stdio: 'ignore',
        env: { ...process.env, FIELDCAST_LOG: 'warn' },
      },
    ),
  );
}

function status(): StatusSnapshot {
  const r = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, '--json', 'status'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusSnapshot;
}

describe.skipIf(skip)('a data plan on a bonded link, under fieldcast run', () => {
  let run: ChildProcess;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-plan-'));
    socketPath = path.join(dir, 'control.sock');
    configFile = path.join(dir, 'config.json');
    const srtPort = await freeUdpPort();
    const udpPort = await freeUdpPort();
    const bondPort = await freeUdpPort();
    sock = createSocket('udp4');
    sock.on('message', (m) => arrivals.push(m));
    await new Promise<void>((r) => sock!.bind(udpPort, '127.0.0.1', r));
    children.track(
      spawn('srt-live-transmit', ['-c', '1316', `srt://:${srtPort}?mode=listener&latency=400`, `udp://127.0.0.1:${udpPort}`], {
        stdio: 'ignore',
      }),
    );
    await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
    children.track(
      spawn(
        process.execPath,
        [BIN, 'receive', '--listen', `127.0.0.1:${bondPort}`, '--forward', `srt://127.0.0.1:${srtPort}`, '--status-interval', '0'],
        { stdio: 'ignore', env: { ...process.env, FIELDCAST_LOG: 'warn' } },
      ),
    );
    await waitUntil('the bonding receiver to bind', () => udpPortBound(bondPort), 10_000);
    writeFileSync(
      configFile,
      `${JSON.stringify({
        deviceName: 'plan-test',
        status: { port: 0 },
        video: { width: 640, height: 360, bitrate: 1_000_000, adaptive: false, keyframeSeconds: 1 },
        destinations: [{ url: `srt://127.0.0.1:${bondPort}`, latencyMs: 400 }],
        bond: {
          enabled: true,
          links: [
            { name: 'cell-a', bind: '127.0.0.1', metered: true, priority: 9 },
            { name: 'cell-b', bind: '127.0.0.1', metered: true },
          ],
        },
        // Everything the loopback interface carries counts: the allowance is used up within seconds.
        uplinks: { dataPlans: [{ name: 'sim-a', link: 'cell-a', monthlyBytes: 3_000_000, billingDay: 1, stopAtLimit: true }] },
      })}\n`,
    );
    run = startRun();
    await waitUntil('the control socket', () => existsSync(socketPath), 20_000);
  }, 60_000);

  afterAll(async () => {
    await children.killAll();
    sock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the link, warns, stops using it when used up, and the stream goes on over the other link', async () => {
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 30, 30_000);
    let s = status();
    // Counting from the start (it may be used up already: the loopback carries every test's traffic).
    expect(s.data?.[0]).toMatchObject({ plan: 'sim-a', monthlyBytes: 3_000_000 });
    expect(s.data![0]!.usedBytes).toBeGreaterThan(0);
    await waitUntil(
      'the plan used up',
      () => {
        s = status();
        return s.data?.[0]?.stopped === true && (s.bond?.links.length ?? 0) === 1;
      },
      60_000,
    );
    expect(s.data![0]!.usedBytes).toBeGreaterThanOrEqual(3_000_000);
    expect(s.alerts.find((a) => a.code === 'DATA_PLAN_USED_UP:sim-a')?.message).toMatch(
      /^data plan sim-a is used up \([\d.]+ MB of its 3\.0 MB\): its link is not used until \d{4}-\d\d-01$/,
    );
    expect(s.bond?.links.map((l) => l.name)).toEqual(['cell-b']);
    expect(s.state).toBe('degraded');
    const outAt = performance.now();
    await waitUntil('pictures over cell-b alone', () => arrivals.picturesAfter(outAt).length > 60, 30_000);
    expect(arrivals.longestGap(outAt)).toBeLessThan(1000);
    const events = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, 'events'], { encoding: 'utf8', timeout: 20_000 });
    expect(events.stdout).toMatch(/data plan sim-a is used up/);
    expect(events.stdout).toMatch(/link cell-a taken out/);
  }, 120_000);

  it('ctl preflight tries each link to the bonding receiver and says what to set', () => {
    const r = spawnSync(process.execPath, [BIN, 'ctl', '--socket', socketPath, 'preflight', '--seconds', '3'], {
      encoding: 'utf8',
      timeout: 40_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}cell-a +rtt [\d.]+ ms \(p95 [\d.]+\) +loss [\d.]+% +rate [\d.]+ Mbit\/s$/m);
    expect(r.stdout).toMatch(/^ {2}cell-b +rtt /m);
    expect(r.stdout).toMatch(
      /^2 of 2 links carried [\d.]+ Mbit\/s together, worst RTT \d+ ms: set video [\d.]+-[\d.]+ Mbit\/s and SRT latency \d+ ms$/m,
    );
    expect(r.stdout).toMatch(/measured while streaming/);
  }, 60_000);

  it('keeps the count across a restart', async () => {
    const before = status().data![0]!.usedBytes;
    run.kill('SIGTERM');
    await new Promise((r) => run.once('exit', r));
    const ledger = JSON.parse(readFileSync(path.join(dir, 'state', 'data-ledger.json'), 'utf8')) as {
      plans: Record<string, { upBytes: number; downBytes: number }>;
    };
    const saved = ledger.plans['sim-a']!;
    expect(saved.upBytes + saved.downBytes).toBeGreaterThanOrEqual(before);
    run = startRun();
    await waitUntil('the control socket again', () => existsSync(socketPath), 20_000);
    await waitUntil('the status', () => status().data?.[0] !== undefined, 20_000);
    const after = status();
    expect(after.data![0]!.usedBytes).toBeGreaterThanOrEqual(before);
    expect(after.data![0]!.stopped).toBe(true);
  }, 60_000);
});
