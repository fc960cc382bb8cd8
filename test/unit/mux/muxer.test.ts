import { describe, expect, it } from 'vitest';
import { TS_WRAP } from '../../../src/lib/clock.js';
import { PID, TsAnalyser, TsMuxer, type TsMuxerOptions } from '../../../src/mux/index.js';
import { parsePmt } from '../../../src/mux/psi-parse.js';
import { SectionAssembler } from '../../../src/mux/section-assembler.js';
import { adtsFrame, klvPacket, liveStream, picture } from './helpers.js';

function mux(seconds: number, opts: Partial<TsMuxerOptions> = {}, stream: { start?: number; paramsOnce?: boolean; klv?: boolean } = {}) {
  const chunks: Buffer[] = [];
  const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, ...opts, onChunk: (c) => chunks.push(Buffer.from(c)) });
  for (const { kind, au } of liveStream(seconds, stream)) {
    if (kind === 'video') m.writeVideo(au);
    else if (kind === 'audio') m.writeAudio(au);
    else m.writeKlv(au);
  }
  m.flush();
  return { m, chunks, ts: Buffer.concat(chunks) };
}

function analyse(ts: Buffer) {
  const a = new TsAnalyser();
  for (let i = 0; i < ts.length; i += 1000) a.push(ts.subarray(i, i + 1000)); // odd boundaries on purpose
  return a.report();
}

/** Payloads of the PES packets of one PID, reassembled. */
function pesPayloads(ts: Buffer, pid: number): Buffer[] {
  const out: Buffer[] = [];
  let cur: Buffer[] | undefined;
  for (let o = 0; o < ts.length; o += 188) {
    if ((((ts[o + 1]! & 0x1f) << 8) | ts[o + 2]!) !== pid || !(ts[o + 3]! & 0x10)) continue;
    const start = ts[o + 3]! & 0x20 ? o + 5 + ts[o + 4]! : o + 4;
    if (ts[o + 1]! & 0x40) {
      if (cur) out.push(Buffer.concat(cur));
      cur = [];
    }
    cur?.push(ts.subarray(start, o + 188));
  }
  if (cur) out.push(Buffer.concat(cur));
  return out;
}

