/**
 * receiver-scale (BENCHMARKS.md): `fieldcast receive` in its own process with
 * 50 synthetic senders of 3 links each at 4 Mbit/s per sender on loopback.
 * Only the receiver's CPU is measured (from /proc, user + sys): on a 2-core
 * machine the load generator itself costs CPU too.
 *
 * Each synthetic sender registers like a real one (REG1, then REG2 on every
 * link, each link from its own loopback address) and sends SRT data packets
 * with increasing sequence numbers and 1316-byte payloads, paced, spread
 * round-robin over its links. The forward target is a plain UDP sink that
 * counts packets: forwarding cost needs no SRT handshake.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeReg1, encodeReg2, encodeSrtData, SRTLA_TYPE } from '../bond/protocol.js';
import type { ReceiverStats } from '../bond/receiver-stats.js';
import { processCpuSeconds } from './cpu.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const PAYLOAD = 1316;
const LINKS = 3;
const STREAM_BPS = 4_000_000;
const TICK_MS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bind(host: string, recvBufferSize = 1 << 20): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
  // A send that fails under load (ENOBUFS) shows up as fewer packets offered, not a crash.
  s.on('error', () => undefined);
  return s;
}

function reply(s: dgram.Socket, type: number, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      s.off('message', on);
      reject(new Error(`no answer 0x${type.toString(16)} from the receiver within ${ms} ms`));
    }, ms);
    const on = (m: Buffer): void => {
      if (m.length >= 2 && m.readUInt16BE(0) === type) {
        clearTimeout(t);
        s.off('message', on);
        resolve(m);
      }
    };
    s.on('message', on);
  });
}

class SyntheticSender {
  seq = Math.floor(Math.random() * 2 ** 30);
  sent = 0;
  private turn = 0;
  private credit = 0;
  private readonly payload = Buffer.alloc(PAYLOAD, 0x47);

  constructor(
    readonly links: dgram.Socket[],
    private readonly port: number,
  ) {}

  async register(): Promise<void> {
    const first = this.links[0]!;
    const r2 = reply(first, SRTLA_TYPE.REG2, 3000);
    first.send(encodeReg1(randomBytes(256)), this.port, '127.0.0.1');
    const id = (await r2).subarray(2);
    await Promise.all(
      this.links.map((l) => {
        const r3 = reply(l, SRTLA_TYPE.REG3, 3000);
        l.send(encodeReg2(id), this.port, '127.0.0.1');
        return r3;
      }),
    );
  }

  /** Sends what `ms` of stream time owes at STREAM_BPS. */
  tick(ms: number): void {
    this.credit += (STREAM_BPS / 8 / PAYLOAD) * (ms / 1000);
    while (this.credit >= 1) {
      this.credit -= 1;
      const pkt = encodeSrtData(this.seq, this.payload, 1);
      this.seq = (this.seq + 1) % 0x8000_0000;
      this.links[this.turn++ % this.links.length]!.send(pkt, this.port, '127.0.0.1');
      this.sent++;
    }
  }

  close(): void {
    for (const l of this.links) l.close();
  }
}

