/**
 * SystemdNotifier against a real unix datagram socket, as systemd gives one
 * in $NOTIFY_SOCKET: a node child runs the notifier from dist/ with the real
 * addon, and socat receives. Node cannot bind a datagram unix socket; socat
 * can, and `-x` prints each datagram it reads with its length, so a message
 * of several lines stays one message here too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missingTools, skipWithout } from '../peers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NOTIFIER = path.join(ROOT, 'dist/supervisor/systemd.js');
const ADDON = path.join(ROOT, 'native/build/Release/fieldcast_srt.node');

function missing(): string[] {
  const out = missingTools('socat');
  if (!existsSync(NOTIFIER)) out.push('dist/ (npm run build:ts)');
  if (!existsSync(ADDON)) out.push('the SRT addon (npm run build:native)');
  return out;
}

const skip = skipWithout('systemd notify over a real socket', missing());

/** Every process a test started, ended after it. */
const opened: ChildProcess[] = [];

/** The watchdog systemd would ask for: 400 ms, so pings every 200 ms. */
const WATCHDOG_USEC = 400_000;
const PERIOD_MS = WATCHDOG_USEC / 2000;

interface Datagram {
  /** performance.now() when socat reported it. */
  at: number;
  text: string;
}

/** socat bound to a datagram socket (a path, or a name in the abstract namespace), collecting what arrives. */
class NotifySocket {
  readonly datagrams: Datagram[] = [];
  private buffered = '';
  private current: { length: number; bytes: number[]; at: number } | undefined;
  private stderr = '';

  private constructor(
    readonly address: string,
    proc: ChildProcess,
  ) {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => this.feed(chunk));
  }

  static async open(kind: 'path' | 'abstract', dir: string): Promise<NotifySocket> {
    const name = `fieldcast-notify-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const file = path.join(dir, 'notify.sock');
    const socatAddress = kind === 'path' ? `UNIX-RECV:${file},unlink-early` : `ABSTRACT-RECV:${name}`;
    const proc = spawn('socat', ['-u', '-x', socatAddress, '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    opened.push(proc);
    const sock = new NotifySocket(kind === 'path' ? file : `@${name}`, proc);
    const bound = kind === 'path' ? () => existsSync(file) : () => readFileSync('/proc/net/unix', 'utf8').includes(`@${name}`);
    const end = performance.now() + 5000;
    while (!bound()) {
      if (proc.exitCode !== null || performance.now() > end) throw new Error(`socat did not bind ${socatAddress}: ${sock.stderr}`);
      await sleep(10);
    }
    return sock;
  }

  /** The datagrams' texts, WATCHDOG=1 left out. */
  messages(): string[] {
    return this.datagrams.map((d) => d.text).filter((t) => t !== 'WATCHDOG=1');
  }

  async waitFor(text: string, timeoutMs = 10_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!this.datagrams.some((d) => d.text === text)) {
      if (performance.now() > end)
        throw new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms; got ${JSON.stringify(this.messages())}`);
      await sleep(20);
    }
  }

  /** socat -x: "> DATE TIME  length=N from=A to=B", then the N bytes in hex over one or more lines. */
  private feed(chunk: string): void {
    this.stderr += chunk;
    this.buffered += chunk;
    let nl = this.buffered.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const header = /^> .*\blength=(\d+) from=\d+ to=\d+/.exec(line);
      if (header) {
        this.current = { length: Number(header[1]), bytes: [], at: performance.now() };
      } else if (this.current) {
        for (const hex of line.trim().split(/\s+/)) if (/^[0-9a-f]{2}$/i.test(hex)) this.current.bytes.push(parseInt(hex, 16));
      }
      if (this.current && this.current.bytes.length >= this.current.length) {
        this.datagrams.push({ at: this.current.at, text: Buffer.from(this.current.bytes.slice(0, this.current.length)).toString('utf8') });
        this.current = undefined;
      }
      nl = this.buffered.indexOf('\n');
    }
  }
}

/** What the supervisor does with the notifier, in a few seconds: up, states, healthy, unhealthy, down. */
const CHILD = `
const { SystemdNotifier } = await import(process.argv[2]);
const healthyMs = Number(process.argv[3]);
const unhealthyMs = Number(process.argv[4]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const n = new SystemdNotifier();
n.status('starting');
n.status('starting');
n.ready();
n.status('idle: no destination configured');
n.status('live');
let healthy = true;
const period = n.startWatchdog(() => healthy);
console.log('PERIOD ' + period);
await sleep(healthyMs);
healthy = false;
n.status('error: health checks fail');
await sleep(unhealthyMs);
n.stopping();
n.stop();
`;

