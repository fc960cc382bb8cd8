/**
 * The status API as `fieldcast run` serves it, a real process driven over
 * HTTP as the page and scripts drive it: the setup code it prints sets the
 * password, a session reads the live status and stops and starts the stream
 * (seen at an srt-live-transmit listener), and the SRT passphrase is in no
 * answer of the whole session.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsArrivals } from '../../src/mux/index.js';
import { nativeAvailable } from '../../src/native/index.js';
import type { StatusSnapshot } from '../../src/supervisor/snapshot.js';
import { missingTools, skipWithout } from '../peers.js';
import { Children, freeUdpPort, sleep, udpPortBound, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the status API under fieldcast run', [
  ...missingTools('srt-live-transmit'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
  ...(existsSync(path.resolve('dist/cli/main.js')) ? [] : ['the built CLI (npm run build:ts)']),
]);

const BIN = path.resolve('bin/fieldcast.js');
const PASSPHRASE = 'status-api-secret-42';
const PASSWORD = 'a long enough password';
const children = new Children();
const arrivals = new TsArrivals();
let dir: string;
let sock: Socket | undefined;
let run: ChildProcess;
let out = '';
let base = '';
/** Every answer body of the session, to look for the passphrase in. */
const bodies: string[] = [];

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function api(method: string, url: string, opts: { body?: unknown; cookie?: string; csrf?: string } = {}) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, cookie: res.headers.get('set-cookie') };
}

describe.skipIf(skip)('the status API of fieldcast run', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-status-'));
    const srtPort = await freeUdpPort();
    const udpPort = await freeUdpPort();
    const httpPort = await freeTcpPort();
    base = `http://127.0.0.1:${httpPort}`;
    sock = createSocket('udp4');
    sock.on('message', (m) => arrivals.push(m));
    await new Promise<void>((r) => sock!.bind(udpPort, '127.0.0.1', r));
    children.track(
      spawn(
        'srt-live-transmit',
        ['-c', '1316', `srt://:${srtPort}?mode=listener&latency=200&passphrase=${PASSPHRASE}`, `udp://127.0.0.1:${udpPort}`],
        { stdio: 'ignore' },
      ),
    );
    await waitUntil('the listener to bind', () => udpPortBound(srtPort), 10_000);
    const configFile = path.join(dir, 'config.json');
    writeFileSync(
      configFile,
      `${JSON.stringify({
        video: { width: 640, height: 360, bitrate: 800_000, adaptive: false, keyframeSeconds: 1 },
        destinations: [{ url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200, passphrase: PASSPHRASE }],
        status: { listen: '127.0.0.1', port: httpPort },
      })}\n`,
    );
    run = children.track(
      spawn(
        process.execPath,
        [BIN, 'run', '--config', configFile, '--state-dir', path.join(dir, 'state'), '--socket', path.join(dir, 'c.sock'), '--quiet'],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
          env: { ...process.env, FIELDCAST_LOG: 'warn' },
        },
      ),
    );
    run.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitUntil('the setup code', () => /setup code: [A-Z2-9]{8}/.test(out), 20_000);
  }, 60_000);

  afterAll(async () => {
    await children.killAll();
    sock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a caller without a session; the printed setup code sets the password and starts one', async () => {
    expect(out).toMatch(new RegExp(`status page ${base}/`));
    expect((await api('GET', '/api/v1/status')).status).toBe(401);
    const code = /setup code: ([A-Z2-9]{8})/.exec(out)![1]!;
    const r = await api('POST', '/api/v1/setup', { body: { code, password: PASSWORD } });
    expect(r.status).toBe(200);
    expect(r.cookie).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('a session reads the live status and stops and starts the stream, as the listener sees', async () => {
    const login = await api('POST', '/api/v1/login', { body: { password: PASSWORD } });
    const cookie = login.cookie!.split(';')[0]!;
    const csrf = login.json.csrf as string;
    await waitUntil('pictures at the listener', () => arrivals.pictures.length > 30, 30_000);
    expect((await api('GET', '/api/v1/status', { cookie })).json).toMatchObject({ state: 'live' });
    expect((await api('POST', '/api/v1/control', { cookie, body: { op: 'stop' } })).status).toBe(403); // no CSRF token
    const stop = await api('POST', '/api/v1/control', { cookie, csrf, body: { op: 'stop' } });
    expect(stop.json).toMatchObject({ state: 'idle' });
    const stoppedAt = performance.now();
    await sleep(1500);
    expect(arrivals.picturesAfter(stoppedAt + 500)).toHaveLength(0);
    await api('POST', '/api/v1/control', { cookie, csrf, body: { op: 'start' } });
    await waitUntil('pictures again', () => arrivals.picturesAfter(stoppedAt + 1500).length > 15, 30_000);
    const bad = await api('POST', '/api/v1/control', {
      cookie,
      csrf,
      body: { op: 'set', assignments: [{ key: 'video.maxBitrate', value: '-5' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
    const dest = await api('POST', '/api/v1/control', { cookie, csrf, body: { op: 'get', key: 'destinations.0' } });
    expect(dest.json).toMatchObject({ value: { passphrase: '[set]' } });
    // Restart the pipeline from the page: a new process, the same SRT session, pictures go on.
    const pid = ((await api('GET', '/api/v1/status', { cookie })).json as unknown as StatusSnapshot).stream.pipeline.pid;
    const restartAt = performance.now();
    expect((await api('POST', '/api/v1/control', { cookie, csrf, body: { op: 'restart' } })).json).toEqual({ restarting: true });
    let now = pid;
    for (let i = 0; i < 100 && now === pid; i++) {
      await sleep(200);
      now = ((await api('GET', '/api/v1/status', { cookie })).json as unknown as StatusSnapshot).stream.pipeline.pid;
    }
    expect(now).not.toBe(pid);
    await waitUntil('pictures after the restart', () => arrivals.picturesAfter(restartAt + 1000).length > 15, 30_000);
    const events = (await api('GET', '/api/v1/events?limit=50', { cookie })).json as unknown as { code?: string }[];
    expect(events.some((e) => e.code === 'PIPELINE_RESTART')).toBe(true);
    // The passphrase is in no answer of the whole session.
    for (const b of bodies) expect(b).not.toContain(PASSPHRASE);
  }, 90_000);
});
