import { describe, expect, it } from 'vitest';
import { MediaOptionsError, toNativeOptions } from '../../../src/media/index.js';

describe('encoder session options (checked before they cross into C++)', () => {
  it('fills defaults for the test pattern: 1280x720 at 30 fps, libx264 low-latency settings', () => {
    const o = toNativeOptions({});
    expect(o).toMatchObject({
      videoSource: 'testpattern',
      audioSource: 'testtone',
      width: 1280,
      height: 720,
      fpsNum: 30,
      fpsDen: 1,
      codec: 'auto',
      bframes: 0,
      tune: 'zerolatency',
      preset: 'superfast',
      rateControl: 'cbr',
      paced: true,
      // No thumbnails unless asked for: benchmarks and encode tests pay nothing for them.
      thumbnailWidth: 0,
    });
    expect(toNativeOptions({ thumbnailWidth: 320 }).thumbnailWidth).toBe(320);
  });

  it('keeps 1001 rates exact and splits a V4L2 device from its input', () => {
    expect(toNativeOptions({ fps: '29.97' })).toMatchObject({ fpsNum: 30_000, fpsDen: 1001 });
    expect(toNativeOptions({ fps: '59.94' })).toMatchObject({ fpsNum: 60_000, fpsDen: 1001 });
    const v = toNativeOptions({ video: '/dev/video2:3', audio: 'hw:1,0' });
    expect(v).toMatchObject({ videoSource: '/dev/video2', v4l2Input: 3, audioSource: 'hw:1,0', width: 0, height: 0, fpsNum: 0 });
  });

  it.each([
    [{ video: 'rtsp://camera' }, 'video'],
    [{ audio: 'pulse' }, 'audio'],
    [{ width: 1281, height: 720 }, 'width'],
    [{ width: 1280 }, 'width and height'],
    [{ fps: 'fast' }, 'fps'],
    [{ bitrate: 50 }, 'bitrate'],
    [{ codec: 'x265' }, 'codec'],
    [{ preset: 'placebo' }, 'preset'],
    [{ video: '/dev/video0', paced: false }, 'unpaced'],
    [{ audio: 'hw:0,0', paced: false }, 'unpaced'],
    [{ colour: 'red' }, 'colour'],
    [{ thumbnailWidth: 321 }, 'thumbnailWidth'],
    [{ thumbnailWidth: 16 }, 'thumbnailWidth'],
    [{ thumbnailWidth: 4000 }, 'thumbnailWidth'],
  ])('rejects %j naming what is wrong', (opts, what) => {
    expect(() => toNativeOptions(opts as never)).toThrow(MediaOptionsError);
    expect(() => toNativeOptions(opts as never)).toThrow(what);
  });
});
