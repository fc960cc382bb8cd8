/**
 * SRT statistics as the ABR controller, the status line and metrics read
 * them. One sample per `statsIntervalMs` (default 100 ms) while connected;
 * see SrtNativeStats for each field (libsrt "SRT statistics" documentation:
 * interval fields reset each sample, `...Total` since connect, buffers and
 * rates instantaneous; ms, Mbit/s, packets, bytes as their names say).
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
