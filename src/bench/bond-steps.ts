/**
 * The stepped bonded-goodput run that bond-venue and bond-harsh share: a
 * constant-rate TS steps up, each step one SRT session (latency 1500 ms)
 * through the bonding sender and receiver, each its own process so their CPU
 * is measured apart, over a set of emulated links (linksim, seeded). A step
 * holds when the received TS has zero continuity-counter errors, the SRT
 * listener dropped nothing and the file holds at least 99.5% of the bytes
 * sent (a chain that falls behind loses the end of the stream without a CC
 * error), the SRT caller's send buffer did not grow over the step (a chain
 * over capacity can end a short step whole while its backlog climbs), and
 * both SRT ends' statistics were read (a step nobody observed does not hold).
 * The receiver runs with the defaults `fieldcast receive` ships (reorder hold
 * from 50 ms, adapting up to 200 ms to how late reordered packets come). The bond stays up across steps, as on a venue where the box was on
 * all along.
 */
import { join } from 'node:path';
import type { LinkSpecInput } from '../linksim/index.js';
import { BondChain, makeTestTs, type StreamResult } from './bond-venue-chain.js';
import type { Figure, ScenarioOptions, ScenarioResult } from './types.js';

export interface SteppedBond {
  /** For its progress lines. */
  name: string;
  links: readonly LinkSpecInput[];
  /** Summed uplink capacity in bit/s (efficiency = clean rate / this). */
  capacityBps: number;
  /** Mbit/s: coarse at first, finer near the goal. */
  steps: readonly number[];
  quickSteps: readonly number[];
  goalEfficiency: number;
}

const STEP_S = 30;
const QUICK_STEP_S = 8;
const LATENCY_MS = 1500;
const GOAL_OVERHEAD = 1.15;
/** Share of the input bytes the listener's file must hold (as the end-to-end tests ask: the last packets of a session may be cut off). */
const MIN_DELIVERED = 0.995;
/**
 * Keeping up: the caller's send buffer at the end of a step may not have
 * grown by more than this over its second quarter, nor hold more than a
 * third of the latency (at a rate the links carry it stays near the RTT;
 * beyond, it climbs while repairs and queues pile up).
 */
const BUFFER_GROWTH_MS = 200;

function keepsUpWith(b: { earlyMs: number; lateMs: number }): boolean {
  return b.lateMs - b.earlyMs <= BUFFER_GROWTH_MS && b.lateMs < LATENCY_MS / 3;
}

interface StepResult {
  mbps: number;
  held: boolean;
  r: StreamResult;
  share: Record<string, number>;
  senderCpuPerMin: number;
  receiverCpuPerMin: number;
}

export async function runSteppedBond(b: SteppedBond, opts: ScenarioOptions): Promise<ScenarioResult> {
  const steps = opts.quick ? b.quickSteps : b.steps;
  const seconds = opts.quick ? QUICK_STEP_S : STEP_S;
  const ts = join(opts.workDir, 'cbr.ts');
  await makeTestTs(ts, Math.max(...steps) * 1e6, seconds + 2);
  const chain = new BondChain({ workDir: opts.workDir, processes: 'children', latencyMs: LATENCY_MS, seed: 1, links: b.links });
  const results: StepResult[] = [];
  try {
    await chain.start();
    for (const mbps of steps) {
      if (opts.signal.aborted) break;
      const before = chain.senderStats();
      const cpu0 = chain.cpu();
      const t0 = performance.now();
      const r = await chain.stream(`step-${mbps}`, ts, mbps * 1e6, seconds);
      const minutes = (performance.now() - t0) / 60_000;
      const cpu1 = chain.cpu();
      const after = chain.senderStats();
      const share: Record<string, number> = {};
      let total = 0;
      for (const l of after?.links ?? []) {
        const d = l.sentPackets - (before?.links.find((b) => b.name === l.name)?.sentPackets ?? 0);
        share[l.name] = d;
        total += d;
      }
      for (const k of Object.keys(share)) share[k] = total > 0 ? share[k]! / total : 0;
      // Whole: a chain that falls behind loses the end of the stream without a CC error (it is cut off).
      const delivered = r.outputBytes / Math.max(1, r.inputPackets * 1316);
      // A chain over capacity can end a short step whole while its backlog grows: it must keep up too.
      const keepsUp = r.sendBuffer !== undefined && keepsUpWith(r.sendBuffer);
      const held = r.problems.length === 0 && r.ccErrors === 0 && r.listener.dropped === 0 && delivered >= MIN_DELIVERED && keepsUp;
      results.push({
        mbps,
        held,
        r,
        share,
        senderCpuPerMin: (cpu1.sender - cpu0.sender) / minutes,
        receiverCpuPerMin: (cpu1.receiver - cpu0.receiver) / minutes,
      });
      process.stderr.write(
        `${b.name}: ${mbps} Mbit/s ${held ? 'held' : 'FAILED'} (CC errors ${r.ccErrors}, SRT dropped ${r.listener.dropped}, ` +
          `overhead ${(r.caller.packets / Math.max(1, r.caller.unique)).toFixed(3)}, packets in ${r.inputPackets}, ` +
          `out ${(delivered * 100).toFixed(2)}% of the bytes in, ` +
          `SRT sent ${r.caller.unique} unique, listener got ${r.listener.unique} unique, ` +
          `send buffer ${r.sendBuffer ? `${r.sendBuffer.earlyMs} -> ${r.sendBuffer.lateMs} ms${keepsUp ? '' : ': falling behind'}` : 'not read'}` +
          `${r.problems.length ? `; not observed: ${r.problems.join('; ')}` : ''})\n`,
      );
      if (!held) break;
    }
  } finally {
    await chain.close();
  }
  return summarise(b, results, opts.quick, seconds, chain.reorderMs);
}

