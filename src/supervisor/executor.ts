/**
 * Applies the planner's steps, one run at a time.
 *
 * `poke()` says that the actual or the desired state changed: the executor
 * plans (from the newest state, read through `planNow`) and applies the steps
 * in order. A poke while a run is going on makes another run follow it, so
 * every change is planned from what is true once the run before is done —
 * never two steps at once, never a step planned from stale state.
 *
 * A step that fails (a bonding socket that cannot bind, say) is retried by
 * planning again after a backoff (1 s, doubling, up to 30 s), and the
 * failure is kept, in words, for the status. The operator's changes do not
 * wait for the backoff (`poke({ now: true })`); anything else does. A stream
 * that ends by itself is reported with `failed()` and retried the same way,
 * the backoff growing until the supervisor says it has stayed up (`recovered()`).
 * `close()` aborts what is in flight: the signal given to each step.
 */
import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import type { Step } from './plan.js';

const log = createLogger('supervisor.executor');

export interface ExecutorFailure {
  /** The step that failed, or 'stream' for a stream that ended by itself. */
  step: Step['kind'] | 'stream';
  code: string;
  message: string;
  /** Failures in a row; 1 for the first. */
  attempts: number;
  /** When the next try is due (ms, Date.now() clock). */
  retryAt: number;
}

export interface ExecutorOptions {
  /** The steps from the newest actual and desired state. */
  planNow: () => Step[];
  /** Applies one step; a rejection is a failure, retried after the backoff. */
  apply: (step: Step, signal: AbortSignal) => Promise<void>;
  /** First retry delay, doubled per failure in a row (default 1000 ms). */
  initialBackoffMs?: number;
  /** Longest retry delay (default 30 000 ms). */
  maxBackoffMs?: number;
  /** Told of every failure, with the delay before the next try. */
  onFailure?: (failure: ExecutorFailure) => void;
  /** Told of every step applied. */
  onApplied?: (step: Step) => void;
}

export class Executor {
  readonly #opts: Required<Pick<ExecutorOptions, 'initialBackoffMs' | 'maxBackoffMs'>> & ExecutorOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #dirty = false;
  #failure: ExecutorFailure | undefined;
  #wake: (() => void) | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: ExecutorOptions) {
    this.#opts = { initialBackoffMs: 1000, maxBackoffMs: 30_000, ...options };
  }

  /** The last failure, while it is not yet overcome. */
  get failure(): ExecutorFailure | undefined {
    return this.#failure;
  }

  /** True while a run is applying steps. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Plan and apply; `now` (the operator's change) skips a backoff that is waiting. */
  poke(options: { now?: boolean } = {}): void {
    if (this.#abort.signal.aborted) return;
    this.#dirty = true;
    if (this.#failure && !options.now && Date.now() < this.#failure.retryAt) return; // the retry timer pokes
    if (options.now) this.#wake?.();
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Something outside a step failed (the stream ended by itself): retry after the backoff. */
  failed(err: unknown): void {
    this.#recordFailure('stream', err);
  }

  /** The stream that kept ending has stayed up: the next failure starts the backoff afresh. */
  recovered(): void {
    if (this.#failure?.step === 'stream') this.#failure = undefined;
  }

  /** Resolves once no run is in flight (for tests and an orderly stop). */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Aborts the step in flight and stops planning. */
  async close(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#retryTimer);
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    while (this.#dirty && !signal.aborted) {
      this.#dirty = false;
      let steps: Step[];
      try {
        steps = this.#opts.planNow();
      } catch (err) {
        log.error('cannot plan', { err });
        return;
      }
      for (const step of steps) {
        if (signal.aborted) return;
        try {
          await this.#opts.apply(step, signal);
        } catch (err) {
          if (signal.aborted) return;
          this.#recordFailure(step.kind, err);
          await this.#sleepUntilRetry();
          this.#dirty = true;
          break;
        }
        // A step's own failure is overcome once it applies; a stream that keeps
        // ending is overcome only when it has stayed up (recovered()).
        if (this.#failure?.step !== 'stream') this.#failure = undefined;
        this.#opts.onApplied?.(step);
        // Something changed meanwhile: the rest was planned from an older state.
        if (this.#dirty) break;
      }
    }
  }

  #recordFailure(step: ExecutorFailure['step'], err: unknown): void {
    const attempts = (this.#failure?.attempts ?? 0) + 1;
    const delay = Math.min(this.#opts.maxBackoffMs, this.#opts.initialBackoffMs * 2 ** (attempts - 1));
    this.#failure = {
      step,
      code: err instanceof FieldcastError ? err.code : 'STEP_FAILED',
      message: err instanceof Error ? err.message : describeError(err),
      attempts,
      retryAt: Date.now() + delay,
    };
    log.warn('could not apply a change; trying again', { step, err, attempts, retryInMs: delay });
    this.#opts.onFailure?.(this.#failure);
    if (step === 'stream') {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.#retry(), delay);
      this.#retryTimer.unref();
    }
  }

  #retry(): void {
    if (!this.#failure) return;
    this.#failure = { ...this.#failure, retryAt: Date.now() };
    this.poke();
  }

  /** Waits out the backoff of the failure just recorded, or until the operator pokes or close(). */
  async #sleepUntilRetry(): Promise<void> {
    const wait = Math.max(0, (this.#failure?.retryAt ?? 0) - Date.now());
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, wait);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
    // From here the retry is due: a poke is no longer held back.
    if (this.#failure) this.#failure = { ...this.#failure, retryAt: Date.now() };
  }
}