describe('TsMuxer (VBR)', () => {
  it('emits 1316-byte chunks that parse back with no TR 101 290 error', () => {
    const { chunks, ts, m } = mux(5);
    expect(chunks.every((c) => c.length === 1316)).toBe(true);
    const r = analyse(ts);
    expect(r.priority1Errors).toBe(0);
    expect(r.priority2Errors).toBe(0);
    expect(r.intervals.pcrMaxMs).toBeLessThanOrEqual(20);
    expect(r.intervals.patMaxMs).toBeLessThanOrEqual(100);
    expect(r.intervals.pmtMaxMs).toBeLessThanOrEqual(100);
    expect(r.programs[0]!.streams.map((s) => s.streamType)).toEqual([0x1b, 0x0f]);
    expect(r.services[0]).toEqual({ serviceId: 1, providerName: 'Fieldcast', serviceName: 'Fieldcast' });
    expect(m.stats.packets).toBe(ts.length / 188);
  });

  it('keeps the PCR behind every DTS by the mux delay', () => {
    const r = analyse(mux(3, { delayMs: 250 }).ts);
    expect(r.minDtsLeadMs[String(PID.VIDEO)]).toBeGreaterThanOrEqual(250 - 0.1);
    expect(r.minDtsLeadMs[String(PID.AUDIO)]).toBeGreaterThanOrEqual(250 - 0.1);
  });

  it('honours a shorter PCR interval and PSI interval', () => {
    const r = analyse(mux(3, { pcrIntervalMs: 10, psiIntervalMs: 40 }).ts);
    expect(r.intervals.pcrMaxMs).toBeLessThanOrEqual(10);
    expect(r.intervals.patMaxMs).toBeLessThanOrEqual(40);
    expect(r.intervals.pmtMaxMs).toBeLessThanOrEqual(40);
    // Shorter than the defaults (20 ms, 100 ms) would give: the options took effect.
    const d = analyse(mux(3).ts);
    expect(d.intervals.pcrMaxMs).toBeGreaterThan(10);
    expect(d.intervals.patMaxMs).toBeGreaterThan(40);
  });

  it('puts an AUD first in every picture and SPS/PPS before every IDR the encoder sent bare', () => {
    const { ts } = mux(2, {}, { paramsOnce: true });
    const pics = pesPayloads(ts, PID.VIDEO).map((p) => p.subarray(9 + p[8]!));
    expect(pics).toHaveLength(60);
    for (const p of pics) expect(p.subarray(0, 6).toString('hex')).toBe('0000000109f0');
    // The IDRs at 0 and 1 s: SPS (0x67) and PPS (0x68) follow the AUD.
    for (const i of [0, 30]) {
      expect(pics[i]![10]).toBe(0x67);
      expect(pics[i]!.includes(Buffer.from('0000000168ce0fc8', 'hex'))).toBe(true);
    }
    expect(pics[1]![10]).toBe(0x41); // a P slice: nothing inserted
  });

  it('does not add a second AUD when the picture has one', () => {
    const chunks: Buffer[] = [];
    const m = new TsMuxer({ onChunk: (c) => chunks.push(Buffer.from(c)) });
    m.writeVideo({ data: picture(0, { idr: true, aud: true }), pts: 0, dts: 0, key: true });
    m.flush();
    const pic = pesPayloads(Buffer.concat(chunks), PID.VIDEO)[0]!;
    const body = pic.subarray(9 + pic[8]!);
    expect(body.subarray(0, 6).toString('hex')).toBe('0000000109f0');
    expect(body[10]).toBe(0x67);
  });

  it('crosses the 33-bit timestamp wrap without an error', () => {
    const r = analyse(mux(4, {}, { start: TS_WRAP - 2 * 90_000 }).ts);
    expect(r.priority1Errors + r.priority2Errors).toBe(0);
    expect(r.durationMs).toBeGreaterThan(3800);
  });

  it('sets the discontinuity indicator on the PCR after markDiscontinuity and a clock jump', () => {
    const chunks: Buffer[] = [];
    const m = new TsMuxer({ audio: false, onChunk: (c) => chunks.push(Buffer.from(c)) });
    for (let i = 0; i < 30; i++) m.writeVideo({ data: picture(i, { idr: i % 15 === 0 }), pts: i * 3000, dts: i * 3000, key: i % 15 === 0 });
    m.markDiscontinuity();
    for (let i = 0; i < 30; i++)
      m.writeVideo({ data: picture(i, { idr: i % 15 === 0 }), pts: 50_000_000 + i * 3000, dts: 50_000_000 + i * 3000, key: i % 15 === 0 });
    m.flush();
    const ts = Buffer.concat(chunks);
    let flagged = 0;
    for (let o = 0; o < ts.length; o += 188) if (ts[o + 3]! & 0x20 && ts[o + 4]! > 0 && ts[o + 5]! & 0x80 && ts[o + 5]! & 0x10) flagged++;
    expect(flagged).toBe(1);
    expect(m.stats.discontinuities).toBe(1);
    const r = analyse(ts);
    expect(r.checks.PCR_discontinuity_indicator_error).toBe(0);
    expect(r.priority1Errors).toBe(0);
  });

  it('carries KLV as RP 217 asynchronous metadata', () => {
    const { ts } = mux(2, { klv: true }, { klv: true });
    const r = analyse(ts);
    const klv = r.programs[0]!.streams.find((s) => s.pid === PID.KLV)!;
    expect(klv).toMatchObject({ streamType: 0x06, registration: 'KLVA' });
    const pes = pesPayloads(ts, PID.KLV);
    expect(pes).toHaveLength(6);
    expect(pes[0]![3]).toBe(0xbd);
    expect(pes[0]![7]! & 0xc0).toBe(0); // no PTS
    expect(pes[0]!.subarray(9).equals(klvPacket())).toBe(true);
    expect(r.priority1Errors).toBe(0);
  });

  it('rejects bad input with a clear error and changes nothing', () => {
    const chunks: Buffer[] = [];
    const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => chunks.push(Buffer.from(c)) });
    m.writeVideo({ data: picture(0, { idr: true }), pts: 0, dts: 0, key: true });
    const before = m.stats;
    expect(() => m.writeVideo({ data: Buffer.from('not annex b at all'), pts: 3000, dts: 3000, key: false })).toThrow(/Annex B/);
    expect(() => m.writeVideo({ data: Buffer.from([0, 0, 0, 1, 0x67, 1, 2]), pts: 3000, dts: 3000, key: false })).toThrow(/no picture/);
    expect(() => m.writeVideo({ data: picture(1, { idr: false }), pts: 3000, dts: 6000, key: false })).toThrow(/PTS < DTS/);
    expect(() => m.writeVideo({ data: picture(1, { idr: false }), pts: Number.NaN, dts: 0, key: false })).toThrow(/PTS\/DTS/);
    expect(() => m.writeAudio({ data: Buffer.from('garbage'), pts: 0, dts: 0, key: true })).toThrow(/not ADTS/);
    expect(() => m.writeAudio({ data: adtsFrame().subarray(0, 100), pts: 0, dts: 0, key: true })).toThrow(/not ADTS/);
    expect(() => m.writeKlv({ data: klvPacket(), pts: 0, dts: 0, key: true })).toThrow(/no KLV stream/);
    expect(m.stats).toEqual(before);
    expect(() => new TsMuxer({ pcrIntervalMs: 100, onChunk: () => {} })).toThrow(/pcrIntervalMs/);
    expect(() => new TsMuxer({ video: false, onChunk: () => {} })).toThrow(/video or an audio/);
    expect(() => new TsMuxer({ cbrRate: 5, onChunk: () => {} })).toThrow(/cbrRate/);
  });
});

