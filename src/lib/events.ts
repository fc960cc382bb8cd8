/**
 * A typed event emitter: each event name maps to its argument tuple. A
 * listener that throws is logged, never propagated into the emitter (a bad
 * status-page subscriber must not stop the media path).
 */
import { createLogger } from './logger.js';

const log = createLogger('events');

// biome-ignore lint/suspicious/noExplicitAny: the constraint for argument tuples
export type EventMap = Record<string, any[]>;
type Listener<A extends unknown[]> = (...args: A) => void;
// Listeners are stored type-erased; `on`/`emit` keep the per-event types.
type AnyListener = (...args: unknown[]) => void;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<AnyListener>>();

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as unknown as AnyListener);
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      fn(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(fn as unknown as AnyListener);
    return this;
  }

  removeAllListeners(event?: keyof E): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls each listener in turn; returns whether there were any. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        log.error('event listener threw', { event: String(event), err });
      }
    }
    return true;
  }

  /** Resolves with the next emission of `event`, or rejects when `signal` aborts. */
  next<K extends keyof E>(event: K, signal?: AbortSignal): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.off(event, fn);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const fn = (...args: E[K]): void => {
        signal?.removeEventListener('abort', onAbort);
        this.off(event, fn);
        resolve(args);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.on(event, fn);
    });
  }
}
