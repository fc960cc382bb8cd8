/**
 * Test pattern → libx264 + AAC → the muxer → TS, checked from the far end
 * with ffmpeg/ffprobe: it decodes; the capture times drawn into the pictures
 * read back and match the PTS; each white flash and its beep carry the same
 * second code and arrive within one frame of each other; a bitrate change shows in the per-second bitrate
 * within 2 s; backpressure drops video by the documented policy, never audio.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { microsToPts, wrapPts } from '../../src/lib/clock.js';
import { avOffsets, beepOnsets, flashTimes } from '../../src/media/far-end.js';
import { EncoderSession } from '../../src/media/index.js';
import type { TEST_PATTERN_RATES } from '../../src/media/session.js';
import { isFlashFrame, readSecondCode, readTimecode, SECOND_CODES } from '../../src/media/timecode.js';
import { skipWithout } from '../peers.js';
import { decodeLuma, encodeToTs, missingForEncode, tempDir, videoPackets } from './encode-helpers.js';

const skip = skipWithout('the encode integration tests', missingForEncode());

const tmp = tempDir('fieldcast-encode-');
afterAll(() => tmp.remove());

describe.skipIf(skip)('encode: test pattern through libx264 and the muxer', () => {
  it('decodes, and the capture times drawn in each picture match its PTS (720p30 at 1 Mbit/s)', async () => {
    const file = path.join(tmp.dir, 'tc.ts');
    const r = await encodeToTs(file, {
      video: 'testpattern',
      audio: 'testtone',
      width: 1280,
      height: 720,
      fps: '30',
      bitrate: 1_000_000,
      codec: 'libx264',
      paced: false,
      maxFrames: 120,
    });
    expect(r.info.videoCodec).toBe('libx264');
    const streams = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,profile,width,height,sample_rate,channels',
        '-of',
        'json',
        file,
      ]).toString(),
    ) as { streams: { codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number }[] };
    const video = streams.streams.find((s) => s.codec_name === 'h264');
    const audio = streams.streams.find((s) => s.codec_name === 'aac');
    expect(video).toMatchObject({ width: 1280, height: 720 });
    expect(audio).toMatchObject({ sample_rate: '48000', channels: 2 });

    const { frames, pts } = decodeLuma(file, 1280, 720);
    expect(frames.length).toBe(120);
    expect(pts.length).toBe(120);
    const times = frames.map((f) => readTimecode(f, 1280, 720));
    expect(times.every((t) => t !== undefined)).toBe(true);
    for (let i = 0; i < frames.length; i++) {
      // The PTS in the TS is the drawn capture time on the 90 kHz clock.
      expect(pts[i]).toBe(wrapPts(microsToPts(times[i]!.captureUs)));
    }
    // ...and the drawn times step by exactly one frame (33333 or 33334 µs at 30 fps).
    for (let i = 1; i < times.length; i++) {
      expect(Math.abs(times[i]!.captureUs - times[i - 1]!.captureUs - 1e6 / 30)).toBeLessThanOrEqual(1);
    }
    // The units JS received carry the same capture times, and the PTS cadence is exact: 3000 ticks a frame.
    const videoUnits = r.units.filter((u) => u.stream === 'video');
    expect(new Set(videoUnits.slice(1).map((u, i) => u.pts - videoUnits[i]!.pts))).toEqual(new Set([3000]));
    expect(videoUnits.map((u) => u.captureUs)).toEqual(times.map((t) => t!.captureUs));
  });

  it('puts each beep within one frame of its white flash (29.97 fps, an exact 1001 rate)', async () => {
    const file = path.join(tmp.dir, 'flash.ts');
    await encodeToTs(file, {
      video: 'testpattern',
      audio: 'testtone',
      width: 1280,
      height: 720,
      fps: '29.97',
      bitrate: 2_000_000,
      codec: 'libx264',
      paced: false,
      maxFrames: 30 * 5,
    });
    const { frames, pts } = decodeLuma(file, 1280, 720);
    const flashes = frames.flatMap((f, i) => (isFlashFrame(f, 1280, 720) ? [{ pts: pts[i]!, code: readSecondCode(f, 1280, 720) }] : []));
    // Frames 0, 30, 60, 90, 120 (the first at or after each second), each drawn with its second's code.
    expect(flashes.map((f) => f.code)).toEqual([0, 1, 2, 3, 4]);
    expect(flashTimes(file, 1280, 720)).toEqual(flashes);
    // (Sound runs to the end of the last picture, so a beep may start just after it: not compared.)
    const beeps = beepOnsets(file).filter((b) => b.pts <= pts.at(-1)!);
    // Every flash after the first (which may fall before the audio stream's first packet) has its beep,
    // and every beep's pitch reads as a code, one more each second.
    expect(beeps.length).toBeGreaterThanOrEqual(flashes.length - 1);
    expect(beeps.every((b) => b.code !== undefined)).toBe(true);
    for (const [i, b] of beeps.entries()) expect(b.code).toBe((beeps[0]!.code! + i) % SECOND_CODES);
    // Each beep pairs with the flash of its own code, within one frame.
    const frameTicks = 3003;
    const frameMs = frameTicks / 90;
    const offsets = avOffsets(flashes, beeps);
    expect(offsets.length).toBe(beeps.length);
    for (const o of offsets) expect(Math.abs(o)).toBeLessThanOrEqual(frameMs);
    for (const f of flashes.slice(1)) expect(beeps.filter((b) => b.code === f.code).length).toBe(1);

    // The same stream with its sound exactly 1 s (90000 ticks) late, re-muxed by ffmpeg (-copyts: without
    // it ffmpeg starts each stream afresh and loses the audio's lead of one AAC frame): measured as 1 s, not
    // folded back to the flash a second on, which lies within a frame of each late beep.
    const late = path.join(tmp.dir, 'flash-late.ts');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-copyts',
      '-i',
      file,
      '-itsoffset',
      '1',
      '-i',
      file,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c',
      'copy',
      '-f',
      'mpegts',
      late,
    ]);
    const lateFlashes = flashTimes(late, 1280, 720);
    const lateBeeps = beepOnsets(late).filter((b) => b.pts <= lateFlashes.at(-1)!.pts);
    expect(lateBeeps.length).toBeGreaterThanOrEqual(3);
    for (const b of lateBeeps) expect(Math.min(...lateFlashes.map((f) => Math.abs(f.pts - b.pts)))).toBeLessThanOrEqual(frameTicks);
    const lateOffsets = avOffsets(lateFlashes, lateBeeps);
    expect(lateOffsets.length).toBe(lateBeeps.length);
    for (const o of lateOffsets) expect(Math.abs(o - 1000)).toBeLessThanOrEqual(frameMs);
  });

  it.each([
    ['25', 1280, 720],
    ['29.97', 1280, 720],
    ['30', 1280, 720],
    ['50', 1280, 720],
    ['59.94', 1920, 1080],
    ['60', 1920, 1080],
  ])('at %s fps (%dx%d) the drawn times step by exactly one frame and the flash comes once a second', async (fps, width, height) => {
    const rate = fps === '29.97' ? 30_000 / 1001 : fps === '59.94' ? 60_000 / 1001 : Number(fps);
    const file = path.join(tmp.dir, `rate-${fps}.ts`);
    const r = await encodeToTs(file, {
      video: 'testpattern',
      audio: 'testtone',
      width,
      height,
      fps: fps as (typeof TEST_PATTERN_RATES)[number],
      bitrate: 3_000_000,
      codec: 'libx264',
      preset: 'ultrafast',
      paced: false,
      maxFrames: Math.ceil(rate * 2.2),
    });
    const { frames } = decodeLuma(file, width, height);
    const times = frames.map((f) => readTimecode(f, width, height)?.captureUs);
    expect(times.every((t) => t !== undefined)).toBe(true);
    const start = times[0]!;
    // Frame k is at start + k/rate exactly (rounded once to the µs, never accumulated).
    for (let k = 0; k < times.length; k++) expect(Math.abs(times[k]! - start - (k * 1e6) / rate)).toBeLessThanOrEqual(1);
    // The PTS of frame k is k frames of 90 kHz after the first, to the nearest tick (no ±1 jitter).
    const vpts = r.units.filter((u) => u.stream === 'video').map((u) => u.pts);
    for (let k = 0; k < vpts.length; k++) expect(Math.abs(vpts[k]! - vpts[0]! - (k * 90_000) / rate)).toBeLessThanOrEqual(0.5);
    const flashes = frames.flatMap((f, k) => (isFlashFrame(f, width, height) ? [k] : []));
    // The first frame at or after each whole second: 0, ceil(rate), ceil(2 * rate).
    expect(flashes).toEqual([0, Math.ceil(rate - 1e-9), Math.ceil(2 * rate - 1e-9)]);
  });

  it('a bitrate change mid-stream shows in the per-second bitrate within 2 s, without restarting the encoder', async () => {
    const file = path.join(tmp.dir, 'bitrate.ts');
    const fps = 30;
    const changeAt = 8 * fps;
    const r = await encodeToTs(
      file,
      {
        video: 'testpattern',
        audio: 'none',
        width: 1280,
        height: 720,
        fps: String(fps) as (typeof TEST_PATTERN_RATES)[number],
        bitrate: 5_000_000,
        codec: 'libx264',
        preset: 'ultrafast',
        paced: false,
        maxFrames: 16 * fps,
      },
      (_u, s, i) => {
        if (i === changeAt) s.setVideoBitrate(1_500_000);
      },
    );
    expect(r.stats.videoBitrate).toBe(1_500_000);
    const pkts = videoPackets(file);
    const t0 = pkts[0]!.pts;
    const perSecond = new Array<number>(16).fill(0);
    for (const p of pkts) {
      const s = Math.floor((p.pts - t0) / 90_000);
      if (s < 16) perSecond[s]! += p.size * 8;
    }
    // Before: about 5 Mbit/s (seconds 1..7, after rate control settles).
    for (let s = 1; s < 8; s++) expect(perSecond[s]! / 5e6).toBeGreaterThan(0.7);
    // From 2 s after the change: about 1.5 Mbit/s.
    for (let s = 10; s < 16; s++) expect(perSecond[s]! / 1.5e6).toBeLessThan(1.35);
    // One encoder throughout: a single IDR cadence (every 2 s), no extra IDR at the change.
    expect(r.stats.keyframes).toBe(8);
  });

  it('the caller hears every unit from the first keyframe on, even when JS was busy as the session started', async () => {
    const starting = EncoderSession.start({
      video: 'testpattern',
      audio: 'testtone',
      width: 640,
      height: 360,
      fps: '30',
      bitrate: 1_000_000,
      codec: 'libx264',
      preset: 'ultrafast',
      paced: false,
      maxFrames: 60,
    });
    // The native threads start at once and encode while JS is busy: `started` and the first units come in one batch.
    const until = Date.now() + 1500;
    while (Date.now() < until) {}
    const session = await starting;
    const heard: { stream: string; key: boolean }[] = [];
    session.on('accessUnit', (u) => heard.push({ stream: u.stream, key: u.key }));
    await session.whenClosed();
    const video = heard.filter((u) => u.stream === 'video');
    expect(video[0]).toEqual({ stream: 'video', key: true });
    expect(video).toHaveLength(session.stats().videoFrames);
  });

  it('under backpressure drops video up to the next keyframe, never audio, and the output still decodes', async () => {
    const file = path.join(tmp.dir, 'backpressure.ts');
    let blocked = false;
    const r = await encodeToTs(
      file,
      {
        video: 'testpattern',
        audio: 'testtone',
        width: 1280,
        height: 720,
        fps: '30',
        bitrate: 2_000_000,
        codec: 'libx264',
        preset: 'ultrafast',
        keyframeSeconds: 10,
        paced: false,
        maxFrames: 300,
        // Room for every audio unit of the stall, not for the pictures (about 8 kB each).
        queueUnits: 4000,
        queueBytes: 1 << 20,
      },
      (_u, s, i) => {
        if (i === 20 && !blocked) {
          blocked = true;
          // JS stalls until the native threads have encoded everything into the bounded queue.
          const until = Date.now() + 20_000;
          while (s.stats().videoFrames < 300 && Date.now() < until) {}
        }
      },
    );
    expect(r.stats.droppedVideo).toBeGreaterThan(0);
    expect(r.stats.droppedAudio).toBe(0);
    const video = r.units.filter((u) => u.stream === 'video');
    // After the gap the first picture JS sees is a keyframe the encoder was asked for (keyint is 10 s).
    // A frame is 3000 ticks, ±1 from rounding the µs capture times to 90 kHz: a gap is a missing picture.
    const gapAt = video.findIndex((u, i) => i > 0 && u.pts - video[i - 1]!.pts > 4500);
    expect(gapAt).toBeGreaterThan(0);
    expect(video[gapAt]!.key).toBe(true);
    expect(r.stats.keyframes).toBeGreaterThanOrEqual(2);
    // Audio is continuous: 1024-sample steps (1920 ticks) throughout.
    const audio = r.units.filter((u) => u.stream === 'audio');
    for (let i = 1; i < audio.length; i++) expect(audio[i]!.pts - audio[i - 1]!.pts).toBe(1920);
    // Every picture JS received decodes, the ones before the gap as well as after it.
    const { frames, pts } = decodeLuma(file, 1280, 720);
    if (pts.length !== video.length) keepForDiagnosis(file, video);
    expect(pts).toEqual(video.map((u) => wrapPts(u.pts)));
    expect(frames.length).toBe(video.length);
    expect(frames.every((f) => readTimecode(f, 1280, 720) !== undefined)).toBe(true);
  });
});

/** A decode that lost pictures: the TS is kept under .cache/artifacts and what the far end made of it is printed. */
function keepForDiagnosis(file: string, video: { pts: number; key: boolean; data: Buffer }[]): void {
  const dir = path.resolve(import.meta.dirname, '../../.cache/artifacts/encode');
  mkdirSync(dir, { recursive: true });
  const kept = path.join(dir, `backpressure-${Date.now()}.ts`);
  copyFileSync(file, kept);
  const probe = (args: string[]): string => {
    try {
      return execFileSync('ffprobe', args, { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    } catch (e) {
      return String((e as { stderr?: Buffer }).stderr ?? e);
    }
  };
  const packets = probe(['-v', 'warning', '-select_streams', 'v', '-show_entries', 'packet=pts,size,flags', '-of', 'csv', kept]);
  console.log(
    `backpressure: decoded fewer pictures than JS muxed; kept ${kept}\n` +
      `JS muxed ${video.length} pictures, the first ${video
        .slice(0, 3)
        .map((u) => `${u.pts}${u.key ? 'K' : ''}`)
        .join(' ')}\n` +
      `ffprobe's first video packets:\n${packets.split('\n').slice(0, 8).join('\n')}`,
  );
}
