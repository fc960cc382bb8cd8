/**
 * What the status page tests run against, all on loopback: `fieldcast run`
 * streaming the test pattern over two bonded links to `fieldcast receive`,
 * which forwards it to an srt-live-transmit listener (with the SRT
 * passphrase) that re-serves what it gets on UDP to this process; and
 * Chromium (from Debian, driven by playwright-core) on the page the
 * supervisor serves.
 *
 * The rig keeps what a test judges by: every response body of the browser
 * session and of the test's own requests (to look for the passphrase in),
 * every Content-Security-Policy violation and uncaught page error, and when
 * the last bytes reached the listener.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page, type Response } from 'playwright-core';
import { nativeAvailable } from '../../src/native/index.js';
import { freeTcpPort, Opened, startReceiver } from '../integration/receiver-helpers.js';
import { Children, freeUdpPort, udpPortBound, waitUntil } from '../integration/srt-helpers.js';
import { missingTools } from '../peers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/fieldcast.js');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, '.cache/artifacts/status-page');
export const PASSPHRASE = 'status-page-secret-4711';
export const PASSWORD = 'a long enough password';
/** The bonded links of the test config: one free, one metered. */
export const LINKS = ['lan', 'cell'] as const;

/** A full-page screenshot kept as an artefact of the run; its path goes to the test output. */
export async function screenshot(p: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  // From the top, so the sticky bar is drawn where it belongs.
  await p.evaluate('window.scrollTo(0, 0)');
  await p.screenshot({ path: file, fullPage: true });
  console.info(`status page screenshot: ${path.relative(process.cwd(), file)}`);
}

/** What this machine lacks for the rig, in words a skip can name. */
export function missingForRig(): string[] {
  return [
    ...(existsSync(CHROMIUM) ? [] : [`Chromium at ${CHROMIUM} (apt-get install chromium)`]),
    ...missingTools('srt-live-transmit'),
    ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
    ...(existsSync(path.join(ROOT, 'dist/cli/main.js')) ? [] : ['the built CLI (npm run build:ts)']),
    ...(existsSync(path.join(ROOT, 'dist/web/index.html')) ? [] : ['the built page (npm run build:web)']),
  ];
}

/** The bytes that reach the listener, and when the latest did (performance.now()). */
export class Arrivals {
  bytes = 0;
  lastAt = 0;
  add(n: number): void {
    this.bytes += n;
    this.lastAt = performance.now();
  }
}

export class Rig {
  readonly arrivals = new Arrivals();
  /** Every response body seen: the browser's and the test's own requests'. */
  readonly bodies: { url: string; body: string }[] = [];
  /** CSP violations and uncaught errors, from every page. */
  readonly violations: string[] = [];
  readonly pageErrors: string[] = [];
  base = '';
  #out = '';
  #dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-page-'));
  #children = new Children();
  #opened = new Opened();
  #sock: Socket | undefined;
  #browser: Browser | undefined;
  #pending: Promise<void>[] = [];

