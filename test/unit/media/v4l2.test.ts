import { describe, expect, it } from 'vitest';
import { captureTest, listCaptureDevices, probeCaptureDevice, setDvTimings } from '../../../src/media/v4l2.js';
import { nativeAvailable } from '../../../src/native/index.js';
import { skipWithout } from '../../peers.js';
import { answeringNodes, deviceShape, videoNodes } from '../native/video-nodes.js';

const skip = skipWithout('the V4L2 API host tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

// Host checks that need no capture hardware; the real capture runs in test/vm.
describe.skipIf(skip)('V4L2 capture API on the host', () => {
  it('lists exactly the /dev/video* nodes that answer as V4L2 devices, each described (none where /dev has none)', async () => {
    // The oracle: every /dev/video* node, kept if it opens and answers VIDIOC_QUERYCAP. On a host
    // without capture hardware it is empty, so an empty list is the truth, not a failure to look.
    const expected = await answeringNodes(probeCaptureDevice);
    expect(expected.every((p) => videoNodes().includes(p))).toBe(true);
    const devices = await listCaptureDevices();
    expect(devices.map((d) => d.path)).toEqual(expected);
    for (const d of devices) expect(d).toEqual(deviceShape);
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
