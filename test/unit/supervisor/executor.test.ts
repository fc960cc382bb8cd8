import { describe, expect, it } from 'vitest';
import { FieldcastError } from '../../../src/lib/errors.js';
import { Executor } from '../../../src/supervisor/executor.js';
import type { Step } from '../../../src/supervisor/plan.js';

const start: Step = { kind: 'start', spec: {} as never };
const stop: Step = { kind: 'stop', reason: 'test' };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake world: `wanted` steps are planned until applied; `failing` kinds reject. */
function world() {
  const w = {
    queue: [] as Step[],
    applied: [] as string[],
    failing: new Set<string>(),
    concurrent: 0,
    maxConcurrent: 0,
  };
  const ex = new Executor({
    planNow: () => w.queue.slice(0, 1),
    apply: async (step) => {
      w.concurrent++;
      w.maxConcurrent = Math.max(w.maxConcurrent, w.concurrent);
      await wait(5);
      w.concurrent--;
      if (w.failing.has(step.kind)) throw new FieldcastError('BOND_LINK_UNAVAILABLE', `cannot ${step.kind}`);
      w.applied.push(step.kind);
      w.queue.shift();
    },
    initialBackoffMs: 40,
    maxBackoffMs: 200,
  });
  return { w, ex };
}

describe('Executor', () => {
  it('applies planned steps one at a time, re-planning after each poke', async () => {
    const { w, ex } = world();
    w.queue.push(start, stop, start);
    ex.poke();
    ex.poke();
    ex.poke();
    await ex.settled();
    // Pokes during a run make one more run, planned once the first is done: the next step, not two at once.
    expect(w.applied).toEqual(['start', 'stop']);
    ex.poke();
    await ex.settled();
    expect(w.applied).toEqual(['start', 'stop', 'start']);
    expect(w.maxConcurrent).toBe(1);
    await ex.close();
  });

  it('keeps a failure with its code and words, and retries after a growing backoff', async () => {
    const { w, ex } = world();
    w.queue.push(start);
    w.failing.add('start');
    ex.poke();
    await wait(20);
    expect(ex.failure).toMatchObject({ step: 'start', code: 'BOND_LINK_UNAVAILABLE', message: 'cannot start', attempts: 1 });
    const firstRetry = ex.failure!.retryAt;
    await wait(60);
    expect(ex.failure!.attempts).toBeGreaterThanOrEqual(2);
    expect(ex.failure!.retryAt).toBeGreaterThan(firstRetry);
    w.failing.clear();
    await wait(250);
    await ex.settled();
    expect(w.applied).toEqual(['start']);
    expect(ex.failure).toBeUndefined();
    await ex.close();
  });

  it("the operator's change skips the backoff; anything else waits for it", async () => {
    const { w, ex } = world();
    const e2 = new Executor({
      planNow: () => w.queue.slice(0, 1),
      apply: async (step) => {
        if (w.failing.has(step.kind)) throw new Error('no');
        w.applied.push(step.kind);
        w.queue.shift();
      },
      initialBackoffMs: 10_000,
    });
    await ex.close();
    w.queue.push(start);
    w.failing.add('start');
    e2.poke();
    await wait(10);
    expect(e2.failure?.attempts).toBe(1);
    w.failing.clear();
    e2.poke(); // not the operator's: held by the 10 s backoff
    await wait(30);
    expect(w.applied).toEqual([]);
    e2.poke({ now: true });
    await wait(30);
    await e2.settled();
    expect(w.applied).toEqual(['start']);
    await e2.close();
  });

  it('a stream that keeps ending backs off until it has stayed up', async () => {
    const { w, ex } = world();
    ex.failed(new FieldcastError('PIPELINE_CRASHED', 'the pipeline died'));
    expect(ex.failure).toMatchObject({ step: 'stream', attempts: 1 });
    const first = ex.failure!.retryAt - Date.now();
    ex.failed(new FieldcastError('PIPELINE_CRASHED', 'the pipeline died'));
    expect(ex.failure!.attempts).toBe(2);
    expect(ex.failure!.retryAt - Date.now()).toBeGreaterThan(first);
    // A start that applies does not clear it: only staying up does.
    w.queue.push(start);
    ex.poke({ now: true });
    await ex.settled();
    expect(w.applied).toEqual(['start']);
    expect(ex.failure?.step).toBe('stream');
    ex.recovered();
    expect(ex.failure).toBeUndefined();
    await ex.close();
  });

  it('close() aborts the step in flight and plans nothing after', async () => {
    let signal: AbortSignal | undefined;
    let calls = 0;
    const ex = new Executor({
      planNow: () => [start],
      apply: (_s, sig) => {
        calls++;
        signal = sig;
        return new Promise((_resolve, reject) => sig.addEventListener('abort', () => reject(new Error('aborted'))));
      },
    });
    ex.poke();
    await wait(5);
    await ex.close();
    expect(signal?.aborted).toBe(true);
    ex.poke();
    await wait(5);
    expect(calls).toBe(1);
  });
});
