import { describe, expect, it } from 'vitest';
import { REORDER_TUNING, ReorderBuffer } from '../../../src/bond/reorder.js';
import { SEQ_MAX } from '../../../src/bond/sequence.js';

function setup(holdMs = 40) {
  const out: number[] = [];
  const buf = new ReorderBuffer(holdMs, (pkt) => out.push(pkt.readUInt32BE(0)));
  const push = (seq: number, now: number, retrans = false) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(seq);
    buf.push(b, seq, retrans, now);
  };
  return { out, buf, push };
}

describe('ReorderBuffer', () => {
  it('passes in-order packets straight on', () => {
    const { out, push, buf } = setup();
    for (let i = 0; i < 100; i++) push(i, i);
    expect(out).toEqual([...Array(100).keys()]);
    expect(buf.size).toBe(0);
    expect(buf.nextDeadline()).toBeUndefined();
  });

  it('follows a new SRT session whose sequence numbers start far behind the old one', () => {
    const { out, push } = setup();
    for (let i = 0; i < 5; i++) push(1_000_000 + i, i);
    // The caller reconnected: a new random initial sequence number, below the old one.
    for (const s of [500, 502, 501, 503]) push(s, 10);
    expect(out).toEqual([1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004, 500, 501, 502, 503]);
  });

  it('puts out-of-order input back in order when the gap fills', () => {
    const { out, push, buf } = setup();
    for (const s of [10, 11, 14, 12, 15, 13, 16]) push(s, 0);
    expect(out).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(buf.stats()).toMatchObject({ held: 2, reordered: 2, gapTimeouts: 0, skipped: 0 });
  });

  it('never holds longer than the bound: on timeout it releases past the gap', () => {
    const { out, push, buf } = setup(40);
    push(1, 0);
    push(3, 5);
    push(4, 10);
    expect(out).toEqual([1]);
    expect(buf.nextDeadline()).toBe(45);
    buf.expire(44);
    expect(out).toEqual([1]);
    buf.expire(45);
    expect(out).toEqual([1, 3, 4]);
    expect(buf.stats()).toMatchObject({ gapTimeouts: 1, skipped: 1 });
    // The missing one turns up after all: passed on at once, counted late.
    push(2, 60);
    expect(out).toEqual([1, 3, 4, 2]);
    expect(buf.stats().late).toBe(1);
    push(5, 61);
    expect(out).toEqual([1, 3, 4, 2, 5]);
  });

  it('handles several gaps, each bounded by its own packets', () => {
    const { out, push, buf } = setup(40);
    push(1, 0);
    push(3, 0); // gap at 2
    push(6, 30); // gap at 4, 5
    buf.expire(40);
    expect(out).toEqual([1, 3]);
    push(5, 50);
    buf.expire(69);
    expect(out).toEqual([1, 3]);
    buf.expire(70);
    expect(out).toEqual([1, 3, 5, 6]);
    expect(buf.stats().skipped).toBe(2);
  });

  it('handles the 31-bit sequence wrap', () => {
    const { out, push } = setup();
    const top = SEQ_MAX;
    for (const s of [top - 1, top, 1, 0, 2]) push(s, 0);
    expect(out).toEqual([top - 1, top, 0, 1, 2]);
  });

  it('lets retransmissions straight through, and a retransmission fills its gap', () => {
    const { out, push, buf } = setup();
    push(1, 0);
    push(3, 1);
    push(2, 2, true);
    expect(out).toEqual([1, 2, 3]);
    // A retransmission ahead of a gap goes at once and is not sent again later.
    push(6, 3);
    push(5, 4, true);
    push(4, 5);
    expect(out).toEqual([1, 2, 3, 5, 4, 6]);
    expect(buf.stats().retransmissions).toBe(2);
  });

  it('drops a duplicate of a held packet, and flushes on a jump too big to be reordering', () => {
    const { out, push, buf } = setup();
    push(1, 0);
    push(3, 0);
    push(3, 1);
    expect(buf.stats().duplicates).toBe(1);
    push(1_000_000, 2);
    expect(out).toEqual([1, 3, 1_000_000]);
    push(1_000_001, 3);
    expect(out.at(-1)).toBe(1_000_001);
  });

  it('with hold 0 forwards everything as it comes, still counting reordering', () => {
    const { out, push, buf } = setup(0);
    for (const s of [1, 3, 2]) push(s, 0);
    expect(out).toEqual([1, 3, 2]);
    expect(buf.stats().reordered).toBe(1);
  });

  describe('the hold adapts to how late reordered packets come', () => {
    /** One packet every ms; every 10th arrives `lateMs` after its place (a slower link's share). */
    function reorderedStream(push: (seq: number, now: number) => void, from: number, n: number, lateMs: number, t0: number): number {
      const late: { seq: number; at: number }[] = [];
      let t = t0;
      for (let s = from; s < from + n; s++, t++) {
        if (s % 10 === 0) late.push({ seq: s, at: t + lateMs });
        else push(s, t);
        while (late.length && late[0]!.at <= t) push(late.shift()!.seq, t);
      }
      for (const l of late) {
        t = Math.max(t, l.at);
        push(l.seq, t);
      }
      return t;
    }

    /** The buffer as the receiver drives it: its timers fire every ms up to each arrival (`expireTo`). */
    function clocked(holdMs: number) {
      const r = setup(holdMs);
      let t = 0;
      const expireTo = (to: number) => {
        for (; t <= to; t++) r.buf.expire(t);
      };
      const pushAt = (seq: number, now: number) => {
        expireTo(now);
        r.push(seq, now);
      };
      return { ...r, expireTo, pushAt };
    }

    it('grows past the floor when packets come later than it, and then puts them all back in order', () => {
      const { out, buf, expireTo, pushAt } = clocked(50);
      // Packets 120 ms late: at first the 50 ms floor gives up on their gaps...
      const end = reorderedStream(pushAt, 1, 3000, 120, 0);
      expireTo(end + 300);
      expect(buf.stats().late).toBeGreaterThan(0);
      // ...and from those late arrivals the hold grows to cover them (with a margin, below the ceiling).
      expect(buf.currentHoldMs).toBeGreaterThanOrEqual(120);
      expect(buf.currentHoldMs).toBeLessThanOrEqual(REORDER_TUNING.ADAPTIVE_MAX_MS);
      // Now the same reordering is put right: nothing more is late, everything is in order.
      const lateBefore = buf.stats().late;
      const outBefore = out.length;
      const end2 = reorderedStream(pushAt, 3001, 3000, 120, end + 301);
      expireTo(end2 + 300);
      expect(buf.stats().late).toBe(lateBefore);
      const second = out.slice(outBefore);
      expect(second).toEqual([...second].sort((a, b) => a - b));
      expect(second.length).toBe(3000);
    });

    it('never goes above the ceiling, however late packets come', () => {
      const { buf, pushAt } = clocked(50);
      reorderedStream(pushAt, 1, 5000, 900, 0);
      expect(buf.currentHoldMs).toBe(REORDER_TUNING.ADAPTIVE_MAX_MS);
      expect(buf.stats().holdMs).toBe(REORDER_TUNING.ADAPTIVE_MAX_MS);
    });

    it('falls back to the floor once reordering stops for the window', () => {
      const { buf, pushAt } = clocked(50);
      const end = reorderedStream(pushAt, 1, 3000, 120, 0);
      expect(buf.currentHoldMs).toBeGreaterThan(50);
      // In order from now on, past the window.
      let s = 3001;
      for (let now = end + 1; now < end + REORDER_TUNING.WINDOW_MS + 2000; now += 5) pushAt(s++, now);
      expect(buf.currentHoldMs).toBe(50);
    });

    it('stays at the floor while gaps fill quickly', () => {
      const { buf, pushAt } = clocked(50);
      reorderedStream(pushAt, 1, 3000, 10, 0);
      expect(buf.currentHoldMs).toBe(50);
      expect(buf.stats().late).toBe(0);
    });
  });
});
