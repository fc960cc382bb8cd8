import { describe, expect, it } from 'vitest';
import { loadNative, loadSrtNative, nativeAvailable } from '../../../src/native/index.js';
import { skipWithout } from '../../peers.js';

const skip = skipWithout('the native core contract test', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

describe.skipIf(skip)('native addon: core exports', () => {
  it('loads and reads the media clock: CLOCK_MONOTONIC in microseconds', () => {
    const n = loadNative();
    expect(n.addonVersion).toBe('1');
    // Node's hrtime is CLOCK_MONOTONIC too (libuv): a reading taken between two of its readings lies between them.
    const micros = () => Number(process.hrtime.bigint() / 1000n);
    for (let i = 0; i < 100; i++) {
      const before = micros();
      const m = n.monotonicMicros();
      const after = micros();
      expect(Number.isInteger(m)).toBe(true);
      expect(m).toBeGreaterThanOrEqual(before);
      expect(m).toBeLessThanOrEqual(after);
    }
  });
});

describe.skipIf(skip)('the two addons', () => {
  it('each carries only its own exports: the supervisor side never holds capture or encoder code', () => {
    const media = Object.keys(loadNative()).sort();
    const srt = Object.keys(loadSrtNative()).sort();
    // Both carry the batched UDP socket: the bonding sender (SRT side) and a passthrough input (media side).
    const core = ['addonVersion', 'monotonicMicros', 'setLogCallback', 'UdpBatchSocket'];
    expect(srt).toEqual([...core, 'SrtSocket', 'sdNotify', 'srtVersion'].sort());
    expect(media).toEqual(
      [
        ...core,
        'EncodeSession',
        'listCaptureDevices',
        'probeCaptureDevice',
        'probeMedia',
        'renderSlate',
        'renderText',
        'setCaptureDvTimings',
        'startCaptureTest',
      ].sort(),
    );
  });

  it('sdNotify says false when there is no NOTIFY_SOCKET (not under systemd)', () => {
    const saved = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
    try {
      expect(loadSrtNative().sdNotify('READY=1')).toBe(false);
    } finally {
      if (saved !== undefined) process.env.NOTIFY_SOCKET = saved;
    }
  });
});
