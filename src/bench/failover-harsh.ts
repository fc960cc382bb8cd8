/**
 * `fieldcast bench failover-harsh` (BENCHMARKS.md): the failover a new user
 * meets first — four unequal uplinks, every survivor lossy, the best one dark
 * for 8 s under a TS passthrough — repeated over many seeded runs, because the
 * loss it looks for shows in a few runs of twenty, not in every one.
 *
 *   TS file (4.5 Mbit/s CBR) → stream unit passthrough (pipeline process, SRT
 *     latency 1500 ms, bonding sender) → cell-a/b/c/d (linksim) → bonding
 *     receiver (shipped reorder hold: from 50 ms, adaptive) → SRT listener → TS analyser
 *
 * The links (one-way delay, jitter, loss in Gilbert-Elliott bursts of the mean
 * length given; the return path has the same delay, a quarter of the jitter
 * and no loss):
 *
 * | link   | rate     | one-way | jitter | loss | burst |
 * | cell-a | 4 Mbit/s   | 40 ms  | ±5 ms  | 1%   | 3     |
 * | cell-b | 3 Mbit/s   | 80 ms  | ±10 ms | 2%   | 5     |
 * | cell-c | 3 Mbit/s   | 120 ms | ±15 ms | 3%   | 8     |
 * | cell-d | 1.5 Mbit/s | 180 ms | ±20 ms | 4%   | 10    |
 *
 * cell-a, the best, goes dark (both directions) for 8 s mid-stream. The
 * survivors carry 7.5 Mbit/s; the stream needs about 4.5 x 1.034 (SRT and UDP
 * headers) x 1.03 (repairs of their 2-4% loss) ≈ 4.8 Mbit/s, two thirds of
 * that: whatever is lost is the bonding's doing, not a lack of capacity.
 *
 * The source is the stream unit's own TS passthrough reading a file (paced in
 * real time by its PCR, sent whole from its first byte): a UDP input would
 * add its own drops on a busy machine, and those would be counted as the
 * bond's. There is no bit rate controller in a passthrough, so the rate stays
 * 4.5 Mbit/s through the outage, as with the user's encoder.
 *
 * Each run has its own seed, links, receiver, listener and stream unit, and a
 * bounded length. Lost TS packets are counted at the listener as every
 * failover scenario counts them (lost-packets.ts).
 */
import { join } from 'node:path';
import { DestinationConfig } from '../config/schema.js';
import { pause as sleep } from '../lib/sleep.js';
import { cellLink, type LinkSpecInput } from '../linksim/index.js';
import { defaultMux } from '../media/spec.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { makeTestTs } from './bond-venue-chain.js';
import { startBondedPath } from './bonded-path.js';
import { lostTsPackets } from './lost-packets.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioOptions, type ScenarioResult } from './types.js';

const LATENCY_MS = 1500;
const TS_BPS = 4_500_000;
const DEAD_LINK = 'cell-a';
const OUTAGE_S = 8;
const RUNS = 20;
const QUICK_RUNS = 5;
/** The first data must reach the listener within this (start-up on a loaded machine takes what it takes). */
const FIRST_DATA_MS = 20_000;

/** The table gives one-way delays; cellLink takes the RTT. */
function link(name: string, rate: string, oneWayMs: number, jitterMs: number, loss: number, burst: number): LinkSpecInput {
  return cellLink(name, rate, oneWayMs * 2, jitterMs, loss, burst);
}

export const HARSH_FAILOVER_LINKS: readonly LinkSpecInput[] = Object.freeze([
  link('cell-a', '4M', 40, 5, 0.01, 3),
  link('cell-b', '3M', 80, 10, 0.02, 5),
  link('cell-c', '3M', 120, 15, 0.03, 8),
  link('cell-d', '1.5M', 180, 20, 0.04, 10),
]);

/** What one run observed. */
export interface HarshRun {
  seed: number;
  lost: number;
  /** TS packets the continuity counters skip, in how many gaps, and when (s after the first data). */
  ccMissing: number;
  ccGaps: number;
  gapAtS: number[];
  /** SRT packets the listener dropped as too late. */
  srtDropped: number;
  tsPackets: number;
  /** When the outage began, s after the first data. */
  outageAtS: number;
  redundantRepairs: number;
  held: number;
}

interface Timing {
  /** Seconds of stream before the outage, and after it ends. */
  beforeS: number;
  afterS: number;
}

