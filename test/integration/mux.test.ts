/**
 * The muxer against real peers: ffmpeg makes the elementary streams, `fieldcast
 * mux` muxes them, ffprobe/ffmpeg decode the result and tsreport (tstools)
 * checks it beside `fieldcast analyse`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalyserReport, PID } from '../../src/mux/index.js';
import { missingTools, skipWithout } from '../peers.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/fieldcast.js');
const skip = skipWithout('the mux integration tests', missingTools('ffmpeg', 'ffprobe', 'tsreport'));

const SECONDS = 30;
const FPS = 30;
let dir = '';

function fieldcast(args: string[]) {
  return spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function analyse(file: string): AnalyserReport {
  const r = fieldcast(['analyse', '--json', file]);
  return JSON.parse(r.stdout) as AnalyserReport;
}

/** ffprobe's decoded frames of one stream type: their PTS, in display order. */
function framePts(file: string, stream: 'v' | 'a'): number[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'frame=pts', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out
    .split('\n')
    .map((l) => l.split(',')[0]!.trim())
    .filter((l) => l !== '')
    .map(Number);
}

/** Decoding errors ffmpeg reports while decoding every frame. */
function decodeErrors(file: string): string {
  return spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' }).stderr.trim();
}

interface TsReport {
  /** Each continuity discontinuity tsreport names: the PID and the byte offset where it saw it. */
  discontinuities: { pid: number; offset: number }[];
  ccErrors: number;
  badPcrGaps: number;
  maxPcrGapMs: number;
  rateBps: number;
}

