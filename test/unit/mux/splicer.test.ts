import { describe, expect, it } from 'vitest';
import { type ChunkInfo, PID, TsAnalyser, TsArrivals, TsMuxer, TsSplicer } from '../../../src/mux/index.js';
import { liveStream } from './helpers.js';

/** `seconds` of the synthetic live stream from a fresh muxer (its counters start at 0), chunk by chunk with media time. */
function source(seconds: number, startPts: number): { at: number; data: Buffer }[] {
  const out: { at: number; data: Buffer }[] = [];
  let now = 0;
  const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => out.push({ at: now, data: Buffer.from(c) }) });
  for (const { kind, au } of liveStream(seconds, { start: startPts })) {
    now = au.dts / 90;
    kind === 'video' ? m.writeVideo(au) : m.writeAudio(au);
  }
  m.flush();
  return out;
}

interface Run {
  ts: Buffer;
  infos: ChunkInfo[];
  splicer: TsSplicer;
}

/**
 * A pipeline that runs 2 s, dies, and a new one starts `gapMs` later on the
 * same media clock (the monotonic clock, as the encoder stamps it). The
 * splicer's clock follows the media time of what it is fed.
 */
function restartRun(gapMs: number): Run {
  let clock = 0;
  const chunks: Buffer[] = [];
  const infos: ChunkInfo[] = [];
  const splicer = new TsSplicer({
    now: () => clock,
    onChunk: (c, info) => {
      chunks.push(Buffer.from(c));
      infos.push(info);
    },
  });
  const first = source(2, 900_000);
  for (const c of first) {
    clock = c.at;
    splicer.push(c.data);
  }
  // Silence: the splicer fills on its timer.
  const diedAt = clock;
  for (let t = diedAt + 10; t < diedAt + gapMs; t += 10) {
    clock = t;
    splicer.tick();
  }
  splicer.newSource();
  const second = source(2, 900_000 + Math.round((2000 + gapMs) * 90));
  for (const c of second) {
    clock = c.at;
    splicer.push(c.data);
  }
  return { ts: Buffer.concat(chunks), infos, splicer };
}

function analyse(ts: Buffer) {
  const a = new TsAnalyser();
  a.push(ts);
  return a.report();
}

