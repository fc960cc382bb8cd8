import { describe, expect, it } from 'vitest';
import { captureTest, listCaptureDevices, probeCaptureDevice, setDvTimings } from '../../../src/media/v4l2.js';
import { nativeAvailable } from '../../../src/native/index.js';

const available = nativeAvailable();
if (!available) console.warn('\n*** SKIPPING the V4L2 API host tests: the native addon is not built (npm run build:native) ***\n');

// Host checks that need no capture hardware; the real capture runs in test/vm.
describe.skipIf(!available)('V4L2 capture API on the host', () => {
  it('lists devices (possibly none) as V4L2 descriptions', async () => {
    const devices = await listCaptureDevices();
    expect(Array.isArray(devices)).toBe(true);
    for (const d of devices) {
      expect(d.path).toMatch(/^\/dev\/video\d+$/);
      expect(typeof d.driver).toBe('string');
    }
  });

  it('reports a missing device as INPUT_UNAVAILABLE in words an operator understands', async () => {
    await expect(probeCaptureDevice('/dev/video-does-not-exist')).rejects.toMatchObject({
      code: 'INPUT_UNAVAILABLE',
      message: expect.stringMatching(/does not exist/),
    });
    await expect(captureTest({ source: 'v4l2', device: '/dev/video-does-not-exist', frames: 1 })).rejects.toMatchObject({
      code: 'INPUT_UNAVAILABLE',
    });
  });

  it('rejects a file that is not a V4L2 device', async () => {
    await expect(probeCaptureDevice('/dev/null')).rejects.toMatchObject({ code: 'INPUT_UNSUPPORTED' });
  });

  it('rejects bad options before touching a device', async () => {
    await expect(probeCaptureDevice('video0; rm -rf /')).rejects.toMatchObject({ code: 'MEDIA_BAD_OPTIONS' });
    await expect(setDvTimings('/dev/video0', { width: 1280, height: 720, fps: -1 })).rejects.toMatchObject({
      code: 'MEDIA_BAD_OPTIONS',
    });
    await expect(captureTest({ source: 'v4l2', device: '/dev/video0', buffers: 1000, frames: 1 })).rejects.toMatchObject({
      code: 'MEDIA_BAD_OPTIONS',
    });
  });
});
