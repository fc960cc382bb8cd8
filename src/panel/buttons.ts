/**
 * A front-panel button: contact bounce ignored, a short press reported when
 * it is let go, a long press reported while it is still held, the moment it
 * has been held long enough — the operator feels it happen and lets go; the
 * release after a long press reports nothing.
 *
 * Debounce: after an edge the line must stay put for `debounceMs` before its
 * level counts (the level is read again then, so edges coalesced by the
 * kernel or by a busy event loop do not matter). A press is timed from its
 * first edge to the first edge of its release.
 */
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { type PanelClock, realPanelClock } from './controls-clock.js';
import type { GpioInput, Level } from './gpio-backend.js';

const log = createLogger('panel');

export const DEFAULT_DEBOUNCE_MS = 30;
export const DEFAULT_LONG_PRESS_MS = 1500;

export interface ButtonPress {
  /** Which button: 'main' or 'second' on the panel. */
  button: string;
  kind: 'short' | 'long';
  /** How long it had been held when reported: the whole press for a short one, the threshold for a long one. */
  heldMs: number;
}

export type ButtonEvents = {
  short: [ButtonPress];
  long: [ButtonPress];
};

export interface ButtonOptions {
  /** Default 'main'. */
  name?: string;
  /** Default 30 ms. */
  debounceMs?: number;
  /** Held at least this long is a long press. Default 1500 ms. */
  longPressMs?: number;
  clock?: PanelClock;
}

export class Button extends TypedEmitter<ButtonEvents> {
  readonly name: string;
  private readonly input: GpioInput;
  private readonly clock: PanelClock;
  private readonly debounceMs: number;
  private readonly longPressMs: number;
  /** The debounced level: 1 pressed. */
  private stable: Level;
  /** When the edges that are settling began (the press's or the release's first edge). */
  private changeAt: number | undefined;
  private pressedAt: number | undefined;
  private longFired = false;
  /** The long-press moment came while a release was settling: decided when it settles. */
  private longDue = false;
  /** A button held when watching began is ignored until it is let go. */
  private ignoreUntilRelease: boolean;
  private settleTimer: unknown;
  private longTimer: unknown;
  private closed = false;

  constructor(input: GpioInput, opts: ButtonOptions = {}) {
    super();
    this.name = opts.name ?? 'main';
    this.input = input;
    this.clock = opts.clock ?? realPanelClock;
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.longPressMs = opts.longPressMs ?? DEFAULT_LONG_PRESS_MS;
    if (!(this.debounceMs >= 0) || !(this.longPressMs > this.debounceMs))
      throw new RangeError(`button ${this.name}: longPressMs (${this.longPressMs}) must exceed debounceMs (${this.debounceMs}) >= 0`);
    this.stable = this.readLevel() ?? 0;
    this.ignoreUntilRelease = this.stable === 1;
    input.watch(() => this.onEdge());
  }

  /** Whether the button is held down now (debounced). */
  get pressed(): boolean {
    return this.stable === 1;
  }

  /** Stops watching and gives the line back. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.settleTimer);
    this.clock.clearTimeout(this.longTimer);
    this.input.close();
    this.removeAllListeners();
  }

  private readLevel(): Level | undefined {
    try {
      return this.input.read();
    } catch (err) {
      log.warn('could not read a button', { button: this.name, err });
      return undefined;
    }
  }

  private onEdge(): void {
    if (this.closed) return;
    this.changeAt ??= this.clock.now();
    this.clock.clearTimeout(this.settleTimer);
    this.settleTimer = this.clock.setTimeout(() => this.settle(), this.debounceMs);
  }

  private settle(): void {
    this.settleTimer = undefined;
    const level = this.readLevel();
    const at = this.changeAt ?? this.clock.now();
    this.changeAt = undefined;
    if (level === undefined || level === this.stable) {
      // Bounce that came back to where it was; a long press that waited on it is due now.
      if (this.longDue && this.stable === 1) this.fireLong();
      this.longDue = false;
      return;
    }
    this.stable = level;
    if (level === 1) this.pressStarted(at);
    else this.released(at);
  }

  private pressStarted(at: number): void {
    if (this.ignoreUntilRelease) return;
    this.pressedAt = at;
    this.longFired = false;
    this.longDue = false;
    const wait = Math.max(0, at + this.longPressMs - this.clock.now());
    this.longTimer = this.clock.setTimeout(() => this.longMoment(), wait);
  }

  private longMoment(): void {
    this.longTimer = undefined;
    if (this.closed || this.stable !== 1) return;
    // A release whose first edge came before the threshold is settling: let it decide.
    if (this.changeAt !== undefined && this.pressedAt !== undefined && this.changeAt - this.pressedAt < this.longPressMs) {
      this.longDue = true;
      return;
    }
    this.fireLong();
  }

  private fireLong(): void {
    if (this.longFired) return;
    this.longFired = true;
    this.emit('long', { button: this.name, kind: 'long', heldMs: this.longPressMs });
  }

  private released(at: number): void {
    this.clock.clearTimeout(this.longTimer);
    this.longTimer = undefined;
    this.longDue = false;
    if (this.ignoreUntilRelease) {
      this.ignoreUntilRelease = false;
      return;
    }
    const pressedAt = this.pressedAt;
    this.pressedAt = undefined;
    if (pressedAt === undefined || this.longFired) return;
    const heldMs = Math.round(at - pressedAt);
    // A release that began past the threshold while the long moment's timer was late is still a long press.
    if (heldMs >= this.longPressMs) this.fireLong();
    else this.emit('short', { button: this.name, kind: 'short', heldMs });
  }
}
