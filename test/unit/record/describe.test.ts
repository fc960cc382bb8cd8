import { describe, expect, it } from 'vitest';
import { describeRecording } from '../../../src/record/index.js';

describe('describeRecording', () => {
  it('says what is kept, and when the recording had to give way and why', () => {
    expect(
      describeRecording({
        state: 'recording',
        segments: 12,
        bytes: 45_000_000,
        oldest: '2026-12-03T12:00:00.000Z',
        droppedBytes: 0,
        drops: 0,
        queuedBytes: 0,
      }),
    ).toBe('recording: recording, 12 segments, 45.0 MB, since 2026-12-03 12:00:00 UTC');
    expect(
      describeRecording({
        state: 'dropping',
        segments: 3,
        bytes: 9_000_000,
        droppedBytes: 2_500_000,
        drops: 1,
        queuedBytes: 8_000_000,
        lastError: 'recording dropped a stretch: the disk is too slow for the stream',
      }),
    ).toBe(
      'recording: dropping, 3 segments, 9.0 MB, 2.5 MB not recorded, recording dropped a stretch: the disk is too slow for the stream',
    );
  });
});
