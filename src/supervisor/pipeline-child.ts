/**
 * The stream unit's handle on the media pipeline process.
 *
 * The pipeline (capture, encoders, muxer) runs in its own process so a crash
 * or hang in a driver or encoder never takes the supervisor — the SRT
 * session, the status page — down with it. This class forks it, speaks the
 * typed channel (src/media/channel.ts), reads its TS from the pipe on the
 * child's fd 4, and restarts it at once when it dies or stops answering,
 * backing off if it keeps dying, and says why.
 *
 * A UDP passthrough, which has neither a driver nor an encoder, is read in
 * the stream unit's process instead (pipeline-inline.ts, the same handle).
 *
 * A hang is noticed by silence: an encoding pipeline that sends no TS for a
 * second (it makes some every few milliseconds) or any pipeline that sends
 * no statistics for three (it sends them every second). A new process has
 * ten for its first statistics and TS: Node starting, the device and the
 * encoder opening take well under a second on the box, but several on a
 * slow first start (a cold SD card, an emulated CPU), and a start killed as
 * hung only starts again more slowly.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger, type LogLevel } from '../lib/logger.js';
import type {
  ChildMessage,
  ParentMessageT,
  PipelineEvent,
  PipelineSpec,
  PipelineState,
  PipelineStats,
  PipelineThumbnail,
} from '../media/channel.js';

const log = createLogger('supervisor.pipeline');

// The built entry point, from src/ (tests) and dist/ alike: both sit one level below the package root.
const CHILD_ENTRY = fileURLToPath(new URL('../../dist/media/child.js', import.meta.url));
/** The first restart is at once; repeated crashes back off from this up to the maximum. */
const RESTART_BACKOFF_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A pipeline that sends no statistics for this long is hung and is killed. */
const HANG_STATS_MS = 3_000;
/** An encoding pipeline that sends no TS for this long is hung (it muxes every few ms). */
const HANG_TS_MS = 1_000;
/** A new pipeline that has sent no statistics (an encoding one: no TS) at all this long after it started is hung. */
const HANG_FIRST_MS = 10_000;
const HANG_CHECK_MS = 100;
/**
 * A process that ran this long before it died was not in a crash loop (one
 * that cannot open its device dies within a second): it is restarted at once,
 * the backoff starting over. Only a quick succession of early deaths backs off.
 */
const STABLE_MS = 5_000;

export class PipelineCrashedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PIPELINE_CRASHED', message, details);
  }
}

/** A thumbnail as the supervisor keeps it: its JPEG as a Buffer (the channel delivers a Uint8Array). */
export type ReceivedThumbnail = Omit<PipelineThumbnail, 'jpeg'> & { jpeg: Buffer };

export type PipelineChildEvents = {
  state: [PipelineState, string | undefined];
  stats: [PipelineStats];
  event: [PipelineEvent];
  /** The child died or hung and is being restarted. */
  restarting: [PipelineCrashedError, number];
  /** A pipeline process started: the TS that follows is a new source's. */
  spawned: [pid: number];
  /** TS from the pipeline, cut anywhere. */
  ts: [Buffer];
  /** A video access unit left the encoder (capture time, µs), with the spec's `reportUnits`. */
  unit: [captureUs: number];
  /** A new thumbnail of the picture on air, with the spec's `thumbnails` (about once a second). */
  thumbnail: [ReceivedThumbnail];
  /** Stopped for good (stop() called, or the spec's seconds ran out). */
  stopped: [string | null];
};

/** What the stream unit drives a pipeline through: a process of its own (PipelineChild) or one in its own process (pipeline-inline.ts). */
export interface PipelineHandle extends Pick<TypedEmitter<PipelineChildEvents>, 'on'> {
  readonly restartCount: number;
  /** Pipelines started so far: after the first, each one's TS is a new source to splice on. */
  readonly spawnCount: number;
  readonly stats: PipelineStats | undefined;
  readonly thumbnail: ReceivedThumbnail | undefined;
  /** The pipeline's own process, where it has one. */
  readonly pid: number | undefined;
  start(): void;
  send(msg: ParentMessageT): void;
  replace(spec: PipelineSpec): void;
  stop(): Promise<void>;
}

