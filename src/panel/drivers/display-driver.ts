/**
 * The life of a display, shared by the three drivers: open and initialise in
 * the background, draw through the coalescing writer, and when a transfer
 * fails report 'gone' once, retry with backoff (1 s doubling to 10 s), then
 * initialise again, redraw the newest frame whole and report 'ok'. One loop
 * (run) owns the connection; show(), idle() and close() never throw.
 *
 * A driver supplies the controller: connect (open the bus, run the init
 * sequence, forget what is on the glass), draw (write what changed), switchOff
 * and disconnect.
 */
import { describeError } from '../../lib/errors.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import type { DisplayKind, DisplayState, Frame, PanelDisplay } from '../frame.js';
import { type DisplayClock, systemClock } from './clock.js';
import { DisplayGoneError } from './errors.js';
import { LatestFrameWriter } from './latest-frame.js';
import { describeFailure, nextRetryMs, RETRY_FIRST_MS } from './recovery.js';

export interface DisplayDriverOptions {
  /** Called on each change of health: 'gone' once when the display stops answering, 'ok' when it is drawn again. */
  onState?: (state: DisplayState) => void;
  /** Controller delays and retry backoff (tests record them). */
  clock?: DisplayClock;
  logger?: Logger;
}

/** `F` is the driver's own copy of a frame, in the form its controller is written from. */
export abstract class DisplayDriver<F> implements PanelDisplay {
  abstract readonly kind: DisplayKind;
  /** Where the display is, for the operator: "the display at I2C bus 1 address 0x3c". */
  protected abstract readonly where: string;

  protected readonly clock: DisplayClock;
  protected readonly log: Logger;
  private readonly onState: ((state: DisplayState) => void) | undefined;
  private readonly writer: LatestFrameWriter<F>;
  private readonly stop = new AbortController();
  private health: DisplayState | undefined;
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failure: unknown;
  private lastRejection: string | undefined;

  protected constructor(options: DisplayDriverOptions, module: string) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? createLogger(module);
    this.onState = options.onState;
    this.writer = new LatestFrameWriter<F>({
      write: (frame) => this.draw(frame),
      onError: (err) => {
        this.failure = err;
        this.wake?.();
      },
    });
  }

  /** Opens the bus and runs the init sequence. Afterwards the glass counts as unknown: the next draw is whole. */
  protected abstract connect(): Promise<void>;
  /** Writes what differs between `frame` and what is on the glass (all of it after connect). */
  protected abstract draw(frame: F): Promise<void>;
  /** Turns the panel off (close); may throw, the caller ignores it. */
  protected abstract switchOff(): Promise<void>;
  /** Closes the bus and the pins. Never throws. */
  protected abstract disconnect(): Promise<void>;
  /** A copy of `frame` in this driver's form, or why it does not fit this display. */
  protected abstract accept(frame: Frame): F | string;

  /** The current health, undefined before the first attempt has ended. */
  get state(): DisplayState | undefined {
    return this.health;
  }

  show(frame: Frame): void {
    if (this.closing) return;
    let accepted: F | string;
    try {
      accepted = this.accept(frame);
    } catch (err) {
      accepted = describeError(err);
    }
    if (typeof accepted === 'string') {
      // A renderer bug repeats at the frame rate: say it once per reason.
      if (accepted !== this.lastRejection) this.log.warn('frame not shown', { display: this.kind, why: accepted });
      this.lastRejection = accepted;
      return;
    }
    this.lastRejection = undefined;
    this.writer.offer(accepted);
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Starts the background loop; each driver calls it at the end of its constructor. */
  protected start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      // run() catches every failure of the controller; this is a bug, logged rather than left unhandled.
      this.log.error('display loop stopped', { display: this.kind, err });
    });
  }

  private async run(): Promise<void> {
    let retryMs = RETRY_FIRST_MS;
    while (!this.stop.signal.aborted) {
      let connected = false;
      try {
        await this.connect();
        connected = true;
      } catch (err) {
        this.failure = err;
      }
      if (this.stop.signal.aborted) {
        if (connected) await this.quietly('switch off', () => this.switchOff());
        return;
      }
      if (connected) {
        retryMs = RETRY_FIRST_MS;
        this.failure = undefined;
        this.report({ state: 'ok' });
        const lost = new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.writer.resume();
        await lost;
        this.wake = undefined;
        await this.writer.halt();
        if (this.stop.signal.aborted && this.failure === undefined) {
          await this.quietly('switch off', () => this.switchOff());
          return;
        }
      } else {
        await this.writer.halt();
      }
      const gone = new DisplayGoneError(
        `${this.where} does not answer: ${describeFailure(this.failure)}`,
        { kind: this.kind },
        this.failure,
      );
      this.report({ state: 'gone', why: gone.message }, gone);
      await this.disconnect();
      if (this.stop.signal.aborted) return;
      this.log.debug('display retry', { display: this.kind, inMs: retryMs });
      await this.clock.retryAfter(retryMs, this.stop.signal);
      retryMs = nextRetryMs(retryMs);
    }
  }

  private async shutdown(): Promise<void> {
    this.stop.abort();
    this.wake?.();
    await this.writer.close();
    await this.running;
    await this.disconnect();
  }

  private report(next: DisplayState, err?: DisplayGoneError): void {
    const prev = this.health;
    this.health = next;
    if (prev?.state === next.state) {
      if (next.state === 'gone') this.log.debug('display still gone', { display: this.kind, why: next.why });
      return;
    }
    if (next.state === 'gone') this.log.warn('display gone', { display: this.kind, code: err?.code, why: next.why });
    else this.log.info('display ok', { display: this.kind });
    try {
      this.onState?.(next);
    } catch (err) {
      this.log.error('display state listener failed', { display: this.kind, err });
    }
  }

  private async quietly(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.debug(`display ${what} failed`, { display: this.kind, err: describeError(err) });
    }
  }
}
