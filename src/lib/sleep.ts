/** Waits `ms`, or less when `signal` aborts first (it never rejects: the caller looks at `signal.aborted`). */
import { setTimeout as wait } from 'node:timers/promises';

export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
