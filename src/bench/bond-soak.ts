/**
 * `fieldcast bench bond-soak` (issue 12): the sender's memory while live, over
 * a long run at 10 Mbit/s — its steady RSS and whether it grows.
 *
 *   a 10 Mbit/s CBR TS file (bond-cpu's recorded stream, padded with null
 *   packets) → `fieldcast send --input FILE --loop --bond` (its pipeline
 *   process paces the TS by its PCR; the send process holds SRT and the
 *   bonding sender) → 3 emulated links (`fieldcast linksim`, 20 ms each way,
 *   1 % loss on one so repairs and their bookkeeping are exercised) →
 *   `fieldcast receive` → srt-live-transmit listener → UDP back here
 *
 * Every 10 s the RSS (VmRSS) of the send process, its pipeline process and the
 * receiver is read from /proc. The first two minutes are warm-up (V8 sizes its
 * heap, libsrt its buffers); after it, the figures are the steady RSS (the
 * median of the warm-up's next five minutes of samples), the last RSS (the
 * median of the last minute's) and the growth: the least-squares slope over
 * every sample after the warm-up, in MB per hour. A leak of a few bytes per
 * packet shows as a steady slope, where the GC's saw-tooth averages out.
 *
 * The far end must have got the stream (bytes at the rate, continuity beyond
 * the file's own loops), or no figure is printed: a sender that stalled would
 * hold still in memory too. 30 minutes by default; `--quick` runs 4.
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freeUdpPort } from '../lib/udp-ports.js';
import { TsAnalyser } from '../mux/index.js';
import { padTo, recordSource } from './bond-cpu.js';
import { childOf, QuietChildren, rssMb } from './proc.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioOptions, type ScenarioResult } from './types.js';

const CLI = fileURLToPath(new URL('../../bin/fieldcast.js', import.meta.url));
const MBPS = 10;
const LATENCY_MS = 1000;
const SAMPLE_MS = 10_000;
/** Growth over the run after the warm-up that counts as none: the GC's saw-tooth and allocator noise. */
const GOAL_GROWTH_MB = 4;
/** The far end must get this share of what the rate promises (start-up and the links' loss repaired by SRT). */
const MIN_DELIVERED = 0.97;

interface Sample {
  /** Seconds since the stream started. */
  t: number;
  send: number;
  pipeline: number;
  receive: number;
}

type Who = 'send' | 'pipeline' | 'receive';

