/**
 * Lost TS packets as the failover scenarios count them at the listener: the
 * larger of what the continuity counters skip and the SRT listener's
 * too-late drops in TS packets (each SRT payload carries 7 TS packets, 1316
 * bytes). Null packets carry no counter, and a counter counts modulo 16, so
 * a long gap in one PID shows as less: neither alone is the loss.
 */
export const TS_PER_SRT = 7;

export function lostTsPackets(continuitySkipped: number, srtDropped: number): number {
  return Math.max(continuitySkipped, srtDropped * TS_PER_SRT);
}
