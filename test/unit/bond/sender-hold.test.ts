import { describe, expect, it } from 'vitest';
import { type HeldPacket, HoldQueue } from '../../../src/bond/sender-hold.js';

const packet = (seq: number, retransmission = false, size = 1332, at = seq): HeldPacket => ({
  msg: Buffer.alloc(size),
  seq,
  retransmission,
  at,
});

/** What leaves, in order, when the sender asks at `now` with a hold limit of `limitMs`. */
function drain(q: HoldQueue, now: number, limitMs = 400): number[] {
  const out: number[] = [];
  for (let p = q.shift(now - limitMs); p; p = q.shift(now - limitMs)) out.push(p.seq);
  return out;
}

describe('the bonding sender hold queue', () => {
  it('lets repairs leave before new data, each in arrival order', () => {
    const q = new HoldQueue(1_000_000);
    for (const p of [packet(10), packet(11), packet(3, true), packet(12), packet(5, true)]) expect(q.push(p)).toBe(true);
    expect(q.holdingData).toBe(true);
    expect(q.holdingRepairs).toBe(true);
    const out: number[] = [];
    for (let p = q.shift(); p; p = q.shift()) out.push(p.seq);
    expect(out).toEqual([3, 5, 10, 11, 12]);
    expect(q.length).toBe(0);
    expect(q.heldBytes).toBe(0);
  });

  it('refuses what would pass its byte limit and holds nothing of it', () => {
    const q = new HoldQueue(3000);
    expect(q.push(packet(1))).toBe(true);
    expect(q.push(packet(2))).toBe(true);
    expect(q.push(packet(3))).toBe(false);
    expect(q.length).toBe(2);
    expect(q.heldBytes).toBe(2664);
  });

  it('stays a FIFO across many pushes and shifts (its array is compacted as it goes)', () => {
    const q = new HoldQueue(1e9);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(packet(next++, false, 10));
      for (let i = 0; i < 90; i++) expect(q.shift()?.seq).toBe(expected++);
    }
    expect(q.length).toBe(500);
    expect(q.peek()?.seq).toBe(expected);
  });

  it('puts a packet that has waited its limit before one that has not, whichever queue it is in', () => {
    const q = new HoldQueue(1_000_000);
    q.push(packet(10, false, 1332, 0)); // new data held at 0 ms
    q.push(packet(11, false, 1332, 50));
    q.push(packet(3, true, 1000, 300)); // a repair held at 300 ms
    // At 399 ms nothing has waited 400 ms: the repair is first, as always.
    expect(q.peek(399 - 400)?.seq).toBe(3);
    // At 400 ms the data held at 0 has: it goes before the younger repair.
    expect(q.peek(400 - 400)?.seq).toBe(10);
    expect(q.shift(400 - 400)?.seq).toBe(10);
    expect(q.heldBytes).toBe(1332 + 1000);
    // Then the usual order again: the data held at 50 ms is not overdue yet.
    expect(q.peek(400 - 400)?.seq).toBe(3);
    // With no limit given the queue ignores age.
    expect(q.peek()?.seq).toBe(3);
  });

  it('among overdue packets, repairs still go first, and each queue keeps arrival order', () => {
    const q = new HoldQueue(1_000_000);
    for (const p of [packet(20, false, 100, 0), packet(21, false, 100, 10), packet(7, true, 100, 20), packet(8, true, 100, 450)]) q.push(p);
    // At 500 ms: 20, 21 and 7 have waited 400 ms, 8 has not.
    expect(drain(q, 500)).toEqual([7, 20, 21, 8]);
    expect(q.length).toBe(0);
    expect(q.heldBytes).toBe(0);
  });
});
