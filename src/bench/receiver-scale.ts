/**
 * receiver-scale (BENCHMARKS.md): `fieldcast receive` in its own process with
 * 50 synthetic senders of 3 links each at 4 Mbit/s per sender on loopback.
 * Only the receiver's CPU is measured (from /proc, user + sys): on a 2-core
 * machine the load generator itself costs CPU too.
 *
 * Each synthetic sender registers like a real one (REG1, then REG2 on every
 * link, each link from its own loopback address) and sends SRT data packets
 * with increasing sequence numbers and 1316-byte payloads, paced, spread
 * round-robin over its links, the second link's packets a tick (5 ms) late
 * and the third's two: they arrive out of order, as over links of different
 * delay, and the receiver's reorder stage works as it does in the field.
 *
 * The forward target stands in for the SRT listener's return traffic, which
 * the receiver relays to every live link of the group: a full ACK per stream
 * every 10 ms (SRT's ACK period) and, every 20 ms, a NAK naming 1% of what
 * arrived, which the senders repair once (a retransmission, flagged as such).
 * The senders answer each ACK with an ACKACK, as SRT does. It needs no SRT
 * handshake: the receiver carries SRT without reading it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeSrtNak,
  encodeReg1,
  encodeReg2,
  encodeSrtAck,
  encodeSrtData,
  encodeSrtNak,
  isMalformed,
  SRT_CONTROL,
  SRTLA_TYPE,
  srtControlType,
  srtDataSeq,
} from '../bond/protocol.js';
import type { ReceiverStats } from '../bond/receiver-stats.js';
import { forEachSeq } from '../bond/sequence.js';
import { processCpuSeconds } from './cpu.js';
import { FigureSheet, type Scenario, type ScenarioOptions, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const PAYLOAD = 1316;
const LINKS = 3;
const STREAM_BPS = 4_000_000;
const TICK_MS = 5;
const ACK_MS = 10;
const NAK_MS = 20;
/** Share of the packets each NAK names. */
const NAK_SHARE = 0.01;

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
  repaired = 0;
  ackAcks = 0;
  private turn = 0;
  private credit = 0;
  private readonly payload = Buffer.alloc(PAYLOAD, 0x47);
  /** Packets each link sends on a later tick: link k's wait k ticks. */
  private readonly late: Buffer[][][];
  private readonly repairedSeqs = new Set<number>();

  constructor(
    readonly links: dgram.Socket[],
    private readonly port: number,
  ) {
    this.late = links.map((_, k) => Array.from({ length: k + 1 }, () => []));
    // The receiver sends each NAK on every live link: repair each loss once.
    for (const l of links) l.on('message', (m: Buffer) => this.onReturn(m));
  }

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

  /** Sends what `ms` of stream time owes at STREAM_BPS, and what earlier ticks left to the slower links. */
  tick(ms: number): void {
    for (let k = 0; k < this.links.length; k++) {
      const queue = this.late[k]!;
      for (const pkt of queue.shift()!) this.links[k]!.send(pkt, this.port, '127.0.0.1');
      queue.push([]);
    }
    this.credit += (STREAM_BPS / 8 / PAYLOAD) * (ms / 1000);
    while (this.credit >= 1) {
      this.credit -= 1;
      const pkt = encodeSrtData(this.seq, this.payload, 1);
      this.seq = (this.seq + 1) % 0x8000_0000;
      const k = this.turn++ % this.links.length;
      this.late[k]!.at(-1)!.push(pkt);
      this.sent++;
    }
  }

  private lastAckNo = -1;

  private onReturn(m: Buffer): void {
    const type = srtControlType(m);
    if (type === SRT_CONTROL.ACK && m.length >= 8) {
      // A full ACK asks for an ACKACK (SRT's RTT measurement); the receiver sent it on every link.
      const ackNo = m.readUInt32BE(4);
      if (ackNo === this.lastAckNo) return;
      this.lastAckNo = ackNo;
      this.links[this.turn++ % this.links.length]!.send(ackAck(ackNo), this.port, '127.0.0.1');
      this.ackAcks++;
      return;
    }
    if (type !== SRT_CONTROL.NAK) return;
    const nak = decodeSrtNak(m);
    if (isMalformed(nak)) return;
    forEachSeq(nak.ranges, (seq) => {
      if (this.repairedSeqs.has(seq)) return;
      this.repairedSeqs.add(seq);
      if (this.repairedSeqs.size > 10_000) this.repairedSeqs.clear();
      this.links[this.turn++ % this.links.length]!.send(encodeSrtData(seq, this.payload, 1, true), this.port, '127.0.0.1');
      this.repaired++;
    });
  }

  close(): void {
    for (const l of this.links) l.close();
  }
}

/** An SRT ACKACK control packet for ACK number `ackNo`. */
function ackAck(ackNo: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(0x8000 | SRT_CONTROL.ACKACK, 0);
  b.writeUInt32BE(ackNo >>> 0, 4);
  b.writeUInt32BE(1, 12);
  return b;
}

/**
 * Where the receiver forwards: counts what arrives and answers each stream
 * (each forward socket of the receiver) as an SRT listener would — ACKs and
 * NAKs, which the receiver must relay to the stream's links.
 */
