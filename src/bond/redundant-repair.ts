/**
 * Whether a retransmission SRT asks for only repeats a copy that arrived or
 * is still on its way (Scheduler.redundantRetransmission). Forwarding those
 * is how a retransmission storm starts (issue 5): the listener repeats its
 * NAKs while the first repair waits in a modem's queue, each repeat lengthens
 * that queue, and the queue overflows.
 *
 * A copy is still on its way while the listener may not have had the chance
 * to see it: the NAK now answered left the listener one return trip ago, and
 * if the copy's late arrival bound (Flight.due) came before that, the
 * listener already missed it — it was lost, and the repair goes. The return
 * trip is that of the fastest live link, not of the link that carried the
 * copy: the receiver sends every NAK on every live link (SRTLA.md
 * "Receiving") and the first copy is the one the caller sees.
 *
 * Measured on `fieldcast bench failover-harsh` before this rule: the margin
 * was half the carrying link's RTT, so a repair on the 120 ms or 180 ms link
 * swallowed NAKs that came back over the 80 ms one 40-175 ms after the copy
 * was overdue. Each swallowed NAK cost SRT a NAK period or two (it does not
 * retransmit again within its RTT of a retransmission it believes sent), and
 * a packet whose first repair was lost too used up 1.2-1.4 s of the 1.5 s
 * latency before its second repair arrived.
 *
 * No I/O; the time is a parameter (CONVENTIONS.md §10).
 */
import type { Flight } from './flights.js';
import type { LinkState } from './link-state.js';

export const REDUNDANT_REPAIR_TUNING = {
  /** The return trip counted at least this long (the receiver's and the caller's own turnaround, jitter). */
  MIN_RETURN_MS: 50,
} as const;

/**
 * One-way time of a NAK from the receiver to this sender over the fastest of
 * `links`: half the smallest minimum RTT (the minimum leaves out the uplink's
 * queueing, which the return path does not meet), and never below
 * MIN_RETURN_MS. With no measured link, MIN_RETURN_MS.
 */
export function nakReturnMs(links: Iterable<LinkState>): number {
  let best = Number.POSITIVE_INFINITY;
  for (const l of links) {
    const rtt = l.minRtt ?? l.srtt;
    if (rtt !== undefined && rtt / 2 < best) best = rtt / 2;
  }
  return Math.max(REDUNDANT_REPAIR_TUNING.MIN_RETURN_MS, Number.isFinite(best) ? best : 0);
}

/**
 * Whether the copies of a sequence (`latest` and the one it replaced) make a
 * retransmission asked for `now` redundant: one was acknowledged, or one is
 * in flight on a link still carrying traffic (`carrying`) and was not yet due
 * at the receiver when the NAK left it (`returnMs` ago).
 */
export function isRedundantRepair(latest: Flight | undefined, now: number, returnMs: number, carrying: (l: LinkState) => boolean): boolean {
  for (let f = latest; f; f = f.prev) {
    if (f.state === 'acked' || f.state === 'srtacked') return true;
    if (f.state !== 'flight' && f.state !== 'suspect') continue;
    if (!carrying(f.link)) continue;
    if (now - returnMs < f.due) return true;
  }
  return false;
}
