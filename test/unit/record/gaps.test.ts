import { describe, expect, it } from 'vitest';
import { findGaps, formatSummary, missedSegments, parseIndex } from '../../../src/record/index.js';
import { formatLines, indexLines } from '../../../src/record/index-file.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const s0 = T0 / 1000;

function index(): string {
  const lines: object[] = [
    { k: 'open', file: '20261203-120000-000.ts', from: T0 },
    { k: 'seg', file: '20261203-120000-000.ts', from: T0, to: T0 + 30_000, bytes: 1880 },
    { k: 'seg', file: '20261203-120030-000.ts', from: T0 + 30_000, to: T0 + 60_000, bytes: 1880 },
    { k: 'seg', file: '20261203-120100-000.ts', from: T0 + 60_000, to: T0 + 90_000, bytes: 1880 },
  ];
  for (let t = 0; t < 90; t++) {
    const d = t >= 40 && t < 52 ? 'missed' : t === 52 ? 'partial' : 'acked';
    if (t < 85) lines.push({ k: 'sec', t: s0 + t, d }); // the last 5 s never resolved: missed
  }
  lines.push({ k: 'span', from: s0 + 10, to: s0 + 11, d: 'missed' });
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"k":"sec","t":`; // a torn last line
}

describe('what the ingest missed', () => {
  it('finds the runs of unacknowledged seconds with their segments, skipping a torn last line', () => {
    const ix = parseIndex(index());
    expect(ix.skipped).toBe(1);
    expect(ix.open).toEqual([]);
    const r = findGaps(ix);
    expect(r.recordedS).toBe(90);
    expect(r.gaps.map((g) => [g.from - s0, g.to - s0, g.missedS, g.partialS])).toEqual([
      [10, 11, 2, 0],
      [40, 52, 12, 1],
      [85, 89, 5, 0],
    ]);
    expect(r.gaps[1]!.files).toEqual(['20261203-120030-000.ts']);
    expect(missedSegments(r).map((s) => s.file)).toEqual(['20261203-120000-000.ts', '20261203-120030-000.ts', '20261203-120100-000.ts']);
    const text = formatSummary(r);
    expect(text).toContain('The ingest missed 20 s in 3 gaps');
    expect(text).toContain('2026-12-03 12:00:40 to 12:00:53 UTC (13 s): nothing arrived for 12 s, part for 1 s');
  });

  it('says so when the destination acknowledged everything', () => {
    const lines = [{ k: 'seg', file: '20261203-120000-000.ts', from: T0, to: T0 + 3000, bytes: 188 }];
    for (let t = 0; t < 3; t++) lines.push({ k: 'sec', t: s0 + t, d: 'acked' } as never);
    const r = findGaps(parseIndex(lines.map((l) => JSON.stringify(l)).join('\n')));
    expect(r.gaps).toEqual([]);
    expect(formatSummary(r)).toContain('the ingest missed nothing');
  });

  it('with two destinations, finds what each missed and uploads what either did', () => {
    const lines: object[] = [
      { k: 'seg', file: '20261203-120000-000.ts', from: T0, to: T0 + 30_000, bytes: 1880 },
      { k: 'seg', file: '20261203-120030-000.ts', from: T0 + 30_000, to: T0 + 60_000, bytes: 1880 },
    ];
    for (let t = 0; t < 60; t++) {
      lines.push({ k: 'sec', t: s0 + t, d: t >= 5 && t < 10 ? 'missed' : 'acked' });
      // The second destination was added 20 s in (no entries before: no loss) and missed 40-44.
      if (t >= 20) lines.push({ k: 'sec', t: s0 + t, d: t >= 40 && t < 45 ? 'missed' : t === 45 ? 'partial' : 'acked', n: 1 });
    }
    const r = findGaps(parseIndex(lines.map((l) => JSON.stringify(l)).join('\n')));
    expect(r.destinations?.map((d) => d.gaps.map((g) => [g.from - s0, g.to - s0, g.missedS, g.partialS]))).toEqual([
      [[5, 9, 5, 0]],
      [[40, 45, 5, 1]],
    ]);
    expect(r.gaps.map((g) => [g.from - s0, g.to - s0])).toEqual([
      [5, 9],
      [40, 45],
    ]);
    expect(r.ackedS).toBe(60 - 11);
    expect(missedSegments(r).map((s) => s.file)).toEqual(['20261203-120000-000.ts', '20261203-120030-000.ts']);
    expect(missedSegments(r, 1).map((s) => s.file)).toEqual(['20261203-120030-000.ts']);
    const text = formatSummary(r);
    expect(text).toContain('Destination 1 missed 5 s in 1 gap');
    expect(text).toContain('Destination 2 missed 6 s in 1 gap');
    expect(text).toContain('--destination N');
    // The index rewritten after pruning keeps both timelines.
    const again = parseIndex(formatLines(indexLines(parseIndex(lines.map((l) => JSON.stringify(l)).join('\n')))));
    expect(findGaps(again)).toEqual(r);
  });

  it('refuses a timeline line for a third destination', () => {
    const ix = parseIndex(`${JSON.stringify({ k: 'sec', t: s0, d: 'acked', n: 2 })}\n`);
    expect(ix.skipped).toBe(1);
    expect(ix.seconds.length).toBe(1);
  });
});
