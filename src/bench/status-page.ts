/**
 * `fieldcast bench status-page` (BENCHMARKS.md): what the status page costs
 * the box, and how fast it tells the operator.
 *
 * 1. Page weight: the built JS + CSS, gzipped here at level 9 (./page-weight.ts).
 * 2. `fieldcast run` (its own process, as systemd runs it; the default
 *    config's test pattern, 720p30) streams over SRT to an srt-live-transmit
 *    listener, which relays the TS on UDP to this process: the far end
 *    (./far-end-window.ts). The supervisor's CPU (user + sys from /proc,
 *    its pipeline child not included) is taken over a window with no page
 *    client, then with 20 live clients on /api/v1/live, then with those and
 *    50 API requests a second (./page-clients.ts, in a worker thread);
 *    over the quiet and the hammered windows the far end counts continuity
 *    errors and measures each picture's latency (capture → listener output,
 *    the latency bench's transport figure). The noise is the spread of that
 *    latency's median over 3 s slices of two quiet windows, one before the
 *    load and one after.
 * 3. Chromium logs in on the page; the video bit rate range is changed over
 *    the control socket (the request `fieldcast ctl set video.maxBitrate=…`
 *    sends, made here so Node's start-up of a ctl process is not counted),
 *    alternating two values, and the time to the page showing it is taken
 *    (./page-browser.ts). Then the pipeline process is SIGKILLed and the
 *    time to the page showing its restart count go up is taken: a change
 *    that starts in the pipeline, not at the operator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../config/schema.js';
import { parseAssignment } from '../config/settings.js';
import { freeUdpPort, udpPortBound } from '../lib/udp-ports.js';
import { percentile } from '../media/far-end.js';
import { controlCall } from '../supervisor/control.js';
import type { StatusSnapshot } from '../supervisor/snapshot.js';
import { processCpuSeconds } from './cpu.js';
import { BenchSetupError } from './errors.js';
import { FarEnd, type WindowFigures } from './far-end-window.js';
import { PageSession, requireBrowser, type ShownAfter } from './page-browser.js';
import { PageClients } from './page-clients.js';
import { pageWeight } from './page-weight.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const PASSWORD = 'a long enough bench password';
const CLIENTS = 20;
const REQUESTS_PER_S = 50;
const SRT_LATENCY_MS = 200;
/** The latency's median is taken per slice this long: the quiet slices' spread is the noise. */
const SLICE_MS = 3_000;
/** The two maxima the range alternates between (the default config's range is 1–8 Mbit/s). */
const MAX_BITRATES = [5_000_000, 6_000_000];
/** Longer than the pipeline's STABLE_MS (5 s), so each kill is a fresh restart, not a crash loop with backoff. */
const BETWEEN_KILLS_MS = 6_000;
const GOAL_PAGE_KB = 150;
const GOAL_SCREEN_MS = 500;

