import { describe, expect, it } from 'vitest';
import type { OperatorState } from '../../../src/supervisor/snapshot.js';
import { MARK_GOOD_RETRY_MS, type SlotMarkEvent, SlotMarker } from '../../../src/update/index.js';

/** A marker on a hand-driven clock, fed one state a second as the supervisor does. */
function rig(opts: { slot?: string; healthyForMs?: number; failFirst?: number } = {}) {
  let now = 0;
  let calls = 0;
  let failures = opts.failFirst ?? 0;
  const events: SlotMarkEvent[] = [];
  const marker = new SlotMarker({
    slot: 'slot' in opts ? opts.slot : 'B',
    healthyForMs: () => opts.healthyForMs ?? 60_000,
    markGood: async () => {
      calls++;
      if (failures > 0) {
        failures--;
        throw new Error('rauc: D-Bus said no');
      }
    },
    now: () => now,
    onEvent: (e) => events.push(e),
  });
  const feed = async (state: OperatorState, seconds: number): Promise<void> => {
    for (let i = 0; i < seconds; i++) {
      marker.observe(state);
      await Promise.resolve();
      await Promise.resolve();
      now += 1000;
    }
  };
  return { marker, feed, events, calls: () => calls };
}

describe('marking the booted slot good', () => {
  it('marks once, after the box has been healthy for the whole window, and never again that boot', async () => {
    const r = rig();
    await r.feed('starting', 20);
    await r.feed('live', 60);
    expect(r.calls()).toBe(0);
    expect(r.marker.state).toBe('waiting');
    await r.feed('live', 1);
    expect(r.calls()).toBe(1);
    expect(r.marker.state).toBe('marked');
    expect(r.events).toEqual([{ kind: 'marked', slot: 'B', healthyForMs: 60_000 }]);
    await r.feed('live', 120);
    await r.feed('error', 5);
    await r.feed('idle', 120);
    expect(r.calls()).toBe(1);
  });

  it('starts the window again after any unhealthy second', async () => {
    const r = rig();
    await r.feed('live', 59);
    await r.feed('error', 1);
    await r.feed('degraded', 59);
    expect(r.calls()).toBe(0);
    await r.feed('no-signal', 2);
    expect(r.calls()).toBe(1);
  });

  it('counts idle (ready to stream) as healthy, and never marks a box that only starts or fails', async () => {
    const idle = rig({ healthyForMs: 10_000 });
    await idle.feed('idle', 11);
    expect(idle.marker.state).toBe('marked');
    const broken = rig();
    for (let i = 0; i < 30; i++) {
      await broken.feed('starting', 9);
      await broken.feed('error', 1);
    }
    expect(broken.calls()).toBe(0);
    expect(broken.marker.state).toBe('waiting');
  });

  it('does nothing on a system the A/B boot loader did not boot', async () => {
    const r = rig({ slot: undefined });
    expect(r.marker.state).toBe('not-ab');
    await r.feed('live', 600);
    expect(r.calls()).toBe(0);
    expect(r.events).toEqual([]);
  });

  it('tries again after a failed mark, not every second', async () => {
    const r = rig({ failFirst: 1 });
    await r.feed('live', 61);
    expect(r.calls()).toBe(1);
    expect(r.events[0]).toMatchObject({ kind: 'failed', slot: 'B', message: 'rauc: D-Bus said no', retryInMs: MARK_GOOD_RETRY_MS });
    await r.feed('live', MARK_GOOD_RETRY_MS / 1000 - 1);
    expect(r.calls()).toBe(1);
    await r.feed('live', 2);
    expect(r.calls()).toBe(2);
    expect(r.marker.state).toBe('marked');
  });
});