describe('TsSplicer: one continuous stream across a pipeline restart', () => {
  it('passes a single source through unchanged, in whole 1316-byte chunks, telling where PAT, PMT and keyframes are', () => {
    const src = Buffer.concat(source(3, 900_000).map((c) => c.data));
    const chunks: Buffer[] = [];
    const infos: ChunkInfo[] = [];
    const s = new TsSplicer({
      onChunk: (c, info) => {
        chunks.push(Buffer.from(c));
        infos.push(info);
      },
    });
    // Cut anywhere, as a pipe delivers it.
    for (let o = 0; o < src.length; o += 1000) s.push(src.subarray(o, o + 1000));
    const out = Buffer.concat(chunks);
    expect(chunks.every((c) => c.length === 1316)).toBe(true);
    expect(out.equals(src.subarray(0, out.length))).toBe(true);
    expect(src.length - out.length).toBeLessThan(1316);
    expect(infos.filter((i) => i.keyframe)).toHaveLength(3);
    expect(infos.filter((i) => i.pat).length).toBeGreaterThanOrEqual(30);
    // Every keyframe chunk has a PAT and PMT in it or just before it (the muxer writes PSI before each IDR).
    infos.forEach((info, k) => {
      if (info.keyframe)
        expect(infos.slice(Math.max(0, k - 1), k + 1).some((x) => x.pat) && infos.slice(Math.max(0, k - 1), k + 1).some((x) => x.pmt)).toBe(
          true,
        );
    });
    expect(s.stats).toMatchObject({ fillPackets: 0, splices: 0, pcrDiscontinuities: 0 });
  });

  it('carries the continuity counters and the clock across the restart: no priority 1 error, one PCR gap before the fill', () => {
    const r = restartRun(600);
    const rep = analyse(r.ts);
    expect(rep.checks.Continuity_count_error).toBe(0);
    expect(rep.checks.PAT_error).toBe(0);
    expect(rep.checks.PMT_error).toBe(0);
    expect(rep.priority1Errors).toBe(0);
    // The silence is filled once it has lasted 70 ms: that one PCR gap (under the 100 ms a
    // discontinuity would need) is the restart's only mark.
    expect(rep.checks.PCR_repetition_error).toBe(1);
    expect(rep.intervals.pcrMaxMs).toBeGreaterThan(40);
    expect(rep.intervals.pcrMaxMs).toBeLessThan(100);
    expect(rep.checks.PCR_discontinuity_indicator_error).toBe(0);
    // Within the 500 ms TR 101 290 allows, about the muxer's own 100 ms.
    expect(rep.intervals.patMaxMs).toBeLessThanOrEqual(150);
    expect(r.splicer.stats).toMatchObject({ splices: 1 });
    expect(r.splicer.stats.fillPackets).toBeGreaterThan(20);
    // Both sources' pictures are there, the new one starting on its keyframe.
    const order = new TsArrivals();
    order.push(r.ts);
    order.flush();
    expect(order.pictures).toHaveLength(120);
    expect(order.pictures[60]).toMatchObject({ key: true, parameterSets: true });
  });

  it('without it the restart is a continuity error on every PID (the check can fail)', () => {
    const a = source(1, 900_000).map((c) => c.data);
    const b = source(1, 900_000 + 120_000).map((c) => c.data);
    const rep = analyse(Buffer.concat([...a, ...b]));
    expect(rep.checks.Continuity_count_error).toBeGreaterThanOrEqual(3);
  });

  it('flags a PCR that jumps back at the splice with the discontinuity indicator', () => {
    // The new source's clock starts 2 s behind where the old one had got to.
    let clock = 0;
    const chunks: Buffer[] = [];
    const s = new TsSplicer({ now: () => clock, onChunk: (c) => chunks.push(Buffer.from(c)) });
    for (const c of source(2, 900_000)) {
      clock = c.at;
      s.push(c.data);
    }
    s.newSource();
    for (const c of source(1, 900_000)) {
      clock = 3000 + c.at;
      s.push(c.data);
    }
    expect(s.stats.pcrDiscontinuities).toBe(1);
    const rep = analyse(Buffer.concat(chunks));
    expect(rep.checks.PCR_discontinuity_indicator_error).toBe(0);
    expect(rep.checks.Continuity_count_error).toBe(0);
  });

  it('fills nothing while the source keeps coming, and keeps PAT, PMT and PCR going while it is silent', () => {
    let clock = 0;
    const chunks: Buffer[] = [];
    const s = new TsSplicer({ now: () => clock, onChunk: (c) => chunks.push(Buffer.from(c)) });
    for (const c of source(1, 900_000)) {
      clock = c.at;
      s.push(c.data);
      s.tick();
    }
    expect(s.stats.fillPackets).toBe(0);
    const before = chunks.length;
    const silentFrom = clock;
    for (let t = silentFrom + 10; t < silentFrom + 2000; t += 10) {
      clock = t;
      s.tick();
    }
    const fill = Buffer.concat(chunks.slice(before));
    const pids = new Map<number, number>();
    for (let o = 0; o < fill.length; o += 188) {
      const pid = ((fill[o + 1]! & 0x1f) << 8) | fill[o + 2]!;
      pids.set(pid, (pids.get(pid) ?? 0) + 1);
    }
    // About 19 PAT/PMT pairs (every 100 ms once 70 ms of silence passed) and 77 PCRs (every 25 ms).
    expect(pids.get(PID.PAT)).toBeGreaterThanOrEqual(18);
    expect(pids.get(PID.PMT)).toBe(pids.get(PID.PAT));
    expect(pids.get(PID.VIDEO)).toBeGreaterThanOrEqual(60);
    expect(s.stats.filling).toBe(true);
    const rep = analyse(Buffer.concat(chunks));
    expect(rep.checks.Continuity_count_error).toBe(0);
    // The one gap before the fill began; none after.
    expect(rep.checks.PCR_repetition_error).toBe(1);
    expect(rep.checks.PCR_discontinuity_indicator_error).toBe(0);
  });

  it('a source that stalls and comes back, without a restart, has its first PCR checked against the fill', () => {
    let clock = 0;
    const chunks: Buffer[] = [];
    const s = new TsSplicer({ now: () => clock, onChunk: (c) => chunks.push(Buffer.from(c)) });
    const all = source(3, 900_000);
    const half = Math.floor(all.length / 2);
    for (const c of all.slice(0, half)) {
      clock = c.at;
      s.push(c.data);
    }
    // 300 ms stall: the fill's PCRs run 300 ms ahead of where the source's own will go on from.
    const stalledAt = clock;
    for (let t = stalledAt + 10; t < stalledAt + 300; t += 10) {
      clock = t;
      s.tick();
    }
    for (const c of all.slice(half)) {
      clock = c.at + 300;
      s.push(c.data);
    }
    const rep = analyse(Buffer.concat(chunks));
    expect(s.stats.pcrDiscontinuities).toBe(1);
    expect(rep.checks.PCR_discontinuity_indicator_error).toBe(0);
    expect(rep.checks.Continuity_count_error).toBe(0);
  });
});
