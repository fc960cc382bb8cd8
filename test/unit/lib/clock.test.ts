import { describe, expect, it } from 'vitest';
import { frameDurationPts, PtsUnwrapper, parseFrameRate, pcrDiff, ptsDiff, TS_WRAP, wrapPcr, wrapPts } from '../../../src/lib/clock.js';

describe('media clock', () => {
  it('wraps PTS at 2^33 and measures differences across the wrap', () => {
    expect(wrapPts(TS_WRAP + 5)).toBe(5);
    expect(wrapPts(-1)).toBe(TS_WRAP - 1);
    expect(ptsDiff(3, TS_WRAP - 3)).toBe(6);
    expect(ptsDiff(TS_WRAP - 3, 3)).toBe(-6);
  });

  it('wraps PCR at 2^33 * 300', () => {
    expect(wrapPcr(TS_WRAP * 300 + 7)).toBe(7);
    expect(pcrDiff(10, TS_WRAP * 300 - 10)).toBe(20);
  });

  it('unwraps a stream that crosses the wrap', () => {
    const u = new PtsUnwrapper();
    expect(u.unwrap(TS_WRAP - 3000)).toBe(TS_WRAP - 3000);
    expect(u.unwrap(0)).toBe(TS_WRAP);
    expect(u.unwrap(3000)).toBe(TS_WRAP + 3000);
  });

  it('keeps 1001 frame rates exact', () => {
    expect(parseFrameRate('29.97')).toEqual({ num: 30000, den: 1001 });
    expect(parseFrameRate('59.94')).toEqual({ num: 60000, den: 1001 });
    expect(parseFrameRate('25')).toEqual({ num: 25, den: 1 });
    expect(frameDurationPts({ num: 30000, den: 1001 })).toBe(3003);
    expect(parseFrameRate('zero')).toBeUndefined();
  });
});
