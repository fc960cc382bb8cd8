/**
 * The front panel's buttons and LEDs, opened from their pins: one or two
 * buttons (short press: next page; long press: go live / stop) and two LEDs
 * (tally: live; error). README.md "Buttons and LEDs" says what each pattern
 * means to the operator.
 */
import { z } from 'zod';
import { TypedEmitter } from '../lib/events.js';
import { Button, type ButtonPress } from './buttons.js';
import { type PanelClock, realPanelClock } from './controls-clock.js';
import { PanelGpioError } from './errors.js';
import { type GpioBackend, OnoffGpioBackend } from './gpio-backend.js';
import { describeGpioPin, GpioPin, resolveGpioPin } from './gpio-pins.js';
import { Led, type LedPattern } from './leds.js';

export { Button, type ButtonEvents, type ButtonOptions, type ButtonPress } from './buttons.js';
export { type PanelClock, realPanelClock } from './controls-clock.js';
export { PanelGpioError } from './errors.js';
export { type GpioBackend, type GpioInput, type GpioOutput, type Level, OnoffGpioBackend } from './gpio-backend.js';
export { GpioPin, type ResolvedGpioPin, resolveGpioPin } from './gpio-pins.js';
export { LED_PATTERNS, LED_STEPS, Led, type LedOptions, type LedPattern } from './leds.js';

/** Which lines the panel's buttons and LEDs are on (a board profile's `panel` pins). */
export const PanelControlPins = z
  .object({
    button: GpioPin.describe('the main button: short press next page, long press go live / stop'),
    button2: GpioPin.optional().describe('an optional second button, reported as "second"'),
    tally: GpioPin.optional().describe('the tally LED: lit while live'),
    error: GpioPin.optional().describe('the error LED'),
  })
  .strict();
export type PanelControlPins = z.infer<typeof PanelControlPins>;

export interface PanelControlsOptions {
  pins: PanelControlPins;
  /** Default: onoff (sysfs GPIO). */
  backend?: GpioBackend;
  /** Where /class/gpio is read to resolve pins (default /sys). */
  sysfsRoot?: string;
  clock?: PanelClock;
  /** Default 30 ms. */
  debounceMs?: number;
  /** Default 1500 ms. */
  longPressMs?: number;
}

export type PanelControlsEvents = {
  short: [ButtonPress];
  long: [ButtonPress];
};

type Role = 'button' | 'button2' | 'tally' | 'error';

export class PanelControls extends TypedEmitter<PanelControlsEvents> {
  readonly buttons: readonly Button[];
  readonly tally: Led | undefined;
  readonly error: Led | undefined;
  private closed = false;

  /**
   * Opens every line, or none: a line that cannot be used throws
   * PanelGpioError (PANEL_GPIO_UNAVAILABLE) naming the role, the pin and the
   * fix, after giving back the lines already opened.
   */
  constructor(opts: PanelControlsOptions) {
    super();
    const pins = PanelControlPins.parse(opts.pins);
    const backend = opts.backend ?? new OnoffGpioBackend();
    const clock = opts.clock ?? realPanelClock;
    const opened: Array<{ close(): void }> = [];
    const open = <T extends { close(): void }>(role: Role, pin: GpioPin, make: (global: number) => T): T => {
      try {
        const resolved = resolveGpioPin(pin, opts.sysfsRoot);
        const made = make(resolved.global);
        opened.push(made);
        return made;
      } catch (err) {
        for (const o of opened.reverse()) o.close();
        if (!(err instanceof PanelGpioError)) throw err;
        throw new PanelGpioError(
          `The panel's ${role} (${describeGpioPin(pin)}): ${err.message}`,
          { ...err.details, role, pin },
          { cause: err },
        );
      }
    };
    const button = (role: Role, pin: GpioPin, name: string): Button =>
      open(role, pin, (global) => {
        const input = backend.input(global, { activeLow: pin.activeLow ?? false, edge: 'both' });
        try {
          return new Button(input, { name, clock, debounceMs: opts.debounceMs, longPressMs: opts.longPressMs });
        } catch (err) {
          input.close();
          throw err;
        }
      });
    const led = (role: Role, pin: GpioPin): Led =>
      open(role, pin, (global) => new Led(backend.output(global, { activeLow: pin.activeLow ?? false }), { name: role, clock }));
    const buttons = [button('button', pins.button, 'main')];
    if (pins.button2) buttons.push(button('button2', pins.button2, 'second'));
    this.tally = pins.tally ? led('tally', pins.tally) : undefined;
    this.error = pins.error ? led('error', pins.error) : undefined;
    this.buttons = buttons;
    for (const b of buttons) {
      b.on('short', (p) => this.emit('short', p));
      b.on('long', (p) => this.emit('long', p));
    }
  }

  setTally(pattern: LedPattern): void {
    this.tally?.setPattern(pattern);
  }

  setError(pattern: LedPattern): void {
    this.error?.setPattern(pattern);
  }

  /** Turns the LEDs off and gives every line back. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.buttons) b.close();
    this.tally?.close();
    this.error?.close();
    this.removeAllListeners();
  }
}
