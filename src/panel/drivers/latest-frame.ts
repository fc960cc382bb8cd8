/**
 * The coalescing writer every display driver draws through: at most one frame
 * is being written; a frame offered meanwhile waits, and a newer one replaces
 * it (the renderer may produce frames faster than a 100 kHz I2C bus carries
 * them: only the newest matters). A write that fails halts the writer and goes
 * to the driver's recovery; nothing is thrown to whoever offered the frame.
 *
 *   waiting  — not yet connected: frames are kept, idle() waits
 *   writing  — frames go to the glass
 *   halted   — the display is gone: the latest frame is kept for the redraw, idle() resolves
 *   closed   — nothing more is written
 */

export type WriterMode = 'waiting' | 'writing' | 'halted' | 'closed';

export interface LatestFrameWriterOptions<F> {
  /** Puts a frame on the glass; rejects when the display failed. */
  write: (frame: F) => Promise<void>;
  /** A write failed: the writer is halted until resume(). Called once per failure. */
  onError: (err: unknown) => void;
}

export class LatestFrameWriter<F> {
  private mode: WriterMode = 'waiting';
  private pending: F | undefined;
  private latest: F | undefined;
  private inFlight: Promise<void> | undefined;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: LatestFrameWriterOptions<F>) {}

  get state(): WriterMode {
    return this.mode;
  }

  /** The newest frame offered (what a redraw after recovery puts back). */
  get newest(): F | undefined {
    return this.latest;
  }

  /** Queues a frame, replacing one not yet begun. Returns at once. */
  offer(frame: F): void {
    if (this.mode === 'closed') return;
    this.latest = frame;
    this.pending = frame;
    this.pump();
  }

  /** Writes again, beginning with the newest frame (the glass was just initialised, so it is drawn whole). */
  resume(): void {
    if (this.mode === 'closed') return;
    this.mode = 'writing';
    this.pending = this.latest;
    this.pump();
  }

  /** Stops writing (the display is gone); resolves once a write under way has ended. */
  async halt(): Promise<void> {
    if (this.mode !== 'closed') this.mode = 'halted';
    this.settle();
    await this.inFlight;
  }

  /** Stops for good; resolves once a write under way has ended. */
  async close(): Promise<void> {
    this.mode = 'closed';
    this.pending = undefined;
    this.settle();
    await this.inFlight;
  }

  /** Resolves when every frame offered so far is written, or the writer is halted or closed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.mode === 'halted' || this.mode === 'closed') return true;
    return this.inFlight === undefined && this.pending === undefined;
  }

  private pump(): void {
    if (this.mode !== 'writing' || this.inFlight !== undefined || this.pending === undefined) {
      this.settle();
      return;
    }
    const frame = this.pending;
    this.pending = undefined;
    // A write that throws before its first await is a failure like any other.
    this.inFlight = new Promise<void>((resolve) => resolve(this.options.write(frame))).then(
      () => {
        this.inFlight = undefined;
        this.pump();
      },
      (err: unknown) => {
        this.inFlight = undefined;
        if (this.mode === 'writing') this.mode = 'halted';
        this.settle();
        this.options.onError(err);
      },
    );
  }

  private settle(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