export const scenario: Scenario = {
  name: 'status-page',
  description: 'page weight, change → screen in Chromium, supervisor CPU with 20 clients, the stream while the page is hammered',
  async run({ quick, workDir, signal }): Promise<ScenarioResult> {
    const windowS = quick ? 5 : 15;
    const quietAfterS = quick ? 5 : 10;
    const cpuSliceS = quick ? 2.5 : 5;
    const changes = quick ? 4 : 10;
    const kills = quick ? 1 : 3;
    const sheet = new FigureSheet();

    const weight = pageWeight();
    sheet.add('page_assets', weight.files.length, `files (${weight.files.join(', ')})`);
    sheet.add('page_weight_gzip_kb', weight.gzipBytes / 1000, 'kB (JS + CSS, each gzipped at level 9 here; 1 kB = 1000 B)');
    sheet.measured(
      'page_weight_br_kb',
      weight.brotliBytes === undefined ? undefined : weight.brotliBytes / 1000,
      'kB (the .br the build wrote, sent to Chromium)',
      'the build wrote no .br copies',
    );
    // What the run needs, checked before a minute is spent on the stream.
    if (!(await hasTool('srt-live-transmit'))) throw new BenchSetupError('srt-live-transmit is not installed: apt-get install srt-tools');
    await requireBrowser();

    const procs: ChildProcess[] = [];
    const far = new FarEnd();
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    sock.on('message', (m) => far.push(m));
    let clients: PageClients | undefined;
    let browser: PageSession | undefined;
    try {
      // ---- fieldcast run streaming to an srt-live-transmit listener, the page on loopback ----
      const udpPort = await freeUdpPort();
      await new Promise<void>((r) => sock.bind(udpPort, '127.0.0.1', () => r()));
      const srtPort = await freeUdpPort();
      procs.push(
        spawn(
          'srt-live-transmit',
          ['-q', '-c', '1316', `srt://:${srtPort}?mode=listener&latency=${SRT_LATENCY_MS}`, `udp://127.0.0.1:${udpPort}`],
          { stdio: 'ignore' },
        ),
      );
      await until(signal, 10_000, 'the srt-live-transmit listener to bind', () => udpPortBound(srtPort));
      const httpPort = await freeTcpPort();
      const base = `http://127.0.0.1:${httpPort}`;
      const configFile = path.join(workDir, 'config.json');
      const config = ConfigSchema.parse({
        deviceName: 'bench',
        status: { listen: ['loopback'], port: httpPort },
        destinations: [{ url: `srt://127.0.0.1:${srtPort}`, latencyMs: SRT_LATENCY_MS }],
      });
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      const socketPath = path.join(workDir, 'control.sock');
      const run = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--state-dir', workDir, '--socket', socketPath, '--quiet'], {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, FIELDCAST_LOG: 'warn' },
      });
      procs.push(run);
      let printed = '';
      run.stdout?.on('data', (d: Buffer) => {
        printed += d.toString();
      });
      const status = async (): Promise<StatusSnapshot> =>
        (await controlCall(socketPath, { op: 'status' }, { who: 'bench status-page' })) as StatusSnapshot;
      await until(signal, 30_000, 'the setup code on stdout', () => /setup code: [A-Z2-9]{8}/.test(printed) || run.exitCode !== null);
      if (run.exitCode !== null) throw new Error(`fieldcast run exited (${run.exitCode}): ${printed.trim()}`);
      const cookie = await setPassword(base, /setup code: ([A-Z2-9]{8})/.exec(printed)![1]!);
      await until(
        signal,
        30_000,
        'pictures at the listener',
        async () => (await status().catch(() => undefined))?.state === 'live' && far.arrivals.pictures.length > 60,
      );
      await wait(3_000, undefined, { signal });
      const supervisor = run.pid!;
      const live = await status();
      sheet.add('stream_ts_mbps', live.stream.tsBitrateBps / 1e6, 'Mbit/s (as the supervisor counts it)');

      // ---- quiet, then 20 live clients, then those and 50 requests a second, then quiet again ----
      // CPU as % of one core over a window, and over each slice of it: the quiet slices' spread is the CPU's noise.
      const cpuOver = async (seconds: number): Promise<{ pct: number; slices: number[] }> => {
        const at = (): { cpu: number; t: number } => ({ cpu: processCpuSeconds(supervisor), t: performance.now() });
        const pct = (a: { cpu: number; t: number }, b: { cpu: number; t: number }): number =>
          ((b.cpu - a.cpu) / ((b.t - a.t) / 1000)) * 100;
        const marks = [at()];
        for (let left = seconds; left > 0; left -= cpuSliceS) {
          await wait(Math.min(left, cpuSliceS) * 1000, undefined, { signal });
          marks.push(at());
        }
        return { pct: pct(marks[0]!, marks.at(-1)!), slices: marks.slice(1).map((m, i) => pct(marks[i]!, m)) };
      };
      let w = far.open();
      const cpuQuiet = await cpuOver(windowS);
      const quiet1 = far.close(w, SLICE_MS);

      clients = await PageClients.start({ base, cookie, clients: CLIENTS }, 15_000);
      await wait(1_000, undefined, { signal });
      w = far.open();
      const cpuClients = await cpuOver(windowS);
      const withClients = far.close(w, SLICE_MS);

      const srt0 = (await status()).destinations[0];
      clients.hammer(REQUESTS_PER_S);
      w = far.open();
      const cpuHammered = await cpuOver(windowS);
      const hammered = far.close(w, SLICE_MS);
      const load = await clients.stop();
      const srt1 = (await status()).destinations[0];
      for (const f of clients.failures) sheet.missing('live_clients', f);
      await clients.close();
      clients = undefined;

      await wait(1_000, undefined, { signal });
      w = far.open();
      const cpuQuietAfter = await cpuOver(quietAfterS);
      const quiet2 = far.close(w, SLICE_MS);

      const cpuQuietSlices = [...cpuQuiet.slices, ...cpuQuietAfter.slices];
      const cpuNoise = Math.max(...cpuQuietSlices) - Math.min(...cpuQuietSlices);
      const cpuAdded = cpuClients.pct - cpuQuiet.pct;
      sheet.add('supervisor_cpu_pct_0_clients', cpuQuiet.pct, `% of a core (over ${windowS} s, no page client)`);
      sheet.add('supervisor_cpu_pct_0_clients_after', cpuQuietAfter.pct, `% of a core (over ${quietAfterS} s, after the load)`);
      sheet.add(
        'supervisor_cpu_pct_noise',
        cpuNoise,
        `% of a core (max − min over the ${cpuSliceS} s slices of those two windows, ${cpuQuietSlices.length} slices)`,
      );
      sheet.add('supervisor_cpu_pct_20_clients', cpuClients.pct, `% of a core (over ${windowS} s, ${CLIENTS} live clients)`);
      sheet.add('supervisor_cpu_pct_added_by_20_clients', cpuAdded, '% of a core (20 clients − the first quiet window)');
      sheet.add('supervisor_cpu_pct_hammered', cpuHammered.pct, `% of a core (${CLIENTS} live clients + ${REQUESTS_PER_S} requests/s)`);
      sheet.add('hammer_requests_answered_per_s', load.answered / load.hammerS, 'requests/s (GET status, history, events)');
      sheet.add('hammer_requests_failed', load.failed);
      sheet.measured('api_response_ms_p50', percentile(load.responseMs, 50), 'ms', 'no request was answered');
      sheet.measured('api_response_ms_p99', percentile(load.responseMs, 99), 'ms', 'no request was answered');
      sheet.add(
        'live_updates_per_client_per_s_min',
        Math.min(...load.snapshots) / load.liveS,
        `snapshots/s (over ${load.liveS.toFixed(0)} s)`,
      );
      if (load.snapshots.some((n) => n === 0)) sheet.missing('live_clients', 'a live client got no snapshot');

      sheet.add('far_end_pictures_hammered', hammered.pictures);
      sheet.add('cc_errors_hammered', hammered.ccErrors, `(${hammered.packets} TS packets at the far end)`);
      sheet.add('tr101290_p1_errors_hammered', hammered.priority1Errors);
      sheet.add('picture_gap_ms_max_hammered', hammered.longestGapMs, 'ms');
      sheet.add('cc_errors_quiet', quiet1.ccErrors + quiet2.ccErrors + withClients.ccErrors, '(the quiet and the 20-client windows)');
      if (srt0 && srt1) sheet.add('srt_dropped_packets_hammered', srt1.dropPackets - srt0.dropPackets, '(SRT sender statistics)');

      const latency = latencyFigures(sheet, { quiet: [quiet1, quiet2], withClients, hammered });

      // ---- Chromium: a change at the box, and a pipeline crash, to the screen ----
      browser = await PageSession.open(base, PASSWORD);
      sheet.add(
        'page_clock_offset_ms',
        browser.clockOffsetMs,
        `ms (Chromium's clock minus this process's, ±${browser.clockUncertaintyMs.toFixed(2)} ms; taken off)`,
      );
      const shown: ShownAfter[] = [];
      const answers: number[] = [];
      for (let i = 0; i < changes; i++) {
        const bps = MAX_BITRATES[i % 2]!;
        const before = await browser.current('range');
        const mbit = (bps / 1e6).toFixed(2);
        const r = await browser.timeChange(
          'range',
          (v) => v !== before && v.includes(mbit),
          async () => {
            const t = performance.now();
            await controlCall(
              socketPath,
              { op: 'set', assignments: [parseAssignment(`video.maxBitrate=${bps}`)] },
              { who: 'bench status-page' },
            );
            answers.push(performance.now() - t);
          },
          5_000,
        );
        if (r) shown.push(r);
        else sheet.missing('change_to_screen_ms', `change ${i + 1} (video.maxBitrate=${bps}) was not on the page within 5 s`);
        // Spread the changes over the phase of the page's half-second pushes.
        await wait(900 + ((i * 173) % 500), undefined, { signal });
      }
      sheet.add('changes_shown', `${shown.length}/${changes}`);
      const screen = shown.map((s) => s.screenMs);
      const why = 'the page never showed a changed bit rate range';
      // percentile of nothing is NaN and Math.max of nothing -Infinity: `measured` lists them as not observed.
      sheet.measured('change_to_screen_ms_p50', percentile(screen, 50), 'ms (ctl set video.maxBitrate → the frame that paints it)', why);
      sheet.measured('change_to_screen_ms_max', Math.max(...screen), 'ms', why);
      sheet.measured(
        'change_to_dom_ms_p50',
        percentile(
          shown.map((s) => s.domMs),
          50,
        ),
        'ms (→ the DOM holds it)',
        why,
      );
      sheet.measured('ctl_set_answer_ms_p50', percentile(answers, 50), 'ms (the set request answered)', 'no set was answered');

      const restarts: number[] = [];
      for (let k = 0; k < kills; k++) {
        const snap = await status();
        const pid = snap.stream.pipeline.pid;
        if (pid === undefined) {
          sheet.missing('kill_to_page_ms', 'the supervisor reports no pipeline process to kill');
          break;
        }
        const next = String(snap.stream.pipeline.restarts + 1);
        const r = await browser.timeChange(
          'restarts',
          (v) => v === next,
          () => void process.kill(pid, 'SIGKILL'),
          10_000,
        );
        if (r) restarts.push(r.screenMs);
        else sheet.missing('kill_to_page_ms', `kill ${k + 1}: the page did not show restart ${next} within 10 s`);
        await wait(BETWEEN_KILLS_MS, undefined, { signal });
      }
      const kwhy = 'the page never showed the restart count go up';
      const klabel = 'ms (SIGKILL of the pipeline process → the page shows its restart count go up)';
      sheet.add('kills_shown', `${restarts.length}/${kills}`);
      sheet.measured('kill_to_page_ms_p50', percentile(restarts, 50), klabel, kwhy);
      sheet.measured('kill_to_page_ms_max', Math.max(...restarts), 'ms', kwhy);

      // ---- the verdict ----
      const kb = weight.gzipBytes / 1000;
      const onScreen = (what: string, times: number[], tries: number): string => {
        if (times.length === 0) return `${what} → screen not observed`;
        const max = Math.max(...times);
        if (times.length < tries) return `${what} → screen shown ${times.length}/${tries} times`;
        return max < GOAL_SCREEN_MS
          ? `${what} → screen at most ${max.toFixed(0)} ms (goal < ${GOAL_SCREEN_MS})`
          : `${what} → screen max ${max.toFixed(0)} ms, over the ${GOAL_SCREEN_MS} ms goal`;
      };
      const held = [
        kb < GOAL_PAGE_KB
          ? `page ${kb.toFixed(0)} kB gzipped (goal < ${GOAL_PAGE_KB})`
          : `page ${kb.toFixed(0)} kB gzipped, over the ${GOAL_PAGE_KB} kB goal`,
        onScreen('bit rate change', screen, changes),
        onScreen('pipeline kill', restarts, kills),
        `${CLIENTS} clients add ${cpuAdded.toFixed(1)}% of a core, ${Math.abs(cpuAdded) <= cpuNoise ? 'within' : 'beyond'} the ${cpuNoise.toFixed(1)}% noise (no goal set)`,
        hammered.ccErrors === 0 ? 'no CC error while hammered' : `${hammered.ccErrors} CC errors while hammered (goal 0)`,
        latency,
      ];
      return sheet.result(held.join('; '));
    } finally {
      await browser?.close();
      await clients?.close();
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

/** The far end's latency quiet and hammered, and the verdict's words for it. */
function latencyFigures(sheet: FigureSheet, w: { quiet: WindowFigures[]; withClients: WindowFigures; hammered: WindowFigures }): string {
  const quiet = w.quiet.flatMap((q) => q.latencyMs);
  const slices = w.quiet.flatMap((q) => q.sliceMedianMs);
  const how = 'ms (capture → the listener, from each picture’s PTS)';
  if (quiet.length === 0 || w.hammered.latencyMs.length === 0) {
    sheet.missing('latency_added_ms', 'no picture with a PTS reached the far end in a quiet or the hammered window');
    return 'added latency not observed';
  }
  const q50 = percentile(quiet, 50);
  const h50 = percentile(w.hammered.latencyMs, 50);
  const noise = Math.max(...slices) - Math.min(...slices);
  sheet.add('latency_quiet_ms_p50', q50, how);
  sheet.add('latency_quiet_ms_p99', percentile(quiet, 99), 'ms');
  sheet.add(
    'latency_noise_ms',
    noise,
    `ms (max − min of the median of each ${SLICE_MS / 1000} s slice of the quiet windows, ${slices.length} slices)`,
  );
  sheet.measured('latency_20_clients_ms_p50', percentile(w.withClients.latencyMs, 50), 'ms', 'no picture in the 20-client window');
  sheet.add('latency_hammered_ms_p50', h50, 'ms');
  sheet.add('latency_hammered_ms_p99', percentile(w.hammered.latencyMs, 99), 'ms');
  const added = h50 - q50;
  sheet.add('latency_added_ms', added, 'ms (hammered p50 − quiet p50)');
  return Math.abs(added) <= noise
    ? `latency +${added.toFixed(1)} ms hammered, within the ${noise.toFixed(1)} ms noise`
    : `latency ${added >= 0 ? '+' : ''}${added.toFixed(1)} ms hammered, outside the ${noise.toFixed(1)} ms noise`;
}

/** Sets the password with the setup code, as the page's first start does; the session cookie. */
async function setPassword(base: string, code: string): Promise<string> {
  const r = await fetch(`${base}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, password: PASSWORD }),
  });
  const cookie = r.headers.get('set-cookie')?.split(';')[0];
  if (r.status !== 200 || !cookie) throw new Error(`the status page refused the setup code (${r.status}): ${await r.text()}`);
  return cookie;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function hasTool(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    p.on('exit', (code) => resolve(code === 0));
    p.on('error', () => resolve(false));
  });
}

async function until(signal: AbortSignal, timeoutMs: number, what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  const start = performance.now();
  while (!(await cond())) {
    if (performance.now() - start > timeoutMs)
      throw new NotObservedError('status-page', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await wait(50, undefined, { signal });
  }
}
