import { describe, expect, it } from 'vitest';
import { Impairment } from '../../../src/linksim/impairment.js';
import { deriveSeed, Prng } from '../../../src/linksim/prng.js';

/** Offers n packets one ms apart; returns the loss pattern. */
function lossPattern(loss: number, burst: number, n: number, seed = 7): boolean[] {
  const imp = new Impairment({ loss, burst }, new Prng(seed));
  const lost: boolean[] = [];
  for (let i = 0; i < n; i++) lost.push(imp.offer(i, 1316).drop === 'loss');
  return lost;
}

function burstLengths(lost: boolean[]): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const l of lost) {
    if (l) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  if (run > 0) runs.push(run);
  return runs;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Impairment: loss', () => {
  it.each([
    [0.005, 3, 600_000],
    [0.01, 5, 400_000],
    [0.03, 10, 300_000],
  ])('%d loss in %d-packet bursts matches the config for a seeded run', (loss, burst, n) => {
    const lost = lossPattern(loss, burst, n);
    const rate = lost.filter(Boolean).length / n;
    expect(rate).toBeGreaterThan(loss * 0.85);
    expect(rate).toBeLessThan(loss * 1.15);
    expect(mean(burstLengths(lost))).toBeGreaterThan(burst * 0.85);
    expect(mean(burstLengths(lost))).toBeLessThan(burst * 1.15);
  });

  it('burst 1 is independent loss (mean run 1/(1-p))', () => {
    const lost = lossPattern(0.1, 1, 200_000);
    expect(lost.filter(Boolean).length / lost.length).toBeCloseTo(0.1, 2);
    expect(mean(burstLengths(lost))).toBeCloseTo(1 / 0.9, 1);
  });

  it('the same seed repeats the run, another seed does not', () => {
    expect(lossPattern(0.05, 4, 20_000, 1)).toEqual(lossPattern(0.05, 4, 20_000, 1));
    expect(lossPattern(0.05, 4, 20_000, 1)).not.toEqual(lossPattern(0.05, 4, 20_000, 2));
    expect(deriveSeed(1, 'cell-a/up')).not.toBe(deriveSeed(1, 'cell-b/up'));
  });

  it('loss 1 drops everything, loss 0 nothing', () => {
    expect(lossPattern(1, 1, 1000).every(Boolean)).toBe(true);
    expect(lossPattern(0, 5, 1000).some(Boolean)).toBe(false);
  });
});

describe('Impairment: rate and queue', () => {
  it('holds the configured rate when offered twice as much, tail-dropping the excess', () => {
    const rate = 4_000_000;
    const imp = new Impairment({ rate, queueMs: 100 }, new Prng(1));
    const size = 1316;
    const interval = (size * 8 * 1000) / (2 * rate); // ms between packets at twice the rate
    let lastDelivery = 0;
    let bytes = 0;
    for (let t = 0; t < 10_000; t += interval) {
      const v = imp.offer(t, size);
      if (v.deliverAt !== undefined) {
        bytes += size;
        lastDelivery = v.deliverAt;
      }
    }
    const achieved = (bytes * 8 * 1000) / lastDelivery;
    expect(achieved / rate).toBeGreaterThan(0.98);
    expect(achieved / rate).toBeLessThan(1.02);
    const s = imp.stats(10_000);
    expect(s.droppedQueue / s.packetsIn).toBeGreaterThan(0.45);
    expect(s.droppedQueue / s.packetsIn).toBeLessThan(0.55);
  });

  it('a queue limit in packets tail-drops a burst beyond it', () => {
    const imp = new Impairment({ rate: 1_000_000, queuePackets: 10, queueMs: 10_000, burstBytes: 1500 }, new Prng(1));
    const verdicts = Array.from({ length: 50 }, () => imp.offer(0, 1000));
    const accepted = verdicts.filter((v) => v.deliverAt !== undefined).length;
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(12);
    expect(verdicts.at(-1)!.drop).toBe('queue');
    expect(imp.stats(0).queuePackets).toBe(10);
    expect(imp.stats(1000).queuePackets).toBe(0);
  });

  it('under the rate nothing waits', () => {
    const imp = new Impairment({ rate: 10_000_000, delayMs: 20 }, new Prng(1));
    for (let t = 0; t < 1000; t += 10) expect(imp.offer(t, 1316).deliverAt).toBeCloseTo(t + 20, 6);
  });
});

describe('Impairment: delay and jitter', () => {
  function deliveries(reorder: boolean): number[] {
    const imp = new Impairment({ delayMs: 50, jitterMs: 20, reorder }, new Prng(3));
    const at: number[] = [];
    for (let t = 0; t < 2000; t += 1) at.push(imp.offer(t, 200).deliverAt!);
    return at;
  }

  it('without reorder, jitter never lets a packet overtake the one before it', () => {
    const at = deliveries(false);
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThanOrEqual(at[i - 1]!);
    for (let i = 0; i < at.length; i++) {
      expect(at[i]!).toBeGreaterThanOrEqual(i + 30);
      expect(at[i]! - i).toBeLessThanOrEqual(70);
    }
  });

  it('with reorder, jitter reorders', () => {
    const at = deliveries(true);
    let inversions = 0;
    for (let i = 1; i < at.length; i++) if (at[i]! < at[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  it('an outage drops what is offered during it, and ends', () => {
    const imp = new Impairment({}, new Prng(1));
    imp.outage(100, 50);
    expect(imp.offer(99, 100).drop).toBeUndefined();
    expect(imp.offer(100, 100).drop).toBe('outage');
    expect(imp.offer(149, 100).drop).toBe('outage');
    expect(imp.offer(150, 100).drop).toBeUndefined();
    expect(imp.stats(200).droppedOutage).toBe(2);
  });
});
