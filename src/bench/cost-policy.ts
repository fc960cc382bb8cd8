/**
 * `fieldcast bench cost-policy` (BENCHMARKS.md): a free 10 Mbit/s link (the
 * venue's ethernet) and two metered cellular links, a 6 Mbit/s stream, metered
 * links "when needed" (the default). The free link goes dark mid-stream for a
 * while, then returns.
 *
 *   test pattern → stream unit (pipeline, SRT, bonding sender)
 *     → eth (free), cell-a, cell-b (metered; linksim) → bonding receiver
 *     → SRT listener → TS analyser
 *
 * Figures, each observed in this run:
 * - metered_share_free_up: the metered links' share of the data packets the
 *   bonding sender sent while the free link was up (the first phase, after a
 *   few seconds' start-up), and metered_share_after_return the same once it
 *   is back;
 * - lost_ts_packets and stall_ms at the listener across the failure, counted
 *   as the failover benchmark counts them;
 * - metered_step_in_ms: from the failure to the metered links carrying the
 *   stream (20 packets sent on them since, polled every 20 ms).
 */
import { DestinationConfig } from '../config/schema.js';
import { pause as sleep } from '../lib/sleep.js';
import type { LinkSpecInput } from '../linksim/index.js';
import { videoPesStarts } from '../media/far-end.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { startBondedPath } from './bonded-path.js';
import { lostTsPackets } from './lost-packets.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const LATENCY_MS = 1500;
const VIDEO_BPS = 6_000_000;
const FREE = 'eth';
const GOAL_SHARE = 0.05;
const GOAL_STALL_MS = 200;
const GOAL_STEP_IN_MS = 500;
/** The metered links have stepped in once they carried this many packets after the failure (polled every 20 ms). */
const STEP_IN_PACKETS = 20;

const LINKS: readonly LinkSpecInput[] = [
  {
    name: FREE,
    listen: '127.0.0.1:0',
    up: { rate: '10M', delayMs: 10, jitterMs: 2, loss: 0.001, burst: 2, queueMs: 250 },
    down: { delayMs: 10 },
  },
  {
    name: 'cell-a',
    listen: '127.0.0.1:0',
    up: { rate: '8M', delayMs: 20, jitterMs: 10, loss: 0.005, burst: 3, queueMs: 250 },
    down: { delayMs: 20, jitterMs: 2.5 },
  },
  {
    name: 'cell-b',
    listen: '127.0.0.1:0',
    up: { rate: '5M', delayMs: 35, jitterMs: 20, loss: 0.01, burst: 5, queueMs: 250 },
    down: { delayMs: 35, jitterMs: 5 },
  },
];

