/**
 * `fieldcast bench failover` (BENCHMARKS.md): bond-venue's three links at
 * about 70% of their summed capacity, the adaptive bitrate controller on; at
 * t = 20 s cell-a (the biggest modem) goes dark for 15 s, then returns.
 *
 *   test pattern → pipeline (ABR) → bonding sender → cell-a/b/c (linksim)
 *     → bonding receiver → SRT listener → TS analyser
 *
 * Figures: lost_ts_packets (what SRT could not recover: continuity gaps in
 * the received TS, and SRT's too-late drops), stall_ms (longest gap between
 * pictures arriving), abr_reaction_ms (outage → the encoder's rate fits the
 * links that are left), recovery_ms (cell-a's return → it carries traffic).
 */
import { VENUE_CAPACITY_BPS, VENUE_LINKS } from '../linksim/index.js';
import { videoPesStarts } from '../media/far-end.js';
import { Pipeline } from '../media/pipeline.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { startBondedPath } from './bonded-path.js';
import type { Figure, Scenario, ScenarioResult } from './types.js';

const LATENCY_MS = 2000;
const AUDIO_BPS = 128_000;
/** TS + SRT overhead over the elementary streams (as the ABR controller counts it). */
const OVERHEAD = 1.07;
const DEAD_LINK = 'cell-a';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const scenario: Scenario = {
  name: 'failover',
  description: 'a bonded link dies mid-stream: loss, stall, ABR reaction, recovery',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const outageAtS = quick ? 12 : 20;
    const outageS = quick ? 8 : 15;
    const afterS = quick ? 8 : 15;
    const totalTarget = VENUE_CAPACITY_BPS * 0.7;
    const maxVideo = Math.round((totalTarget / OVERHEAD - AUDIO_BPS) / 10_000) * 10_000;
    const remaining = VENUE_CAPACITY_BPS - 8_000_000; // cell-a carries 8 of the 16 Mbit/s

    const analyser = new TsAnalyser();
    let lastPicture = 0;
    let stallMs = 0;
    let pictures = 0;
    let rcvDrops = 0;
    const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=${LATENCY_MS}`, { role: 'receive', statsIntervalMs: 1000 });
    listener.on('data', (chunk) => {
      analyser.push(chunk);
      const n = videoPesStarts(chunk).length;
      if (n > 0) {
        const now = performance.now();
        if (lastPicture && pictures > 30) stallMs = Math.max(stallMs, now - lastPicture);
        lastPicture = now;
        pictures += n;
      }
    });
    listener.on('stats', (s) => {
      rcvDrops = s.pktRcvDropTotal;
    });
    const port = await startListening(listener);
    const path = await startBondedPath(port, VENUE_LINKS, 20);
    const { sender, links } = path;
    const pipeline = new Pipeline({
      source: testPatternSource({
        inputName: 'bench',
        bitrate: maxVideo,
        minBitrate: 1_000_000,
        maxBitrate: maxVideo,
        adaptive: true,
        audioBitrate: AUDIO_BPS,
      }),
      mux: defaultMux(),
      output: { url: `srt://127.0.0.1:${path.local}`, latencyMs: LATENCY_MS, pbkeylen: 32 },
      seconds: 0,
    });
    const rates: { t: number; bps: number; reason: string }[] = [];
    pipeline.on('bitrate', (bps, reason) => rates.push({ t: performance.now(), bps, reason }));
    const capacityTimer = setInterval(() => pipeline.setCapacity(sender.capacityBps()), 100);
    await pipeline.start();

    await sleep(outageAtS * 1000, signal);
    const outageAt = performance.now();
    const sentBefore = rates.filter((r) => r.t < outageAt).at(-1)?.bps ?? maxVideo;
    links.link(DEAD_LINK).set({ outage: outageS });
    await sleep(outageS * 1000, signal);
    const backAt = performance.now();
    const packetsAtReturn = sender.stats().links.find((l) => l.name === DEAD_LINK)?.sentPackets ?? 0;
    let recoveryMs = Number.NaN;
    while (performance.now() - backAt < afterS * 1000 && !signal.aborted) {
      await sleep(50, signal);
      const l = sender.stats().links.find((x) => x.name === DEAD_LINK);
      if (Number.isNaN(recoveryMs) && l && l.sentPackets > packetsAtReturn + 50) recoveryMs = performance.now() - backAt;
    }
    clearInterval(capacityTimer);
    const bond = sender.stats();
    await pipeline.stop();
    await new Promise((r) => setTimeout(r, 500));
    await path.close();
    listener.close();

    const fits = (bps: number): boolean => (bps + AUDIO_BPS) * OVERHEAD < remaining;
    const already = fits(sentBefore);
    const reaction = rates.find((r) => r.t >= outageAt && fits(r.bps));
    const abrReactionMs = already ? 0 : reaction ? reaction.t - outageAt : Number.NaN;
    const report = analyser.report();
    const ccErrors = report.checks.Continuity_count_error ?? 0;
    const lost = ccErrors + rcvDrops;
    const figures: Figure[] = [
      { name: 'video_bitrate_before', value: Math.round(sentBefore / 1e4) / 100, unit: 'Mbit/s' },
      { name: 'lost_ts_packets', value: lost, unit: `(CC gaps ${ccErrors}, SRT too-late drops ${rcvDrops})` },
      { name: 'stall_ms', value: Math.round(stallMs), unit: 'ms' },
      { name: 'abr_reaction_ms', value: Math.round(abrReactionMs), unit: 'ms' },
      { name: 'abr_reason', value: already ? 'already below the remaining capacity' : (reaction?.reason ?? 'none') },
      { name: 'recovery_ms', value: Math.round(recoveryMs), unit: 'ms' },
      { name: 'pictures_received', value: pictures },
      {
        name: 'held_in_sender',
        value: bond.heldTotal,
        unit: `packets (every link full; ${bond.overflowPackets} left over a full link, ${bond.redundantRetransmissions} redundant repairs not sent)`,
      },
    ];
    const held: string[] = [];
    const missed: string[] = [];
    (lost === 0 ? held : missed).push(`${lost} lost TS packets`);
    (stallMs < 500 ? held : missed).push(`longest stall ${Math.round(stallMs)} ms`);
    (abrReactionMs < 1000 ? held : missed).push(
      `ABR reaction ${Number.isNaN(abrReactionMs) ? 'never' : `${Math.round(abrReactionMs)} ms`}`,
    );
    return { figures, verdict: `held: ${held.join(', ') || 'nothing'}; not held: ${missed.join(', ') || 'nothing'}` };
  },
};