export interface PipelineChildOptions {
  /** Checked where its settings entered (config, operator, a tool's flags). */
  spec: PipelineSpec;
  /** Restart when the process dies (default true). */
  restart?: boolean;
  /** Forward the child's log lines into this process's logger (default true). */
  forwardLogs?: boolean;
}

export class PipelineChild extends TypedEmitter<PipelineChildEvents> implements PipelineHandle {
  private child: ChildProcess | undefined;
  private stopping = false;
  private finished = false;
  private restarts = 0;
  private backoffMs = 0;
  private startedAt = 0;
  private lastHeard = 0;
  private lastTs = 0;
  private hangTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastStats: PipelineStats | undefined;
  /** Kept across restarts: it carries its own time, and a new process sends the next within a second or two. */
  private lastThumbnail: ReceivedThumbnail | undefined;
  private hung = false;
  /** The current process has sent statistics (until then it has HANG_FIRST_MS). */
  private statsSeen = false;
  private spawns = 0;
  /** A process asked to stop so that one with a new spec takes its place. */
  private replacing: ChildProcess | undefined;
  private replaceTimer: NodeJS.Timeout | undefined;
  private readonly pending: ParentMessageT[] = [];

  constructor(private readonly opts: PipelineChildOptions) {
    super();
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** Processes started so far: after the first, each one's TS is a new source to splice on. */
  get spawnCount(): number {
    return this.spawns;
  }

  get stats(): PipelineStats | undefined {
    return this.lastStats;
  }

  /** The latest thumbnail received, with the spec's `thumbnails`. */
  get thumbnail(): ReceivedThumbnail | undefined {
    return this.lastThumbnail;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child || this.finished) return;
    this.spawn();
  }

  /** Sends a command now, or to the next process once it runs (a bit rate, a keyframe request). */
  send(msg: ParentMessageT): void {
    if (this.child?.connected) this.child.send(msg);
    else this.pending.push(msg);
  }

  /** The spec the next restart starts with (the bit rate the controller chose, say). */
  set nextSpec(spec: PipelineSpec) {
    this.opts.spec = spec;
  }

  /**
   * Starts a process with a new spec in place of the running one (an
   * operator changed the picture size, say): the old one is asked to stop
   * and killed after `graceMs`; the new one starts as soon as it is gone.
   * Not a crash: no restart is counted and no backoff applies.
   */
  replace(spec: PipelineSpec, graceMs = 2000): void {
    this.opts.spec = spec;
    const child = this.child;
    if (this.finished || this.stopping) return;
    if (!child) return; // a restart is pending: it takes the new spec
    if (this.replacing === child) return;
    this.replacing = child;
    this.pending.length = 0;
    if (child.connected) child.send({ type: 'stop' } satisfies ParentMessageT);
    this.replaceTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  }

