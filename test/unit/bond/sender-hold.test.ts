import { describe, expect, it } from 'vitest';
import { type HeldPacket, HoldQueue } from '../../../src/bond/sender-hold.js';

const packet = (seq: number, retransmission = false, size = 1332): HeldPacket => ({
  msg: Buffer.alloc(size),
  seq,
  retransmission,
  at: seq,
});

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
});
