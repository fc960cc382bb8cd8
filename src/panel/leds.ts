/**
 * A front-panel LED and the patterns it shows. A pattern is a repeating list
 * of (level, duration) steps; the step shown is worked out from the time
 * since the pattern began, so a late timer (a busy event loop) never drifts
 * the rhythm, it only shortens one step.
 */
import { createLogger } from '../lib/logger.js';
import { type PanelClock, realPanelClock } from './controls-clock.js';
import type { GpioOutput, Level } from './gpio-backend.js';

const log = createLogger('panel');

export const LED_PATTERNS = ['off', 'on', 'blink-slow', 'blink-fast', 'double-flash'] as const;
export type LedPattern = (typeof LED_PATTERNS)[number];

/** Each pattern's steps, [level, ms], repeated; one step is steady. */
export const LED_STEPS: Record<LedPattern, ReadonlyArray<readonly [Level, number]>> = {
  off: [[0, Number.POSITIVE_INFINITY]],
  on: [[1, Number.POSITIVE_INFINITY]],
  /** 1 Hz. */
  'blink-slow': [
    [1, 500],
    [0, 500],
  ],
  /** 4 Hz. */
  'blink-fast': [
    [1, 125],
    [0, 125],
  ],
  /** Two short flashes every 2 s. */
  'double-flash': [
    [1, 100],
    [0, 150],
    [1, 100],
    [0, 1650],
  ],
};

export interface LedOptions {
  /** 'tally' or 'error' on the panel; for logs. */
  name?: string;
  clock?: PanelClock;
}

export class Led {
  readonly name: string;
  private readonly output: GpioOutput;
  private readonly clock: PanelClock;
  private current: LedPattern = 'off';
  private startedAt = 0;
  private level: Level | undefined;
  private timer: unknown;
  private writeFailing = false;
  private closed = false;

  /** Starts off. */
  constructor(output: GpioOutput, opts: LedOptions = {}) {
    this.name = opts.name ?? 'led';
    this.output = output;
    this.clock = opts.clock ?? realPanelClock;
    this.write(0);
  }

  get pattern(): LedPattern {
    return this.current;
  }

  /** Shows `pattern` from its first step at once; the same pattern again keeps its rhythm. */
  setPattern(pattern: LedPattern): void {
    if (this.closed || pattern === this.current) return;
    if (!LED_PATTERNS.includes(pattern)) throw new RangeError(`LED ${this.name}: no pattern "${String(pattern)}"`);
    this.current = pattern;
    this.startedAt = this.clock.now();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.step();
  }

  /** Turns the LED off and gives the line back. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.write(0);
    this.closed = true;
    this.output.close();
  }

  private step(): void {
    this.timer = undefined;
    if (this.closed) return;
    const steps = LED_STEPS[this.current];
    const first = steps[0];
    if (!first) return;
    if (steps.length === 1) {
      this.write(first[0]);
      return;
    }
    const period = steps.reduce((sum, [, ms]) => sum + ms, 0);
    let into = (this.clock.now() - this.startedAt) % period;
    for (const [level, ms] of steps) {
      if (into < ms) {
        this.write(level);
        this.timer = this.clock.setTimeout(() => this.step(), ms - into);
        return;
      }
      into -= ms;
    }
  }

  private write(level: Level): void {
    if (level === this.level && !this.writeFailing) return;
    try {
      this.output.write(level);
      this.level = level;
      this.writeFailing = false;
    } catch (err) {
      // An LED that cannot be set must not stop the box; said once until it works again.
      if (!this.writeFailing) log.warn('could not set an LED', { led: this.name, err });
      this.writeFailing = true;
    }
  }
}
