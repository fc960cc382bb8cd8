/**
 * The stream's recorder: every TS chunk the stream unit hands towards SRT is
 * also written, as segments, to the recordings folder (segment-store.ts),
 * with the timeline of what each destination acknowledged (delivery.ts): one
 * timeline per destination, made when it first appears in the probe and
 * closed (what waits in it counted missed) when it goes.
 *
 * It must never block or slow the live stream. `write` is synchronous and
 * cheap: the chunk is copied into a 256 KiB block; full blocks (and, each
 * second, a partial one) are queued for one asynchronous writer. When more
 * than MAX_QUEUED_BYTES wait (a slow or failing card), the recording — never
 * the stream — gives way: the open segment is closed where it is, what
 * comes meanwhile is dropped and counted, and recording resumes on the next
 * keyframe once the queue has drained; status says so (`droppedBytes`,
 * `drops`, `lastError`).
 *
 * Space: retention runs after each segment and every few seconds against
 * the free space; with too little free and nothing left to delete it pauses
 * (state `paused`) and resumes by itself when there is room again.
 */
import { createLogger } from '../lib/logger.js';
import type { ChunkInfo } from '../mux/index.js';
import { type DeliverySample, DeliveryTimeline } from './delivery.js';
import type { SecondEntry } from './index-file.js';
import { SegmentStore } from './segment-store.js';
import { Segmenter } from './segmenter.js';
import type { RecordingSettings } from './settings.js';

const log = createLogger('record');

const BLOCK_BYTES = 256 << 10;
/** Queued for the disk beyond this, the recording drops (about 6 s at 10 Mbit/s). */
export const MAX_QUEUED_BYTES = 8 << 20;
const TICK_MS = 250;
const SPACE_CHECK_MS = 5000;

export interface RecorderOptions {
  dir: string;
  settings: RecordingSettings;
  /** Each destination's SRT output state now (config order): read a few times a second for the timelines. */
  probe: () => readonly DeliverySample[];
  /** Wall clock, ms (tests). */
  now?: () => number;
}

export type RecorderState = 'waiting' | 'recording' | 'dropping' | 'paused' | 'failed' | 'closed';

/** What status shows of the recording. */
export interface RecorderStats {
  state: RecorderState;
  /** Closed segments kept, and the bytes they and the open one take. */
  segments: number;
  bytes: number;
  /** The oldest recorded moment kept (ISO 8601). */
  oldest?: string;
  /** Bytes not recorded because the disk fell behind or the recorder was paused, and how many times it happened. */
  droppedBytes: number;
  drops: number;
  /** Bytes waiting for the disk now. */
  queuedBytes: number;
  lastError?: string;
}

export class StreamRecorder {
  private readonly segmenter: Segmenter;
  /** One per destination in the probe (config order). */
  private readonly timelines: DeliveryTimeline[] = [];
  private readonly now: () => number;
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;
  private blockSince = 0;
  private queued = 0;
  private chain: Promise<void> = Promise.resolve();
  private state: RecorderState = 'waiting';
  private droppedBytes = 0;
  private drops = 0;
  private lastError: string | undefined;
  private secondBytes = 0;
  /** When the last chunk was recorded: a segment closed at the end of the stream ends there. */
  private lastDataAt = 0;
  private second = 0;
  private readonly pendingSeconds: SecondEntry[] = [];
  private tick: NodeJS.Timeout | undefined;
  private spaceTimer: NodeJS.Timeout | undefined;
  private checkingSpace = false;

  private constructor(
    private readonly store: SegmentStore,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.segmenter = new Segmenter({
      segmentMs: opts.settings.segmentSeconds * 1000,
      onCut: () => this.onCut(),
      onData: (c) => this.onData(c),
    });
    this.second = Math.floor(this.now() / 1000);
  }

