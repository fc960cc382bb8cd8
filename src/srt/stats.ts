/**
 * SRT statistics as the ABR controller, the status line, metrics and the
 * output's peer watch read them. One sample per `statsIntervalMs` (default
 * 100 ms) while connected; see SrtNativeStats for each field (libsrt "SRT
 * statistics" documentation: interval fields reset each sample, `...Total`
 * since connect, buffers and rates instantaneous; ms, Mbit/s, packets, bytes
 * as their names say).
 */
import { formatBitrate } from '../lib/units.js';
import type { SrtNativeStats } from '../native/srt.js';

export type SrtStats = SrtNativeStats;

/** A one-line summary for status lines: rate, RTT, send buffer, loss and retransmissions. */
export function describeStats(s: SrtStats): string {
  const loss = s.pktSent > 0 ? (100 * s.pktSndLoss) / s.pktSent : 0;
  return [
    formatBitrate(s.mbpsSendRate * 1e6 || s.mbpsRecvRate * 1e6),
    `RTT ${s.msRTT.toFixed(0)} ms`,
    `buffer ${s.msSndBuf} ms`,
    `loss ${loss.toFixed(1)}%`,
    `retrans ${s.pktRetransTotal}`,
    `dropped ${s.pktSndDropTotal + s.queueDroppedPackets}`,
  ].join(', ');
}

/**
 * Whether a connected peer is still there, judged from the samples alone.
 *
 * libsrt declares a silent peer gone only after 16 expiry periods of at
 * least 300 ms each (about 5 s, whatever SRTO_PEERIDLETIMEO says); a listener
 * that restarts must be called again sooner than that. But silence proves
 * nothing by itself: an idle session (a passthrough whose input has not
 * started) gets no ACK, only keepalives, and libsrt 1.5 counts keepalives
 * nowhere in its statistics (SRT_TRACEBSTATS has no field for them). What
 * does prove it is data waiting for an answer: a receiver acknowledges new
 * data within an RTT plus its 10 ms ACK period, and one waiting on a lost
 * packet, whose ACK cannot pass the gap, keeps reporting the loss (NAKs).
 * So the peer is lost only when data has waited unacknowledged — sent
 * (pktFlightSize) and still in the send buffer (pktSndBuf) — and not a
 * packet has come from the peer (ACK, NAK or data) for longer than the limit,
 * counted from the later of the last packet heard and the moment data
 * started to wait. While nothing waits, only libsrt's own state (a broken
 * socket, which keepalives hold off) ends the session.
 */
export type PeerWatchSample = Pick<
  SrtStats,
  'pktRecvTotal' | 'pktRecvACKTotal' | 'pktRecvNAKTotal' | 'pktSndBuf' | 'pktFlightSize' | 'msRTT'
>;

/** What the peer watch carries from one sample to the next (start with undefined). */
export interface PeerWatch {
  /** Packets heard from the peer since connect (ACKs, NAKs, data), and when that count last moved (ms). */
  heard: number;
  heardAt: number;
  /** Since when data has waited for an answer (ms); undefined while none waits. */
  waitingSince: number | undefined;
  /** The last RTT measured (ms). */
  rttMs: number;
}

export interface PeerVerdict {
  watch: PeerWatch;
  /** The peer is gone: call again. */
  lost: boolean;
  /** How long data has waited with nothing heard from the peer (ms; 0 while none waits). */
  silentMs: number;
  limitMs: number;
}

/** The shortest silence taken for a lost peer: well above any RTT a live peer answers within. */
export const PEER_SILENCE_MIN_MS = 1000;

/**
 * How long data may wait unanswered: a second, 4 RTTs, or half the latency
 * (within which SRT may still recover a blackout by retransmission),
 * whichever is longest.
 */
export function peerSilenceLimitMs(rttMs: number, latencyMs: number): number {
  return Math.max(PEER_SILENCE_MIN_MS, 4 * rttMs, latencyMs / 2);
}

/** One sample's verdict; pure (the clock is `nowMs`), so it is tested sample by sample. */
export function watchPeer(prev: PeerWatch | undefined, s: PeerWatchSample, nowMs: number, latencyMs: number): PeerVerdict {
  const heard = s.pktRecvTotal + s.pktRecvACKTotal + s.pktRecvNAKTotal;
  const waiting = s.pktFlightSize > 0 && s.pktSndBuf > 0;
  const watch: PeerWatch = {
    heard,
    heardAt: prev === undefined || heard !== prev.heard ? nowMs : prev.heardAt,
    // First seen waiting now: it may have started up to a sample ago, and counting from now errs towards patience.
    waitingSince: waiting ? (prev?.waitingSince ?? nowMs) : undefined,
    rttMs: s.msRTT > 0 ? s.msRTT : (prev?.rttMs ?? 0),
  };
  const limitMs = peerSilenceLimitMs(watch.rttMs, latencyMs);
  const silentMs = watch.waitingSince === undefined ? 0 : nowMs - Math.max(watch.heardAt, watch.waitingSince);
  return { watch, lost: silentMs > limitMs, silentMs, limitMs };
}
