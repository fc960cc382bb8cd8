/**
 * The recordings folder on the state partition: segment files and their
 * index (index-file.ts), owned here and changed only through this class, one
 * operation at a time (the recorder queues them).
 *
 * A segment is announced in the index before its file is created, synced
 * before its closing line is written, and a segment that was never closed
 * (a power cut) is found at the next start, cut back to its last whole TS
 * packet and closed as torn: every earlier segment plays, the torn one up to
 * where the cut took it.
 *
 * Retention: the oldest segments go while the recordings take more than
 * `maxBytes`, are older than `maxAgeMinutes`, or the partition has less than
 * `minFreeBytes` free (fs.statfs); the index is then rewritten atomically
 * without them (the timeline as spans: see index-file.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../lib/logger.js';
import { TS_PACKET_SIZE } from '../mux/index.js';
import { RecordingUnavailableError } from './errors.js';
import {
  formatLines,
  INDEX_FILE,
  type IndexLineT,
  type RecordingIndex,
  readIndex,
  rewriteIndex,
  type SecondEntry,
  type SegmentLineT,
} from './index-file.js';
import type { RecordingSettings } from './settings.js';

const log = createLogger('record.store');

/** A segment's file name: its start, UTC, to the millisecond (sorts as it plays). */
export function segmentName(fromMs: number): string {
  const iso = new Date(fromMs).toISOString(); // 2026-12-03T12:05:01.123Z
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${iso.slice(20, 23)}.ts`;
}

export interface FreeSpace {
  /** Bytes an unprivileged writer may still use on the partition. */
  freeBytes: number;
}

export async function freeSpace(dir: string): Promise<FreeSpace> {
  const s = await fs.statfs(dir);
  return { freeBytes: s.bavail * s.bsize };
}

export class SegmentStore {
  private current: { file: string; from: number; handle: fs.FileHandle; bytes: number } | undefined;

  private constructor(
    readonly dir: string,
    private readonly ix: RecordingIndex,
  ) {}

  /** Opens (creating) the folder and mends what a power cut left: torn segments closed, files the index does not know removed. */
  static async open(dir: string): Promise<SegmentStore> {
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const ix = await readIndex(dir);
      const store = new SegmentStore(dir, ix);
      await store.mend();
      return store;
    } catch (e) {
      throw new RecordingUnavailableError(`cannot use the recordings folder ${dir}: ${(e as Error).message}`, { dir }, e);
    }
  }

  get segments(): readonly SegmentLineT[] {
    return this.ix.segments;
  }

  get openSegment(): { file: string; from: number; bytes: number } | undefined {
    const c = this.current;
    return c ? { file: c.file, from: c.from, bytes: c.bytes } : undefined;
  }

  /** Bytes of closed segments plus the open one. */
  get totalBytes(): number {
    return this.ix.segments.reduce((n, s) => n + s.bytes, 0) + (this.current?.bytes ?? 0);
  }

  async start(fromMs: number): Promise<void> {
    if (this.current) await this.close(fromMs);
    let file = segmentName(fromMs);
    if (this.ix.segments.some((s) => s.file === file)) file = file.replace(/\.ts$/, `-${this.ix.segments.length}.ts`);
    await this.append([{ k: 'open', file, from: fromMs }]);
    const handle = await fs.open(path.join(this.dir, file), 'wx', 0o600);
    this.current = { file, from: fromMs, handle, bytes: 0 };
  }

  async write(buf: Buffer): Promise<void> {
    const c = this.current;
    if (!c) return;
    await c.handle.write(buf);
    c.bytes += buf.length;
  }

  /** Syncs and closes the open segment, then says so in the index. */
  async close(toMs: number): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    try {
      await c.handle.datasync();
    } finally {
      await c.handle.close();
    }
    const line: SegmentLineT = { k: 'seg', file: c.file, from: c.from, to: toMs, bytes: c.bytes };
    await this.append([line]);
    this.ix.segments.push(line);
  }

  /** Timeline entries: second, what reached the destination, which destination (config order). */
  async seconds(entries: readonly SecondEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const [t, d, n] of entries) {
      for (let i = this.ix.seconds.length; i <= n; i++) this.ix.seconds.push(new Map());
      this.ix.seconds[n]!.set(t, d);
    }
    await this.append(entries.map(([t, d, n]) => ({ k: 'sec', t, d, ...(n === 0 ? {} : { n }) })));
  }

  /**
   * Deletes the oldest closed segments while over the size or age bound or
   * short of free space. Returns whether the partition is still short of
   * space with nothing left to delete (the recorder then pauses).
   */
  async prune(settings: RecordingSettings, nowMs: number): Promise<{ removed: number; diskLow: boolean }> {
    const maxAgeMs = settings.maxAgeMinutes * 60_000;
    let removed = 0;
    let free = (await freeSpace(this.dir)).freeBytes;
    while (this.ix.segments.length > 0) {
      const oldest = this.ix.segments[0]!;
      const over = this.totalBytes > settings.maxBytes || nowMs - oldest.to > maxAgeMs || free < settings.minFreeBytes;
      if (!over) break;
      await fs.rm(path.join(this.dir, oldest.file), { force: true });
      this.ix.segments.shift();
      removed++;
      free += oldest.bytes;
    }
    if (removed > 0) {
      const from = Math.floor((this.ix.segments[0]?.from ?? this.current?.from ?? nowMs) / 1000);
      for (const timeline of this.ix.seconds) for (const t of [...timeline.keys()]) if (t < from) timeline.delete(t);
      await rewriteIndex(this.dir, this.ix);
      free = (await freeSpace(this.dir)).freeBytes;
      log.info('old recordings removed', { removed, left: this.ix.segments.length });
    }
    return { removed, diskLow: free < settings.minFreeBytes };
  }

  private async append(lines: IndexLineT[]): Promise<void> {
    await fs.appendFile(path.join(this.dir, INDEX_FILE), formatLines(lines), { mode: 0o600 });
  }

  private async mend(): Promise<void> {
    let changed = false;
    for (const o of this.ix.open) {
      const file = path.join(this.dir, o.file);
      let st: Awaited<ReturnType<typeof fs.stat>>;
      try {
        st = await fs.stat(file);
      } catch {
        changed = true;
        continue;
      }
      // Whatever a cut left after the last whole packet cannot be decoded: cut it off.
      const whole = st.size - (st.size % TS_PACKET_SIZE);
      if (whole !== st.size) await fs.truncate(file, whole);
      if (whole === 0) await fs.rm(file, { force: true });
      else {
        this.ix.segments.push({ k: 'seg', file: o.file, from: o.from, to: Math.max(o.from, st.mtimeMs), bytes: whole, torn: true });
        log.warn('a recording was cut short (power cut or crash): kept up to its last whole packet', { file: o.file, bytes: whole });
      }
      changed = true;
    }
    this.ix.open = [];
    this.ix.segments.sort((a, b) => a.from - b.from);
    const known = new Set(this.ix.segments.map((s) => s.file));
    for (const name of await fs.readdir(this.dir)) {
      if (/^\d{8}-\d{6}-\d{3}(-\d+)?\.ts$/.test(name) && !known.has(name)) {
        await fs.rm(path.join(this.dir, name), { force: true });
        changed = true;
      }
    }
    if (changed || this.ix.skipped > 0) await rewriteIndex(this.dir, this.ix);
  }
}
