/**
 * The time a display driver waits: the controller's own delays (reset, sleep
 * out, clear) and the retry backoff while a display is gone. Injected so tests
 * record the waits instead of sleeping through them.
 */
import { setTimeout as wait } from 'node:timers/promises';

export interface DisplayClock {
  /** A delay the controller needs (datasheet timing). Keeps the process alive: a frame is being drawn. */
  wait(ms: number): Promise<void>;
  /**
   * The pause before the next attempt at a display that is gone. Resolves
   * early when `signal` aborts (close) and never rejects; it does not keep
   * the process alive on its own.
   */
  retryAfter(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: DisplayClock = {
  wait: (ms) => wait(ms),
  retryAfter: (ms, signal) => wait(ms, undefined, { signal, ref: false }).catch(() => undefined),
};
