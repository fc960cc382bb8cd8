/**
 * srt-send: what Fieldcast's SRT sender costs, beside srt-live-transmit.
 *
 * The same paced constant-rate stream (10 Mbit/s of 1316-byte messages,
 * made in this process from a 10 ms timer, as the muxer hands it over) goes
 * to an srt-live-transmit listener on loopback, once through SrtConnection
 * (the native thread, the bounded queue) and once through an
 * srt-live-transmit caller fed on stdin. Each run starts its CPU window once
 * its caller has connected (ours: the connection's event; srt-live-transmit:
 * its "SRT target connected") and ends it when pacing ends, before either
 * closes. Figures are CPU seconds per minute of stream from the OS (this
 * process's user+sys, plus the child's for srt-live-transmit); both windows
 * include the same pacing loop, so the ratio compares the transports. The
 * listener's output is counted: a run whose bytes did not all arrive is not
 * a figure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freeUdpPort } from '../lib/udp-ports.js';
import { SrtConnection } from '../srt/index.js';
import { processCpuSeconds, selfCpuSeconds } from './cpu.js';
import { FigureSheet, type Scenario, type ScenarioOptions, type ScenarioResult } from './types.js';

const RATE_BPS = 10_000_000;
const CHUNK = 1316;
/** Share of the bytes sent that must reach the listener for a run to count. */
const MIN_DELIVERED = 0.999;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await sleep(20);
  return cond();
}

interface Listener {
  proc: ChildProcess;
  /** Stops it as an operator would (it writes out what it buffered as it exits), then counts what it wrote. */
  finish(): Promise<number>;
}

