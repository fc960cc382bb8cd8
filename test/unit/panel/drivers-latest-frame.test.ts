import { describe, expect, it } from 'vitest';
import { LatestFrameWriter } from '../../../src/panel/drivers/index.js';
import { settle } from './display-recorders.js';

/** A writer over a write that waits for the test to let each frame through. */
function slowWriter() {
  const written: number[] = [];
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  let failNext: Error | undefined;
  const writer = new LatestFrameWriter<number>({
    write: async (n) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      written.push(n);
    },
    onError: (err) => errors.push(err),
  });
  return {
    writer,
    written,
    errors,
    next: async () => {
      await settle(2);
      release?.();
      release = undefined;
      await settle(2);
    },
    failWith: (err: Error) => {
      failNext = err;
    },
  };
}

describe('the latest-frame writer', () => {
  it('writes the first frame and then only the newest of those offered meanwhile', async () => {
    const w = slowWriter();
    w.writer.resume();
    for (let k = 1; k <= 10; k++) w.writer.offer(k);
    let idle = false;
    void w.writer.idle().then(() => {
      idle = true;
    });
    await w.next();
    await w.next();
    expect(w.written).toEqual([1, 10]);
    await settle();
    expect(idle).toBe(true);
  });

  it('keeps frames while waiting for the display, and idle() waits too', async () => {
    const w = slowWriter();
    w.writer.offer(1);
    w.writer.offer(2);
    let idle = false;
    void w.writer.idle().then(() => {
      idle = true;
    });
    await settle();
    expect(idle).toBe(false);
    w.writer.resume();
    await w.next();
    expect(w.written).toEqual([2]);
    await settle();
    expect(idle).toBe(true);
  });

  it('halts on a failed write: reports it once, idle() resolves, resume() rewrites the newest frame', async () => {
    const w = slowWriter();
    w.writer.resume();
    w.failWith(Object.assign(new Error('EIO'), { code: 'EIO' }));
    w.writer.offer(1);
    await w.next();
    expect(w.errors).toHaveLength(1);
    expect(w.writer.state).toBe('halted');
    await w.writer.idle();
    w.writer.offer(2);
    w.writer.offer(3);
    await settle();
    expect(w.written).toEqual([]);
    w.writer.resume();
    await w.next();
    expect(w.written).toEqual([3]);
  });

  it('turns a write that throws at once into a reported failure, not an exception', async () => {
    const errors: unknown[] = [];
    const writer = new LatestFrameWriter<number>({
      write: () => {
        throw new Error('sync');
      },
      onError: (err) => errors.push(err),
    });
    writer.resume();
    expect(() => writer.offer(1)).not.toThrow();
    await writer.idle();
    await settle();
    expect(errors).toHaveLength(1);
  });

  it('writes nothing more once closed, and close() waits for the write under way', async () => {
    const w = slowWriter();
    w.writer.resume();
    w.writer.offer(1);
    await settle(2);
    let closed = false;
    void w.writer.close().then(() => {
      closed = true;
    });
    w.writer.offer(2);
    await settle();
    expect(closed).toBe(false);
    await w.next();
    expect(closed).toBe(true);
    expect(w.written).toEqual([1]);
  });
});
