/**
 * The bonded chain of BENCHMARKS.md "bond-venue", reusable by the benchmark
 * and the end-to-end tests:
 *
 *   paced TS over UDP -> srt-live-transmit (caller, latency L) -> BondSender
 *   -> LinkSim links -> BondReceiver -> srt-live-transmit (listener) -> file
 *
 * The sender and receiver run in this process (tests: links can be added,
 * removed, the receiver restarted) or as child processes (the benchmark:
 * their CPU is measured apart from the link emulator's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BondReceiver, RECEIVER_DEFAULTS } from '../bond/receiver.js';
import { BondSender, type BondSenderStats } from '../bond/sender.js';
import type { BondLinkOptions } from '../bond/sender-link.js';
import { freeUdpPort, udpPortBound } from '../lib/udp-ports.js';
import { LinkSim, type LinkSpecInput, VENUE_LINKS } from '../linksim/index.js';
import { TsAnalyser } from '../mux/analyser.js';
import { TsArrivals } from '../mux/arrivals.js';
import { processCpuSeconds } from './cpu.js';

export interface ChainOptions {
  workDir: string;
  links?: readonly LinkSpecInput[];
  /** Links the sender starts with (default: all of `links`). */
  senderLinks?: string[];
  seed?: number;
  latencyMs?: number;
  /** The receiver's reorder hold; by default the one `fieldcast receive` ships with. */
  reorderMs?: number;
  processes: 'in-process' | 'children';
}

/** What one SRT session through the chain delivered. */
export interface StreamResult {
  inputPackets: number;
  outputBytes: number;
  ccErrors: number;
  /** SRT caller: packets sent (with retransmissions), unique, retransmitted, dropped. */
  caller: SrtCounts;
  /** SRT listener: packets received (with duplicates), unique, reported lost, dropped (too late). */
  listener: SrtCounts;
  /** performance.now() when pacing began: `during` and `tailFromMs` count from here. */
  startedAt: number;
  /** Each PAT, PMT and picture as it reached the far end, with its arrival time (performance.now()). */
  arrivals: TsArrivals;
  /** The SRT caller's send buffer early in the session and at its end (sendBufferTrend). */
  sendBuffer?: { earlyMs: number; lateMs: number };
  /** With `tailFromMs`: what arrived from then on, analysed on its own. */
  tail?: { packets: number; ccErrors: number };
  /**
   * What could not be observed (an SRT statistics file missing or unreadable):
   * a session with a problem proves nothing, so it never counts as clean.
   * Its counts are zeros only as placeholders.
   */
  problems: string[];
}

export interface SrtCounts {
  packets: number;
  unique: number;
  lost: number;
  retransmitted: number;
  dropped: number;
}

const ZERO: SrtCounts = { packets: 0, unique: 0, lost: 0, retransmitted: 0, dropped: 0 };

/** Waits until `cond` holds or `ms` pass: start-up on a loaded machine takes what it takes. */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!cond() && performance.now() < until) await sleep(25);
  return cond();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CBR-ish test TS: testsrc + sine, libx264 at half the mux rate, AAC, padded to `muxrateBps`. */