class ReturnTraffic {
  packets = 0;
  acks = 0;
  naks = 0;
  private readonly streams = new Map<string, { port: number; address: string; highest: number; arrived: number[] }>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly sock: dgram.Socket) {
    sock.on('message', (m: Buffer, from: dgram.RemoteInfo) => {
      this.packets++;
      const seq = srtDataSeq(m);
      if (seq === undefined) return;
      const key = `${from.address}:${from.port}`;
      let st = this.streams.get(key);
      if (!st) {
        st = { port: from.port, address: from.address, highest: seq, arrived: [] };
        this.streams.set(key, st);
      }
      if (seq > st.highest) st.highest = seq;
      if (st.arrived.length < 1000) st.arrived.push(seq);
    });
  }

  start(): void {
    this.timers.push(
      setInterval(() => {
        for (const st of this.streams.values()) {
          this.sock.send(encodeSrtAck(st.highest + 1, ++this.acks), st.port, st.address);
        }
      }, ACK_MS),
      setInterval(() => {
        for (const st of this.streams.values()) {
          const named = st.arrived.filter(() => Math.random() < NAK_SHARE).map((seq) => ({ from: seq, to: seq }));
          st.arrived = [];
          if (named.length === 0) continue;
          this.sock.send(encodeSrtNak(named), st.port, st.address);
          this.naks++;
        }
      }, NAK_MS),
    );
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}

async function run(opts: ScenarioOptions): Promise<ScenarioResult> {
  const streams = opts.quick ? 10 : 50;
  const warmS = opts.quick ? 2 : 3;
  const measureS = opts.quick ? 8 : 20;
  const sink = await bind('127.0.0.1', 4 << 20);
  const listener = new ReturnTraffic(sink);
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
      const s = new SyntheticSender(links, port);
      await s.register();
      senders.push(s);
    }
    listener.start();
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      for (const s of senders) s.tick(now - last);
      last = now;
    }, TICK_MS);
    await sleep(warmS * 1000);
    const pid = child.pid!;
    const sum = (st: ReceiverStats, f: (g: ReceiverStats['perGroup'][number]) => number): number =>
      st.perGroup.reduce((n, g) => n + f(g), 0);
    const forwardedBy = (st: ReceiverStats): number => sum(st, (g) => g.packetsForwarded);
    const st0 = await receiverStats();
    const cpu0 = processCpuSeconds(pid);
    const data = (): number => senders.reduce((n, s) => n + s.sent + s.repaired, 0);
    const offered = (): number => data() + senders.reduce((n, s) => n + s.ackAcks, 0);
    const sent0 = offered();
    const data0 = data();
    const sunk0 = listener.packets;
    const t0 = performance.now();
    await sleep(measureS * 1000);
    const cpu1 = processCpuSeconds(pid);
    const st1 = await receiverStats();
    const sent1 = offered();
    const data1 = data();
    const wall = (performance.now() - t0) / 1000;
    const sunk1 = listener.packets;
    clearInterval(timer);
    timer = undefined;
    listener.stop();
    await sleep(1500);
    const stats = await receiverStats();

    const cpu = cpu1 - cpu0;
    const handled = st1.counters.packetsIn - st0.counters.packetsIn;
    const forwardedN = forwardedBy(st1) - forwardedBy(st0);
    // Normalised to the stream time the receiver actually forwarded: on a loaded 2-core
    // machine the kernel may drop some of the offered load before the receiver sees it.
    const packetsPerStreamMin = (STREAM_BPS / 8 / PAYLOAD) * 60;
    const perStreamMin = cpu / (forwardedN / packetsPerStreamMin);
    const offeredMbps = ((data1 - data0) * (PAYLOAD + 16) * 8) / wall / 1e6;
    const reached = handled / Math.max(1, sent1 - sent0);
    const forwarded = forwardedN / Math.max(1, handled);
    const sunkRatio = (sunk1 - sunk0) / Math.max(1, forwardedN);
    const maxStreams = perStreamMin > 0 ? 60 / perStreamMin : Number.POSITIVE_INFINITY;
    const relayedAcks = sum(st1, (g) => g.srtAcks) - sum(st0, (g) => g.srtAcks);
    const relayedNaks = sum(st1, (g) => g.naks) - sum(st0, (g) => g.naks);
    const reordered = sum(st1, (g) => g.reorder.reordered) - sum(st0, (g) => g.reorder.reordered);
    const sheet = new FigureSheet()
      .add('streams', streams)
      .add('links_per_stream', LINKS)
      .add('groups_registered', stats.groups)
      .add('offered_mbps', offeredMbps, 'Mbit/s')
      .add('reached_receiver_ratio', reached)
      .add('receiver_forwarded_ratio', forwarded)
      .add('sink_received_ratio', sunkRatio)
      .add('srt_acks_relayed_per_s', relayedAcks / wall, '(from the listener to every live link)')
      .add('srt_naks_relayed_per_s', relayedNaks / wall)
      .add('reordered_per_s', reordered / wall, 'packets (arrived after a later one)')
      .add('receiver_malformed', stats.counters.malformed + stats.counters.handlerErrors)
      .add('receiver_cpu_share', cpu / wall, 'cores');
    if (forwardedN === 0) sheet.missing('receiver_cpu_s_per_stream_min', 'the receiver forwarded nothing while measured');
    else if (relayedAcks === 0 || reordered === 0)
      sheet.missing(
        'receiver_cpu_s_per_stream_min',
        `the load lacked return traffic (${relayedAcks} ACKs relayed) or reordering (${reordered})`,
      );
    else sheet.add('receiver_cpu_s_per_stream_min', perStreamMin, 's').add('max_streams_one_core', Math.floor(maxStreams));
    return sheet.result(
      `${stats.groups}/${streams} streams registered; one core carries about ${Math.floor(maxStreams)} streams of ` +
        `${STREAM_BPS / 1e6} Mbit/s over ${LINKS} links; ${(reached * 100).toFixed(1)}% of the offered load reached it, ` +
        `it forwarded ${(forwarded * 100).toFixed(1)}% of that (losses before the receiver and at the sink are this ` +
        `machine's load generator sharing its cores); with SRT's ACKs and NAKs relayed back and links arriving out of order` +
        (opts.quick ? ' (quick run)' : ''),
    );
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