function tsreport(file: string): TsReport {
  const out = spawnSync('tsreport', ['-b', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
  const gaps = /Bad \(>\.1s\) gaps: (\d+), Max gap: (\d+)t/.exec(out);
  const rate = /Overall stream rate=(\d+) bits\/sec/.exec(out);
  if (!gaps || !rate) throw new Error(`tsreport output not understood:\n${out.slice(0, 2000)}`);
  const discontinuities = [...out.matchAll(/### PID\((\d+)\): Continuity Counter discontinuity \d+->\d+ at (\d+)/g)].map((m) => ({
    pid: Number(m[1]),
    offset: Number(m[2]),
  }));
  // Its per-stream summary ("### CC error * N") must add up to the events it listed.
  const summed = [...out.matchAll(/### CC error \* (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  if (summed !== discontinuities.length) throw new Error(`tsreport lists ${discontinuities.length} CC errors but sums ${summed}`);
  return {
    discontinuities,
    ccErrors: discontinuities.length,
    badPcrGaps: Number(gaps[1]),
    maxPcrGapMs: Number(gaps[2]) / 90,
    rateBps: Number(rate[1]),
  };
}

const pidAt = (ts: Buffer, i: number): number => ((ts[i * 188 + 1]! & 0x1f) << 8) | ts[i * 188 + 2]!;
/** Whether packet i carries a payload (adaptation_field_control bit 0): only those advance the continuity counter. */
const hasPayload = (ts: Buffer, i: number): boolean => (ts[i * 188 + 3]! & 0x10) !== 0;

describe.skipIf(skip)('fieldcast mux with real peers', () => {
  let videoFrames = 0;
  let audioFrames = 0;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fc-mux-'));
    // B-frames on purpose: the muxer must carry PTS ≠ DTS from the picture order count.
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${FPS}:duration=${SECONDS}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${SECONDS}`],
      ...[
        '-map',
        '0:v',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-bf',
        '2',
        '-g',
        '60',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'h264',
        path.join(dir, 'v.h264'),
      ],
      ...['-map', '1:a', '-c:a', 'aac', '-b:a', '96k', '-f', 'adts', path.join(dir, 'a.aac')],
    ]);
    videoFrames = SECONDS * FPS;
    // Count the ADTS frames the file holds by their headers.
    const aac = readFileSync(path.join(dir, 'a.aac'));
    for (let o = 0; o + 7 <= aac.length; audioFrames++) o += ((aac[o + 3]! & 3) << 11) | (aac[o + 4]! << 3) | (aac[o + 5]! >> 5);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('VBR: ffprobe decodes every frame, same count and timestamps; analyser and tsreport agree it is clean', () => {
    const out = path.join(dir, 'vbr.ts');
    const r = fieldcast(['mux', '--video', path.join(dir, 'v.h264'), '--audio', path.join(dir, 'a.aac'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(decodeErrors(out)).toBe('');

    const v = framePts(out, 'v');
    expect(v).toHaveLength(videoFrames);
    expect(v.map((pts) => pts - v[0]!)).toEqual(v.map((_, i) => i * 3000)); // display order, one frame apart
    const a = framePts(out, 'a');
    expect(a).toHaveLength(audioFrames);
    expect(a.map((pts) => pts - a[0]!)).toEqual(a.map((_, i) => Math.floor((i * 1024 * 90_000) / 48_000)));

    const rep = analyse(out);
    expect(rep.priority1Errors).toBe(0);
    expect(rep.priority2Errors).toBe(0);
    expect(rep.checks.Continuity_count_error).toBe(0);
    expect(rep.intervals.pcrMaxMs).toBeLessThanOrEqual(40);
    expect(rep.intervals.patMaxMs).toBeLessThanOrEqual(100);
    expect(rep.intervals.pmtMaxMs).toBeLessThanOrEqual(100);
    const peer = tsreport(out);
    expect(peer.ccErrors).toBe(0);
    expect(peer.badPcrGaps).toBe(0);
    expect(peer.maxPcrGapMs).toBeLessThanOrEqual(40);
  });

  it('a live encoder stream (no B-frames): muxed in one pass, every frame decodes at its time', () => {
    const video = path.join(dir, 'zl.h264');
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=10'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=10'],
      ...[
        '-map',
        '0:v',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-g',
        '50',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'h264',
        video,
      ],
      ...['-map', '1:a', '-c:a', 'aac', '-f', 'adts', path.join(dir, 'zl.aac')],
    ]);
    const out = path.join(dir, 'zl.ts');
    const r = fieldcast(['mux', '--video', video, '--audio', path.join(dir, 'zl.aac'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/250 pictures \(320x240 at 25\.000 fps\)/);
    expect(decodeErrors(out)).toBe('');
    const v = framePts(out, 'v');
    expect(v.map((pts) => pts - v[0]!)).toEqual(v.map((_, i) => i * 3600));
    expect(v).toHaveLength(250);
    const rep = analyse(out);
    expect(rep.priority1Errors + rep.priority2Errors).toBe(0);
  });

  it('CBR: holds its rate within 0.1% every second, still decodes cleanly', () => {
    const out = path.join(dir, 'cbr.ts');
    const rate = 1_500_000;
    const r = fieldcast(['mux', '--video', path.join(dir, 'v.h264'), '--audio', path.join(dir, 'a.aac'), '--cbr', '1.5M', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(decodeErrors(out)).toBe('');
    expect(framePts(out, 'v')).toHaveLength(videoFrames);
    const rep = analyse(out);
    expect(rep.priority1Errors + rep.priority2Errors).toBe(0);
    expect(rep.pcr.constantRate).toBe(true);
    expect(rep.checks.PCR_accuracy_error).toBe(0);
    expect(Math.abs(rep.bitrate.perSecondMinBps! - rate) / rate).toBeLessThan(0.001);
    expect(Math.abs(rep.bitrate.perSecondMaxBps! - rate) / rate).toBeLessThan(0.001);
    expect(rep.intervals.patMaxMs).toBeLessThanOrEqual(100);
    const peer = tsreport(out);
    expect(peer.ccErrors).toBe(0);
    expect(peer.maxPcrGapMs).toBeLessThanOrEqual(40);
    expect(Math.abs(peer.rateBps - rate) / rate).toBeLessThan(0.001);
  });

  it('damage: analyse exits non-zero with one continuity error per lost payload packet, and each one tsreport reports is one of them', () => {
    const ts = readFileSync(path.join(dir, 'vbr.ts'));
    const n = ts.length / 188;
    const dropped = [...Array(n).keys()].filter((i) => i % 2000 === 1000);
    const keep: Buffer[] = [];
    for (let i = 0; i < n; i++) if (i % 2000 !== 1000) keep.push(ts.subarray(i * 188, (i + 1) * 188));
    const bad = path.join(dir, 'dropped.ts');
    const damaged = Buffer.concat(keep);
    writeFileSync(bad, damaged);
    // A lost packet that carried a payload breaks its PID's counter; an adaptation-only one (a PCR) does not.
    const breaks = dropped.filter((i) => hasPayload(ts, i));
    expect(breaks.length).toBeGreaterThan(0);
    const r = fieldcast(['analyse', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^  Continuity_count_error\\s+${breaks.length} ERRORS?$`, 'm'));
    const rep = analyse(bad);
    expect(rep.checks.Continuity_count_error).toBe(breaks.length);
    for (const pid of new Set(breaks.map((i) => pidAt(ts, i)))) {
      expect(rep.pids[String(pid)]!.continuityErrors).toBe(breaks.filter((i) => pidAt(ts, i) === pid).length);
    }
    // tsreport (tstools) follows only the elementary streams, and does not report every break
    // (in this stream it misses one); what it does report must be a break we made: the first
    // packet of that PID after a lost one, at its offset in the damaged file.
    const after = new Set(
      breaks.map((d) => {
        const pid = pidAt(ts, d);
        let j = d + 1;
        while (pidAt(ts, j) !== pid) j++;
        return `${pid}@${(j - dropped.filter((x) => x < j).length) * 188}`;
      }),
    );
    const peer = tsreport(bad);
    expect(peer.discontinuities.length).toBeGreaterThan(0);
    for (const d of peer.discontinuities) {
      expect([PID.VIDEO, PID.AUDIO]).toContain(d.pid);
      expect(after).toContain(`${d.pid}@${d.offset}`);
    }
    expect(fieldcast(['analyse', path.join(dir, 'vbr.ts')]).status).toBe(0);
  });

  it('KLV: carried as an RP 217 stream ffprobe recognises', () => {
    const key = Buffer.from('060e2b34020b01010e01030101000000', 'hex');
    const klv = Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.concat([key, Buffer.from([8]), Buffer.alloc(8, i)])));
    writeFileSync(path.join(dir, 'm.klv'), klv);
    const out = path.join(dir, 'klv.ts');
    const r = fieldcast(['mux', '--video', path.join(dir, 'v.h264'), '--klv', path.join(dir, 'm.klv'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const codecs = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', out], {
      encoding: 'utf8',
    });
    // Listed under the program and again on their own: the video and the KLV stream.
    expect([
      ...new Set(
        codecs
          .split('\n')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    ]).toEqual(['h264', 'klv']);
    const rep = analyse(out);
    expect(rep.programs[0]!.streams.map((s) => [s.pid, s.streamType, s.registration])).toEqual([
      [PID.VIDEO, 0x1b, undefined],
      [PID.KLV, 0x06, 'KLVA'],
    ]);
    expect(rep.priority1Errors).toBe(0);
  });

  it('bad input files get a clear error and no crash', () => {
    writeFileSync(path.join(dir, 'junk.h264'), Buffer.from('this is not video'));
    const r = fieldcast(['mux', '--video', path.join(dir, 'junk.h264'), '-o', path.join(dir, 'junk.ts')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not H\.264 Annex B/);
    expect(fieldcast(['mux', '-o', 'x.ts']).status).toBe(2);
    const gone = fieldcast(['mux', '--video', path.join(dir, 'missing.h264'), '-o', path.join(dir, 'x.ts')]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/cannot read .*missing\.h264: ENOENT/);
  });
});
