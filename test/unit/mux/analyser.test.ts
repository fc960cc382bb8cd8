import { describe, expect, it } from 'vitest';
import { PID, TsAnalyser, TsMuxer } from '../../../src/mux/index.js';
import { liveStream } from './helpers.js';

/** 6 s of clean VBR TS from the muxer. */
function clean(): Buffer {
  const chunks: Buffer[] = [];
  const m = new TsMuxer({ audio: { sampleRate: 48_000, channels: 2 }, onChunk: (c) => chunks.push(Buffer.from(c)) });
  for (const { kind, au } of liveStream(6)) kind === 'video' ? m.writeVideo(au) : m.writeAudio(au);
  m.flush();
  return Buffer.concat(chunks);
}

const CLEAN = clean();
const N = CLEAN.length / 188;
const pidOf = (ts: Buffer, i: number) => ((ts[i * 188 + 1]! & 0x1f) << 8) | ts[i * 188 + 2]!;
const hasPcr = (ts: Buffer, i: number) => (ts[i * 188 + 3]! & 0x20) !== 0 && ts[i * 188 + 4]! > 0 && (ts[i * 188 + 5]! & 0x10) !== 0;

function packets(ts: Buffer, keep: (i: number) => boolean): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < ts.length / 188; i++) if (keep(i)) out.push(ts.subarray(i * 188, (i + 1) * 188));
  return Buffer.concat(out);
}

function report(ts: Buffer) {
  const a = new TsAnalyser();
  for (let i = 0; i < ts.length; i += 777) a.push(ts.subarray(i, i + 777));
  return a.report();
}

const nonZero = (r: ReturnType<typeof report>) =>
  Object.entries(r.checks)
    .filter(([, v]) => v !== null && v > 0)
    .map(([k]) => k);

