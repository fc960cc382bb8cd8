/**
 * The front panel at run time: the board's display shows a page drawn from
 * the supervisor's status snapshot, its buttons go live or stop and turn the
 * pages, its LEDs say on air and trouble. The supervisor owns it and hands it
 * the snapshot each second and a way to start and stop; the panel owns only
 * which page is up.
 *
 * - A long press on the main button starts the stream when it is off and
 *   stops it when it is on; a short press (on either button) shows the next page.
 * - After a minute without a press the panel goes back to its home page:
 *   the setup page while the status page still waits for its first password
 *   (the code is on it), else the main page.
 * - Tally LED: lit while on air (live, degraded, or the slate during no
 *   signal), slow blink while starting, dark otherwise. Error LED: fast blink
 *   when the stream is stopped by an error, lit while an error-level alert
 *   stands but the stream goes on (the disk full, the box too hot), a double
 *   flash while degraded, without signal or a warning stands, dark when all
 *   is well (README "Buttons and LEDs").
 *
 * Nothing here blocks: drawing goes to the display's own queue (only the
 * latest frame is drawn), and a display or a button that fails is reported
 * and never stops the stream.
 */
import { createLogger } from '../lib/logger.js';
import type { OperatorState, StatusSnapshot } from '../supervisor/snapshot.js';
import { type DisplayState, PAGE_NAMES, type PageName, type PanelDisplay, type PanelInput } from './frame.js';
import type { LedPattern } from './leds.js';
import { renderPage } from './pages.js';

const log = createLogger('panel');

/** Back to the home page after this long without a press. */
export const HOME_AFTER_MS = 60_000;

/** The buttons as the panel needs them: which was pressed, and how. */
export interface PanelButtons {
  onPress(fn: (button: 'main' | 'next', press: 'short' | 'long') => void): void;
  close(): Promise<void> | void;
}

export interface PanelLed {
  setPattern(pattern: LedPattern): void;
  close(): Promise<void> | void;
}

export interface FrontPanelOptions {
  /** The display, already opened (its driver retries by itself); none: buttons and LEDs only. */
  display?: PanelDisplay;
  buttons?: PanelButtons;
  leds?: { tally?: PanelLed; error?: PanelLed };
  /** What the pages are drawn from, now. */
  input: () => PanelInput;
  /** Start (true) or stop (false) the stream, as `fieldcast ctl start|stop` does. */
  setStreaming: (on: boolean) => Promise<void>;
  /** Something the operator should find in the event log (a press that could not be carried out, a display gone or back). */
  record: (e: { code: string; message: string }) => void;
  now?: () => number;
}

const ON_AIR: readonly OperatorState[] = ['live', 'degraded', 'no-signal'];

/** The tally and error LEDs' patterns for a snapshot. */
export function ledPatterns(s: Pick<StatusSnapshot, 'state' | 'alerts'>): { tally: LedPattern; error: LedPattern } {
  const tally: LedPattern = ON_AIR.includes(s.state) ? 'on' : s.state === 'starting' ? 'blink-slow' : 'off';
  let error: LedPattern = 'off';
  if (s.state === 'error') error = 'blink-fast';
  else if (s.alerts.some((a) => a.level === 'error')) error = 'on';
  else if (s.state === 'degraded' || s.state === 'no-signal' || s.alerts.some((a) => a.level === 'warn')) error = 'double-flash';
  return { tally, error };
}

export class FrontPanel {
  readonly #o: FrontPanelOptions;
  readonly #now: () => number;
  #page: PageName;
  #lastPressAt: number;
  #pressed = false;
  #closed = false;
  #leds: { tally: LedPattern; error: LedPattern } | undefined;

  constructor(options: FrontPanelOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#lastPressAt = this.#now();
    this.#page = this.#home(options.input());
    options.buttons?.onPress((button, press) => this.#press(button, press));
  }

  /** The page on the display now. */
  get page(): PageName {
    return this.#page;
  }

  /** Draws the page from the latest snapshot and sets the LEDs; the supervisor calls it each second. */
  update(): void {
    if (this.#closed) return;
    const input = this.#o.input();
    // Until the first press the panel follows its home page (the setup code appears once the status page is up).
    if (this.#page !== this.#home(input) && (!this.#pressed || this.#now() - this.#lastPressAt >= HOME_AFTER_MS))
      this.#page = this.#home(input);
    this.#draw(input);
    const leds = ledPatterns(input.snapshot);
    if (leds.tally !== this.#leds?.tally) this.#o.leds?.tally?.setPattern(leds.tally);
    if (leds.error !== this.#leds?.error) this.#o.leds?.error?.setPattern(leds.error);
    this.#leds = leds;
  }

  /** What a display driver reports, for the event log. */
  static displayStateRecord(kind: string, s: DisplayState): { code: string; message: string } {
    return s.state === 'gone'
      ? { code: 'PANEL_DISPLAY_GONE', message: `front panel display (${kind}): ${s.why}; trying again` }
      : { code: 'PANEL_DISPLAY_OK', message: `front panel display (${kind}): it answers again` };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([
      this.#o.display?.close(),
      this.#o.buttons?.close(),
      this.#o.leds?.tally?.close(),
      this.#o.leds?.error?.close(),
    ]);
  }

  #home(input: PanelInput): PageName {
    return input.setupCode ? 'setup' : 'main';
  }

  #draw(input: PanelInput): void {
    const display = this.#o.display;
    if (!display) return;
    try {
      display.show(renderPage(display.kind, this.#page, input));
    } catch (err) {
      // A page that cannot be drawn from this snapshot is a bug: logged, and the stream goes on.
      log.error('cannot draw the panel page', { page: this.#page, err });
    }
  }

  #press(button: 'main' | 'next', press: 'short' | 'long'): void {
    if (this.#closed) return;
    this.#pressed = true;
    this.#lastPressAt = this.#now();
    const input = this.#o.input();
    if (press === 'long' && button === 'main') {
      const on = input.snapshot.stream.desired === 'off';
      // The supervisor logs the start or stop itself, as it does for fieldcast ctl.
      this.#o.setStreaming(on).catch((err: unknown) =>
        this.#o.record({
          code: 'PANEL_CONTROL_FAILED',
          message: `the front panel button could not ${on ? 'start' : 'stop'} the stream: ${(err as Error).message}`,
        }),
      );
      this.#page = 'main';
    } else {
      this.#page = PAGE_NAMES[(PAGE_NAMES.indexOf(this.#page) + 1) % PAGE_NAMES.length]!;
    }
    this.#draw(input);
  }
}
