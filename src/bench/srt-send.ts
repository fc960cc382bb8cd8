/**
 * srt-send: what Fieldcast's SRT sender costs, beside srt-live-transmit.
 *
 * The same paced constant-rate stream (10 Mbit/s of 1316-byte messages,
 * made in this process from a 10 ms timer, as the muxer hands it over) goes
 * to an srt-live-transmit listener on loopback, once through SrtConnection
 * (the native thread, the bounded queue) and once through an
 * srt-live-transmit caller fed on stdin. Figures are CPU seconds per minute
 * of stream from the OS (this process's user+sys, plus the child's for
 * srt-live-transmit); both runs include the same pacing loop, so the ratio
 * compares the transports.
 */
import { spawn } from 'node:child_process';
import { SrtConnection } from '../srt/index.js';
import { processCpuSeconds, selfCpuSeconds } from './cpu.js';
import type { Figure, Scenario, ScenarioOptions, ScenarioResult } from './types.js';

const RATE_BPS = 10_000_000;
const CHUNK = 1316;

async function freePort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function listener(port: number): ReturnType<typeof spawn> {
  return spawn('srt-live-transmit', ['-q', '-c', '1316', `srt://:${port}?mode=listener&latency=200`, 'file://con'], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
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

async function runFieldcast(seconds: number, signal: AbortSignal): Promise<{ cpu: number; bytes: number; dropped: number }> {
  const port = await freePort();
  const rx = listener(port);
  try {
    await sleep(300);
    const conn = new SrtConnection(`srt://127.0.0.1:${port}?latency=200`);
    conn.start();
    await conn.next('connected');
    const cpu0 = selfCpuSeconds();
    const bytes = await pace(seconds, (b) => conn.send(b), signal);
    await conn.end(1000);
    return { cpu: selfCpuSeconds() - cpu0, bytes, dropped: conn.droppedPackets };
  } finally {
    rx.kill('SIGKILL');
  }
}

async function runSrtLiveTransmit(seconds: number, signal: AbortSignal): Promise<{ cpu: number; bytes: number }> {
  const port = await freePort();
  const rx = listener(port);
  const tx = spawn('srt-live-transmit', ['-q', '-c', '1316', 'file://con', `srt://127.0.0.1:${port}?latency=200`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  try {
    await sleep(500);
    const pid = tx.pid ?? 0;
    const child0 = processCpuSeconds(pid);
    const cpu0 = selfCpuSeconds();
    const bytes = await pace(seconds, (b) => tx.stdin?.write(b), signal);
    const cpu = selfCpuSeconds() - cpu0 + processCpuSeconds(pid) - child0;
    return { cpu, bytes };
  } finally {
    tx.kill('SIGKILL');
    rx.kill('SIGKILL');
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
    const figures: Figure[] = [
      { name: 'seconds', value: seconds, unit: opts.quick ? 's (quick)' : 's' },
      { name: 'rate_mbps', value: RATE_BPS / 1e6, unit: 'Mbit/s' },
      { name: 'fieldcast_send_cpu_s_per_min', value: perMin(ours.cpu), unit: 'CPU-s/min' },
      { name: 'srt_live_transmit_send_cpu_s_per_min', value: perMin(peer.cpu), unit: 'CPU-s/min' },
      { name: 'ratio_fieldcast_to_slt', value: peer.cpu > 0 ? ours.cpu / peer.cpu : 'n/a' },
      { name: 'fieldcast_dropped_packets', value: ours.dropped },
    ];
    const ratio = peer.cpu > 0 ? ours.cpu / peer.cpu : Number.POSITIVE_INFINITY;
    return {
      figures,
      verdict: `Fieldcast's sender (pacing included) costs ${ratio.toFixed(2)}x srt-live-transmit's at ${RATE_BPS / 1e6} Mbit/s; dropped ${ours.dropped} messages`,
    };
  },
};
