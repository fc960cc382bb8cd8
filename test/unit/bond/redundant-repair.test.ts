/**
 * When a retransmission SRT asks for only repeats a copy still on its way
 * (redundant-repair.ts): the NAK answered now left the receiver one return
 * trip ago, over the fastest live link, whatever link carried the copy.
 */
import { describe, expect, it } from 'vitest';
import type { Flight } from '../../../src/bond/flights.js';
import type { LinkState } from '../../../src/bond/link-state.js';
import { isRedundantRepair, nakReturnMs, REDUNDANT_REPAIR_TUNING } from '../../../src/bond/redundant-repair.js';

/** Only what the rule reads of a link. */
function link(minRtt: number | undefined, srtt?: number): LinkState {
  return { minRtt, srtt } as LinkState;
}

function flight(l: LinkState, due: number, state: Flight['state'] = 'flight', prev?: Flight): Flight {
  return { seq: 7, link: l, bytes: 1316, sentAt: 0, queueMs: 0, due, state, retx: false, prev } as Flight;
}

const always = () => true;

describe('a NAK’s way back', () => {
  it('is half the smallest minimum RTT of the links that answer, never below the floor', () => {
    expect(nakReturnMs([link(360), link(160), link(240)])).toBe(80);
    expect(nakReturnMs([link(undefined, 300)])).toBe(150);
    expect(nakReturnMs([link(20)])).toBe(REDUNDANT_REPAIR_TUNING.MIN_RETURN_MS);
    expect(nakReturnMs([])).toBe(REDUNDANT_REPAIR_TUNING.MIN_RETURN_MS);
  });
});

describe('a redundant repair', () => {
  const slow = link(360);
  it('is one whose copy was not yet due when the NAK left the receiver', () => {
    // The copy on the 180 ms link is due at 1000; the NAK came back over an 80 ms path.
    const f = flight(slow, 1000);
    expect(isRedundantRepair(f, 1050, 80, always)).toBe(true); // the NAK left at 970: the copy could still come
    // The NAK left at 1010, after the copy was due: it was lost, and the repair goes —
    // though half the carrying link's RTT (180 ms) after its due time has not passed.
    expect(isRedundantRepair(f, 1090, 80, always)).toBe(false);
  });

  it('is one whose copy was acknowledged, whatever the time', () => {
    expect(isRedundantRepair(flight(slow, 1000, 'acked'), 9000, 80, always)).toBe(true);
    expect(isRedundantRepair(flight(slow, 1000, 'srtacked'), 9000, 80, always)).toBe(true);
  });

  it('is not one whose copy is gone or on a link no longer carrying traffic', () => {
    expect(isRedundantRepair(flight(slow, 1000, 'gone'), 1010, 80, always)).toBe(false);
    expect(isRedundantRepair(flight(slow, 1000), 1010, 80, () => false)).toBe(false);
    expect(isRedundantRepair(undefined, 1010, 80, always)).toBe(false);
  });

  it('looks at the copy a retransmission replaced too', () => {
    const fast = link(80);
    const first = flight(slow, 1200);
    const second = flight(fast, 900, 'gone', first);
    expect(isRedundantRepair(second, 1000, 40, (l) => l === slow)).toBe(true);
  });
});
