/**
 * The pipeline process's end of the TS pipe to the stream unit, writing in
 * batches.
 *
 * Every write to the pipe is a syscall here and a wake-up of the stream
 * unit's process there, whose reading, splicing and hand-off to libsrt are
 * then paid once per write, not per byte. A UDP passthrough input brings one
 * 1316-byte datagram at a time (950 a second at 10 Mbit/s); written one by
 * one they cost the send side about a quarter more CPU than the same stream
 * written every few ms (`fieldcast bench bond-cpu`). So:
 *
 * - `windowMs` 0 (an encoding pipeline): what one turn of the event loop
 *   brings leaves together at its end. The muxer writes a whole access unit
 *   in one go, so this batches per picture and adds no delay.
 * - `windowMs` > 0 (a live passthrough input): the first chunk opens a
 *   window; everything that arrives in it leaves in one write when it
 *   closes. At most `windowMs` of delay, a small share of any SRT latency.
 *
 * Chunks are copied in when written: the muxer fills the same buffer again
 * for its next chunk (src/mux/output.ts), so a reference kept until the write
 * would carry the wrong bytes. A reader that stalls must not make this
 * process grow without end: beyond `maxBufferedBytes` waiting here, chunks
 * are refused (the caller counts them dropped; the unit's splicer sees the
 * gap).
 */
import type { Writable } from 'node:stream';

export interface TsPipeWriterOptions {
  windowMs: number;
  maxBufferedBytes: number;
}

/** Live passthrough input: chunks gathered this long leave in one write. */
export const PASSTHROUGH_WINDOW_MS = 5;

export class TsPipeWriter {
  #stage = Buffer.allocUnsafe(64 * 1024);
  #staged = 0;
  #open: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly out: Writable,
    private readonly options: TsPipeWriterOptions,
  ) {}

  /** Copies a chunk into the next batch; false (and nothing kept) when the reader is too far behind. */
  write(chunk: Uint8Array): boolean {
    if (this.out.destroyed || this.out.writableLength + this.#staged > this.options.maxBufferedBytes) return false;
    if (this.#staged + chunk.length > this.#stage.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#stage.length * 2, this.#staged + chunk.length));
      this.#stage.copy(bigger, 0, 0, this.#staged);
      this.#stage = bigger;
    }
    this.#stage.set(chunk, this.#staged);
    this.#staged += chunk.length;
    this.#open ??= this.options.windowMs > 0 ? setTimeout(this.#flush, this.options.windowMs) : setImmediate(this.#flush);
    return true;
  }

  /** Writes what is waiting now (before the end of the stream). */
  flush(): void {
    if (this.#open === undefined) return;
    clearTimeout(this.#open as NodeJS.Timeout);
    clearImmediate(this.#open as NodeJS.Immediate);
    this.#flush();
  }

  readonly #flush = (): void => {
    this.#open = undefined;
    if (this.#staged === 0 || this.out.destroyed) return;
    // The stream keeps what it is given until the pipe takes it: a batch of its own, the stage is reused.
    this.out.write(Buffer.from(this.#stage.subarray(0, this.#staged)));
    this.#staged = 0;
  };
}