export const scenario: Scenario = {
  name: 'cost-policy',
  description: 'a free link and two metered ones: the metered share, and the failover when the free link dies',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const warmS = 4;
    const upS = quick ? 10 : 20;
    const outageS = quick ? 6 : 12;
    const afterS = quick ? 8 : 15;

    const analyser = new TsAnalyser();
    let lastPicture = 0;
    let pictures = 0;
    /** Gaps between pictures at the listener, with when each ended. */
    const gaps: { at: number; ms: number }[] = [];
    let rcvDrops: number | undefined;
    const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=${LATENCY_MS}`, { role: 'receive', statsIntervalMs: 250 });
    listener.on('data', (chunk) => {
      analyser.push(chunk);
      const n = videoPesStarts(chunk).length;
      if (n === 0) return;
      const now = performance.now();
      if (lastPicture && pictures > 30) gaps.push({ at: now, ms: now - lastPicture });
      lastPicture = now;
      pictures += n;
    });
    listener.on('stats', (s) => {
      rcvDrops = s.pktRcvDropTotal;
    });
    const port = await startListening(listener);
    const path = await startBondedPath(port, LINKS, 31);
    const unit = new StreamUnit({
      source: testPatternSource({ inputName: 'bench', bitrate: VIDEO_BPS, adaptive: false }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: LATENCY_MS, pbkeylen: 32 }),
      bond: {
        ...path.bond,
        links: path.bond.links.map((l) => ({ ...l, metered: l.name !== FREE })),
        meteredWhenNeeded: true,
      },
    });
    await unit.start();
    const sender = unit.bondSender!;
    /** Data packets sent so far, per link. */
    const sent = (): Map<string, number> => new Map(sender.stats().links.map((l) => [l.name, l.sentPackets]));
    const meteredShare = (from: Map<string, number>, to: Map<string, number>): number | undefined => {
      let metered = 0;
      let all = 0;
      for (const [name, n] of to) {
        const d = n - (from.get(name) ?? 0);
        all += d;
        if (name !== FREE) metered += d;
      }
      return all > 0 ? metered / all : undefined;
    };

    await sleep(warmS * 1000, signal);
    const upFrom = sent();
    await sleep(upS * 1000, signal);
    const upTo = sent();
    const failedAt = performance.now();
    path.links.link(FREE).set({ outage: outageS });
    // The metered links step in: the first few packets on them after the failure (20 packets: about 35 ms of the stream).
    let stepInMs: number | undefined;
    const meteredAt = (m: Map<string, number>): number => [...m].reduce((n, [name, v]) => (name === FREE ? n : n + v), 0);
    const atFailure = meteredAt(upTo);
    while (performance.now() - failedAt < outageS * 1000 && !signal.aborted) {
      await sleep(20, signal);
      if (stepInMs === undefined && meteredAt(sent()) - atFailure >= STEP_IN_PACKETS) stepInMs = performance.now() - failedAt;
    }
    const backAt = performance.now();
    await sleep(Math.min(5, afterS / 2) * 1000, signal);
    const afterFrom = sent();
    await sleep((afterS - Math.min(5, afterS / 2)) * 1000, signal);
    const afterTo = sent();
    await unit.stop();
    await new Promise((r) => setTimeout(r, 500));
    path.close();
    listener.close();

    if (pictures === 0) throw new NotObservedError('cost-policy', 'no picture arrived at the listener');
    const sheet = new FigureSheet();
    const shareUp = meteredShare(upFrom, upTo);
    sheet.measured('metered_share_free_up', shareUp === undefined ? undefined : shareUp * 100, '% of data packets', 'nothing was sent');
    const report = analyser.report();
    if (rcvDrops === undefined) sheet.missing('lost_ts_packets', "the listener's SRT statistics never came");
    else
      sheet.add(
        'lost_ts_packets',
        lostTsPackets(report.missingPackets, rcvDrops),
        `(continuity counters skip ${report.missingPackets}; SRT dropped ${rcvDrops} too late)`,
      );
    const failoverGaps = gaps.filter((g) => g.at >= failedAt && g.at <= backAt + 2000);
    const stallMs = failoverGaps.length ? Math.max(...failoverGaps.map((g) => g.ms)) : undefined;
    sheet.measured('stall_ms', stallMs === undefined ? undefined : Math.round(stallMs), 'ms', 'no picture arrived during the outage');
    if (stepInMs === undefined) sheet.add('metered_step_in_ms', 'never', `(the metered links did not carry the stream in ${outageS} s)`);
    else sheet.add('metered_step_in_ms', Math.round(stepInMs), 'ms');
    const shareAfter = meteredShare(afterFrom, afterTo);
    sheet.measured(
      'metered_share_after_return',
      shareAfter === undefined ? undefined : shareAfter * 100,
      '% of data packets',
      'nothing was sent after the return',
    );
    sheet.add('pictures_received', pictures);

    const held: string[] = [];
    const missed: string[] = [];
    if (shareUp !== undefined) (shareUp < GOAL_SHARE ? held : missed).push(`metered share ${(shareUp * 100).toFixed(1)}% while free`);
    const lost = sheet.value('lost_ts_packets');
    if (typeof lost === 'number') (lost === 0 ? held : missed).push(`${lost} lost TS packets`);
    if (stallMs !== undefined) (stallMs < GOAL_STALL_MS ? held : missed).push(`stall ${Math.round(stallMs)} ms`);
    if (stepInMs !== undefined) (stepInMs < GOAL_STEP_IN_MS ? held : missed).push(`metered links in after ${Math.round(stepInMs)} ms`);
    if (shareAfter !== undefined)
      (shareAfter < GOAL_SHARE ? held : missed).push(`metered share ${(shareAfter * 100).toFixed(1)}% after the return`);
    return sheet.result(`held: ${held.join(', ') || 'nothing'}; not held: ${missed.join(', ') || 'nothing'}`);
  },
};
