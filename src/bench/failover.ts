/**
 * `fieldcast bench failover` (BENCHMARKS.md): bond-venue's three links at
 * about 70% of their summed capacity, the adaptive bitrate controller on; at
 * t = 20 s cell-a (the biggest modem) goes dark for 15 s, then returns.
 *
 *   test pattern → stream unit (pipeline process, ABR, SRT, bonding sender)
 *     → cell-a/b/c (linksim) → bonding receiver → SRT listener → TS analyser
 *
 * Figures, each from what was observed in this run:
 * - lost_ts_packets: TS packets missing from the received stream — the
 *   larger of what the continuity counters skip (exact for short gaps) and
 *   the listener's too-late SRT drops times the 7 TS packets each carries;
 * - stall_ms: the longest gap between pictures arriving at the listener;
 * - abr_reaction_ms: from the outage to the encoder set below what the
 *   remaining links can carry (their emulated rates), or "not needed" when
 *   the rate already fitted;
 * - recovery_ms: from cell-a's return to it carrying traffic again.
 */

import { DestinationConfig } from '../config/schema.js';
import { pause as sleep } from '../lib/sleep.js';
import { VENUE_LINKS } from '../linksim/index.js';
import { videoPesStarts } from '../media/far-end.js';
import { defaultMux, testPatternSource } from '../media/spec.js';
import { TsAnalyser } from '../mux/index.js';
import { SrtConnection, startListening } from '../srt/index.js';
import { StreamUnit } from '../supervisor/stream-unit.js';
import { startBondedPath } from './bonded-path.js';
import { lostTsPackets, TS_PER_SRT } from './lost-packets.js';
import { FigureSheet, NotObservedError, type Scenario, type ScenarioResult } from './types.js';

const LATENCY_MS = 2000;
const AUDIO_BPS = 128_000;
/** TS + SRT overhead over the elementary streams (as the ABR controller counts it). */
const OVERHEAD = 1.07;
const DEAD_LINK = 'cell-a';