  /** Opens the recordings folder (mending what a power cut left) and starts the timers. */
  static async open(opts: RecorderOptions): Promise<StreamRecorder> {
    const store = await SegmentStore.open(opts.dir);
    const r = new StreamRecorder(store, opts);
    r.tick = setInterval(() => r.onTick(), TICK_MS);
    r.spaceTimer = setInterval(() => r.checkSpace(), SPACE_CHECK_MS);
    r.tick.unref();
    r.spaceTimer.unref();
    r.checkSpace();
    return r;
  }

  /** One chunk of the stream (valid only during the call). Never blocks. */
  write(chunk: Buffer, info: ChunkInfo): void {
    this.secondBytes += chunk.length;
    if (this.state === 'paused' || this.state === 'failed' || this.state === 'closed') {
      this.droppedBytes += chunk.length;
      return;
    }
    if (this.state === 'dropping') {
      if (this.queued > MAX_QUEUED_BYTES / 2) {
        this.droppedBytes += chunk.length;
        return;
      }
      this.state = 'waiting';
      log.info('the disk caught up: recording resumes at the next keyframe');
    }
    this.segmenter.push(chunk, info, this.now());
  }

  stats(): RecorderStats {
    const segs = this.store.segments;
    const oldest = segs[0]?.from ?? this.store.openSegment?.from;
    return {
      state: this.state,
      segments: segs.length,
      bytes: this.store.totalBytes + this.used,
      ...(oldest !== undefined ? { oldest: new Date(oldest).toISOString() } : {}),
      droppedBytes: this.droppedBytes,
      drops: this.drops,
      queuedBytes: this.queued,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** A new SRT statistics sample: the seconds it acknowledges are settled now (the last ones before a hang-up too). */
  srtSample(): void {
    if (this.state === 'closed') return;
    const now = Math.floor(this.now() / 1000);
    for (const [timeline, s] of this.sampled()) timeline.update(now, s);
  }

  /**
   * The stream has ended (no more chunks): its last, partial second joins the
   * timeline now, while the output still drains and its acknowledgement can come.
   */
  endStream(): void {
    if (this.state === 'closed' || this.secondBytes === 0) return;
    for (const [timeline, s] of this.sampled()) timeline.endSecond(this.second, this.secondBytes, s);
    this.secondBytes = 0;
  }

  /** Idempotent: writes what is queued, closes the open segment and the timeline. */
  async close(): Promise<void> {
    if (this.state === 'closed') return this.chain;
    this.state = 'closed';
    clearInterval(this.tick);
    clearInterval(this.spaceTimer);
    this.flushBlock();
    const at = this.lastDataAt || this.now();
    for (const timeline of this.timelines) timeline.flush();
    const secs = this.pendingSeconds.splice(0);
    this.enqueue(0, async () => {
      await this.store.close(at);
      await this.store.seconds(secs);
    });
    return this.chain;
  }

  private onCut(): void {
    this.flushBlock();
    const at = this.now();
    this.state = 'recording';
    this.enqueue(0, async () => {
      await this.store.start(at);
    });
    this.enqueue(0, () => this.prune(at));
  }

  private onData(chunk: Buffer): void {
    if (this.queued + this.used + chunk.length > MAX_QUEUED_BYTES) {
      this.dropRecording('the disk is too slow for the stream');
      this.droppedBytes += chunk.length;
      return;
    }
    this.lastDataAt = this.now();
    if (this.used === 0) this.blockSince = this.lastDataAt;
    if (this.used + chunk.length > BLOCK_BYTES) this.flushBlock();
    chunk.copy(this.block, this.used);
    this.used += chunk.length;
    if (this.used + chunk.length > BLOCK_BYTES) this.flushBlock();
  }

  private flushBlock(): void {
    if (this.used === 0) return;
    const data = this.block.subarray(0, this.used);
    this.block = Buffer.allocUnsafe(BLOCK_BYTES);
    this.used = 0;
    this.enqueue(data.length, () => this.store.write(data));
  }

  /** One disk operation after the others; a failure stops the recording, never the stream. */
  private enqueue(bytes: number, op: () => Promise<unknown>): void {
    this.queued += bytes;
    this.chain = this.chain
      .then(async () => {
        await op();
      })
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.queued -= bytes;
      });
  }