async function run(opts: ScenarioOptions): Promise<ScenarioResult> {
  const streams = opts.quick ? 10 : 50;
  const warmS = opts.quick ? 2 : 3;
  const measureS = opts.quick ? 8 : 20;
  const sink = await bind('127.0.0.1', 4 << 20);
  let sunk = 0;
  sink.on('message', () => {
    sunk++;
  });
  const probe = await bind('127.0.0.1');
  const port = probe.address().port;
  probe.close();
  const statsFile = path.join(opts.workDir, 'receiver-stats.json');
  const metricsProbe = await bind('127.0.0.1');
  const metricsPort = metricsProbe.address().port;
  metricsProbe.close();
  const receiverStats = async (): Promise<ReceiverStats> =>
    (await (await fetch(`http://127.0.0.1:${metricsPort}/stats.json`, { signal: AbortSignal.timeout(10_000) })).json()) as ReceiverStats;
  const child = spawn(
    process.execPath,
    [
      CLI,
      'receive',
      '--listen',
      `127.0.0.1:${port}`,
      '--forward',
      `srt://127.0.0.1:${sink.address().port}`,
      '--stats-json',
      statsFile,
      '--status-interval',
      '0',
      '--metrics-port',
      String(metricsPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIELDCAST_LOG: 'warn' } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const senders: SyntheticSender[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('metrics on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`fieldcast receive exited (${code}) before listening: ${stderr.trim()}`)));
      setTimeout(() => reject(new Error(`fieldcast receive did not start within 15 s: ${out.trim()}`)), 15_000).unref();
      opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });
    });
    for (let i = 0; i < streams; i++) {
      // Each sender's links come from their own loopback address, as modems would.
      const host = `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`;
      const links = await Promise.all(Array.from({ length: LINKS }, () => bind(host)));
      for (const l of links) l.on('message', () => undefined);
      const s = new SyntheticSender(links, port);
      await s.register();
      senders.push(s);
    }
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      for (const s of senders) s.tick(now - last);
      last = now;
    }, TICK_MS);
    await sleep(warmS * 1000);
    const pid = child.pid!;
    const forwardedBy = (st: ReceiverStats): number => st.perGroup.reduce((n, g) => n + g.packetsForwarded, 0);
    const st0 = await receiverStats();
    const cpu0 = processCpuSeconds(pid);
    const sent0 = senders.reduce((n, s) => n + s.sent, 0);
    const sunk0 = sunk;
    const t0 = performance.now();
    await sleep(measureS * 1000);
    const cpu1 = processCpuSeconds(pid);
    const st1 = await receiverStats();
    const sent1 = senders.reduce((n, s) => n + s.sent, 0);
    const wall = (performance.now() - t0) / 1000;
    const sunk1 = sunk;
    clearInterval(timer);
    timer = undefined;
    await sleep(1500);
    const stats = await receiverStats();

    const cpu = cpu1 - cpu0;
    const handled = st1.counters.packetsIn - st0.counters.packetsIn;
    // Normalised to what the receiver actually handled: on a loaded 2-core machine the
    // kernel may drop some of the offered load before the receiver sees it.
    const packetsPerStreamMin = (STREAM_BPS / 8 / PAYLOAD) * 60;
    const perStreamMin = cpu / (handled / packetsPerStreamMin);
    const offeredMbps = ((sent1 - sent0) * (PAYLOAD + 16) * 8) / wall / 1e6;
    const reached = handled / Math.max(1, sent1 - sent0);
    const forwarded = (forwardedBy(st1) - forwardedBy(st0)) / Math.max(1, handled);
    const sunkRatio = (sunk1 - sunk0) / Math.max(1, forwardedBy(st1) - forwardedBy(st0));
    const maxStreams = perStreamMin > 0 ? 60 / perStreamMin : Number.POSITIVE_INFINITY;
    return {
      figures: [
        { name: 'streams', value: streams },
        { name: 'links_per_stream', value: LINKS },
        { name: 'groups_registered', value: stats.groups },
        { name: 'offered_mbps', value: offeredMbps, unit: 'Mbit/s' },
        { name: 'reached_receiver_ratio', value: reached },
        { name: 'receiver_forwarded_ratio', value: forwarded },
        { name: 'sink_received_ratio', value: sunkRatio },
        { name: 'receiver_malformed', value: stats.counters.malformed + stats.counters.handlerErrors },
        { name: 'receiver_cpu_share', value: cpu / wall, unit: 'cores' },
        { name: 'receiver_cpu_s_per_stream_min', value: perStreamMin, unit: 's' },
        { name: 'max_streams_one_core', value: Math.floor(maxStreams) },
      ],
      verdict:
        `${stats.groups}/${streams} streams registered; one core carries about ${Math.floor(maxStreams)} streams of ` +
        `${STREAM_BPS / 1e6} Mbit/s over ${LINKS} links; ${(reached * 100).toFixed(1)}% of the offered load reached it, ` +
        `it forwarded ${(forwarded * 100).toFixed(1)}% of that (losses before the receiver and at the sink are this ` +
        `machine's load generator sharing its cores)` +
        (opts.quick ? ' (quick run)' : ''),
    };
  } finally {
    if (timer) clearInterval(timer);
    for (const s of senders) s.close();
    // Let it write its last statistics before the working folder goes.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    sink.close();
  }
}

export const scenario: Scenario = {
  name: 'receiver-scale',
  description: 'fieldcast receive with 50 senders x 3 links at 4 Mbit/s on loopback: receiver CPU per stream',
  run,
};
