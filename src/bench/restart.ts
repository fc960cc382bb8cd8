/**
 * `fieldcast bench restart` (BENCHMARKS.md): the pipeline dies mid-stream.
 *
 * `fieldcast run` (its own process, as systemd runs it) streams the default
 * config's test pattern (720p30) to an srt-live-transmit listener, which
 * re-serves what it receives on UDP to this process, where TsArrivals logs
 * each PAT, PMT and picture as it arrives: the far end, where the gap is
 * seen. The pipeline process is killed with SIGKILL ten times (three with
 * --quick), each once the stream has been back for a few seconds. Per kill:
 * the longest time without a picture at the listener in the 2.5 s after it
 * (however short), and whether the pictures resumed as a decoder needs them
 * — PAT and PMT in the gap, a keyframe with SPS/PPS first.
 *
 * Before the kills, the supervisor's own cost while live: its RSS and CPU
 * (user + sys from /proc, over a window of seconds), without the pipeline,
 * which is its child and counted apart; and that CPU split between its
 * JavaScript thread and the SRT transport's threads, which carry the session
 * the pipeline's crashes must not take down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../config/schema.js';
import { freeUdpPort } from '../lib/udp-ports.js';
import { percentile } from '../media/far-end.js';
import { TsArrivals } from '../mux/arrivals.js';
import { controlCall } from '../supervisor/control.js';
import type { StatusSnapshot } from '../supervisor/snapshot.js';
import { processCpuSeconds, threadCpuSeconds } from './cpu.js';
import { rssMb } from './proc.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
/** Where a kill's gap is looked for: the longest gap beginning within this long after it. */
const KILL_WINDOW_MS = 2_500;
/** The stream runs this long between kills (and before the first), so each restart is a fresh one, not a crash loop. */
const BETWEEN_KILLS_MS = 6_000;
const GOAL_GAP_MS = 1_000;
const GOAL_RSS_MB = 80;
const GOAL_CPU_PCT = 2;

interface Kill {
  gapMs: number;
  clean: boolean;
}

