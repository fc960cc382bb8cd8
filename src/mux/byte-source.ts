/**
 * Random-but-mostly-forward access to an elementary stream, in memory or in
 * a file read through one reused window: a file is never loaded whole, as
 * touching fresh memory costs more than muxing it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ElementaryStreamError } from './errors.js';
import { findStartCode } from './h264.js';

export interface ByteSource {
  readonly size: number;
  /** Up to `n` bytes from `pos` (fewer at the end). The view is valid until the next call. */
  read(pos: number, n: number): Buffer;
  /** Global offset of the next 00 00 01 at or after `from`, or -1. */
  findStartCode(from: number): number;
}

export function bufferSource(data: Buffer): ByteSource {
  return {
    size: data.length,
    read: (pos, n) => data.subarray(pos, Math.min(data.length, pos + n)),
    findStartCode: (from) => findStartCode(data, from),
  };
}

const WINDOW = 1 << 20;

export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(WINDOW);
  private base = 0;
  private len = 0;

  constructor(path: string) {
    try {
      this.fd = openSync(path, 'r');
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      throw new ElementaryStreamError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path });
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Loads the window to start at `pos` unless [pos, pos+n) is already in it. */
  private load(pos: number, n: number): void {
    if (pos >= this.base && pos + n <= this.base + this.len) return;
    if (pos + n > this.base + this.len && this.base + this.len >= this.size && pos >= this.base) return; // at the end already
    this.base = pos;
    this.len = 0;
    while (this.len < WINDOW && this.base + this.len < this.size) {
      const got = readSync(this.fd, this.buf, this.len, WINDOW - this.len, this.base + this.len);
      if (got <= 0) break;
      this.len += got;
    }
  }

  read(pos: number, n: number): Buffer {
    if (n > WINDOW) throw new RangeError(`read of ${n} bytes exceeds the window`);
    this.load(pos, n);
    return this.buf.subarray(pos - this.base, Math.min(this.len, pos - this.base + n));
  }

  findStartCode(from: number): number {
    let pos = from;
    while (pos + 3 <= this.size) {
      this.load(pos, 3);
      const view = this.buf.subarray(0, this.len);
      const at = findStartCode(view, pos - this.base);
      if (at >= 0) return this.base + at;
      if (this.base + this.len >= this.size) return -1;
      pos = this.base + this.len - 2; // a start code may straddle the window's end
      this.load(pos, WINDOW);
    }
    return -1;
  }

  /**
   * The bytes [pos, pos+n): a view of the window when they lie in it (valid
   * until the next call), else read into `into`.
   */
  view(pos: number, n: number, into: { buf: Buffer }): Buffer {
    if (pos >= this.base && pos + n <= this.base + this.len) return this.buf.subarray(pos - this.base, pos - this.base + n);
    if (pos >= this.base && n <= WINDOW / 4) return this.read(pos, n); // ahead: slide the window on, reading goes forward
    return this.readInto(pos, n, into);
  }

  /** Reads [pos, pos+n) into `into` (grown when too small); returns the bytes. */
  readInto(pos: number, n: number, into: { buf: Buffer }): Buffer {
    if (into.buf.length < n) into.buf = Buffer.allocUnsafe(Math.max(n, into.buf.length * 2));
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, into.buf, got, n - got, pos + got);
      if (r <= 0) throw new RangeError(`the file ended at byte ${pos + got}`);
      got += r;
    }
    return into.buf.subarray(0, n);
  }
}
