import { Writable } from 'node:stream';
import { setTimeout as wait } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TsPipeWriter } from '../../../src/media/ts-pipe.js';

/** A stream that records each write it is given: one entry per batch. */
class Recorder extends Writable {
  readonly batches: number[][] = [];
  readonly bytes: Buffer[] = [];
  constructor(private readonly hold = false) {
    super({ highWaterMark: 1 << 30 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.batches.push([chunk.length]);
    this.bytes.push(chunk);
    if (!this.hold) cb();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.batches.push(chunks.map((c) => c.chunk.length));
    if (!this.hold) cb();
  }
}

describe('TsPipeWriter', () => {
  it('with no window, sends what one turn of the event loop brings in one write', async () => {
    const out = new Recorder();
    const w = new TsPipeWriter(out, { windowMs: 0, maxBufferedBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) expect(w.write(Buffer.alloc(1316))).toBe(true);
    expect(out.batches).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(out.batches).toEqual([[6580]]);
    w.write(Buffer.alloc(188));
    await new Promise((r) => setImmediate(r));
    expect(out.batches).toEqual([[6580], [188]]);
  });

  it('with a window, gathers chunks that arrive over several turns until it closes', async () => {
    const out = new Recorder();
    const w = new TsPipeWriter(out, { windowMs: 40, maxBufferedBytes: 1 << 20 });
    w.write(Buffer.alloc(1316));
    await wait(5);
    w.write(Buffer.alloc(1316));
    await wait(5);
    w.write(Buffer.alloc(1316));
    expect(out.batches).toEqual([]);
    await wait(60);
    expect(out.batches).toEqual([[3948]]);
  });

  it('keeps the bytes of each chunk as they were when written, though the caller fills the same buffer again', async () => {
    const out = new Recorder();
    const w = new TsPipeWriter(out, { windowMs: 0, maxBufferedBytes: 1 << 20 });
    const reused = Buffer.alloc(1316);
    for (let i = 1; i <= 3; i++) {
      reused.fill(i);
      w.write(reused);
    }
    await new Promise((r) => setImmediate(r));
    const b = out.bytes[0]!;
    expect([b[0], b[1316], b[2632], b.length]).toEqual([1, 2, 3, 3948]);
  });

  it('grows its batch past its first size', async () => {
    const out = new Recorder();
    const w = new TsPipeWriter(out, { windowMs: 0, maxBufferedBytes: 1 << 22 });
    for (let i = 0; i < 200; i++) w.write(Buffer.alloc(1316, i & 0xff));
    await new Promise((r) => setImmediate(r));
    expect(out.batches).toEqual([[263_200]]);
    expect(out.bytes[0]![199 * 1316]).toBe(199);
  });

  it('flush() writes what is queued at once', () => {
    const out = new Recorder();
    const w = new TsPipeWriter(out, { windowMs: 1000, maxBufferedBytes: 1 << 20 });
    w.write(Buffer.alloc(1316));
    w.write(Buffer.alloc(1316));
    w.flush();
    expect(out.batches).toEqual([[2632]]);
    w.flush();
    expect(out.batches).toHaveLength(1);
  });

  it('refuses chunks while the reader is too far behind, or once the pipe is gone', async () => {
    const out = new Recorder(true); // never completes a write: the reader stalled
    const w = new TsPipeWriter(out, { windowMs: 0, maxBufferedBytes: 4000 });
    for (let i = 0; i < 4; i++) w.write(Buffer.alloc(1316));
    await new Promise((r) => setImmediate(r));
    expect(out.writableLength).toBeGreaterThan(4000);
    expect(w.write(Buffer.alloc(1316))).toBe(false);
    // What waits for the window counts as well.
    const slow = new TsPipeWriter(new Recorder(), { windowMs: 1000, maxBufferedBytes: 4000 });
    expect([1, 2, 3, 4, 5].map(() => slow.write(Buffer.alloc(1316)))).toEqual([true, true, true, true, false]);
    slow.flush();
    const closed = new Recorder();
    const fresh = new TsPipeWriter(closed, { windowMs: 0, maxBufferedBytes: 4000 });
    closed.destroy();
    expect(fresh.write(Buffer.alloc(1316))).toBe(false);
  });
});