  private fail(e: unknown): void {
    const msg = `recording stopped: ${(e as Error).message ?? String(e)}`;
    if (this.state !== 'failed') log.error(msg, { err: e });
    this.lastError = msg;
    this.state = 'failed';
    this.segmenter.restart();
    this.droppedBytes += this.used;
    this.used = 0;
    // Keep what was written: the segment is closed where it failed (if the disk lets it).
    const at = this.now();
    this.chain = this.chain.then(() => this.store.close(at)).catch(() => undefined);
  }

  private dropRecording(why: string): void {
    this.drops++;
    this.lastError = `recording dropped a stretch: ${why}`;
    log.warn(this.lastError, { queuedBytes: this.queued });
    this.state = 'dropping';
    this.segmenter.restart();
    const at = this.now();
    this.flushBlock();
    this.enqueue(0, () => this.store.close(at));
  }

  private onTick(): void {
    const now = this.now();
    const sampled = this.sampled();
    const sec = Math.floor(now / 1000);
    if (sec !== this.second) {
      for (const [timeline, s] of sampled) timeline.endSecond(this.second, this.secondBytes, s);
      this.second = sec;
      this.secondBytes = 0;
    } else for (const [timeline, s] of sampled) timeline.update(sec, s);
    if (this.used > 0 && now - this.blockSince >= 1000) this.flushBlock();
    if (this.pendingSeconds.length > 0 && this.state !== 'closed') {
      const secs = this.pendingSeconds.splice(0);
      this.enqueue(0, () => this.store.seconds(secs));
    }
  }

  /**
   * The probe's samples, each with its destination's timeline: one is made for
   * a destination that appeared; one whose destination went is flushed (what
   * waits in it was never confirmed) and dropped.
   */
  private sampled(): [DeliveryTimeline, DeliverySample][] {
    const samples = this.opts.probe();
    for (let n = this.timelines.length; n < samples.length; n++) {
      this.timelines.push(new DeliveryTimeline((t, d) => this.pendingSeconds.push([t, d, n])));
    }
    while (this.timelines.length > samples.length) this.timelines.pop()!.flush();
    return samples.map((s, n) => [this.timelines[n]!, s]);
  }

  private checkSpace(): void {
    if (this.checkingSpace || this.state === 'closed') return;
    this.checkingSpace = true;
    this.enqueue(0, () => this.prune(this.now()));
    void this.chain.finally(() => {
      this.checkingSpace = false;
    });
  }

  private async prune(now: number): Promise<void> {
    const { diskLow } = await this.store.prune(this.opts.settings, now);
    if (diskLow && this.state !== 'paused' && this.state !== 'closed') {
      this.lastError = 'recording paused: the state partition is nearly full and no recording is left to delete';
      log.warn(this.lastError, { minFreeBytes: this.opts.settings.minFreeBytes });
      this.state = 'paused';
      this.segmenter.restart();
      this.droppedBytes += this.used;
      this.used = 0;
      await this.store.close(now);
    } else if (!diskLow && (this.state === 'paused' || this.state === 'failed')) {
      log.info('recording resumes: there is room on the state partition again');
      this.lastError = undefined;
      this.state = 'waiting';
    }
  }
}

/** One line for `fieldcast ctl status`: what is recorded, and whether the recording had to give way. */
export function describeRecording(r: RecorderStats): string {
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  const parts = [`recording: ${r.state}, ${r.segments} segments, ${mb(r.bytes)}`];
  if (r.oldest) parts.push(`since ${r.oldest.replace('T', ' ').slice(0, 19)} UTC`);
  if (r.droppedBytes > 0) parts.push(`${mb(r.droppedBytes)} not recorded`);
  if (r.lastError) parts.push(r.lastError);
  return parts.join(', ');
}
