/**
 * The status page's picture: with thumbnails on, the session makes a small
 * JPEG of the picture on air once a second, natively. ffprobe must read it
 * as mjpeg at 320 px wide with the picture's aspect, and decoded it must be
 * the encoded picture of the same capture time, a quarter the size. Off (the
 * default), none is made.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wrapPts } from '../../src/lib/clock.js';
import type { EncoderSession, SessionThumbnail } from '../../src/media/index.js';
import { skipWithout } from '../peers.js';
import { decodeLuma, encodeToTs, missingForEncode, tempDir } from './encode-helpers.js';

const skip = skipWithout('the thumbnail tests', missingForEncode());

const tmp = tempDir('fieldcast-thumbnail-');
afterAll(() => tmp.remove());

/** Luma of a JPEG as ffmpeg decodes it: full range, as decodeLuma gives the H.264 stream's. */
function jpegLuma(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
}

/** A luma plane averaged down by `k` in each direction. */
function shrink(plane: Buffer, width: number, height: number, k: number): number[] {
  const out: number[] = [];
  for (let y = 0; y + k <= height; y += k) {
    for (let x = 0; x + k <= width; x += k) {
      let sum = 0;
      for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) sum += plane[(y + j) * width + x + i]!;
      out.push(sum / (k * k));
    }
  }
  return out;
}

const spread = (v: ArrayLike<number>): number => {
  const a = Array.from(v);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  return Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
};

describe.skipIf(skip)('thumbnails of the picture on air', () => {
  it('on: after 2 s a 320x180 JPEG exists, ffprobe reads it, and it is the encoded picture of its capture time, smaller', async () => {
    const file = path.join(tmp.dir, 'thumb.ts');
    let early: SessionThumbnail | undefined;
    let session: EncoderSession | undefined;
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
        thumbnailWidth: 320,
        maxFrames: 75,
      },
      (_u, s, i) => {
        session = s;
        if (i === 60) early = s.thumbnail();
      },
    );
    // Paced: 2 s into the stream there is one, of a picture that was encoded.
    expect(early).toBeDefined();
    const video = r.units.filter((u) => u.stream === 'video');
    expect(video.map((u) => u.captureUs)).toContain(early!.captureUs);
    // Half a second in, then one a second: the last of 2.5 s is the picture at 1.5 s.
    const t0 = video[0]!.captureUs;
    expect(Math.round((early!.captureUs - t0) / 1e5) / 10).toBe(1.5);
    expect(r.events.filter((e) => e.code === 'THUMBNAIL_UNAVAILABLE')).toEqual([]);

    const jpeg = path.join(tmp.dir, 'thumb.jpg');
    writeFileSync(jpeg, early!.jpeg);
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', jpeg]).toString(),
    ) as { streams: { codec_name: string; width: number; height: number }[] };
    expect(probe.streams).toEqual([{ codec_name: 'mjpeg', width: 320, height: 180 }]);
    expect({ width: early!.width, height: early!.height }).toEqual({ width: 320, height: 180 });
    expect(early!.jpeg.length).toBeLessThan(32 * 1024);

    // It decodes, it is a picture (bars, ramp, text, timecode: far from uniform)...
    const thumb = jpegLuma(jpeg);
    expect(thumb.length).toBe(320 * 180);
    expect(spread(thumb)).toBeGreaterThan(40);
    // ...and it is the picture the stream carries at that capture time, a quarter the size.
    const { frames, pts } = decodeLuma(file, 1280, 720);
    const unit = video.find((u) => u.captureUs === early!.captureUs)!;
    const frame = frames[pts.indexOf(wrapPts(unit.pts))]!;
    const expected = shrink(frame, 1280, 720, 4);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff += Math.abs(expected[i]! - thumb[i]!);
    const meanDiff = diff / expected.length;
    console.log(`thumbnail: ${early!.jpeg.length} bytes; mean |luma difference| from the encoded picture ${meanDiff.toFixed(2)} of 255`);
    // JPEG at quality 5 and two scalers' rounding differ by about 1 level in 255; the next second's white flash by far more.
    expect(meanDiff).toBeLessThan(4);
    const flash = shrink(frames[pts.indexOf(wrapPts(video[60]!.pts))]!, 1280, 720, 4);
    let flashDiff = 0;
    for (let i = 0; i < flash.length; i++) flashDiff += Math.abs(flash[i]! - thumb[i]!);
    console.log(`... and ${(flashDiff / flash.length).toFixed(2)} from the flash at 2 s`);
    expect(flashDiff / flash.length).toBeGreaterThan(10 * meanDiff);
    // Closed, the session still has its latest (2.5 s is not reached: none came after).
    expect(session!.thumbnail()?.captureUs).toBe(early!.captureUs);
  }, 60_000);

  it('off (the default): none is made', async () => {
    let seen: SessionThumbnail | undefined;
    await encodeToTs(
      path.join(tmp.dir, 'none.ts'),
      {
        video: 'testpattern',
        audio: 'none',
        width: 320,
        height: 240,
        fps: '30',
        bitrate: 300_000,
        codec: 'libx264',
        paced: false,
        maxFrames: 60,
      },
      (_u, s) => {
        seen ??= s.thumbnail();
      },
    );
    expect(seen).toBeUndefined();
  }, 60_000);
});
