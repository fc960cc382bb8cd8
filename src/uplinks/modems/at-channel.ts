/**
 * The AT command channel to one modem port: one command at a time, in the
 * order asked; each reply ends at its final result code; URCs go out as
 * 'urc' events. A command that gets no answer in time fails with
 * MODEM_NO_ANSWER and the next one still works. When the port goes away
 * (unplugged, the modem restarting) every waiting command fails with
 * MODEM_PORT_GONE, 'gone' is emitted, and the channel looks for the port
 * until it is back and answers AT, then emits 'back'.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TypedEmitter } from '../../lib/events.js';
import { createLogger } from '../../lib/logger.js';
import { commandTimeoutMs, displayCommand } from './at-command.js';
import { type AtReply, AtReplyParser } from './at-parser.js';
import { ModemAtError, ModemChannelClosedError, ModemNoAnswerError, ModemPortGoneError } from './errors.js';
import { maskDigitRuns } from './masking.js';
import { type AtTransport, type OpenTransport, openSerialTransport } from './serial-transport.js';
import type { ModemUrc } from './urc.js';

const log = createLogger('uplinks.modems');

/** How often the port is looked for again after it went. */
export const DEFAULT_REOPEN_INTERVAL_MS = 1000;
/** A port that is back is used once it answers AT; a booting modem opens its port a few seconds before that. */
const PROBE_TIMEOUT_MS = 1000;
const PROBE_TRIES = 3;
/** After a timeout, the line must be quiet this long before the next command (what tells a late reply apart when the modem does not echo). */
export const DEFAULT_QUIET_MS = 200;
const MAX_QUIET_WAIT_MS = 2000;

export type AtChannelState = 'open' | 'gone' | 'closed';

export type AtChannelEvents = {
  urc: [urc: ModemUrc];
  /** The port went away; commands fail until 'back'. */
  gone: [err: ModemPortGoneError];
  /** The port is open again and answers AT. */
  back: [path: string];
};

export interface AtChannelOptions {
  /** The device, e.g. /dev/ttyUSB2. */
  path: string;
  /** Default: the serial port at `path`. */
  openTransport?: OpenTransport;
  /** Where the port is after it went (its tty number can change across a modem reset); default the same path. */
  locate?: () => Promise<string | undefined>;
  /** Look for the port again when it goes; default true. */
  reopen?: boolean;
  reopenIntervalMs?: number;
  /** Overrides the per-command default timeouts (commandTimeoutMs). */
  timeoutMs?: number;
  quietMs?: number;
  /** How long each AT of the open/reopen check may take; default 1000 ms. */
  probeTimeoutMs?: number;
}

export interface SendOptions {
  timeoutMs?: number;
}

interface Job {
  command: string;
  timeoutMs: number;
  resolve(reply: AtReply): void;
  reject(err: Error): void;
}

export class AtChannel extends TypedEmitter<AtChannelEvents> {
  private readonly parser = new AtReplyParser();
  private readonly queue: Job[] = [];
  private readonly opts: AtChannelOptions;
  private transport: AtTransport | undefined;
  private current: { job: Job; timer: NodeJS.Timeout } | undefined;
  private currentPath: string;
  private channelState: AtChannelState = 'open';
  private lastDataAt = 0;
  private needsQuiet = false;
  /** pump() is between taking a job and writing it (it may be waiting for the line to go quiet). */
  private pumping = false;
  private readonly stop = new AbortController();

  private constructor(opts: AtChannelOptions) {
    super();
    this.opts = opts;
    this.currentPath = opts.path;
  }

  /** Opens the port and checks that a modem answers AT there. */
  static async open(opts: AtChannelOptions): Promise<AtChannel> {
    const channel = new AtChannel(opts);
    const transport = await channel.openTransport(opts.path);
    channel.attach(transport);
    if (!(await channel.probe())) {
      await channel.close();
      throw new ModemNoAnswerError('AT', (opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS) * PROBE_TRIES, opts.path);
    }
    return channel;
  }

  get path(): string {
    return this.currentPath;
  }

  get state(): AtChannelState {
    return this.channelState;
  }

  /** Sends a command and resolves with its reply, whatever its result code. Rejects on no answer or a lost port. */
  exchange(command: string, options: SendOptions = {}): Promise<AtReply> {
    if (this.channelState === 'closed') return Promise.reject(new ModemChannelClosedError(this.currentPath));
    if (this.channelState === 'gone') return Promise.reject(new ModemPortGoneError(this.currentPath));
    return this.enqueue(command, options);
  }

  /** Like exchange, but an ERROR / +CME ERROR result rejects with ModemAtError. */
  async send(command: string, options: SendOptions = {}): Promise<AtReply> {
    const reply = await this.exchange(command, options);
    if (!reply.ok) throw new ModemAtError(displayCommand(command), reply.final, reply.cmeError, this.currentPath);
    return reply;
  }

  /** Resolves when the channel is open (at once, or on 'back'); rejects on close or when `signal` aborts. */
  async whenOpen(signal?: AbortSignal): Promise<void> {
    if (this.channelState === 'open') return;
    if (this.channelState === 'closed') throw new ModemChannelClosedError(this.currentPath);
    const both = signal ? AbortSignal.any([signal, this.stop.signal]) : this.stop.signal;
    await this.next('back', both);
  }

  /** Closes the port and stops looking for it. Idempotent. */
  async close(): Promise<void> {
    if (this.channelState === 'closed') return;
    this.channelState = 'closed';
    this.stop.abort(new ModemChannelClosedError(this.currentPath));
    this.failAll(() => new ModemChannelClosedError(this.currentPath));
    const t = this.transport;
    this.transport = undefined;
    await t?.close();
  }