export async function makeTestTs(path: string, muxrateBps: number, seconds: number): Promise<void> {
  const v = Math.round(muxrateBps * 0.5);
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '50'],
    ...[
      '-b:v',
      String(v),
      '-minrate',
      String(v),
      '-maxrate',
      String(v),
      '-bufsize',
      String(Math.round(v / 2)),
      '-x264-params',
      'nal-hrd=cbr',
    ],
    ...['-c:a', 'aac', '-b:a', '128k'],
    ...['-f', 'mpegts', '-muxrate', String(muxrateBps), path],
  ];
  await run('ffmpeg', args);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errText = '';
    p.stderr.on('data', (d: Buffer) => {
      errText += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code}): ${errText.slice(-500)}`))));
  });
}

function stop(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGINT', ms = 3000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill(signal);
  });
}

export class SrtStatsMissingError extends Error {
  constructor(path: string, why: string) {
    super(`SRT statistics ${path}: ${why}`);
    this.name = 'SrtStatsMissingError';
  }
}

/**
 * The last cumulative counters in a srt-live-transmit `-f -pf json` stats
 * file. A file that is missing, or holds no line with this side's counters,
 * is an error: zeros would read as a clean session nobody observed.
 */
export function readSrtStats(path: string, side: 'send' | 'recv'): SrtCounts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SrtStatsMissingError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let best: SrtCounts | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let j: Record<'send' | 'recv', Record<string, unknown>>;
    try {
      j = JSON.parse(line) as Record<'send' | 'recv', Record<string, unknown>>;
    } catch {
      continue; // a line cut short by the kill
    }
    const s = j[side];
    const n = (k: string): number | undefined => (typeof s?.[k] === 'number' ? (s[k] as number) : undefined);
    const packets = n('packets');
    if (packets === undefined || (best && packets < best.packets)) continue;
    best = {
      packets,
      unique: n('packetsUnique') ?? Number.NaN,
      lost: n('packetsLost') ?? Number.NaN,
      retransmitted: n('packetsRetransmitted') ?? Number.NaN,
      dropped: n('packetsDropped') ?? Number.NaN,
    };
  }
  if (!best) throw new SrtStatsMissingError(path, `holds no "${side}" counters (${text.length} bytes)`);
  const absent = Object.entries(best).filter(([, v]) => Number.isNaN(v));
  if (absent.length) throw new SrtStatsMissingError(path, `lacks ${absent.map(([k]) => k).join(', ')}`);
  return best;
}

/**
 * How the SRT caller's send buffer (msBuf: the age of what is not yet
 * acknowledged) moved over a session, from its stats file: the median of
 * the second quarter of the lines and of the last quarter. A chain that
 * keeps up holds it near the RTT; one over capacity lets it grow, even while
 * a short session still ends whole.
 */
export function sendBufferTrend(path: string): { earlyMs: number; lateMs: number } {
  const rows: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const ms = (JSON.parse(line) as { send?: { msBuf?: unknown } }).send?.msBuf;
      if (typeof ms === 'number') rows.push(ms);
    } catch {
      // a line cut short by the kill
    }
  }
  if (rows.length < 8) throw new SrtStatsMissingError(path, `holds ${rows.length} send-buffer readings, too few to see a trend`);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const n = rows.length;
  return { earlyMs: median(rows.slice(Math.floor(n / 4), Math.floor(n / 2))), lateMs: median(rows.slice(Math.floor((3 * n) / 4))) };
}

const SENDER_CHILD = `
const [modUrl, optsJson] = process.argv.slice(1);
const { BondSender } = await import(modUrl);
const s = new BondSender(JSON.parse(optsJson));
const port = await s.start();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
say({ port });
setInterval(() => say({ stats: s.stats() }), 500);
process.on('SIGTERM', async () => { say({ stats: s.stats() }); await s.close(); process.exit(0); });
`;

export class BondChain {
  sim!: LinkSim;
  sender: BondSender | undefined;
  receiver: BondReceiver | undefined;
  private senderChild: ChildProcess | undefined;
  private receiverChild: ChildProcess | undefined;
  private childStats: BondSenderStats | undefined;
  senderPort = 0;
  receiverPort = 0;
  listenerPort = 0;
  private readonly latencyMs: number;

  constructor(private readonly opts: ChainOptions) {
    this.latencyMs = opts.latencyMs ?? 1500;
  }

  linkOptions(name: string): BondLinkOptions {
    return { name, bind: '127.0.0.1', via: this.sim.link(name).address };
  }

  async start(): Promise<void> {
    this.listenerPort = await freeUdpPort();
    this.receiverPort = await freeUdpPort();
    await this.startReceiver();
    this.sim = new LinkSim({
      target: `127.0.0.1:${this.receiverPort}`,
      seed: this.opts.seed ?? 1,
      links: [...(this.opts.links ?? VENUE_LINKS)],
    });
    await this.sim.start();
    const names = this.opts.senderLinks ?? this.sim.names;
    const senderOpts = { receiver: `127.0.0.1:${this.receiverPort}`, links: names.map((n) => this.linkOptions(n)) };
    if (this.opts.processes === 'in-process') {
      this.sender = new BondSender(senderOpts);
      this.senderPort = await this.sender.start();
    } else {
      const modUrl = new URL('../bond/index.js', import.meta.url).href;
      const child = spawn(process.execPath, ['--input-type=module', '-e', SENDER_CHILD, modUrl, JSON.stringify(senderOpts)], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, FIELDCAST_LOG: process.env.FIELDCAST_LOG ?? 'warn' },
      });
      this.senderChild = child;
      this.senderPort = await new Promise<number>((resolve, reject) => {
        let buf = '';
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
            try {
              const j = JSON.parse(line) as { port?: number; stats?: BondSenderStats };
              if (j.port) resolve(j.port);
              if (j.stats) this.childStats = j.stats;
            } catch {
              // a log line
            }
          }
        });
        child.once('close', (code) => reject(new Error(`the bonding sender exited (${code})`)));
      });
    }
  }

  async startReceiver(): Promise<void> {
    const listen = `127.0.0.1:${this.receiverPort}`;
    const forward = `srt://127.0.0.1:${this.listenerPort}`;
    // A hold near the links' RTT spread (40 to 120 ms on the venue links, plus jitter): the
    // listener then sees nearly every packet in order and asks again only for real losses.
    const reorderMs = this.opts.reorderMs;
    if (this.opts.processes === 'in-process') {
      this.receiver = new BondReceiver({ listen, forward, reorderMs: reorderMs ?? RECEIVER_DEFAULTS.reorderMs });
      await this.receiver.start();
      return;
    }
    // As an operator runs it: the shipped defaults unless a test asks otherwise.
    const cli = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
    const extra = reorderMs === undefined ? [] : ['--reorder-ms', String(reorderMs)];
    const child = spawn(process.execPath, [cli, 'receive', '--listen', listen, '--forward', forward, ...extra, '--status-interval', '0'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FIELDCAST_LOG: process.env.FIELDCAST_LOG ?? 'warn' },
    });
    this.receiverChild = child;
    await waitFor(() => udpPortBound(this.receiverPort) || child.exitCode !== null, 15_000);
    if (!udpPortBound(this.receiverPort)) throw new Error(`fieldcast receive did not open ${listen} (exit ${child.exitCode})`);
  }

  /** The receiver's reorder hold in this chain, ms. */
  get reorderMs(): number {
    return this.opts.reorderMs ?? RECEIVER_DEFAULTS.reorderMs;
  }

  /** In-process receiver only: close it (a crash or restart of the cloud VM). */
  stopReceiver(): void {
    this.receiver?.close();
    this.receiver = undefined;
  }

  senderStats(): BondSenderStats | undefined {
    return this.sender?.stats() ?? this.childStats;
  }

  /** CPU seconds of the sender and receiver children so far (children mode). */
  cpu(): { sender: number; receiver: number } {
    const of = (p: ChildProcess | undefined): number => {
      try {
        return p?.pid ? processCpuSeconds(p.pid) : Number.NaN;
      } catch {
        return Number.NaN;
      }
    };
    return { sender: of(this.senderChild), receiver: of(this.receiverChild) };
  }

  /**
   * One SRT session: `bytes` of `ts` paced at `rateBps`; `during(elapsedMs)`
   * runs every 100 ms while pacing (to change links mid-stream).
   */
  async stream(
    name: string,
    ts: string,
    rateBps: number,
    seconds: number,
    during?: (elapsedMs: number) => void | Promise<void>,
    opts: { tailFromMs?: number } = {},
  ): Promise<StreamResult> {
    const dir = this.opts.workDir;
    const lStats = join(dir, `${name}.listener.json`);
    const cStats = join(dir, `${name}.caller.json`);
    const lat = this.latencyMs;
    // What the listener delivers is read as it comes (srt-live-transmit flushes its output
    // every few KB): whole, for the analyser, and with arrival times, for gaps and resumption.
    const listener = spawn(
      'srt-live-transmit',
      [
        '-f',
        '-s',
        '100',
        '-pf',
        'json',
        `-statsout:${lStats}`,
        `srt://127.0.0.1:${this.listenerPort}?mode=listener&latency=${lat}`,
        'file://con',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const an = new TsAnalyser();
    const tail = new TsAnalyser();
    const arrivals = new TsArrivals();
    let startedAt = Number.POSITIVE_INFINITY;
    listener.stdout?.on('data', (d: Buffer) => {
      an.push(d);
      arrivals.push(d);
      if (opts.tailFromMs !== undefined && performance.now() - startedAt >= opts.tailFromMs) tail.push(d);
    });
    const listenerDone = new Promise<void>((r) => listener.once('close', () => r()));
    const problems: string[] = [];
    if (!(await waitFor(() => udpPortBound(this.listenerPort), 10_000)))
      problems.push('the srt-live-transmit listener did not open its port within 10 s');
    // The TS goes in through a pipe, not UDP: a pipe pushes back instead of dropping when the
    // caller is briefly descheduled on a busy machine, so every gap in the output is the chain's.
    const caller = spawn(
      'srt-live-transmit',
      ['-f', '-s', '100', '-pf', 'json', `-statsout:${cStats}`, 'file://con', `srt://127.0.0.1:${this.senderPort}?latency=${lat}`],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    caller.stdin?.on('error', () => {});
    let callerSaid = '';
    caller.stderr?.on('data', (d: Buffer) => {
      callerSaid = (callerSaid + d.toString()).slice(-4000);
    });
    try {
      // The caller says so once its handshake came back through the whole chain (sender,
      // links, receiver, listener); pacing into an unconnected caller would lose the start.
      if (!(await waitFor(() => /target connected/i.test(callerSaid), 10_000)))
        problems.push(
          `the SRT caller did not connect through the chain within 10 s (it said: ${callerSaid.trim().slice(-200) || 'nothing'})`,
        );
      await sleep(300);
      startedAt = performance.now();
      const inputPackets = await pace(ts, caller.stdin!, rateBps, seconds, during);
      await sleep(lat + 1500);
      await stop(caller);
      await sleep(300);
      // Stopped as an operator would, it writes out what it still buffers as it exits.
      await stop(listener);
      await listenerDone;
      arrivals.flush();
      const rep = an.report();
      const counts = (path: string, side: 'send' | 'recv'): SrtCounts => {
        try {
          return readSrtStats(path, side);
        } catch (e) {
          problems.push((e as Error).message);
          return { ...ZERO };
        }
      };
      const tailReport = tail.report();
      let sendBuffer: StreamResult['sendBuffer'];
      try {
        sendBuffer = sendBufferTrend(cStats);
      } catch (e) {
        problems.push((e as Error).message);
      }
      return {
        inputPackets,
        outputBytes: rep.bytes,
        ccErrors: rep.checks.Continuity_count_error ?? 0,
        caller: counts(cStats, 'send'),
        listener: counts(lStats, 'recv'),
        problems,
        startedAt,
        arrivals,
        ...(sendBuffer ? { sendBuffer } : {}),
        ...(opts.tailFromMs !== undefined
          ? { tail: { packets: tailReport.packets, ccErrors: tailReport.checks.Continuity_count_error ?? 0 } }
          : {}),
      };
    } finally {
      await stop(caller, 'SIGKILL');
      await stop(listener, 'SIGKILL');
    }
  }

  async close(): Promise<void> {
    await this.sender?.close();
    this.receiver?.close();
    this.sim?.close();
    await stop(this.senderChild, 'SIGTERM');
    await stop(this.receiverChild, 'SIGTERM');
  }
}

/** Writes the first `seconds` of `ts` at `rateBps` in 1316-byte chunks; returns how many went. */
async function pace(
  ts: string,
  sink: Writable,
  rateBps: number,
  seconds: number,
  during?: (elapsedMs: number) => void | Promise<void>,
): Promise<number> {
  const data = readFileSync(ts);
  const chunk = 1316;
  const total = Math.min(Math.floor(data.length / chunk), Math.floor((rateBps * seconds) / 8 / chunk));
  const start = performance.now();
  let sent = 0;
  let nextDuring = 0;
  try {
    while (sent < total) {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * rateBps) / 8000 / chunk));
      if (sent < due) {
        sink.write(data.subarray(sent * chunk, due * chunk));
        sent = due;
      }
      if (during && elapsed >= nextDuring) {
        nextDuring += 100;
        await during(elapsed);
      }
      await sleep(2);
    }
  } finally {
    await sleep(50);
  }
  return total;
}