describe('TsMuxer (CBR)', () => {
  it('holds the mux rate exactly, with null stuffing and PCRs exact to the byte', () => {
    const rate = 8_000_000;
    const { ts, m } = mux(5, { cbrRate: rate });
    const r = analyse(ts);
    expect(r.priority1Errors + r.priority2Errors).toBe(0);
    expect(r.pcr.constantRate).toBe(true);
    expect(r.checks.PCR_accuracy_error).toBe(0);
    expect(r.pcr.jitterMaxNs).toBeLessThan(100);
    expect(Math.abs(r.bitrate.perSecondMinBps! - rate) / rate).toBeLessThan(0.001);
    expect(Math.abs(r.bitrate.perSecondMaxBps! - rate) / rate).toBeLessThan(0.001);
    expect(r.intervals.pcrMaxMs).toBeLessThanOrEqual(20);
    expect(r.intervals.patMaxMs).toBeLessThanOrEqual(100);
    expect(m.stats.nullPackets).toBeGreaterThan(0);
    expect(m.stats.lateUnits).toBe(0);
  });

  it('reports late access units when the rate is too low for the stream', () => {
    const { m } = mux(2, { cbrRate: 500_000 });
    expect(m.stats.lateUnits).toBeGreaterThan(0);
  });
});

describe('PMT of an audio-only muxer', () => {
  it('puts the PCR on the audio PID', () => {
    const chunks: Buffer[] = [];
    const m = new TsMuxer({ video: false, audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => chunks.push(Buffer.from(c)) });
    for (let i = 0; i < 100; i++) m.writeAudio({ data: adtsFrame(), pts: i * 1920, dts: i * 1920, key: true });
    m.flush();
    const ts = Buffer.concat(chunks);
    let pmt: ReturnType<typeof parsePmt>;
    const asm = new SectionAssembler((s) => {
      pmt ??= parsePmt(s);
    });
    for (let o = 0; o < ts.length; o += 188)
      if ((((ts[o + 1]! & 0x1f) << 8) | ts[o + 2]!) === PID.PMT) asm.push(ts.subarray(o + 4, o + 188), (ts[o + 1]! & 0x40) !== 0);
    expect(pmt!.pcrPid).toBe(PID.AUDIO);
    const r = analyse(ts);
    expect(r.priority1Errors + r.priority2Errors).toBe(0);
    expect(r.intervals.pcrMaxMs).toBeLessThanOrEqual(20);
  });
});

describe('TsMuxer (live interleave)', () => {
  it('counts audio that arrives further behind the video than the mux delay', () => {
    const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, delayMs: 50, onChunk: () => {} });
    for (let i = 0; i < 30; i++)
      m.writeVideo({ data: picture(i, { idr: i === 0 }), pts: 90_000 + i * 3000, dts: 90_000 + i * 3000, key: i === 0 });
    m.writeAudio({ data: adtsFrame(), pts: 90_000 + 29 * 3000 - 9000, dts: 90_000 + 29 * 3000 - 9000, key: true }); // 100 ms behind
    expect(m.stats.lateUnits).toBe(1);
    m.writeAudio({ data: adtsFrame(), pts: 90_000 + 29 * 3000 - 900, dts: 90_000 + 29 * 3000 - 900, key: true }); // 10 ms behind: within the delay
    expect(m.stats.lateUnits).toBe(1);
  });
});