export const scenario: Scenario = {
  name: 'failover',
  description: 'a bonded link dies mid-stream: loss, stall, ABR reaction, recovery',
  async run({ quick, signal }): Promise<ScenarioResult> {
    const outageAtS = quick ? 12 : 20;
    const outageS = quick ? 8 : 15;
    const afterS = quick ? 8 : 15;

    const analyser = new TsAnalyser();
    let lastPicture = 0;
    let stallMs = 0;
    let pictures = 0;
    let rcvDrops: number | undefined;
    /** TS bytes the listener received, per whole second since the start. */
    const received: number[] = [];
    const t0 = performance.now();
    const listener = new SrtConnection(`srt://127.0.0.1:0?mode=listener&latency=${LATENCY_MS}`, { role: 'receive', statsIntervalMs: 250 });
    listener.on('data', (chunk) => {
      analyser.push(chunk);
      const sec = Math.floor((performance.now() - t0) / 1000);
      received[sec] = (received[sec] ?? 0) + chunk.length;
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
    const { links } = path;
    // What the links can carry, from the emulator's own settings: the whole bond, and what is left without cell-a.
    const rates = new Map(links.names.map((n) => [n, links.link(n).params().up.rate]));
    const capacity = [...rates.values()].reduce((a, b) => a + b, 0);
    const remaining = capacity - (rates.get(DEAD_LINK) ?? 0);
    const maxVideo = Math.round(((capacity * 0.7) / OVERHEAD - AUDIO_BPS) / 10_000) * 10_000;
    const unit = new StreamUnit({
      source: testPatternSource({
        inputName: 'bench',
        bitrate: maxVideo,
        minBitrate: 1_000_000,
        maxBitrate: maxVideo,
        adaptive: true,
        audioBitrate: AUDIO_BPS,
      }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: LATENCY_MS, pbkeylen: 32 }),
      bond: path.bond,
    });
    /** The encoder's set rate over time: each change, and the rate the stream unit reports it runs at. */
    const setRates: { t: number; bps: number; reason: string }[] = [];
    let reportedBps: number | undefined;
    unit.on('bitrate', (bps, reason) => setRates.push({ t: performance.now(), bps, reason }));
    unit.on('stats', (s) => {
      reportedBps = s.videoBitrate;
    });
    await unit.start();
    const sender = unit.bondSender!;

    await sleep(outageAtS * 1000, signal);
    const outageAt = performance.now();
    const rateAtOutage = setRates.filter((r) => r.t < outageAt).at(-1)?.bps ?? reportedBps;
    const receivedBefore = received[Math.floor((outageAt - t0) / 1000) - 1];
    links.link(DEAD_LINK).set({ outage: outageS });
    await sleep(outageS * 1000, signal);
    const backAt = performance.now();
    const packetsAtReturn = sender.stats().links.find((l) => l.name === DEAD_LINK)?.sentPackets ?? 0;
    let recoveryMs: number | undefined;
    while (performance.now() - backAt < afterS * 1000 && !signal.aborted) {
      await sleep(50, signal);
      const l = sender.stats().links.find((x) => x.name === DEAD_LINK);
      if (recoveryMs === undefined && l && l.sentPackets > packetsAtReturn + 50) recoveryMs = performance.now() - backAt;
    }
    const bond = sender.stats();
    await unit.stop();
    await new Promise((r) => setTimeout(r, 500));
    path.close();
    listener.close();

    if (pictures === 0) throw new NotObservedError('failover', 'no picture arrived at the listener');
    const sheet = new FigureSheet();
    const fits = (bps: number): boolean => (bps + AUDIO_BPS) * OVERHEAD < remaining;
    sheet.add('capacity_before', capacity / 1e6, 'Mbit/s (the emulated links)');
    sheet.add('capacity_during_outage', remaining / 1e6, `Mbit/s (without ${DEAD_LINK})`);
    sheet.measured(
      'video_bitrate_before',
      rateAtOutage === undefined ? undefined : rateAtOutage / 1e6,
      'Mbit/s (the encoder, as set)',
      'the pipeline never reported its rate',
    );
    sheet.measured(
      'received_before',
      receivedBefore === undefined ? undefined : (receivedBefore * 8) / 1e6,
      'Mbit/s of TS at the listener, the second before the outage',
      'nothing arrived in that second',
    );
    const outageSecs = received.slice(Math.ceil((outageAt - t0) / 1000), Math.floor((backAt - t0) / 1000));
    sheet.measured(
      'received_during_outage_min',
      outageSecs.length ? (Math.min(...outageSecs.map((b) => b ?? 0)) * 8) / 1e6 : undefined,
      'Mbit/s of TS at the listener, slowest whole second',
      'the outage held no whole second',
    );

    const report = analyser.report();
    const ccGaps = report.checks.Continuity_count_error ?? 0;
    if (rcvDrops === undefined) sheet.missing('lost_ts_packets', "the listener's SRT statistics never came");
    else {
      const lost = lostTsPackets(report.missingPackets, rcvDrops);
      sheet.add(
        'lost_ts_packets',
        lost,
        `(continuity counters skip ${report.missingPackets} in ${ccGaps} gaps; SRT dropped ${rcvDrops} too late, ${rcvDrops * TS_PER_SRT} TS packets)`,
      );
    }
    sheet.add('ts_packets_received', report.packets);
    sheet.add('stall_ms', Math.round(stallMs), 'ms');
    let reactionMs: number | undefined;
    if (rateAtOutage !== undefined && fits(rateAtOutage))
      sheet.add('abr_reaction_ms', 'not needed', '(the rate already fitted the links left)');
    else {
      const reaction = setRates.find((r) => r.t >= outageAt && fits(r.bps));
      if (reaction) {
        reactionMs = reaction.t - outageAt;
        sheet.add('abr_reaction_ms', Math.round(reactionMs), 'ms');
        sheet.add('abr_reason', reaction.reason);
      } else sheet.add('abr_reaction_ms', 'never', `(the encoder stayed above what ${remaining / 1e6} Mbit/s carries)`);
    }
    if (recoveryMs === undefined) sheet.add('recovery_ms', 'never', `(${DEAD_LINK} carried nothing in the ${afterS} s after its return)`);
    else sheet.add('recovery_ms', Math.round(recoveryMs), 'ms');
    sheet.add('pictures_received', pictures);
    sheet.add(
      'held_in_sender',
      bond.heldTotal,
      `packets (every link full; ${bond.overflowPackets} left over a full link, ${bond.redundantRetransmissions} redundant repairs not sent)`,
    );

    const held: string[] = [];
    const missed: string[] = [];
    const lost = sheet.value('lost_ts_packets');
    if (typeof lost === 'number') (lost === 0 ? held : missed).push(`${lost} lost TS packets`);
    (stallMs < 500 ? held : missed).push(`longest stall ${Math.round(stallMs)} ms`);
    const reaction = sheet.value('abr_reaction_ms');
    if (reaction === 'not needed') held.push('no ABR reaction needed');
    else
      (reactionMs !== undefined && reactionMs < 1000 ? held : missed).push(
        `ABR reaction ${typeof reaction === 'number' ? `${reaction} ms` : reaction}`,
      );
    return sheet.result(`held: ${held.join(', ') || 'nothing'}; not held: ${missed.join(', ') || 'nothing'}`);
  },
};
