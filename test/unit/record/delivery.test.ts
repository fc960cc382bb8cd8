import { describe, expect, it } from 'vitest';
import { type DeliverySample, DeliveryTimeline, PENDING_LIMIT_S } from '../../../src/record/index.js';
import type { DeliveryT } from '../../../src/record/index-file.js';

function timeline() {
  const out: [number, DeliveryT][] = [];
  return { tl: new DeliveryTimeline((t, d) => out.push([t, d])), out };
}

const sample = (o: Partial<DeliverySample> & { sentUnique?: number; sndBuf?: number; dropped?: number }): DeliverySample => ({
  connection: o.connection ?? 1,
  connected: o.connected ?? true,
  sentBytes: o.sentBytes ?? 0,
  ...(o.connected === false ? {} : { srt: { sentUnique: o.sentUnique ?? 0, sndBuf: o.sndBuf ?? 0, dropped: o.dropped ?? 0 } }),
});

describe('DeliveryTimeline', () => {
  it('marks a second acknowledged once the cumulative ACK passes what had been sent by its end', () => {
    const { tl, out } = timeline();
    tl.endSecond(99, 0, sample({ sentBytes: 0 }));
    tl.endSecond(100, 1316 * 100, sample({ sentBytes: 1316 * 100, sentUnique: 100, sndBuf: 40 }));
    expect(out).toEqual([]);
    tl.update(100, sample({ sentBytes: 1316 * 100, sentUnique: 120, sndBuf: 15 }));
    expect(out).toEqual([[100, 'acked']]);
  });

  it('marks a second missed when nothing of it went out (not connected)', () => {
    const { tl, out } = timeline();
    tl.endSecond(99, 0, sample({}));
    tl.endSecond(100, 5000, sample({ connected: false }));
    expect(out).toEqual([[100, 'missed']]);
  });

  it('marks waiting seconds missed when the connection breaks before their ACK', () => {
    const { tl, out } = timeline();
    tl.endSecond(99, 0, sample({}));
    tl.endSecond(100, 13160, sample({ sentBytes: 13160, sentUnique: 10, sndBuf: 10 }));
    tl.endSecond(101, 13160, sample({ sentBytes: 26320, sentUnique: 20, sndBuf: 20 }));
    tl.update(102, sample({ connection: 2, sentBytes: 26320, sentUnique: 0 }));
    expect(out).toEqual([
      [100, 'missed'],
      [101, 'missed'],
    ]);
  });

  it('marks a second partial when libsrt dropped packets as too late while it waited, or it went out only in part', () => {
    const { tl, out } = timeline();
    tl.endSecond(99, 0, sample({}));
    tl.endSecond(100, 13160, sample({ sentBytes: 13160, sentUnique: 10, sndBuf: 10 }));
    tl.update(101, sample({ sentBytes: 13160, sentUnique: 10, sndBuf: 0, dropped: 3 }));
    expect(out).toEqual([[100, 'partial']]);
    // Half of what was recorded was handed to SRT (connected mid-second).
    tl.endSecond(101, 13160, sample({ sentBytes: 13160 + 6580, sentUnique: 15, sndBuf: 5, dropped: 3 }));
    tl.update(102, sample({ sentBytes: 19740, sentUnique: 15, sndBuf: 0, dropped: 3 }));
    expect(out[1]).toEqual([101, 'partial']);
  });

  it('gives up on a second never acknowledged within the limit, and flushes what waits at the end', () => {
    const { tl, out } = timeline();
    tl.endSecond(99, 0, sample({}));
    tl.endSecond(100, 1316, sample({ sentBytes: 1316, sentUnique: 1, sndBuf: 1 }));
    tl.update(100 + PENDING_LIMIT_S, sample({ sentBytes: 1316, sentUnique: 1, sndBuf: 1 }));
    expect(out).toEqual([]);
    tl.update(101 + PENDING_LIMIT_S, sample({ sentBytes: 1316, sentUnique: 1, sndBuf: 1 }));
    expect(out).toEqual([[100, 'missed']]);
    tl.endSecond(200, 1316, sample({ sentBytes: 2632, sentUnique: 2, sndBuf: 1 }));
    expect(tl.waiting).toBe(1);
    tl.flush();
    expect(out[1]).toEqual([200, 'missed']);
  });

  it('writes nothing for a second in which nothing was recorded', () => {
    const { tl, out } = timeline();
    tl.endSecond(100, 0, sample({ connected: false }));
    tl.flush();
    expect(out).toEqual([]);
  });
});