export const scenario: Scenario = {
  name: 'restart',
  description: 'fieldcast run: the pipeline SIGKILLed mid-stream, the gap at an srt-live-transmit listener',
  async run({ quick, workDir, signal }): Promise<ScenarioResult> {
    const kills = quick ? 3 : 10;
    const cpuWindowS = quick ? 5 : 15;
    const sheet = new FigureSheet();
    const procs: ChildProcess[] = [];
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    const arrivals = new TsArrivals();
    sock.on('message', (m) => arrivals.push(m));
    try {
      const udpPort = await freeUdpPort();
      await new Promise<void>((r) => sock.bind(udpPort, '127.0.0.1', () => r()));
      const srtPort = await freeUdpPort();
      const listener = spawn(
        'srt-live-transmit',
        ['-q', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=200`, `udp://127.0.0.1:${udpPort}`],
        {
          stdio: 'ignore',
        },
      );
      procs.push(listener);

      const configFile = path.join(workDir, 'config.json');
      const config = ConfigSchema.parse({
        deviceName: 'bench',
        status: { port: 0 },
        destinations: [{ url: `srt://127.0.0.1:${srtPort}`, latencyMs: 200 }],
      });
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      const socketPath = path.join(workDir, 'control.sock');
      const run = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--state-dir', workDir, '--socket', socketPath, '--quiet'], {
        stdio: 'ignore',
        env: { ...process.env, FIELDCAST_LOG: 'warn' },
      });
      procs.push(run);
      const status = async (): Promise<StatusSnapshot> => (await controlCall(socketPath, { op: 'status' })) as StatusSnapshot;

      await until(
        signal,
        30_000,
        'pictures at the listener',
        async () => (await status().catch(() => undefined))?.state === 'live' && arrivals.pictures.length > 60,
      );
      await wait(BETWEEN_KILLS_MS, undefined, { signal });

      // The supervisor alone, while live: its RSS and the CPU it used over the window.
      const supervisorPid = run.pid!;
      const cpu0 = processCpuSeconds(supervisorPid);
      const threads0 = threadCpuSeconds(supervisorPid);
      const t0 = performance.now();
      let rssMax = 0;
      for (let i = 0; i < cpuWindowS; i++) {
        await wait(1000, undefined, { signal });
        rssMax = Math.max(rssMax, rssMb(supervisorPid));
      }
      const windowS = (performance.now() - t0) / 1000;
      const cpuPct = ((processCpuSeconds(supervisorPid) - cpu0) / windowS) * 100;
      // Where it goes: the JavaScript thread (control, status, splicing, bit rate control) and the
      // SRT transport's threads (libsrt's, and the native sender's), which any SRT sender pays.
      const byThread = threadCpuSeconds(supervisorPid).map((t) => ({
        ...t,
        used: t.cpuSeconds - (threads0.find((b) => b.tid === t.tid)?.cpuSeconds ?? 0),
      }));
      const pct = (pick: (t: { tid: number; name: string }) => boolean): number =>
        (byThread.filter(pick).reduce((n, t) => n + t.used, 0) / windowS) * 100;
      const ts = await status();
      sheet.add('stream_ts_mbps', ts.stream.tsBitrateBps / 1e6, 'Mbit/s');
      sheet.add('supervisor_rss_mb', rssMax, 'MB');
      sheet.add('supervisor_cpu_pct', cpuPct, '% of a core');
      sheet.add(
        'supervisor_main_thread_cpu_pct',
        pct((t) => t.tid === supervisorPid),
        '% of a core',
      );
      sheet.add(
        'supervisor_srt_threads_cpu_pct',
        pct((t) => t.name.startsWith('SRT:') || t.name === 'fieldcast-srt'),
        '% of a core',
      );

      const seen: Kill[] = [];
      for (let k = 0; k < kills; k++) {
        const pid = (await status()).stream.pipeline.pid;
        if (pid === undefined) throw new NotObservedError('restart_gap_ms', 'the supervisor reports no pipeline process to kill');
        const killedAt = performance.now();
        process.kill(pid, 'SIGKILL');
        await until(
          signal,
          30_000,
          `pictures again after kill ${k + 1}`,
          async () => arrivals.resumptionWithin(killedAt, KILL_WINDOW_MS) !== undefined,
        );
        const r = arrivals.resumptionWithin(killedAt, KILL_WINDOW_MS)!;
        seen.push({ gapMs: r.gapMs, clean: r.patFirst && r.pmtFirst && r.keyFirst && r.picturesBeforeKey === 0 });
        await wait(BETWEEN_KILLS_MS - KILL_WINDOW_MS, undefined, { signal });
      }
      const restarts = (await status()).stream.pipeline.restarts;
      const gaps = seen.map((s) => s.gapMs);
      sheet.add('kills', seen.length);
      sheet.add('restarts_reported', restarts);
      sheet.add('restart_gap_ms_p50', percentile(gaps, 50), 'ms');
      sheet.add('restart_gap_ms_max', Math.max(...gaps), 'ms');
      sheet.add('resumed_on_keyframe_with_pat_pmt', `${seen.filter((s) => s.clean).length}/${seen.length}`);
      const held = [
        Math.max(...gaps) < GOAL_GAP_MS
          ? `max gap under ${GOAL_GAP_MS} ms`
          : `max gap ${Math.max(...gaps).toFixed(0)} ms, over the ${GOAL_GAP_MS} ms goal`,
        seen.every((s) => s.clean) ? 'every resumption clean' : 'a resumption without PAT/PMT or keyframe first',
        restarts === seen.length ? 'each kill reported' : `${restarts} restarts reported for ${seen.length} kills`,
        rssMax < GOAL_RSS_MB ? `RSS under ${GOAL_RSS_MB} MB` : `RSS ${rssMax.toFixed(0)} MB, over the ${GOAL_RSS_MB} MB goal`,
        cpuPct < GOAL_CPU_PCT ? `CPU under ${GOAL_CPU_PCT}%` : `CPU ${cpuPct.toFixed(1)}%, over the ${GOAL_CPU_PCT}% goal`,
      ];
      return sheet.result(held.join('; '));
    } finally {
      sock.close();
      for (const p of procs.reverse()) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        p.kill('SIGTERM');
        await Promise.race([new Promise((r) => p.once('exit', r)), wait(5000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
  },
};

async function until(signal: AbortSignal, timeoutMs: number, what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  const start = performance.now();
  while (!(await cond())) {
    if (performance.now() - start > timeoutMs)
      throw new NotObservedError('restart_gap_ms', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await wait(50, undefined, { signal });
  }
}