/** An srt-live-transmit listener whose output this process counts. */
function listener(port: number): Listener {
  let bytes = 0;
  const proc = spawn('srt-live-transmit', ['-q', '-c', '1316', `srt://:${port}?mode=listener&latency=200`, 'file://con'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  proc.stdout?.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  const closed = new Promise<void>((r) => proc.once('close', () => r()));
  return {
    proc,
    async finish() {
      await sleep(500);
      proc.kill('SIGINT');
      await Promise.race([closed, sleep(3000)]);
      proc.kill('SIGKILL');
      await closed;
      return bytes;
    },
  };
}

/** Calls `send` with CHUNK-byte messages at RATE_BPS for `seconds`. */
async function pace(seconds: number, send: (b: Buffer) => void, signal: AbortSignal): Promise<number> {
  const chunk = Buffer.alloc(CHUNK, 0x47);
  const start = Date.now();
  let sent = 0;
  while (Date.now() - start < seconds * 1000 && !signal.aborted) {
    const due = Math.floor(((Date.now() - start) / 1000) * (RATE_BPS / 8));
    while (sent < due) {
      send(chunk);
      sent += CHUNK;
    }
    await sleep(10);
  }
  return sent;
}

interface Run {
  cpu: number;
  sent: number;
  received: number;
  dropped?: number;
  problem?: string;
}

async function runFieldcast(seconds: number, signal: AbortSignal): Promise<Run> {
  const port = await freeUdpPort();
  const rx = listener(port);
  const conn = new SrtConnection(`srt://127.0.0.1:${port}?latency=200`);
  try {
    await sleep(300);
    conn.start();
    await conn.next('connected', AbortSignal.timeout(10_000));
    const cpu0 = selfCpuSeconds();
    const sent = await pace(seconds, (b) => conn.send(b), signal);
    const cpu = selfCpuSeconds() - cpu0;
    await conn.end(1000);
    return { cpu, sent, received: await rx.finish(), dropped: conn.droppedPackets };
  } catch (e) {
    return { cpu: Number.NaN, sent: 0, received: 0, problem: `Fieldcast's caller: ${(e as Error).message}` };
  } finally {
    conn.close();
    rx.proc.kill('SIGKILL');
  }
}

async function runSrtLiveTransmit(seconds: number, signal: AbortSignal): Promise<Run> {
  const port = await freeUdpPort();
  const rx = listener(port);
  await sleep(300);
  const tx = spawn('srt-live-transmit', ['-c', '1316', 'file://con', `srt://127.0.0.1:${port}?latency=200`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  tx.stdin?.on('error', () => undefined);
  let said = '';
  tx.stderr?.on('data', (d: Buffer) => {
    said = (said + d.toString()).slice(-2000);
  });
  try {
    if (!(await waitFor(() => /target connected/i.test(said), 10_000)))
      return {
        cpu: Number.NaN,
        sent: 0,
        received: 0,
        problem: `srt-live-transmit's caller never connected (it said: ${said.trim() || 'nothing'})`,
      };
    const pid = tx.pid ?? 0;
    const child0 = processCpuSeconds(pid);
    const cpu0 = selfCpuSeconds();
    const sent = await pace(seconds, (b) => tx.stdin?.write(b), signal);
    const cpu = selfCpuSeconds() - cpu0 + processCpuSeconds(pid) - child0;
    // Its stdin closed, the caller sends what it holds and hangs up.
    tx.stdin?.end();
    await Promise.race([new Promise((r) => tx.once('close', r)), sleep(3000)]);
    return { cpu, sent, received: await rx.finish() };
  } finally {
    tx.kill('SIGKILL');
    rx.proc.kill('SIGKILL');
  }
}

export const scenario: Scenario = {
  name: 'srt-send',
  description: 'SRT sender CPU at 10 Mbit/s: Fieldcast (SrtConnection) beside srt-live-transmit',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const seconds = opts.quick ? 10 : 60;
    const ours = await runFieldcast(seconds, opts.signal);
    const peer = await runSrtLiveTransmit(seconds, opts.signal);
    const perMin = (cpu: number): number => (cpu * 60) / seconds;
    const sheet = new FigureSheet();
    sheet.add('seconds', seconds, opts.quick ? 's (quick)' : 's');
    sheet.add('rate_mbps', RATE_BPS / 1e6, 'Mbit/s');
    const ok = (r: Run, who: string, figure: string): boolean => {
      if (r.problem) sheet.missing(figure, r.problem);
      else if (r.received < r.sent * MIN_DELIVERED) sheet.missing(figure, `${who}'s listener received ${r.received} of ${r.sent} bytes`);
      else return true;
      return false;
    };
    const oursOk = ok(ours, 'Fieldcast', 'fieldcast_send_cpu_s_per_min');
    const peerOk = ok(peer, 'srt-live-transmit', 'srt_live_transmit_send_cpu_s_per_min');
    if (oursOk) {
      sheet.add('fieldcast_send_cpu_s_per_min', perMin(ours.cpu), 'CPU-s/min');
      sheet.add('fieldcast_delivered', ours.received / ours.sent, 'of the bytes sent, at the listener');
      sheet.add('fieldcast_dropped_packets', ours.dropped ?? 0);
    }
    if (peerOk) {
      sheet.add('srt_live_transmit_send_cpu_s_per_min', perMin(peer.cpu), 'CPU-s/min');
      sheet.add('srt_live_transmit_delivered', peer.received / peer.sent, 'of the bytes sent, at the listener');
    }
    if (oursOk && peerOk && peer.cpu > 0) {
      const ratio = ours.cpu / peer.cpu;
      sheet.add('ratio_fieldcast_to_slt', ratio);
      const pct = (r: Run): string => ((r.received / r.sent) * 100).toFixed(2);
      return sheet.result(
        `Fieldcast's sender (pacing included) costs ${ratio.toFixed(2)}x srt-live-transmit's at ${RATE_BPS / 1e6} Mbit/s; ` +
          `the listener received ${pct(ours)}% and ${pct(peer)}% of the bytes sent`,
      );
    }
    return sheet.result('no ratio: one of the two runs did not deliver its stream');
  },
};