describe('TsAnalyser catches damage with the right check', () => {
  it('finds nothing wrong in the clean stream', () => {
    const r = report(CLEAN);
    expect(nonZero(r)).toEqual([]);
    expect(r.priority1Errors).toBe(0);
  });

  it('dropped packets: Continuity_count_error on their PID', () => {
    const firstVideo = [...Array(N).keys()].filter((i) => pidOf(CLEAN, i) === PID.VIDEO)[200]!;
    const r = report(packets(CLEAN, (i) => i < firstVideo || i > firstVideo + 2));
    expect(nonZero(r)).toEqual(['Continuity_count_error']);
    expect(r.pids[String(PID.VIDEO)]!.continuityErrors).toBe(1);
    expect(r.priority1Errors).toBe(1);
    // Each dropped packet that carried a payload is counted as missing, on whatever PID.
    const dropped = [firstVideo, firstVideo + 1, firstVideo + 2].filter((i) => (CLEAN[i * 188 + 3]! & 0x10) !== 0);
    expect(r.missingPackets).toBe(dropped.length);
    expect(report(CLEAN).missingPackets).toBe(0);
  });

  it('counts missing packets from the counters: exact below 15 on a PID, a lower bound beyond', () => {
    // Video packets with a payload: only those step the continuity counter (§2.4.3.3).
    const video = [...Array(N).keys()].filter((i) => pidOf(CLEAN, i) === PID.VIDEO && (CLEAN[i * 188 + 3]! & 0x10) !== 0);
    const gone = (n: number) => new Set(video.slice(300, 300 + n));
    const keepAllBut = (n: number) => packets(CLEAN, (i) => !gone(n).has(i) || (CLEAN[i * 188 + 3]! & 0x10) === 0);
    expect(report(keepAllBut(5)).missingPackets).toBe(5);
    expect(report(keepAllBut(14)).missingPackets).toBe(14);
    // An adaptation-only packet kept inside a gap repeats the counter of the last payload sent: it tells too.
    expect(report(keepAllBut(20)).missingPackets).toBe(20);
    // 20 lost in a row with nothing of the PID between: the 4-bit counter has wrapped once, so 4 are seen.
    const from = video[300]!;
    const to = video[319]!;
    expect(report(packets(CLEAN, (i) => i < from || i > to || pidOf(CLEAN, i) !== PID.VIDEO)).missingPackets).toBe(4);
  });

  it('a PCR gap: PCR_repetition_error and PCR_discontinuity_indicator_error', () => {
    const ts = Buffer.from(CLEAN);
    const withPcr = [...Array(N).keys()].filter((i) => hasPcr(ts, i));
    for (const i of withPcr.slice(50, 58)) ts[i * 188 + 5]! &= ~0x10; // about 160 ms without a PCR
    const r = report(ts);
    expect(r.checks.PCR_repetition_error).toBe(1);
    expect(r.checks.PCR_discontinuity_indicator_error).toBe(1);
    expect(r.checks.Continuity_count_error).toBe(0);
    expect(r.intervals.pcrMaxMs).toBeGreaterThan(100);
  });

  it('a bad CRC: CRC_error, and the table is not believed', () => {
    const ts = Buffer.from(CLEAN);
    const pmt = [...Array(N).keys()].filter((i) => pidOf(ts, i) === PID.PMT)[10]!;
    ts[pmt * 188 + 4 + 1 + 12]! ^= 0x10; // inside the PMT's stream loop
    const r = report(ts);
    expect(nonZero(r)).toEqual(['CRC_error']);
    expect(r.checks.CRC_error).toBe(1);
  });

  it('a missing PMT: PMT_error', () => {
    const r = report(packets(CLEAN, (i) => pidOf(CLEAN, i) !== PID.PMT));
    // Absent from the start: one error for the whole absence, and nothing else.
    expect(nonZero(r)).toEqual(['PMT_error']);
    expect(r.checks.PMT_error).toBe(1);
    expect(r.priority1Errors).toBe(1);
  });

  it('a PMT missing for a second: PMT_error once', () => {
    const pmts = [...Array(N).keys()].filter((i) => pidOf(CLEAN, i) === PID.PMT);
    const gone = new Set(pmts.slice(20, 30)); // ~1 s of PMTs, the CC skips once
    const r = report(packets(CLEAN, (i) => !gone.has(i)));
    expect(r.checks.PMT_error).toBe(1);
    expect(r.intervals.pmtMaxMs).toBeGreaterThan(900);
  });

  it('a silent stream: PID_error; its PTSs stop: PTS_error', () => {
    const audio = [...Array(N).keys()].filter((i) => pidOf(CLEAN, i) === PID.AUDIO);
    const gone = new Set(audio.slice(200, 500)); // about 3 s of audio (two packets a frame)
    const r = report(packets(CLEAN, (i) => !gone.has(i)));
    expect(r.checks.PID_error).toBe(1);
    expect(r.checks.PTS_error).toBe(1);
  });

  it('garbage in the stream: Sync_byte_error and TS_sync_loss, then it locks again', () => {
    const at = 500 * 188;
    const ts = Buffer.concat([CLEAN.subarray(0, at), Buffer.alloc(1000, 0x11), CLEAN.subarray(at)]);
    const r = report(ts);
    expect(nonZero(r)).toEqual(['TS_sync_loss', 'Sync_byte_error']);
    expect(r.checks.TS_sync_loss).toBe(1);
    expect(r.checks.Sync_byte_error).toBe(2);
    expect(r.packets).toBe(N);
  });

  it('one duplicated packet is legal; a packet sent three times is not', () => {
    const i = [...Array(N).keys()].filter((k) => pidOf(CLEAN, k) === PID.AUDIO)[50]!;
    const twice = packets(CLEAN, () => true);
    const dup = Buffer.concat([twice.subarray(0, (i + 1) * 188), twice.subarray(i * 188, (i + 1) * 188), twice.subarray((i + 1) * 188)]);
    expect(report(dup).checks.Continuity_count_error).toBe(0);
    const trip = Buffer.concat([dup.subarray(0, (i + 1) * 188), dup.subarray(i * 188, (i + 1) * 188), dup.subarray((i + 1) * 188)]);
    expect(report(trip).checks.Continuity_count_error).toBe(1);
  });

  it('a transport_error_indicator: Transport_error', () => {
    const ts = Buffer.from(CLEAN);
    ts[300 * 188 + 1]! |= 0x80;
    expect(report(ts).checks.Transport_error).toBe(1);
  });

  it('reports the same at any chunking', () => {
    const whole = new TsAnalyser();
    whole.push(CLEAN);
    const bytes = new TsAnalyser();
    for (let i = 0; i < 20_000; i++) bytes.push(CLEAN.subarray(i, i + 1));
    bytes.push(CLEAN.subarray(20_000));
    expect(bytes.report()).toEqual(whole.report());
  });
});
