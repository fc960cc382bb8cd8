/**
 * The time the buttons' debounce and long press and the LEDs' patterns run
 * on: injected, so unit tests step it by hand.
 */

export interface PanelClock {
  /** Milliseconds of a monotonic clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** performance.now() and unref'd timers: a blinking LED never keeps a process alive by itself. */
export const realPanelClock: PanelClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