function summarise(b: SteppedBond, results: StepResult[], quick: boolean, seconds: number, reorderMs: number): ScenarioResult {
  const best = [...results].reverse().find((s) => s.held);
  const failed = results.find((s) => !s.held);
  const max = best?.mbps ?? 0;
  const efficiency = max / (b.capacityBps / 1e6);
  const figures: Figure[] = [
    // No step held: the clean rate lies below the first step, it is not zero.
    best
      ? { name: 'max_clean_mbps', value: max, unit: 'Mbit/s' }
      : { name: 'max_clean_mbps', value: `below ${results[0]?.mbps ?? '?'}`, unit: 'Mbit/s' },
    {
      name: 'efficiency',
      value: best ? Number(efficiency.toFixed(3)) : `below ${((results[0]?.mbps ?? 0) / (b.capacityBps / 1e6)).toFixed(3)}`,
    },
    { name: 'step_seconds', value: seconds, unit: quick ? 's (quick)' : 's' },
    { name: 'receiver_reorder_ms', value: reorderMs, unit: 'ms, the floor of the adaptive hold (the shipped default)' },
  ];
  if (best) {
    for (const l of b.links)
      figures.push({ name: `share_${l.name.replace('-', '_')}`, value: Number((best.share[l.name] ?? 0).toFixed(3)) });
    const overhead = best.r.caller.packets / Math.max(1, best.r.caller.unique);
    figures.push(
      { name: 'srt_overhead', value: Number(overhead.toFixed(3)) },
      { name: 'srt_retransmitted', value: best.r.caller.retransmitted, unit: 'packets' },
      { name: 'listener_received_per_unique', value: Number((best.r.listener.packets / Math.max(1, best.r.listener.unique)).toFixed(3)) },
      { name: 'listener_reported_lost', value: best.r.listener.lost, unit: 'packets' },
      { name: 'sender_cpu_s_per_min', value: Number(best.senderCpuPerMin.toFixed(3)), unit: 's' },
      { name: 'receiver_cpu_s_per_min', value: Number(best.receiverCpuPerMin.toFixed(3)), unit: 's' },
    );
  }
  const unobserved: string[] = [];
  if (failed) {
    figures.push({ name: 'first_failed_mbps', value: failed.mbps, unit: 'Mbit/s' });
    if (failed.r.problems.length) unobserved.push(...failed.r.problems.map((p) => `step ${failed.mbps} Mbit/s: ${p}`));
    else
      figures.push(
        { name: 'first_failed_cc_errors', value: failed.r.ccErrors },
        { name: 'first_failed_srt_dropped', value: failed.r.listener.dropped, unit: 'packets' },
        ...(failed.r.sendBuffer
          ? [
              {
                name: 'first_failed_send_buffer_ms',
                value: `${failed.r.sendBuffer.earlyMs} -> ${failed.r.sendBuffer.lateMs}`,
                unit: 'ms (early -> end)',
              },
            ]
          : []),
      );
  }
  const overhead = figures.find((f) => f.name === 'srt_overhead')?.value;
  const effOk = efficiency >= b.goalEfficiency;
  const ovOk = typeof overhead === 'number' && overhead <= GOAL_OVERHEAD;
  const verdict =
    `efficiency ${efficiency.toFixed(2)} ${effOk ? 'meets' : 'misses'} the goal ${b.goalEfficiency}; ` +
    `srt_overhead ${overhead ?? 'n/a'} ${ovOk ? 'meets' : 'misses'} the goal ${GOAL_OVERHEAD}` +
    (failed ? `; first failing step ${failed.mbps} Mbit/s` : '; every step held');
  return { figures, verdict, ...(unobserved.length ? { unobserved } : {}) };
}