  private enqueue(command: string, options: SendOptions): Promise<AtReply> {
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? commandTimeoutMs(command);
      this.queue.push({ command, timeoutMs, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.current || this.pumping) return;
    this.pumping = true;
    try {
      if (this.needsQuiet) await this.waitQuiet();
      const job = this.queue.shift();
      const transport = this.transport;
      if (!job) return;
      if (!transport) {
        job.reject(new ModemPortGoneError(this.currentPath));
        return;
      }
      const timer = setTimeout(() => this.timedOut(job), job.timeoutMs);
      this.current = { job, timer };
      this.parser.begin(job.command);
      transport.write(`${job.command}\r`).catch((err: unknown) => this.finish(job, undefined, err instanceof Error ? err : undefined));
    } finally {
      this.pumping = false;
    }
    if (!this.current && this.queue.length) void this.pump();
  }

  private async waitQuiet(): Promise<void> {
    const quietMs = this.opts.quietMs ?? DEFAULT_QUIET_MS;
    const until = Date.now() + MAX_QUIET_WAIT_MS;
    while (Date.now() - this.lastDataAt < quietMs && Date.now() < until) await sleep(quietMs / 2);
    this.needsQuiet = false;
  }

  private timedOut(job: Job): void {
    if (this.current?.job !== job) return;
    this.parser.abandon();
    this.needsQuiet = true;
    this.lastDataAt = Date.now();
    log.warn('modem did not answer', { port: this.currentPath, command: displayCommand(job.command), timeoutMs: job.timeoutMs });
    this.finish(job, undefined, new ModemNoAnswerError(displayCommand(job.command), job.timeoutMs, this.currentPath));
  }

  private finish(job: Job, reply: AtReply | undefined, err: Error | undefined): void {
    if (this.current?.job !== job) return;
    clearTimeout(this.current.timer);
    this.current = undefined;
    if (reply) job.resolve(reply);
    else job.reject(err ?? new ModemPortGoneError(this.currentPath));
    void this.pump();
  }

  private onData(chunk: string): void {
    this.lastDataAt = Date.now();
    for (const e of this.parser.push(chunk)) {
      if (e.kind === 'reply') {
        const job = this.current?.job;
        log.debug('at', {
          port: this.currentPath,
          command: displayCommand(e.reply.command),
          result: e.reply.final,
          lines: e.reply.lines.length,
        });
        if (job) this.finish(job, e.reply, undefined);
      } else if (e.kind === 'urc') {
        log.debug('urc', { port: this.currentPath, line: maskDigitRuns(e.urc.line) });
        this.emit('urc', e.urc);
      } else {
        log.debug('stray line from the modem dropped', { port: this.currentPath, line: maskDigitRuns(e.line) });
      }
    }
  }

  private openTransport(path: string): Promise<AtTransport> {
    return (this.opts.openTransport ?? openSerialTransport)(path);
  }

  private attach(transport: AtTransport): void {
    this.transport = transport;
    this.parser.reset();
    transport.on('data', (chunk) => {
      if (this.transport === transport) this.onData(chunk);
    });
    transport.on('lost', (cause) => {
      if (this.transport === transport) this.lost(cause);
    });
  }

  /** AT → OK, a few times: a modem that just came up may miss the first. */
  private async probe(): Promise<boolean> {
    for (let i = 0; i < PROBE_TRIES; i++) {
      try {
        const reply = await this.enqueue('AT', { timeoutMs: this.opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS });
        if (reply.ok) return true;
      } catch (err) {
        if (!(err instanceof ModemNoAnswerError)) return false;
      }
    }
    return false;
  }

  private failAll(makeError: () => Error): void {
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      clearTimeout(cur.timer);
      cur.job.reject(makeError());
    }
    for (const job of this.queue.splice(0)) job.reject(makeError());
    this.parser.reset();
  }

  private lost(cause: Error | undefined): void {
    const wasOpen = this.channelState === 'open';
    this.transport = undefined;
    this.failAll(() => new ModemPortGoneError(this.currentPath, cause));
    if (!wasOpen) return; // lost while probing after a reopen: the loop tries again
    this.channelState = 'gone';
    const err = new ModemPortGoneError(this.currentPath, cause);
    log.warn('modem port went away', { port: this.currentPath, err: cause });
    this.emit('gone', err);
    if (this.opts.reopen ?? true) void this.reopenLoop();
  }

  private async reopenLoop(): Promise<void> {
    const interval = this.opts.reopenIntervalMs ?? DEFAULT_REOPEN_INTERVAL_MS;
    const signal = this.stop.signal;
    while (this.channelState === 'gone' && !signal.aborted) {
      try {
        await sleep(interval, undefined, { signal });
      } catch {
        return; // closed
      }
      const path = (await this.opts.locate?.().catch(() => undefined)) ?? this.opts.path;
      if (!existsSync(path)) continue;
      let transport: AtTransport;
      try {
        transport = await this.openTransport(path);
      } catch (err) {
        log.debug('modem port not ready yet', { port: path, err });
        continue;
      }
      if (signal.aborted) {
        await transport.close();
        return;
      }
      this.currentPath = path;
      this.attach(transport);
      if (await this.probe()) {
        if (signal.aborted) return;
        this.channelState = 'open';
        log.info('modem port is back', { port: path });
        this.emit('back', path);
        void this.pump();
        return;
      }
      if (this.transport === transport) this.transport = undefined;
      await transport.close();
    }
  }
}
