/**
 * `fieldcast bench hotplug` (BENCHMARKS.md, "cost-policy and hotplug"):
 * uplinks plugged in and pulled out mid-stream.
 *
 *   box namespace:    fieldcast run (bond.enabled, every fcup* interface)
 *                       → veth uplinks fcup<i> (10.201.<i>.1/30)
 *   router namespace: fcgw<i> (.2) → fieldcast receive (10.99.0.1)
 *                       → srt-live-transmit listener → its stdout → here:
 *                       TsArrivals (pictures, gaps) and TsAnalyser (continuity)
 *
 * `fieldcast run` is its own process, as systemd runs it, and follows the
 * box's interfaces itself; its status is read over the control socket. It
 * streams the test pattern at 1280x720, 4 Mbit/s, a keyframe a second.
 *
 * Two uplinks to begin with; once the stream is live and pictures arrive at
 * the listener, rounds (5, 2 with --quick) of: plug in a new uplink (veth up,
 * address, default route) and time it until it carries traffic — its
 * sentPackets in the status's bond.links at 20 or more, polled every 50 ms;
 * let it run a few seconds; pull out (delete) the oldest uplink and count,
 * at the listener, the TS packets lost across the pull (where the continuity
 * counters skip) and the longest time without a picture from the pull on.
 * There are never fewer than two uplinks.
 *
 * Nothing leaves the two namespaces; they are removed at the end whatever
 * happened, and the run's processes with them.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { percentile } from '../media/far-end.js';
import { TsAnalyser, TsArrivals } from '../mux/index.js';
import { nativeAvailable } from '../native/index.js';
import { controlCall } from '../supervisor/control.js';
import type { StatusSnapshot } from '../supervisor/snapshot.js';
import { missingForNetns, missingTools, NetnsRig, type RigUplink } from './netns-rig.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
/** Ports inside the router namespace, which is this run's alone. */
const SRT_PORT = 47_321;
const BOND_PORT = 47_322;
const LATENCY_MS = 400;
const VIDEO_BPS = 4_000_000;
/** A new uplink carries traffic once the bond has sent this many packets on it. */
const CARRYING_PACKETS = 20;
const POLL_MS = 50;
/** A new uplink that has not carried traffic after this long is reported as never carrying. */
const CARRYING_TIMEOUT_MS = 15_000;
/** The stream runs this long on the new uplink before an old one is pulled. */
const BEFORE_PULL_MS = 3_000;
/** Loss and gaps are counted from the pull until at least this long after it (SRT recovery included). */
const AFTER_PULL_MS = 4_000;
const GOAL_CARRYING_MS = 5_000;
/** Not a BENCHMARKS.md goal: the bound the uplink hotplug test holds a pull to. */
const GOAL_STALL_MS = 1_000;

interface Pull {
  link: string;
  lostPackets: number;
  ccErrors: number;
  stallMs: number;
  /** From the pull to the bond dropping the link, ms (undefined: it did not within the window). */
  goneMs: number | undefined;
}

