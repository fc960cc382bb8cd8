/**
 * Contract of the capture exports (src/native/capture.ts): every export is
 * called with good and bad arguments; bad ones give a clear error or a
 * clear failure event, never a crash. (Real capture runs in test/vm.)
 */
import { describe, expect, it } from 'vitest';
import type { NativeCaptureEvent, NativeCaptureTestOptions } from '../../../src/native/capture.js';
import { loadNative, nativeAvailable } from '../../../src/native/index.js';
import { skipWithout } from '../../peers.js';
import { answeringNodes, deviceShape } from './video-nodes.js';

const skip = skipWithout('the capture addon contract tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

function runTest(options: unknown): Promise<NativeCaptureEvent[]> {
  const events: NativeCaptureEvent[] = [];
  return new Promise((resolve) => {
    loadNative().startCaptureTest(options as NativeCaptureTestOptions, (e) => {
      events.push(e);
      if (e.type === 'end') resolve(events);
    });
  });
}

describe.skipIf(skip)('native capture exports', () => {
  const n = skip ? undefined : loadNative();
  const bad = (v: unknown): never => v as never;

  it('listCaptureDevices resolves to the /dev/video* nodes that answer QUERYCAP, each described', async () => {
    const devices = await n!.listCaptureDevices();
    expect(devices.map((d) => d.path)).toEqual(await answeringNodes((p) => n!.probeCaptureDevice(p)));
    for (const d of devices) expect(d).toEqual(deviceShape);
  });

  it('probeCaptureDevice and setCaptureDvTimings reject bad arguments with a code', async () => {
    expect(() => n?.probeCaptureDevice(bad(42))).toThrow(/device path/);
    await expect(n?.probeCaptureDevice('/nonexistent/video9')).rejects.toMatchObject({ code: 'INPUT_UNAVAILABLE' });
    expect(() => n?.setCaptureDvTimings('/dev/video0', bad(undefined))).toThrow(/timings to set/);
    await expect(n?.setCaptureDvTimings('/dev/null', { index: 0 })).rejects.toMatchObject({ code: 'INPUT_UNSUPPORTED' });
  });

  it('startCaptureTest needs options and a callback', () => {
    expect(() => n?.startCaptureTest(bad(undefined), bad(undefined))).toThrow(/needs both arguments/);
    expect(() => n?.startCaptureTest(bad({ source: 'slate' }), bad('nope'))).toThrow(/needs both arguments/);
  });

  it('startCaptureTest reports a device that cannot open as an error event, then ends', async () => {
    const events = await runTest({ source: 'v4l2', device: '/nonexistent/video9', frames: 1 });
    expect(events.map((e) => e.type)).toEqual(['error', 'end']);
    expect(events[0]).toMatchObject({ code: 'INPUT_UNAVAILABLE', message: expect.stringMatching(/does not exist/) });
  });

  it('startCaptureTest runs the slate, with odd values falling back or failing cleanly', async () => {
    const ok = await runTest({ source: 'slate', width: 64, height: 36, fpsNum: 50, fpsDen: 1, pixFmt: 'no-such-format', frames: 3 });
    expect(ok.map((e) => e.type)).toEqual(['open', 'frame', 'frame', 'frame', 'end']);
    expect(ok[0]).toMatchObject({ width: 64, height: 36, pixFmt: 'yuv420p', fpsNum: 50 });
    const badSize = await runTest({ source: 'slate', width: 7, height: 3, frames: 3 });
    expect(badSize.map((e) => e.type)).toEqual(['error', 'end']);
    expect(badSize[0]?.code).toBe('INVALID_INPUT');
  });

  it('stop() ends a run that has no bound of its own', async () => {
    const events: NativeCaptureEvent[] = [];
    const ended = new Promise<void>((resolve) => {
      const h = n?.startCaptureTest(
        {
          source: 'slate',
          width: 64,
          height: 36,
          fpsNum: 25,
          fpsDen: 1,
          pixFmt: '',
          inputName: '',
          frames: 0,
          durationMs: 0,
          readTimeoutMs: 50,
        },
        (e) => {
          events.push(e);
          if (e.type === 'frame' && e.index === 1) h?.stop();
          if (e.type === 'end') resolve();
        },
      );
    });
    await ended;
    // It ran (opened, pictures 0 and 1) until stopped, not into an error, and stopped soon after.
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('open');
    expect(types.at(-1)).toBe('end');
    expect(types).not.toContain('error');
    const frames = events.filter((e) => e.type === 'frame');
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames.length).toBeLessThan(5);
  });

  it('renderSlate and renderText reject unusable sizes; huge scales and positions are clipped', () => {
    expect(() => n?.renderSlate({ width: 100_000, height: 720 })).toThrow(/even picture size/);
    expect(() => n?.renderText({ width: 0, height: 0, x: 0, y: 0, scale: 1, text: 'A', luma: 1 })).toThrow(/even size/);
    const t = n?.renderText({ width: 16, height: 16, x: -2_000_000_000, y: 5, scale: 2_000_000_000, text: 'A'.repeat(10_000), luma: 9 });
    expect(t?.luma.length).toBe(256);
    // Capped at 4096 glyphs of 6 columns (less the last gap) at scale 256, 7 rows tall (native/src/font.cc).
    expect(t?.textWidth).toBe((4096 * 6 - 1) * 256);
    expect(t?.textHeight).toBe(7 * 256);
    // The text starts two billion columns left of the picture: nothing of it lands inside.
    expect(t?.luma.every((v) => v === 0)).toBe(true);
    const big = n?.renderText({ width: 16, height: 16, x: 0, y: 0, scale: 2_000_000_000, text: 'H', luma: 9 });
    expect(big?.luma.every((v) => v === 9)).toBe(true); // the first glyph column covers the picture
  });
});