  get setupCode(): string {
    const m = /setup code: ([A-Z2-9]{8})/.exec(this.#out);
    if (!m) throw new Error(`fieldcast run printed no setup code:\n${this.#out}`);
    return m[1]!;
  }

  async start(): Promise<void> {
    const srtPort = await freeUdpPort();
    const udpPort = await freeUdpPort();
    const httpPort = await freeTcpPort();
    this.base = `http://127.0.0.1:${httpPort}`;
    const sock = createSocket('udp4');
    this.#sock = sock;
    sock.on('message', (m) => this.arrivals.add(m.length));
    await new Promise<void>((r) => sock.bind(udpPort, '127.0.0.1', r));
    this.#children.track(
      spawn(
        'srt-live-transmit',
        ['-q', '-c', '1316', `srt://127.0.0.1:${srtPort}?mode=listener&latency=300&passphrase=${PASSPHRASE}`, `udp://127.0.0.1:${udpPort}`],
        { stdio: 'ignore' },
      ),
    );
    await waitUntil('the srt-live-transmit listener to bind', () => udpPortBound(srtPort), 10_000);
    const receiver = await startReceiver(srtPort, [], this.#opened);

    const configFile = path.join(this.#dir, 'config.json');
    writeFileSync(
      configFile,
      `${JSON.stringify({
        deviceName: 'page-test',
        video: { width: 640, height: 360, fps: '25', bitrate: 1_000_000, minBitrate: 500_000, maxBitrate: 2_000_000, keyframeSeconds: 1 },
        destinations: [{ name: 'test ingest', url: `srt://127.0.0.1:${receiver.port}`, latencyMs: 300, passphrase: PASSPHRASE }],
        bond: {
          enabled: true,
          links: [
            { name: LINKS[0], bind: '127.0.0.1', priority: 7 },
            { name: LINKS[1], bind: '127.0.0.1', priority: 3, metered: true },
          ],
        },
        status: { listen: ['loopback'], port: httpPort },
      })}\n`,
    );
    const run = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--config',
        configFile,
        '--state-dir',
        path.join(this.#dir, 'state'),
        '--socket',
        path.join(this.#dir, 'c.sock'),
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIELDCAST_LOG: 'warn' } },
    );
    this.#children.track(run);
    run.stdout?.on('data', (d: Buffer) => {
      this.#out += d.toString();
    });
    await waitUntil('the setup code', () => /setup code: [A-Z2-9]{8}/.test(this.#out) || run.exitCode !== null, 30_000);
    if (run.exitCode !== null) throw new Error(`fieldcast run exited ${run.exitCode}:\n${this.#out}`);

    this.#browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }

  /** A browser context of its own (its own cookies: another phone), every response and violation recorded. */
  async context(options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<BrowserContext> {
    const ctx = await this.#browser!.newContext({
      viewport: { width: options.width ?? 390, height: options.height ?? 844 },
      colorScheme: options.colorScheme ?? 'light',
      baseURL: this.base,
    });
    // Reported by the browser itself; the page's CSP does not apply to what Playwright injects.
    await ctx.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );
    ctx.on('page', (p) => this.#watch(p));
    ctx.on('response', (r) => this.#keep(r));
    return ctx;
  }

  /** A request with the context's cookies (as the page's own), its body recorded; `csrf` sets x-csrf-token. */
  async request(
    ctx: BrowserContext,
    method: string,
    url: string,
    opts: { body?: unknown; csrf?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string; json: unknown }> {
    const r = await ctx.request.fetch(url, {
      method,
      headers: { ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}), ...opts.headers },
      ...(opts.body !== undefined ? { data: opts.body } : {}),
      failOnStatusCode: false,
    });
    const text = await r.text();
    this.record(url, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status(), text, json };
  }

  /** The context's session cookie as a Cookie header. */
  async cookie(ctx: BrowserContext): Promise<string> {
    const c = (await ctx.cookies(this.base)).find((x) => x.name === 'fc_session');
    if (!c) throw new Error('this context has no session cookie');
    return `${c.name}=${c.value}`;
  }

  #watch(p: Page): void {
    p.on('console', (m) => {
      if (/Content Security Policy|CSP violation/i.test(m.text())) this.violations.push(m.text());
    });
    p.on('pageerror', (e) => this.pageErrors.push(`${e.name}: ${e.message}`));
  }

  #keep(r: Response): void {
    // The live feed never ends: its frames are read by readLive instead.
    if ((r.headers()['content-type'] ?? '').includes('text/event-stream')) return;
    this.#pending.push(
      r
        .body()
        .then((b) => {
          this.bodies.push({ url: r.url(), body: b.toString('latin1') });
        })
        .catch(() => undefined),
    );
  }

  /** Records a body the test fetched itself. */
  record(url: string, body: string): void {
    this.bodies.push({ url, body });
  }

  /** Every body recorded so far, once the pending ones are in. */
  async allBodies(): Promise<{ url: string; body: string }[]> {
    await Promise.race([Promise.all(this.#pending), new Promise((r) => setTimeout(r, 5000))]);
    return this.bodies;
  }

  /** The live feed for `ms` with the given session cookie, as the page gets it; its text is recorded. */
  async readLive(cookie: string, ms: number): Promise<string> {
    const ac = new AbortController();
    const res = await fetch(`${this.base}/api/v1/live`, { headers: { cookie }, signal: ac.signal });
    let text = '';
    const reader = res.body!.getReader();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('latin1');
      }
    } catch {
      // aborted: the time is up
    } finally {
      clearTimeout(timer);
    }
    this.record('/api/v1/live', text);
    return text;
  }

  async stop(): Promise<void> {
    await this.#browser?.close().catch(() => undefined);
    await this.#children.killAll();
    await this.#opened.closeAll();
    this.#sock?.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
