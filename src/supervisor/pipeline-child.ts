/**
 * The supervisor's handle on the media pipeline process.
 *
 * The pipeline (capture, encoders, muxer, SRT) runs in its own process so a
 * crash or hang in a driver or encoder never takes the supervisor — and the
 * status page — down with it. This class forks it, speaks the typed channel
 * (src/media/channel.ts), and restarts it within a second when it dies or
 * stops answering, backing off if it keeps dying, and says why.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger, type LogLevel } from '../lib/logger.js';
import type { ChildMessage, ParentMessageT, PipelineEvent, PipelineSpecInput, PipelineState, PipelineStats } from '../media/channel.js';

const log = createLogger('supervisor.pipeline');

// The built entry point, from src/ (tests) and dist/ alike: both sit one level below the package root.
const CHILD_ENTRY = fileURLToPath(new URL('../../dist/media/child.js', import.meta.url));
/** First restart is immediate-ish; repeated crashes back off up to this. */
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A pipeline that sends no stats for this long is hung and is killed. */
const HANG_TIMEOUT_MS = 5_000;
/** Running this long without a crash resets the backoff. */
const STABLE_MS = 30_000;

export class PipelineCrashedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PIPELINE_CRASHED', message, details);
  }
}

export type PipelineChildEvents = {
  state: [PipelineState, string | undefined];
  stats: [PipelineStats];
  event: [PipelineEvent];
  /** The child died or hung and is being restarted. */
  restarting: [PipelineCrashedError, number];
  /** Stopped for good (stop() called, or the spec's seconds ran out). */
  stopped: [string | null];
};

export interface PipelineChildOptions {
  spec: PipelineSpecInput;
  /** Restart when the process dies (default true). */
  restart?: boolean;
  /** Forward the child's log lines into this process's logger (default true). */
  forwardLogs?: boolean;
}

export class PipelineChild extends TypedEmitter<PipelineChildEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private finished = false;
  private restarts = 0;
  private backoffMs = RESTART_MIN_MS;
  private startedAt = 0;
  private lastHeard = 0;
  private hangTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastStats: PipelineStats | undefined;
  private readonly pending: ParentMessageT[] = [];

  constructor(private readonly opts: PipelineChildOptions) {
    super();
  }

  get restartCount(): number {
    return this.restarts;
  }

  get stats(): PipelineStats | undefined {
    return this.lastStats;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child || this.finished) return;
    this.spawn();
  }

  send(msg: ParentMessageT): void {
    if (this.child?.connected) this.child.send(msg);
    else if (msg.type !== 'capacity') this.pending.push(msg);
  }

  /** Asks the pipeline to stop cleanly; kills it if it has not within `graceMs`. Resolves when it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
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
    this.startedAt = Date.now();
    this.lastHeard = Date.now();
    const child = fork(CHILD_ENTRY, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, FIELDCAST_PIPELINE_CHILD: '1' },
    });
    this.child = child;
    child.on('message', (m) => this.onMessage(m as ChildMessage));
    child.on('exit', (code, signal) => this.onExit(code, signal));
    child.on('error', (e) => log.error('pipeline process error', { err: e }));
    child.send({ type: 'start', spec: this.opts.spec } as ParentMessageT);
    for (const m of this.pending.splice(0)) child.send(m);
    clearInterval(this.hangTimer);
    this.hangTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > HANG_TIMEOUT_MS && this.child === child) {
        log.error('pipeline stopped answering; killing it', { silentMs: Date.now() - this.lastHeard });
        child.kill('SIGKILL');
      }
    }, 1000);
    this.hangTimer.unref();
  }

  private onMessage(m: ChildMessage): void {
    this.lastHeard = Date.now();
    switch (m.type) {
      case 'state':
        this.emit('state', m.state, m.reason);
        break;
      case 'stats':
        this.lastStats = m.stats;
        this.emit('stats', m.stats);
        break;
      case 'event':
        this.emit('event', m.event);
        break;
      case 'log':
        if (this.opts.forwardLogs !== false) forwardLog(m.module, m.level, m.message, m.fields);
        break;
      case 'stopped':
        this.finish(m.code);
        break;
      case 'ready':
        break;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearInterval(this.hangTimer);
    this.child = undefined;
    if (this.stopping || this.finished) {
      this.finish(null);
      return;
    }
    const why = signal ? `killed by ${signal}` : `exited with status ${code}`;
    const err = new PipelineCrashedError(`the media pipeline ${why}; restarting it`, { code, signal });
    if (this.opts.restart === false) {
      this.emit('event', { code: err.code, message: `the media pipeline ${why}`, level: 'error' });
      this.finish(err.code);
      return;
    }
    if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = RESTART_MIN_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
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
    this.emit('stopped', code);
  }
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