  /** Asks the pipeline to stop cleanly; kills it if it has not within `graceMs`. Resolves when it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.replaceTimer);
    clearInterval(this.hangTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish(null);
      return;
    }
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' } satisfies ParentMessageT);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  private spawn(): void {
    this.spawns++;
    this.statsSeen = false;
    this.startedAt = Date.now();
    this.lastHeard = Date.now();
    this.lastTs = Date.now();
    let tsSeen = false;
    const child = fork(CHILD_ENTRY, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
      env: childEnv(),
    });
    this.child = child;
    const ts = child.stdio[4] as Readable | null;
    ts?.on('data', (d: Buffer) => {
      if (this.child !== child) return;
      this.lastTs = Date.now();
      tsSeen = true;
      this.emit('ts', d);
    });
    ts?.on('error', () => undefined);
    child.on('message', (m) => {
      // What a process being replaced says on its way out is not the stream's end.
      if (this.replacing !== child) this.onMessage(m as ChildMessage);
    });
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (e) => log.error('pipeline process error', { err: e }));
    if (child.pid !== undefined) this.emit('spawned', child.pid);
    child.send({ type: 'start', spec: this.opts.spec } as ParentMessageT);
    for (const m of this.pending.splice(0)) child.send(m);
    clearInterval(this.hangTimer);
    const encoding = this.opts.spec.source.kind === 'encode';
    this.hangTimer = setInterval(() => {
      if (this.child !== child || this.replacing === child) return;
      const now = Date.now();
      const statsSilent = now - this.lastHeard;
      // A new process has longer for its first statistics and TS (Node, its device and its encoder are starting).
      const tsSilent = encoding ? now - this.lastTs : 0;
      if (statsSilent > (this.statsSeen ? HANG_STATS_MS : HANG_FIRST_MS) || tsSilent > (tsSeen ? HANG_TS_MS : HANG_FIRST_MS)) {
        log.error('pipeline stopped answering; killing it', { statsSilentMs: statsSilent, tsSilentMs: tsSilent });
        this.hung = true;
        child.kill('SIGKILL');
      }
    }, HANG_CHECK_MS);
    this.hangTimer.unref();
  }

  private onMessage(m: ChildMessage): void {
    this.lastHeard = Date.now();
    switch (m.type) {
      case 'state':
        this.emit('state', m.state, m.reason);
        break;
      case 'stats':
        this.statsSeen = true;
        this.lastStats = m.stats;
        this.emit('stats', m.stats);
        break;
      case 'event':
        this.emit('event', m.event);
        break;
      case 'log':
        if (this.opts.forwardLogs !== false) forwardLog(m.module, m.level, m.message, m.fields);
        break;
      case 'unit':
        this.emit('unit', m.captureUs);
        break;
      case 'thumbnail': {
        const j = m.thumbnail.jpeg;
        const jpeg = Buffer.isBuffer(j) ? j : Buffer.from(j.buffer, j.byteOffset, j.byteLength);
        this.lastThumbnail = { ...m.thumbnail, jpeg };
        this.emit('thumbnail', this.lastThumbnail);
        break;
      }
      case 'stopped':
        this.finish(m.code);
        break;
      case 'ready':
        break;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    clearInterval(this.hangTimer);
    this.child = undefined;
    if (this.stopping || this.finished) {
      this.finish(null);
      return;
    }
    if (this.replacing === child) {
      this.replacing = undefined;
      clearTimeout(this.replaceTimer);
      this.hung = false;
      this.lastStats = undefined;
      this.spawn();
      return;
    }
    const why = this.hung ? 'stopped answering and was killed' : signal ? `killed by ${signal}` : `exited with status ${code}`;
    this.hung = false;
    this.lastStats = undefined;
    const err = new PipelineCrashedError(`the media pipeline ${why}; restarting it`, { code, signal });
    if (this.opts.restart === false) {
      this.emit('event', { code: err.code, message: `the media pipeline ${why}`, level: 'error' });
      this.finish(err.code);
      return;
    }
    if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = 0;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(Math.max(RESTART_BACKOFF_MS, this.backoffMs * 2), RESTART_MAX_MS);
    this.restarts++;
    log.error('media pipeline died', { why, restartInMs: delay, restarts: this.restarts });
    this.emit('restarting', err, delay);
    this.restartTimer = setTimeout(() => this.spawn(), delay);
  }

  private finish(code: string | null): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.hangTimer);
    clearTimeout(this.restartTimer);
    clearTimeout(this.replaceTimer);
    this.emit('stopped', code);
  }
}

/** The supervisor's environment, less what is systemd's word to the supervisor alone (its notify socket, its watchdog). */
function childEnv(): NodeJS.ProcessEnv {
  const { NOTIFY_SOCKET: _n, WATCHDOG_USEC: _u, WATCHDOG_PID: _p, ...rest } = process.env;
  return { ...rest, FIELDCAST_PIPELINE_CHILD: '1' };
}

const childLoggers = new Map<string, ReturnType<typeof createLogger>>();
function forwardLog(module: string, level: Exclude<LogLevel, 'silent'>, message: string, fields: Record<string, unknown>): void {
  let l = childLoggers.get(module);
  if (!l) {
    l = createLogger(module);
    childLoggers.set(module, l);
  }
  l[level](message, fields);
}
