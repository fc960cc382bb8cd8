import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/lib/events.js';
import { createLogger, type LogRecord, setLogLevel, setLogSink } from '../../../src/lib/logger.js';

afterEach(() => {
  setLogSink(undefined);
  setLogLevel('info');
});

describe('logger', () => {
  it('filters by level per module and never writes secrets', () => {
    const seen: LogRecord[] = [];
    setLogSink((r) => seen.push(r));
    setLogLevel('warn,bond=debug');
    createLogger('srt').info('hidden');
    createLogger('srt').warn('shown', { passphrase: 'hunter2hunter2', rtt: 40 });
    createLogger('bond').debug('shown too');
    expect(seen.map((r) => r.message)).toEqual(['shown', 'shown too']);
    expect(seen[0]?.fields).toEqual({ passphrase: '[redacted]', rtt: 40 });
  });
});

describe('typed events', () => {
  it('delivers typed arguments and contains a listener that throws', () => {
    const seen: LogRecord[] = [];
    setLogSink((r) => seen.push(r));
    const e = new TypedEmitter<{ stats: [rtt: number, loss: number] }>();
    const got: number[] = [];
    e.on('stats', () => {
      throw new Error('bad subscriber');
    });
    e.on('stats', (rtt, loss) => got.push(rtt, loss));
    e.emit('stats', 40, 1);
    expect(got).toEqual([40, 1]);
    expect(seen[0]?.message).toBe('event listener threw');
  });

  it('next() resolves on the next emission and rejects on abort', async () => {
    const e = new TypedEmitter<{ up: [string] }>();
    const p = e.next('up');
    e.emit('up', 'cell-a');
    await expect(p).resolves.toEqual(['cell-a']);
    const ac = new AbortController();
    const q = e.next('up', ac.signal);
    ac.abort(new Error('stop'));
    await expect(q).rejects.toThrow('stop');
    expect(e.listenerCount('up')).toBe(0);
  });
});