/** Least-squares slope of `y` over `t` (per second). */
export function slope(points: readonly { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
}

async function run(opts: ScenarioOptions): Promise<ScenarioResult> {
  const { quick, workDir, signal } = opts;
  const totalS = quick ? 4 * 60 : 30 * 60;
  const warmS = quick ? 60 : 120;
  const steadyS = quick ? 60 : 5 * 60;
  const ts = path.join(workDir, `soak-${MBPS}m.ts`);
  writeFileSync(ts, padTo(await recordSource(workDir), MBPS, workDir));

  const children = new QuietChildren();
  const end = { bytes: 0, analyser: new TsAnalyser(), sock: dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 }) };
  end.sock.on('message', (m) => {
    end.bytes += m.length;
    end.analyser.push(m);
  });
  try {
    const [endPort, listen, recvPort, via1, via2, via3] = await Promise.all(Array.from({ length: 6 }, () => freeUdpPort()));
    await new Promise<void>((r) => end.sock.bind(endPort, '127.0.0.1', () => r()));
    children.spawn('srt-live-transmit', [
      '-q',
      '-c',
      '1316',
      `srt://:${listen}?mode=listener&latency=${LATENCY_MS}`,
      `udp://127.0.0.1:${endPort}`,
    ]);
    const link = (name: string, via: number, loss: number) => ({
      name,
      listen: `127.0.0.1:${via}`,
      up: { rate: '60M', delayMs: 20, loss },
      down: { delayMs: 20 },
    });
    const linksFile = path.join(workDir, 'soak-links.json');
    writeFileSync(
      linksFile,
      JSON.stringify({ seed: 1, target: `127.0.0.1:${recvPort}`, links: [link('a', via1, 0), link('b', via2, 0.01), link('c', via3, 0)] }),
    );
    children.spawn(process.execPath, [CLI, 'linksim', '--config', linksFile, '--interval', '3600']);
    const receive = children.spawn(process.execPath, [
      CLI,
      'receive',
      '--listen',
      `127.0.0.1:${recvPort}`,
      '--forward',
      `srt://127.0.0.1:${listen}`,
      '--status-interval',
      '0',
    ]);
    await wait(1500, undefined, { signal });
    const send = children.spawn(process.execPath, [
      CLI,
      'send',
      '--input',
      ts,
      '--loop',
      '--to',
      `srt://127.0.0.1:${recvPort}`,
      '--latency',
      String(LATENCY_MS),
      '--bond',
      ...[via1, via2, via3].flatMap((v, i) => ['--link', `name=${'abc'[i]},via=127.0.0.1:${v}`]),
    ]);
    // The stream has started when the far end hears it.
    const startBy = performance.now() + 20_000;
    while (end.bytes === 0 && performance.now() < startBy) await wait(50, undefined, { signal });
    if (end.bytes === 0) throw new NotObservedError('send_rss_mb', 'nothing reached the far end within 20 s');
    const t0 = performance.now();
    const bytes0 = end.bytes;
    const pipelinePid = childOf(send.pid!);
    if (pipelinePid === undefined) throw new NotObservedError('pipeline_rss_mb', 'fieldcast send started no pipeline process');
    const samples: Sample[] = [];
    while (performance.now() - t0 < totalS * 1000) {
      const s = { t: (performance.now() - t0) / 1000, send: rssMb(send.pid!), pipeline: rssMb(pipelinePid), receive: rssMb(receive.pid!) };
      if (Number.isNaN(s.send) || Number.isNaN(s.pipeline)) {
        throw new NotObservedError('send_rss_mb', `fieldcast send ended ${Math.round(s.t)} s into the run (exit ${send.exitCode})`);
      }
      samples.push(s);
      await wait(SAMPLE_MS, undefined, { signal });
    }
    const seconds = (performance.now() - t0) / 1000;
    const deliveredMbps = ((end.bytes - bytes0) * 8) / seconds / 1e6;
    if (deliveredMbps < MBPS * MIN_DELIVERED) {
      throw new NotObservedError(
        'send_rss_mb',
        `the far end got ${deliveredMbps.toFixed(2)} Mbit/s of the ${MBPS} sent: the path did not carry the stream`,
      );
    }
    const after = samples.filter((s) => s.t >= warmS);
    const steady = after.filter((s) => s.t < warmS + steadyS);
    const last = samples.filter((s) => s.t >= seconds - 60);
    const sheet = new FigureSheet();
    const verdicts: string[] = [];
    const names: Record<Who, string> = { send: 'send process (SRT + bonding sender)', pipeline: 'pipeline process', receive: 'receiver' };
    for (const who of ['send', 'pipeline', 'receive'] as const) {
      const growthPerHour = slope(after.map((s) => ({ t: s.t, y: s[who] }))) * 3600;
      const growthInRun = (growthPerHour * (seconds - warmS)) / 3600;
      sheet.add(`${who}_rss_steady_mb`, median(steady.map((s) => s[who])), `MB (${names[who]}, after ${warmS} s of warm-up)`);
      sheet.add(`${who}_rss_last_mb`, median(last.map((s) => s[who])), 'MB (the last minute)');
      sheet.add(`${who}_rss_max_mb`, Math.max(...samples.map((s) => s[who])), 'MB');
      sheet.add(`${who}_rss_growth_mb_per_hour`, growthPerHour, `MB/h (slope after warm-up; ${growthInRun.toFixed(1)} MB over the run)`);
      if (who !== 'receive')
        verdicts.push(`${who} grew ${growthInRun.toFixed(1)} MB (${growthInRun <= GOAL_GROWTH_MB ? 'within' : 'over'} the bound)`);
    }
    sheet.add('delivered', deliveredMbps, `Mbit/s at the far end (${MBPS} sent)`);
    sheet.add(
      'cc_errors',
      end.analyser.report().checks.Continuity_count_error ?? 0,
      '(the file loops every 10 s: one jump per loop is its own)',
    );
    sheet.add('run', seconds / 60, `min at ${MBPS} Mbit/s${quick ? ' (quick)' : ''}, ${samples.length} samples`);
    return sheet.result(`${verdicts.join(', ')}; bound: ${GOAL_GROWTH_MB} MB over the run after warm-up`);
  } finally {
    await children.stopAll();
    end.sock.close();
  }
}

export const scenario: Scenario = {
  name: 'bond-soak',
  description: "the bonding sender's RSS live at 10 Mbit/s for 30 minutes: steady size and growth",
  run,
};
