/** The graphs' ten minutes: one sample a second per link, nulls where a link was not there, bounded. */
import { describe, expect, it } from 'vitest';
import { LinkHistory } from '../../../src/status/history.js';
import type { StatusSnapshot } from '../../../src/supervisor/snapshot.js';

function snap(t: number, links: [string, number, number?][]): StatusSnapshot {
  return {
    at: new Date(t).toISOString(),
    bond: {
      receiver: 'r',
      capacityBps: 0,
      links: links.map(([name, bps, rtt]) => ({
        name,
        state: 'live',
        throughputBps: bps,
        share: 0,
        loss: 0,
        sentPackets: 0,
        ...(rtt !== undefined ? { rttMs: rtt } : {}),
      })),
    },
  } as unknown as StatusSnapshot;
}

describe('LinkHistory', () => {
  it('lines the links up on one time axis, a late or gone link padded with nulls, and keeps only the window', () => {
    const h = new LinkHistory(3);
    h.push(snap(1000, [['a', 1e6, 40]]));
    h.push(
      snap(2000, [
        ['a', 2e6, 41.26],
        ['b', 5e5],
      ]),
    );
    h.push(snap(3000, [['b', 6e5, 90]]));
    expect(h.toJSON()).toEqual({
      at: [1000, 2000, 3000],
      links: [
        { name: 'a', bps: [1e6, 2e6, null], rttMs: [40, 41.3, null] },
        { name: 'b', bps: [null, 5e5, 6e5], rttMs: [null, null, 90] },
      ],
    });
    h.push(snap(4000, [['b', 7e5, 91]]));
    h.push(snap(5000, [['b', 7e5, 91]]));
    h.push(snap(6000, []));
    // a has been gone for the whole window: it leaves the graph.
    expect(h.toJSON()).toEqual({ at: [4000, 5000, 6000], links: [{ name: 'b', bps: [7e5, 7e5, null], rttMs: [91, 91, null] }] });
  });
});
