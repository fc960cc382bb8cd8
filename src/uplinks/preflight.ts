/**
 * Preflight: before going live, each link is tried against the real bonding
 * receiver for a few seconds, and the box says what it found and what to set.
 *
 * The links register with the receiver as a group of their own (SRTLA), and
 * send probes: keepalives carrying our clock, numbered, which the receiver
 * echoes unchanged (SRTLA.md). No SRT data is sent, so nothing reaches the
 * ingest. First small probes at 50 a second give each link's RTT and loss;
 * then full-size probes (1316 bytes, as the stream's packets) paced at a rate
 * that doubles every half second while nearly all of them come back (all
 * but what the link's loss explains), which
 * gives the rate that got through (round trip: the echo comes back over the
 * link's downlink, on cellular the wider way). Bonded, the rates add up and
 * the worst link's RTT and loss set the latency.
 *
 * What it recommends (`recommend`, pure): a top video bit rate of 70% of the
 * bonded rate less the TS/SRT overhead and the audio, a floor of a quarter of
 * that, and an SRT latency of 3-6 × the worst RTT by loss (FACTS.md:
 * ≈3× at ≤1% loss, 4× at ≤3%, 5× at ≤7%, 6× at ≤10%), at least 120 ms.
 */
import { type BondLinkOptions, BondSender } from '../bond/index.js';
import { pause as sleep } from '../lib/sleep.js';

export interface PreflightOptions {
  /** The bonding receiver, host:port. */
  receiver: string;
  links: BondLinkOptions[];
  /** How long to probe, s (default 6). */
  seconds?: number;
  /** The most a link is tried at, bit/s (default 20 Mbit/s). */
  maxRateBps?: number;
  signal?: AbortSignal;
}

export interface LinkPreflight {
  name: string;
  /** Registered with the receiver; when not, why. */
  registered: boolean;
  why?: string;
  rttMs?: number;
  rttP95Ms?: number;
  /** Of the small probes, the share that never came back. */
  loss?: number;
  /** The highest rate whose probes came back (nearly) all, bit/s. */
  rateBps?: number;
}

export interface PreflightResult {
  links: LinkPreflight[];
  bonded: { rateBps: number; worstRttMs?: number; worstLoss?: number };
  recommend?: { minBitrate: number; maxBitrate: number; latencyMs: number };
  /** In words, for the operator. */
  summary: string;
}

const SMALL = 64;
const FULL = 1316;
const SMALL_PER_S = 50;
const STEP_MS = 500;
const START_RATE_BPS = 1_000_000;
/** A step held when this share of its probes came back. */
const HELD = 0.9;
const AUDIO_BPS = 128_000;
/** TS + SRT + SRTLA overhead over the elementary streams. */
const OVERHEAD = 1.1;
const REGISTER_WAIT_MS = 5000;

function percentile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The latency multiple of the RTT the loss calls for (FACTS.md). */
function rttMultiple(loss: number): number {
  if (loss <= 0.01) return 3;
  if (loss <= 0.03) return 4;
  if (loss <= 0.07) return 5;
  if (loss <= 0.1) return 6;
  return 8;
}

/** The bit rate range and latency to set for what preflight found (undefined when no link carried anything). */
export function recommend(bonded: PreflightResult['bonded']): PreflightResult['recommend'] {
  if (bonded.rateBps <= 0 || bonded.worstRttMs === undefined) return undefined;
  const maxBitrate = Math.max(100_000, Math.floor(((bonded.rateBps * 0.7) / OVERHEAD - AUDIO_BPS) / 100_000) * 100_000);
  const minBitrate = Math.max(100_000, Math.floor(maxBitrate / 4 / 100_000) * 100_000);
  const latencyMs = Math.max(120, Math.ceil((bonded.worstRttMs * rttMultiple(bonded.worstLoss ?? 0)) / 50) * 50);
  return { minBitrate, maxBitrate, latencyMs };
}

