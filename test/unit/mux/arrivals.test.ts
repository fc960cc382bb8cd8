import { describe, expect, it } from 'vitest';
import { TsArrivals, TsMuxer } from '../../../src/mux/index.js';
import { liveStream } from './helpers.js';

/** Muxes `seconds` of the synthetic live stream; each 1316-byte chunk with the media time (ms) of its last unit. */
function chunks(seconds: number, start = 900_000): { at: number; data: Buffer }[] {
  const out: { at: number; data: Buffer }[] = [];
  let now = 0;
  const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => out.push({ at: now, data: Buffer.from(c) }) });
  for (const { kind, au } of liveStream(seconds, { start })) {
    now = (au.dts - start) / 90;
    kind === 'video' ? m.writeVideo(au) : m.writeAudio(au);
  }
  m.flush();
  return out;
}

/** Feeds chunks into a TsArrivals whose clock reads each chunk's time plus `shift(at)`. */
function arrive(list: { at: number; data: Buffer }[], shift: (at: number) => number = () => 0): TsArrivals {
  let clock = 0;
  const a = new TsArrivals(() => clock);
  for (const c of list) {
    clock = c.at + shift(c.at);
    a.push(c.data);
  }
  a.flush();
  return a;
}

describe('TsArrivals: what the far end gets, and when', () => {
  it('logs every picture with its size and PTS, keyframes with their SPS/PPS, and the PSI', () => {
    const a = arrive(chunks(3));
    expect(a.pictures).toHaveLength(90);
    expect(a.pictures.filter((p) => p.key)).toHaveLength(3);
    expect(a.pictures.every((p) => p.key === p.parameterSets)).toBe(true);
    expect(a.pictures[0]).toMatchObject({ key: true, parameterSets: true, pts: 900_000 });
    expect(a.pictures[1]).toMatchObject({ key: false, pts: 903_000 });
    // The synthetic IDR is 20000 bytes of slice after SPS+PPS; a P picture 3000, each with its start code.
    expect(a.pictures[0]!.bytes).toBeGreaterThanOrEqual(20_000);
    expect(a.pictures[1]!.bytes).toBeGreaterThanOrEqual(3000);
    expect(a.pictures[1]!.bytes).toBeLessThan(3100);
    expect(a.pats.length).toBeGreaterThanOrEqual(30);
    expect(a.pmts.length).toBe(a.pats.length);
    expect(a.longestGap()).toBeLessThan(100);
    expect(a.resumptionAfter(0)).toBeUndefined();
  });

  it('finds a gap after a moment and says whether the stream came back as a decoder needs it', () => {
    // The first stream stops at 1.5 s; 2 s later a new one starts from its own beginning.
    const first = chunks(1.5);
    const second = chunks(2, 1_900_000).map((c) => ({ at: c.at + 3500, data: c.data }));
    const a = arrive([...first, ...second]);
    const r = a.resumptionAfter(1400)!;
    expect(r.gapMs).toBeGreaterThan(1900);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    expect(a.longestGap()).toBe(r.gapMs);
    expect(a.longestGap(r.atMs)).toBeLessThan(100);
  });

  it('finds the interruption in a window however short it was, once the window is over', () => {
    // 150 ms without pictures from 1.5 s: under resumptionAfter's 200 ms threshold.
    const first = chunks(1.5);
    const second = chunks(2, 1_900_000).map((c) => ({ at: c.at + 1650, data: c.data }));
    const a = arrive([...first, ...second]);
    expect(a.resumptionAfter(1400)).toBeUndefined();
    const r = a.resumptionWithin(1400, 1000)!;
    expect(r.gapMs).toBeGreaterThan(140);
    expect(r.gapMs).toBeLessThan(200);
    expect(r).toMatchObject({ patFirst: true, pmtFirst: true, keyFirst: true, picturesBeforeKey: 0 });
    // Not before the window has been seen whole.
    expect(arrive(first).resumptionWithin(1400, 1000)).toBeUndefined();
  });

  it('a stream that resumes mid-GOP, without PSI, is seen for what it is', () => {
    const all = chunks(4);
    // Half a second of TS lost from 1.2 s: no PAT/PMT or keyframe until the next one at 2 s.
    const cut = all.filter((c) => c.at < 1200 || c.at > 1700);
    const noPsi = cut.map((c) => (c.at > 1700 && c.at < 2000 ? { at: c.at, data: withoutPsi(c.data) } : c));
    const r = arrive(noPsi).resumptionAfter(1100)!;
    expect(r.gapMs).toBeGreaterThan(450);
    expect(r.keyFirst).toBe(false);
    expect(r.patFirst).toBe(false);
    expect(r.picturesBeforeKey).toBeGreaterThan(5);
  });
});

/** The chunk with its PAT and PMT packets turned into null packets. */
function withoutPsi(data: Buffer): Buffer {
  const b = Buffer.from(data);
  for (let o = 0; o + 188 <= b.length; o += 188) {
    const pid = ((b[o + 1]! & 0x1f) << 8) | b[o + 2]!;
    if (pid === 0 || pid === 0x1000) {
      b[o + 1] = 0x1f;
      b[o + 2] = 0xff;
    }
  }
  return b;
}