let dir: string;
let childFile: string;

beforeAll(() => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-notify-'));
  childFile = path.join(dir, 'child.mjs');
  writeFileSync(childFile, CHILD);
  return () => rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  for (const p of opened.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill();
});

/** Runs the child with `env` added; resolves to its exit code and what it printed. */
function runChild(env: Record<string, string>, healthyMs: number, unhealthyMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childFile, pathToFileURL(NOTIFIER).href, String(healthyMs), String(unhealthyMs)], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', FIELDCAST_LOG: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opened.push(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe.skipIf(skip)('SystemdNotifier over a real NOTIFY_SOCKET', () => {
  it('sends READY=1, the states, WATCHDOG=1 at half the interval only while healthy, and STOPPING=1', async () => {
    const sock = await NotifySocket.open('path', dir);
    const healthyMs = 1500;
    const { code, out } = await runChild({ NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: String(WATCHDOG_USEC) }, healthyMs, 1500);
    expect(code, out).toBe(0);
    expect(out).toContain(`PERIOD ${PERIOD_MS}`);
    await sock.waitFor('STOPPING=1');

    // The repeat of 'starting' is not sent; 'idle' came within the rate limit and 'live' replaced it.
    expect(sock.messages()).toEqual(['STATUS=starting', 'READY=1', 'STATUS=live', 'STATUS=error: health checks fail', 'STOPPING=1']);

    const texts = sock.datagrams.map((d) => d.text);
    const unhealthyAt = texts.indexOf('STATUS=error: health checks fail');
    const healthyPings = sock.datagrams.slice(0, unhealthyAt).filter((d) => d.text === 'WATCHDOG=1');
    const gaps = healthyPings.slice(1).map((p, i) => p.at - healthyPings[i]!.at);
    console.log(
      `watchdog: ${healthyPings.length} pings in ${healthyMs} ms healthy, gaps ${gaps.map((g) => g.toFixed(0)).join(' ')} ms (period ${PERIOD_MS} ms)`,
    );
    // About healthyMs / PERIOD_MS + 1 = 8; loose bounds for a busy machine.
    expect(healthyPings.length).toBeGreaterThanOrEqual(4);
    expect(healthyPings.length).toBeLessThanOrEqual(Math.ceil(healthyMs / PERIOD_MS) + 2);
    expect(median(gaps)).toBeGreaterThan(PERIOD_MS * 0.6);
    expect(median(gaps)).toBeLessThan(PERIOD_MS * 2);
    // Not one ping once the health check failed: 1.5 s, some seven periods, a systemd kill.
    expect(texts.slice(unhealthyAt).filter((t) => t === 'WATCHDOG=1')).toEqual([]);
    expect(out).toContain('the systemd watchdog is not petted');
  });

  it('reaches a socket in the abstract namespace (@name)', async () => {
    const sock = await NotifySocket.open('abstract', dir);
    const { code, out } = await runChild({ NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: String(WATCHDOG_USEC) }, 500, 300);
    expect(code, out).toBe(0);
    await sock.waitFor('STOPPING=1');
    expect(sock.messages()).toEqual(['STATUS=starting', 'READY=1', 'STATUS=live', 'STATUS=error: health checks fail', 'STOPPING=1']);
    expect(sock.datagrams.filter((d) => d.text === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(2);
  });

  it('sends no pings when WATCHDOG_PID names another process (the pipeline child inherits the variables)', async () => {
    const sock = await NotifySocket.open('path', dir);
    const { code, out } = await runChild(
      { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: String(WATCHDOG_USEC), WATCHDOG_PID: String(process.pid) },
      600,
      100,
    );
    expect(code, out).toBe(0);
    expect(out).toContain('PERIOD undefined');
    await sock.waitFor('STOPPING=1');
    expect(sock.datagrams.map((d) => d.text)).not.toContain('WATCHDOG=1');
  });

  it('does nothing outside systemd (no NOTIFY_SOCKET), and says nothing', async () => {
    const { code, out } = await runChild({ WATCHDOG_USEC: String(WATCHDOG_USEC) }, 300, 100);
    expect(code, out).toBe(0);
    expect(out.trim()).toBe('PERIOD undefined');
  });

  it('goes on when nobody listens on NOTIFY_SOCKET, warning once', async () => {
    const { code, out } = await runChild({ NOTIFY_SOCKET: path.join(dir, 'nobody.sock'), WATCHDOG_USEC: String(WATCHDOG_USEC) }, 600, 100);
    expect(code, out).toBe(0);
    expect(out.match(/systemd did not take a notify message/g)).toHaveLength(1);
  });
});