/** Probes each link to the receiver and says what it found (see the file's comment). */
export async function runPreflight(o: PreflightOptions): Promise<PreflightResult> {
  const seconds = o.seconds ?? 6;
  const maxRate = o.maxRateBps ?? 20_000_000;
  const sender = new BondSender({ receiver: o.receiver, links: o.links });
  /** Per link: when each probe went, and what came back. */
  const sent = new Map<string, Map<number, { at: number; bytes: number }>>();
  const back = new Map<string, { at: number; rtt: number; bytes: number; seq: number }[]>();
  sender.on('probe', (link, seq, rtt, bytes) => {
    if (!sent.get(link)?.has(seq)) return;
    back.get(link)?.push({ at: performance.now(), rtt, bytes, seq });
  });
  let seq = 0;
  const probe = (link: string, bytes: number): void => {
    const n = ++seq;
    if (sender.sendProbe(link, n, bytes)) sent.get(link)?.set(n, { at: performance.now(), bytes });
  };
  try {
    await sender.start();
    for (const l of o.links) {
      sent.set(l.name, new Map());
      back.set(l.name, []);
    }
    const registeredAt = performance.now();
    while (performance.now() - registeredAt < REGISTER_WAIT_MS && !o.signal?.aborted) {
      if (sender.stats().links.every((l) => l.state === 'live')) break;
      await sleep(50, o.signal);
    }
    const live = new Set(
      sender
        .stats()
        .links.filter((l) => l.state === 'live')
        .map((l) => l.name),
    );

    // Small probes: RTT and loss.
    const smallUntil = performance.now() + (seconds * 1000) / 3;
    while (performance.now() < smallUntil && !o.signal?.aborted) {
      for (const name of live) probe(name, SMALL);
      await sleep(1000 / SMALL_PER_S, o.signal);
    }
    await sleep(Math.min(1000, (seconds * 1000) / 6), o.signal); // the last echoes
    const small = new Map([...live].map((n) => [n, { sent: sent.get(n)!.size, back: back.get(n)!.filter((b) => b.bytes === SMALL) }]));

    // Full-size probes, the rate doubling each step while they come back.
    const rate = new Map([...live].map((n) => [n, START_RATE_BPS]));
    const held = new Map<string, number>();
    const rampUntil = performance.now() + (seconds * 2000) / 3;
    while (performance.now() < rampUntil && !o.signal?.aborted && rate.size > 0) {
      const stepStart = performance.now();
      const firstSeq = seq + 1;
      const credit = new Map([...rate.keys()].map((n) => [n, 0]));
      while (performance.now() - stepStart < STEP_MS && !o.signal?.aborted) {
        for (const [n, r] of rate) {
          credit.set(n, credit.get(n)! + (r / 8) * 0.005);
          while (credit.get(n)! >= FULL) {
            credit.set(n, credit.get(n)! - FULL);
            probe(n, FULL);
          }
        }
        await sleep(5, o.signal);
      }
      // Their echoes, within an RTT or two.
      await sleep(
        Math.min(
          400,
          Math.max(
            100,
            ...[...rate.keys()].map(
              (n) =>
                2 *
                (percentile(
                  small.get(n)!.back.map((b) => b.rtt),
                  95,
                ) ?? 100),
            ),
          ),
        ),
      );
      for (const [n, r] of [...rate]) {
        const stepSent = [...sent.get(n)!].filter(([s, v]) => s >= firstSeq && v.bytes === FULL).length;
        const echoes = back.get(n)!.filter((b) => b.seq >= firstSeq && b.bytes === FULL);
        // The rate the echoes came back at: over the time they took to arrive, not the time they were sent
        // in (a link's queue spreads a step it cannot carry over a longer time). The window opens when the
        // step's first probe could first have come back (sent + the link's shortest RTT) unless its echo was
        // seen earlier: a first echo read late (a busy event loop) would shorten the window and overstate
        // the rate, so it does not open it.
        const s = small.get(n)!;
        const firstSent = sent.get(n)!.get(echoes[0]?.seq ?? -1)?.at;
        const minRtt = s.back.length > 0 ? Math.min(...s.back.map((b) => b.rtt)) : undefined;
        const opened =
          echoes.length > 0 && firstSent !== undefined && minRtt !== undefined
            ? Math.min(echoes[0]!.at, firstSent + minRtt)
            : echoes[0]?.at;
        const spreadMs = echoes.length > 1 && opened !== undefined ? echoes[echoes.length - 1]!.at - opened : 0;
        const arrived = spreadMs > 0 ? ((echoes.length - 1) * FULL * 8 * 1000) / spreadMs : 0;
        // A lossy link loses probes at any rate: a step holds when no more come back missing than its loss explains.
        const loss = s.sent > 0 ? Math.max(0, 1 - s.back.length / s.sent) : 0;
        if (stepSent > 0 && echoes.length / stepSent >= HELD * (1 - loss)) {
          held.set(n, Math.min(arrived, r * 1.05));
          if (r * 2 > maxRate) rate.delete(n);
          else rate.set(n, r * 2);
        } else {
          // The step that did not hold: the rate its echoes came back at is what the link carries.
          held.set(n, Math.max(held.get(n) ?? 0, arrived));
          rate.delete(n);
        }
      }
    }

    const links: LinkPreflight[] = o.links.map((l) => {
      if (!live.has(l.name)) {
        const st = sender.stats().links.find((x) => x.name === l.name);
        return { name: l.name, registered: false, why: st?.why ?? 'the bonding receiver did not accept it' };
      }
      const s = small.get(l.name)!;
      const rtts = s.back.map((b) => b.rtt);
      const out: LinkPreflight = { name: l.name, registered: true };
      const rtt = percentile(rtts, 50);
      const p95 = percentile(rtts, 95);
      if (rtt !== undefined) out.rttMs = Math.round(rtt * 10) / 10;
      if (p95 !== undefined) out.rttP95Ms = Math.round(p95 * 10) / 10;
      if (s.sent > 0) out.loss = Math.max(0, 1 - s.back.length / s.sent);
      const r = held.get(l.name);
      if (r !== undefined) out.rateBps = Math.round(r);
      return out;
    });
    const carrying = links.filter((l) => l.rateBps !== undefined && l.rateBps > 0);
    const bonded: PreflightResult['bonded'] = { rateBps: carrying.reduce((n, l) => n + (l.rateBps ?? 0), 0) };
    const worstRtt = Math.max(...carrying.map((l) => l.rttP95Ms ?? 0));
    if (carrying.length > 0) {
      bonded.worstRttMs = worstRtt;
      bonded.worstLoss = Math.max(...carrying.map((l) => l.loss ?? 0));
    }
    const rec = recommend(bonded);
    const summary = rec
      ? `${carrying.length} of ${links.length} links carried ${(bonded.rateBps / 1e6).toFixed(1)} Mbit/s together, worst RTT ${Math.round(worstRtt)} ms: set video ${(rec.minBitrate / 1e6).toFixed(1)}-${(rec.maxBitrate / 1e6).toFixed(1)} Mbit/s and SRT latency ${rec.latencyMs} ms`
      : 'no link carried anything to the bonding receiver: check the uplinks and that the receiver is running';
    return { links, bonded, ...(rec ? { recommend: rec } : {}), summary };
  } finally {
    await sender.close();
  }
}