export async function harshRun(ts: string, seed: number, timing: Timing, signal: AbortSignal): Promise<HarshRun> {
  const analyser = new TsAnalyser();
  let firstAt = 0;
  let rcvDrops: number | undefined;
  let ccSeen = 0;
  const gapAtS: number[] = [];
  const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=${LATENCY_MS}`, { role: 'receive', statsIntervalMs: 250 });
  listener.on('data', (chunk) => {
    firstAt ||= performance.now();
    analyser.push(chunk);
  });
  listener.on('stats', (s) => {
    rcvDrops = s.pktRcvDropTotal;
  });
  // When a continuity gap shows, to the quarter second: where in the run the loss happened.
  const watch = setInterval(() => {
    const n = analyser.report().checks.Continuity_count_error ?? 0;
    if (n > ccSeen && firstAt) for (; ccSeen < n; ccSeen++) gapAtS.push(Math.round((performance.now() - firstAt) / 250) / 4);
  }, 250);
  const port = await startListening(listener);
  const path = await startBondedPath(port, HARSH_FAILOVER_LINKS, seed);
  const unit = new StreamUnit({
    source: { kind: 'passthrough', input: ts, loop: false },
    mux: defaultMux(),
    destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: LATENCY_MS }),
    bond: path.bond,
  });
  try {
    await unit.start();
    const until = performance.now() + FIRST_DATA_MS;
    while (!firstAt && performance.now() < until && !signal.aborted) await sleep(20, signal);
    if (!firstAt)
      throw new NotObservedError('lost_ts_packets', `nothing reached the listener within ${FIRST_DATA_MS / 1000} s (seed ${seed})`);
    await sleep(Math.max(0, firstAt + timing.beforeS * 1000 - performance.now()), signal);
    const outageAtS = (performance.now() - firstAt) / 1000;
    path.links.link(DEAD_LINK).set({ outage: OUTAGE_S });
    await sleep((OUTAGE_S + timing.afterS) * 1000, signal);
    // What is still on its way, and SRT's repairs of it, land within the latency.
    await sleep(LATENCY_MS + 500, signal);
    const bond = unit.bondSender?.stats();
    const report = analyser.report();
    if (rcvDrops === undefined) throw new NotObservedError('lost_ts_packets', `the listener's SRT statistics never came (seed ${seed})`);
    return {
      seed,
      lost: lostTsPackets(report.missingPackets, rcvDrops),
      ccMissing: report.missingPackets,
      ccGaps: report.checks.Continuity_count_error ?? 0,
      gapAtS,
      srtDropped: rcvDrops,
      tsPackets: report.packets,
      outageAtS: Math.round(outageAtS * 10) / 10,
      redundantRepairs: bond?.redundantRetransmissions ?? 0,
      held: bond?.heldTotal ?? 0,
    };
  } finally {
    clearInterval(watch);
    await unit.stop();
    path.close();
    listener.close();
  }
}

function describeRun(i: number, r: HarshRun): string {
  const gaps = r.gapAtS.length ? ` at ${r.gapAtS.map((s) => `${s} s`).join(', ')}` : '';
  return (
    `run ${i + 1} (seed ${r.seed}): ${r.lost} lost TS packets (continuity counters skip ${r.ccMissing} in ${r.ccGaps} gaps${gaps}; ` +
    `SRT dropped ${r.srtDropped} too late; outage from ${r.outageAtS} s; ${r.tsPackets} TS packets; ` +
    `${r.held} held in the sender, ${r.redundantRepairs} redundant repairs not sent)`
  );
}

async function run(opts: ScenarioOptions): Promise<ScenarioResult> {
  const runs = opts.runs ?? (opts.quick ? QUICK_RUNS : RUNS);
  const timing: Timing = opts.quick ? { beforeS: 8, afterS: 4 } : { beforeS: 12, afterS: 6 };
  const ts = join(opts.workDir, 'cbr-4m5.ts');
  // Long enough for the whole run: before, outage, after and the latency, with a margin.
  await makeTestTs(ts, TS_BPS, timing.beforeS + OUTAGE_S + timing.afterS + 8);
  const results: HarshRun[] = [];
  for (let i = 0; i < runs && !opts.signal.aborted; i++) {
    const r = await harshRun(ts, 1000 + i, timing, opts.signal);
    results.push(r);
    process.stderr.write(`failover-harsh: ${describeRun(i, r)}\n`);
  }
  if (results.length === 0) throw new NotObservedError('lost_ts_packets', 'no run finished');
  const sheet = new FigureSheet();
  sheet.add('runs', results.length, opts.quick ? '(quick)' : undefined);
  for (const [i, r] of results.entries()) sheet.add(`run_${String(i + 1).padStart(2, '0')}_lost_ts_packets`, r.lost, `(seed ${r.seed})`);
  const clean = results.filter((r) => r.lost === 0).length;
  const worst = results.reduce((a, b) => (b.lost > a.lost ? b : a));
  sheet.add('runs_with_0_lost', `${clean}/${results.length}`);
  sheet.add(
    'worst_run_lost_ts_packets',
    worst.lost,
    `(seed ${worst.seed}${worst.gapAtS.length ? `, gaps at ${worst.gapAtS.join(', ')} s` : ''})`,
  );
  sheet.add('ts_bitrate', TS_BPS / 1e6, 'Mbit/s (passthrough)');
  sheet.add('capacity_during_outage', 7.5, `Mbit/s (the configured link rates without ${DEAD_LINK})`);
  const verdict =
    clean === results.length
      ? `held: 0 lost TS packets in ${clean} runs of ${results.length}`
      : `not held: TS packets lost in ${results.length - clean} runs of ${results.length} (worst ${worst.lost})`;
  return sheet.result(verdict);
}

export const scenario: Scenario = {
  name: 'failover-harsh',
  description: 'four unequal lossy links, the best dark for 8 s under a 4.5 Mbit/s passthrough: lost TS packets over many runs',
  run,
};
