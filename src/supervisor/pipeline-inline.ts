/**
 * A UDP passthrough input read in the stream unit's own process, in place of
 * a pipeline process (pipeline-child.ts).
 *
 * The pipeline runs in a process of its own so that a driver or an encoder
 * that crashes or hangs cannot take the SRT session down with it. A UDP
 * passthrough has neither: its pipeline is a socket read in windows by the
 * addon's batched UDP socket (src/native/udp.ts) and cut into whole TS
 * packets. In its own process it cost, at 10 Mbit/s, about 2 CPU-s a minute
 * there plus the pipe's read and wake-ups here — a fifth of the bonded
 * sender side (`fieldcast bench bond-cpu`) — for nothing it protects
 * against. So this runs the same Pipeline (src/media/pipeline.ts) here, with
 * the same events and the same handle as PipelineChild: the stream unit
 * cannot tell them apart, except that there is no process id to show (the
 * status page shows none) and nothing to kill.
 *
 * What a window brings leaves in one `ts` event at the end of its loop turn,
 * copied (the splicer may keep chunks while the destination is away). If the
 * pipeline fails (the socket cannot be bound, say), the stream ends with its
 * code, as a pipeline process that exits with it does; it is not restarted:
 * nothing here can crash, and a port that cannot be bound will not be
 * bindable a moment later either.
 */
import { describeError, FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import type { ParentMessageT, PipelineSpec, PipelineStats } from '../media/channel.js';
import type { Pipeline } from '../media/pipeline.js';
import type { PipelineChildEvents, PipelineChildOptions, PipelineHandle, ReceivedThumbnail } from './pipeline-child.js';

const log = createLogger('supervisor.pipeline');
/** A window's TS at 20 Mbit/s and 5 ms is 12.5 kB; the stage grows for more (a late turn). */
const STAGE_BYTES = 32 * 1024;

/** Whether a pipeline spec is read in this process (InlinePipeline) rather than in a process of its own. */
export function runsInProcess(spec: PipelineSpec): boolean {
  return spec.source.kind === 'passthrough' && spec.source.input.startsWith('udp://');
}

export class InlinePipeline extends TypedEmitter<PipelineChildEvents> implements PipelineHandle {
  private pipeline: Pipeline | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private finished = false;
  private spawns = 0;
  private lastStats: PipelineStats | undefined;
  /** This loop turn's TS, handed on whole at its end as a copy of its own size (the splicer may keep it). */
  private stage = Buffer.allocUnsafe(STAGE_BYTES);
  private staged = 0;
  private flushQueued = false;
  private ready = false;

  constructor(private readonly opts: PipelineChildOptions) {
    super();
  }

  get restartCount(): number {
    return 0;
  }

  get spawnCount(): number {
    return this.spawns;
  }

  get stats(): PipelineStats | undefined {
    return this.lastStats;
  }

  /** A passthrough has no picture of its own to show. */
  get thumbnail(): ReceivedThumbnail | undefined {
    return undefined;
  }

  /** No process of its own: nothing to show, nothing to kill. */
  get pid(): number | undefined {
    return undefined;
  }

  set nextSpec(spec: PipelineSpec) {
    this.opts.spec = spec;
  }

  start(): void {
    if (this.pipeline || this.starting || this.finished) return;
    this.starting = this.run(this.opts.spec).finally(() => {
      this.starting = undefined;
    });
  }

  /** Commands as a pipeline process takes them; only `outputReady` means anything to a live passthrough. */
  send(msg: ParentMessageT): void {
    if (msg.type === 'outputReady') {
      this.ready = true;
      this.pipeline?.outputReady();
    } else if (msg.type === 'stop') void this.stop();
  }

  /** The same input again, or another UDP input: the old socket closes before the new one binds (it may be the same port). */
  replace(spec: PipelineSpec): void {
    this.opts.spec = spec;
    if (this.finished || this.stopping) return;
    const old = this.pipeline;
    this.pipeline = undefined;
    const after = this.starting ?? Promise.resolve();
    this.starting = after
      .then(() => old?.stop())
      .then(() => this.run(this.opts.spec))
      .finally(() => {
        this.starting = undefined;
      });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    const p = this.pipeline;
    this.pipeline = undefined;
    await p?.stop();
    this.flush();
    this.finish(null);
  }

  private async run(spec: PipelineSpec): Promise<void> {
    if (this.stopping || this.finished) return;
    // Loaded only here: a stream unit that runs its pipeline in a process of its own never loads it.
    const { Pipeline } = await import('../media/pipeline.js');
    const p = new Pipeline(spec, (chunk) => this.push(chunk));
    this.pipeline = p;
    this.spawns++;
    p.on('stats', (s) => {
      if (this.pipeline !== p) return;
      this.lastStats = s;
      this.emit('stats', s);
    });
    p.on('state', (state, reason) => {
      if (this.pipeline === p) this.emit('state', state, reason);
    });
    p.on('event', (e) => {
      if (this.pipeline === p) this.emit('event', e);
    });
    p.on('finished', (code, message) => {
      if (this.pipeline !== p) return;
      this.pipeline = undefined;
      if (code !== null) log.error('the TS input ended', { code, message });
      this.flush();
      this.finish(code);
    });
    this.emit('spawned', process.pid);
    try {
      await p.start();
      if (this.ready) p.outputReady();
    } catch (e) {
      if (this.pipeline !== p) return;
      const err = e instanceof FieldcastError ? e : new FieldcastError('PIPELINE_FAILED', describeError(e));
      this.emit('event', { code: err.code, message: err.message, level: 'error' });
      this.pipeline = undefined;
      await p.stop();
      this.finish(err.code);
    }
  }

  /** Copies the chunk into this loop turn's TS, which leaves as one at the turn's end. */
  private push(chunk: Buffer): boolean {
    if (this.staged + chunk.length > this.stage.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.stage.length * 2, this.staged + chunk.length));
      this.stage.copy(bigger, 0, 0, this.staged);
      this.stage = bigger;
    }
    chunk.copy(this.stage, this.staged);
    this.staged += chunk.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.staged === 0) return;
    const out = Buffer.from(this.stage.subarray(0, this.staged));
    this.staged = 0;
    if (!this.finished) this.emit('ts', out);
  }

  private finish(code: string | null): void {
    if (this.finished) return;
    this.finished = true;
    this.emit('stopped', code);
  }
}