export const scenario: Scenario = {
  name: 'hotplug',
  description: 'uplinks plugged in and pulled out mid-stream, in network namespaces: time to carry traffic, loss',
  async run({ quick, workDir, signal }): Promise<ScenarioResult> {
    const rounds = quick ? 2 : 5;
    const missing = [
      ...(await missingForNetns()),
      ...missingTools('srt-live-transmit'),
      ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
    ];
    if (missing.length > 0) throw new NotObservedError('hotplug', `this machine lacks ${missing.join(', ')}`);

    const sheet = new FigureSheet();
    const rig = new NetnsRig();
    const procs: { name: string; p: ChildProcess }[] = [];
    const logs: number[] = [];
    const arrivals = new TsArrivals();
    const analyser = new TsAnalyser();
    try {
      await rig.create();
      const uplinks: RigUplink[] = [await rig.addUplink(1, 101), await rig.addUplink(2, 102)];
      const env = { ...process.env, FIELDCAST_LOG: 'warn' };
      const start = (name: string, ns: string, args: string[]): ChildProcess => {
        const log = openSync(path.join(workDir, `${name}.log`), 'a');
        logs.push(log);
        const p = rig.spawnIn(ns, args, { stdio: ['ignore', name === 'listener' ? 'pipe' : log, log], env });
        procs.push({ name, p });
        return p;
      };

      // The far end, in the router: the listener (its TS on stdout, read here) and the bonding receiver.
      const listener = start('listener', rig.router, [
        'srt-live-transmit',
        '-q',
        '-c',
        '1316',
        `srt://:${SRT_PORT}?mode=listener&latency=${LATENCY_MS}`,
        'file://con',
      ]);
      listener.stdout!.on('data', (d: Buffer) => {
        arrivals.push(d);
        analyser.push(d);
      });
      start('receive', rig.router, [
        process.execPath,
        CLI,
        'receive',
        '--listen',
        `${rig.receiverAddress}:${BOND_PORT}`,
        '--forward',
        `srt://127.0.0.1:${SRT_PORT}`,
      ]);

      const configFile = path.join(workDir, 'config.json');
      writeFileSync(
        configFile,
        `${JSON.stringify(
          {
            deviceName: 'bench-hotplug',
            video: { bitrate: VIDEO_BPS, adaptive: false, keyframeSeconds: 1 },
            destinations: [{ url: `srt://${rig.receiverAddress}:${BOND_PORT}`, latencyMs: LATENCY_MS }],
            bond: { enabled: true },
            uplinks: { interfaces: ['fcup*'] },
          },
          null,
          2,
        )}\n`,
      );
      const stateDir = path.join(workDir, 'state');
      mkdirSync(stateDir, { recursive: true });
      const socketPath = path.join(workDir, 'control.sock');
      start('run', rig.box, [
        process.execPath,
        CLI,
        'run',
        '--config',
        configFile,
        '--state-dir',
        stateDir,
        '--socket',
        socketPath,
        '--quiet',
      ]);

      /** Fails the run, saying so, when one of the processes it needs has died. */
      const alive = (): void => {
        for (const { name, p } of procs)
          if (p.exitCode !== null || p.signalCode !== null)
            throw new NotObservedError(
              'hotplug',
              `${name === 'listener' ? 'srt-live-transmit' : `fieldcast ${name}`} exited (${p.exitCode ?? p.signalCode}); its log is ${name}.log (--keep)`,
            );
      };
      const status = async (): Promise<StatusSnapshot | undefined> =>
        existsSync(socketPath)
          ? ((await controlCall(socketPath, { op: 'status' }, { timeoutMs: 2_000 }).catch(() => undefined)) as StatusSnapshot | undefined)
          : undefined;
      const links = (s: StatusSnapshot | undefined): Map<string, number> =>
        new Map((s?.bond?.links ?? []).map((l) => [l.name, l.sentPackets]));
      /** Polls `cond` until it holds (true) or `timeoutMs` pass (false). */
      const until = async (timeoutMs: number, cond: () => Promise<boolean> | boolean): Promise<boolean> => {
        const t0 = performance.now();
        while (performance.now() - t0 < timeoutMs) {
          alive();
          if (await cond()) return true;
          await wait(POLL_MS, undefined, { signal });
        }
        return false;
      };
      const mustUntil = async (what: string, timeoutMs: number, cond: () => Promise<boolean> | boolean): Promise<void> => {
        if (!(await until(timeoutMs, cond))) throw new NotObservedError('hotplug', `timed out after ${timeoutMs} ms waiting for ${what}`);
      };

      await mustUntil('the stream live over fcup1 and fcup2 with pictures at the listener', 45_000, async () => {
        const s = await status();
        const l = links(s);
        return s?.state === 'live' && (l.get('fcup1') ?? 0) > 0 && (l.get('fcup2') ?? 0) > 0 && arrivals.pictures.length > 60;
      });
      await wait(BEFORE_PULL_MS, undefined, { signal });
      const live = await status();
      if (live) sheet.add('stream_ts_mbps', live.stream.tsBitrateBps / 1e6, 'Mbit/s');

      const carrying: { link: string; ms: number | undefined }[] = [];
      const pulls: Pull[] = [];
      const unobservedPulls: string[] = [];
      let next = 3;
      for (let r = 0; r < rounds; r++) {
        // Plug in: timed from the `ip link add` to the bond carrying CARRYING_PACKETS on it.
        const i = next++;
        const name = `fcup${i}`;
        const pluggedAt = performance.now();
        uplinks.push(await rig.addUplink(i, 100 + i));
        let carryingMs: number | undefined;
        await until(CARRYING_TIMEOUT_MS, async () => {
          const n = links(await status()).get(name) ?? 0;
          if (n >= CARRYING_PACKETS) carryingMs = performance.now() - pluggedAt;
          return carryingMs !== undefined;
        });
        carrying.push({ link: name, ms: carryingMs });
        await wait(BEFORE_PULL_MS, undefined, { signal });

        // Pull out the oldest: what the listener lost across it, and the longest gap in pictures.
        const pulled = uplinks.shift()!;
        const before = analyser.report();
        const pulledAt = performance.now();
        await rig.removeUplink(pulled);
        let goneMs: number | undefined;
        await until(AFTER_PULL_MS, async () => {
          if (!links(await status()).has(pulled.name)) goneMs = performance.now() - pulledAt;
          return goneMs !== undefined;
        });
        const resumed = await until(
          20_000,
          () => performance.now() - pulledAt >= AFTER_PULL_MS && arrivals.picturesAfter(pulledAt + AFTER_PULL_MS - 1_000).length > 15,
        );
        if (!resumed) {
          unobservedPulls.push(`no picture arrived at the listener in the 20 s after ${pulled.name} was pulled`);
          break;
        }
        const after = analyser.report();
        pulls.push({
          link: pulled.name,
          lostPackets: after.missingPackets - before.missingPackets,
          ccErrors: (after.checks.Continuity_count_error ?? 0) - (before.checks.Continuity_count_error ?? 0),
          stallMs: arrivals.longestGap(pulledAt),
          goneMs,
        });
      }

      // Figures.
      const carried = carrying.filter((c): c is { link: string; ms: number } => c.ms !== undefined);
      const never = carrying.filter((c) => c.ms === undefined).map((c) => c.link);
      sheet.add('rounds', carrying.length);
      if (carried.length === 0) sheet.missing('uplink_carrying_ms_p50', `no new uplink carried traffic within ${CARRYING_TIMEOUT_MS} ms`);
      else {
        // An uplink that never carried counts as slower than any that did.
        const times = carrying.map((c) => c.ms ?? Number.POSITIVE_INFINITY);
        const p50 = percentile(times, 50);
        if (Number.isFinite(p50)) sheet.add('uplink_carrying_ms_p50', Math.round(p50), 'ms');
        else sheet.add('uplink_carrying_ms_p50', 'never', `(${never.join(', ')} not carrying within ${CARRYING_TIMEOUT_MS} ms)`);
      }
      if (never.length > 0)
        sheet.add('uplink_carrying_ms_max', 'never', `(${never.join(', ')} not carrying within ${CARRYING_TIMEOUT_MS} ms)`);
      else if (carried.length > 0) sheet.add('uplink_carrying_ms_max', Math.round(Math.max(...carried.map((c) => c.ms))), 'ms');
      else sheet.missing('uplink_carrying_ms_max', 'no uplink was plugged in');

      const lost = pulls.reduce((n, p) => n + p.lostPackets, 0);
      const cc = pulls.reduce((n, p) => n + p.ccErrors, 0);
      if (unobservedPulls.length > 0 || pulls.length === 0) {
        const why = unobservedPulls[0] ?? 'no uplink was pulled';
        sheet.missing('lost_ts_packets_on_pull', why);
        sheet.missing('stall_ms_on_pull_max', why);
      } else {
        sheet.add('lost_ts_packets_on_pull', lost, `(where the continuity counters skip, over ${pulls.length} pulls)`);
        sheet.add('cc_errors_on_pull', cc);
        sheet.add('stall_ms_on_pull_max', Math.round(Math.max(...pulls.map((p) => p.stallMs))), 'ms');
      }
      const gone = pulls.map((p) => p.goneMs);
      if (gone.length > 0 && gone.every((g) => g !== undefined))
        sheet.add('pulled_link_gone_ms_max', Math.round(Math.max(...(gone as number[]))), 'ms');
      else if (gone.length > 0)
        sheet.missing(
          'pulled_link_gone_ms_max',
          `${pulls
            .filter((p) => p.goneMs === undefined)
            .map((p) => p.link)
            .join(', ')} still in the bond ${AFTER_PULL_MS} ms after the pull`,
        );
      sheet.add('pictures_received', arrivals.pictures.length);

      const held: string[] = [];
      const missed: string[] = [];
      if (carried.length > 0 || never.length > 0) {
        const max = carried.length ? Math.max(...carried.map((c) => c.ms)) : 0;
        if (never.length > 0) missed.push(`${never.join(', ')} never carried traffic`);
        else
          (max < GOAL_CARRYING_MS ? held : missed).push(
            `every new uplink carrying within ${Math.round(max)} ms (goal < ${GOAL_CARRYING_MS} ms)`,
          );
      }
      if (pulls.length > 0 && unobservedPulls.length === 0) {
        (lost === 0 && cc === 0 ? held : missed).push(`${lost} TS packets lost and ${cc} CC errors over ${pulls.length} pulls (goal 0)`);
        const stall = Math.max(...pulls.map((p) => p.stallMs));
        (stall < GOAL_STALL_MS ? held : missed).push(`longest picture gap on a pull ${Math.round(stall)} ms (< ${GOAL_STALL_MS} ms)`);
      }
      if (unobservedPulls.length > 0) missed.push(unobservedPulls[0]!);
      return sheet.result(`held: ${held.join(', ') || 'nothing'}; not held: ${missed.join(', ') || 'nothing'}`);
    } finally {
      // fieldcast run first (it sends), then the receiver, then the listener.
      for (const { p } of procs.reverse()) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        p.kill('SIGTERM');
        await Promise.race([new Promise((r) => p.once('exit', r)), wait(5_000)]);
        if (p.exitCode === null && p.signalCode === null) {
          p.kill('SIGKILL');
          await Promise.race([new Promise((r) => p.once('exit', r)), wait(2_000)]);
        }
      }
      for (const fd of logs) closeSync(fd);
      await rig.destroy();
    }
  },
};
