/**
 * For the tests of `fieldcast receive` as an operator runs it: the CLI in a
 * child process, hand-driven SRTLA links built on protocol.ts (each may
 * come from its own loopback address, 127.x.y.z, as units on different
 * networks do), and a stand-in SRT listener that records what reaches it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { controlWord, encodeReg1, encodeReg2, encodeSrtData, SRTLA_TYPE, srtDataSeq } from '../../src/bond/protocol.js';
import type { ReceiverStats } from '../../src/bond/receiver-stats.js';
import { freeUdpPort } from '../../src/lib/udp-ports.js';

export { freeUdpPort };

export const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');

/** The CLI runs from dist/: what a skip names when it is not built. */
export function missingBuild(): string[] {
  return existsSync(path.resolve(import.meta.dirname, '../../dist/cli/receive.js')) ? [] : ['dist/ (npm run build:ts)'];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A TCP port that was free a moment ago on `host`. */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, host, () => res()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Everything a test opened, closed by `closeAll` in afterEach. */
export class Opened {
  readonly #closers: (() => void | Promise<void>)[] = [];
  add(close: () => void | Promise<void>): void {
    this.#closers.push(close);
  }
  async closeAll(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) await c();
  }
}

export interface ReceiverRun {
  child: ChildProcess;
  /** The SRTLA port senders talk to (on 127.0.0.1). */
  port: number;
  metricsPort: number | undefined;
  output(): string;
  /** GET /stats.json on the metrics port. */
  stats(): Promise<ReceiverStats>;
  /** SIGTERM, as systemd stops it; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `fieldcast receive --listen 127.0.0.1:P --forward srt://127.0.0.1:F`
 * with `args` after them, and waits until it says it listens (and serves
 * metrics, when `--metrics-port` is among `args`).
 */
export async function startReceiver(
  forwardPort: number,
  args: string[],
  opened: Opened,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReceiverRun> {
  const port = await freeUdpPort();
  const child = spawn(
    process.execPath,
    [CLI, 'receive', '--listen', `127.0.0.1:${port}`, '--forward', `srt://127.0.0.1:${forwardPort}?latency=500`, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, FIELDCAST_LOG: 'warn' } },
  );
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  opened.add(async () => {
    await stop();
  });
  const i = args.indexOf('--metrics-port');
  const metricsPort = i >= 0 ? Number(args[i + 1]) : undefined;
  const ready = metricsPort === undefined ? 'listening on' : 'metrics on';
  await waitUntil(`the receiver to start (${text})`, () => text.includes(ready) || child.exitCode !== null, 10_000);
  if (!text.includes(ready)) throw new Error(`fieldcast receive did not start: ${text}`);
  const stats = async (): Promise<ReceiverStats> => {
    if (metricsPort === undefined) throw new Error('started without --metrics-port');
    const res = await fetch(`http://127.0.0.1:${metricsPort}/stats.json`);
    return (await res.json()) as ReceiverStats;
  };
  return { child, port, metricsPort, output: () => text, stats, stop };
}

/** What the receiver answered a registration with, or 'none' when it stayed silent. */
export type RegReply = 'reg2' | 'reg3' | 'regErr' | 'regNgp' | 'none';

const REPLY_OF: Record<number, RegReply> = {
  [SRTLA_TYPE.REG2]: 'reg2',
  [SRTLA_TYPE.REG3]: 'reg3',
  [SRTLA_TYPE.REG_ERR]: 'regErr',
  [SRTLA_TYPE.REG_NGP]: 'regNgp',
};

/** One uplink of a hand-driven SRTLA sender: a UDP socket on `ip` talking to the receiver. */
export class TestLink {
  /** Everything received, in order. */
  readonly got: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    readonly sock: dgram.Socket,
    readonly receiverPort: number,
  ) {
    sock.on('message', (m) => {
      this.got.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(receiverPort: number, opened: Opened, ip = '127.0.0.1'): Promise<TestLink> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(0, ip, () => res());
    });
    const link = new TestLink(sock, receiverPort);
    opened.add(() => link.close());
    return link;
  }

  get address(): string {
    const a = this.sock.address();
    return `${a.address}:${a.port}`;
  }

  /** Resolves once the kernel has the datagram: what is sent after it arrives after it. */
  send(msg: Buffer): Promise<void> {
    return new Promise((res) => this.sock.send(msg, this.receiverPort, '127.0.0.1', () => res()));
  }

  /** Sends `msg` and waits up to `ms` for the first registration reply after it. */
  async ask(msg: Buffer, ms = 1500): Promise<{ reply: RegReply; msg?: Buffer }> {
    const from = this.got.length;
    void this.send(msg);
    const end = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.got.length; i++) {
        const m = this.got[i]!;
        const reply = REPLY_OF[controlWord(m) ?? -1];
        if (reply) return { reply, msg: m };
      }
      const left = end - Date.now();
      if (left <= 0) return { reply: 'none' };
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** REG1: a new group. Resolves to the full id from the receiver's REG2, or the refusal. */
  async createGroup(): Promise<{ reply: RegReply; id?: Buffer }> {
    const r = await this.ask(encodeReg1(randomBytes(256)));
    return r.reply === 'reg2' && r.msg ? { reply: r.reply, id: r.msg.subarray(2) } : { reply: r.reply };
  }

  /** REG2: this link joins the group `id`. */
  async join(id: Buffer): Promise<RegReply> {
    return (await this.ask(encodeReg2(id))).reply;
  }

  /** An SRT data packet with this sequence number. */
  data(seq: number, size = 188): Promise<void> {
    return this.send(encodeSrtData(seq, Buffer.alloc(size, 0x47)));
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

/** A group on `links` (the first sends REG1, all join): its full id. */
export async function registerGroup(links: TestLink[]): Promise<Buffer> {
  const first = links[0];
  if (!first) throw new Error('a group needs a link');
  const g = await first.createGroup();
  if (!g.id) throw new Error(`REG1 was answered ${g.reply}`);
  for (const l of links) {
    const r = await l.join(g.id);
    if (r !== 'reg3') throw new Error(`REG2 from ${l.address} was answered ${r}`);
  }
  return g.id;
}

/** The stand-in SRT listener: records the data packets the receiver forwards, with when they came. */
export class FakeListener {
  readonly packets: { seq: number; at: number }[] = [];
  /** Where each group's socket sends from (the listener answers there). */
  readonly peers = new Set<string>();

  private constructor(readonly sock: dgram.Socket) {
    sock.on('message', (m, r) => {
      this.peers.add(`${r.address}:${r.port}`);
      const seq = srtDataSeq(m);
      if (seq !== undefined) this.packets.push({ seq, at: performance.now() });
    });
  }

  static async open(opened: Opened): Promise<FakeListener> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    const l = new FakeListener(sock);
    opened.add(() => {
      sock.close();
    });
    return l;
  }

  get port(): number {
    return this.sock.address().port;
  }

  seqs(): number[] {
    return this.packets.map((p) => p.seq);
  }

  /** Sends `msg` back to every group socket heard from, as the SRT listener answers. */
  answer(msg: Buffer): void {
    for (const p of this.peers) {
      const i = p.lastIndexOf(':');
      this.sock.send(msg, Number(p.slice(i + 1)), p.slice(0, i));
    }
  }
}
