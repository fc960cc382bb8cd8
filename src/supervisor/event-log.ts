/**
 * The event log, the box's flight recorder: every state change with its
 * reason, links up and down, restarts, alerts, operator changes (who, what).
 * JSON lines in `events.jsonl` in the state directory, rotated by size
 * (events.jsonl → events.1.jsonl … events.<files>.jsonl) and kept across
 * restarts; `fieldcast ctl events` prints it.
 *
 * Power can be cut at any moment: each line goes to the file in one write
 * (O_APPEND) and a batch ends with fdatasync, so at most the last line is
 * torn, and reading skips it. Writing never blocks the event loop nor throws
 * into the caller: when the directory cannot be written the log says so once
 * and keeps the latest events in memory (retrying now and then), so `ctl
 * events` still shows them.
 *
 * Secrets never reach it: fields are redacted with the logger's rule (a key
 * that looks like a secret), at every depth, and so is the passphrase of any
 * srt:// URL inside a string.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { describeError } from '../lib/errors.js';
import { createLogger, isSecretKey, type LogFields, redact, redactText } from '../lib/logger.js';

const log = createLogger('supervisor.events');

export type EventKind =
  /** The operator state changed (idle, starting, live, degraded, no-signal, error), with its reason. */
  | 'state'
  /** An uplink came up or went down. */
  | 'link'
  /** The pipeline child (or another part) was restarted. */
  | 'restart'
  /** An alert was raised or cleared. */
  | 'alert'
  /** An operator did something (start, stop, set); `who` says who. */
  | 'operator'
  /** The config was loaded, changed or refused. */
  | 'config'
  /** The supervisor itself started or stopped. */
  | 'system';

export interface EventInput {
  kind: EventKind;
  /** What happened, in words an operator understands. */
  message: string;
  /** Stable code (UPLINK_DOWN, INPUT_NO_SIGNAL, …) when there is one. */
  code?: string;
  /** Who did it, for operator changes: `ctl (uid 0)`, `web 192.168.1.20`, … */
  who?: string;
  /** Anything else worth keeping; secrets are redacted. */
  [field: string]: unknown;
}

export interface LoggedEvent extends EventInput {
  /** When it was recorded, ISO 8601. */
  at: string;
}

export interface EventLogOptions {
  /** The directory of events.jsonl, normally the state directory. */
  dir: string;
  /** Size at which events.jsonl is rotated. */
  maxBytes?: number;
  /** Rotated files kept beside it; the log takes at most maxBytes × (files + 1). */
  files?: number;
  /** Events kept in memory for reading when the disk cannot be written. */
  memoryEvents?: number;
  /** End each batch of writes with fdatasync (off only where durability does not matter). */
  sync?: boolean;
  /** How long to wait before trying an unwritable directory again, ms. */
  retryMs?: number;
  /** Wall clock, ms since the epoch. */
  now?: () => number;
}

export interface ReadOptions {
  /** The newest this many events (all when absent). */
  limit?: number;
  /** Only events at or after this time. */
  since?: Date | string | number;
}

export const EVENT_FILE = 'events.jsonl';
const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_FILES = 5;
const DEFAULT_MEMORY_EVENTS = 1000;
const DEFAULT_RETRY_MS = 60_000;
/** One event is a line, not a dump: a bigger one keeps its headline and says it was cut. */
const MAX_LINE_BYTES = 16 * 1024;
/** Writes waiting behind a stalled disk (a failing SD card can hang I/O) before the log falls back to memory. */
const MAX_PENDING = 1000;
const MAX_DEPTH = 8;
const REDACTED = '[redacted]';

interface Entry {
  event: LoggedEvent;
  line: string;
  persisted: boolean;
}

export class EventLog {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #files: number;
  readonly #memoryEvents: number;
  readonly #sync: boolean;
  readonly #retryMs: number;
  readonly #now: () => number;

  /** The latest events, written or not: what `read` falls back on. */
  readonly #ring: Entry[] = [];
  /** Entries waiting for the writer. */
  #pending: Entry[] = [];
  /** Every file operation (open, write, rotate, read) runs here, one at a time. */
  #chain: Promise<void> = Promise.resolve();
  #drainQueued = false;
  #handle: FileHandle | undefined;
  #size = 0;
  /** The file ends in a torn line (a power cut, a failed write): start the next one on a line of its own. */
  #needNewline = false;
  /** In memory only since this time (the directory could not be written), or undefined. */
  #failedAt: number | undefined;
  /** The fallback to memory has been logged; the next successful open says the disk works again. */
  #reported = false;
  #closed: Promise<void> | undefined;

  constructor(options: EventLogOptions) {
    this.dir = options.dir;
    this.#maxBytes = Math.max(1, options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.#files = Math.max(0, Math.floor(options.files ?? DEFAULT_FILES));
    this.#memoryEvents = Math.max(1, options.memoryEvents ?? DEFAULT_MEMORY_EVENTS);
    this.#sync = options.sync ?? true;
    this.#retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.#now = options.now ?? Date.now;
    // Open now, so an unwritable directory is reported at start-up, not at the first event.
    this.#run(() => this.#open().then(() => undefined));
  }

  /** The path of the current file. */
  get file(): string {
    return path.join(this.dir, EVENT_FILE);
  }

  /** True while events are kept only in memory. */
  get inMemoryOnly(): boolean {
    return this.#failedAt !== undefined;
  }

  /** Records an event and returns it as kept (stamped, redacted). Never throws; the write happens in the background. */
  append(input: EventInput): LoggedEvent {
    const entry = this.#entry(input);
    this.#ring.push(entry);
    if (this.#ring.length > this.#memoryEvents) this.#ring.shift();
    if (this.#closed) return entry.event;
    if (this.#failedAt === undefined) {
      if (this.#pending.length >= MAX_PENDING) {
        this.#fail(new Error(`${MAX_PENDING} events are waiting for the disk`));
        return entry.event;
      }
      this.#pending.push(entry);
      this.#kick();
    } else if (this.#now() - this.#failedAt >= this.#retryMs && !this.#drainQueued) {
      // Try the disk again, with everything it missed first so the file stays in order.
      this.#failedAt = undefined;
      this.#pending = this.#ring.filter((e) => !e.persisted);
      this.#kick();
    }
    return entry.event;
  }

  /** Resolves once everything appended so far has been written (or given up on). */
  flush(): Promise<void> {
    return this.#chain;
  }

  /**
   * The newest events, oldest first: the files from events.<files>.jsonl to
   * events.jsonl, then whatever is only in memory. Torn and foreign lines are skipped.
   */
  read(options: ReadOptions = {}): Promise<LoggedEvent[]> {
    const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(options.limit));
    const since = options.since === undefined ? undefined : new Date(options.since).getTime();
    const keep = (e: LoggedEvent): boolean => since === undefined || Number.isNaN(since) || Date.parse(e.at) >= since;
    return this.#run(async () => {
      // Unwritten events are newer than every written one: the writer keeps the file a prefix of the ring's order.
      const memory = this.#ring.filter((e) => !e.persisted).map((e) => e.event);
      const newestFirst = memory.filter(keep).reverse();
      for (let i = 0; i <= this.#files && newestFirst.length < limit; i++) {
        const lines = await readLines(this.#path(i));
        for (let j = lines.length - 1; j >= 0 && newestFirst.length < limit; j--) {
          const event = parseLine(lines[j]!);
          if (event && keep(event)) newestFirst.push(event);
        }
      }
      return newestFirst.slice(0, limit).reverse();
    });
  }

  /** Writes what is pending and closes the file. Idempotent; later events stay in memory. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#chain;
      await this.#closeHandle();
    })();
    return this.#closed;
  }

  #entry(input: EventInput): Entry {
    let event: LoggedEvent;
    let line: string;
    try {
      const { kind, message, code, who, at: _at, ...fields } = input;
      event = {
        at: this.#stamp(),
        kind,
        ...(code === undefined ? {} : { code: redactText(String(code)) }),
        message: redactText(String(message)),
        ...(who === undefined ? {} : { who: redactText(String(who)) }),
        ...(clean(fields, 0, new Set()) as LogFields),
      };
      line = JSON.stringify(event);
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
        event = { at: event.at, kind, message: event.message.slice(0, 2000), truncated: true };
        if (code !== undefined) event.code = redactText(String(code));
        if (who !== undefined) event.who = redactText(String(who));
        line = JSON.stringify(event);
      }
    } catch (err) {
      // A field JSON cannot carry (a throwing toJSON, …): keep that something happened.
      event = {
        at: this.#stamp(),
        kind: input.kind,
        message: redactText(String(input.message)),
        unrecorded: redactText(describeError(err)),
      };
      line = JSON.stringify(event);
    }
    return { event, line, persisted: false };
  }

  /** The time for an event; an injected clock that fails must not make append throw. */
  #stamp(): string {
    try {
      return new Date(this.#now()).toISOString();
    } catch {
      return new Date().toISOString();
    }
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(op);
    this.#chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #kick(): void {
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    void this.#run(() => this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0 && this.#failedAt === undefined) {
        if (!this.#handle && !(await this.#open())) return;
        const batch = this.#pending;
        this.#pending = [];
        for (const entry of batch) {
          if (!(await this.#write(entry))) return;
        }
        if (this.#sync && this.#handle) await this.#handle.datasync().catch((err: unknown) => this.#fail(err));
      }
    } finally {
      // Synchronous after the last check of #pending: an append cannot slip in between.
      this.#drainQueued = false;
    }
  }

  async #open(): Promise<boolean> {
    if (this.#handle) return true;
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      const handle = await fs.open(this.file, 'a+', 0o600);
      try {
        const { size } = await handle.stat();
        this.#size = size;
        this.#needNewline = false;
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          this.#needNewline = last[0] !== 0x0a;
        }
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
      this.#handle = handle;
      if (this.#reported) {
        log.info('the event log is written to disk again', { file: this.file });
        this.#reported = false;
      }
      return true;
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  async #write(entry: Entry): Promise<boolean> {
    try {
      const text = `${this.#needNewline ? '\n' : ''}${entry.line}\n`;
      const bytes = Buffer.from(text);
      if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) {
        await this.#rotate();
        if (!(await this.#open())) return false;
        return this.#write(entry);
      }
      const { bytesWritten } = await this.#handle!.write(bytes);
      this.#size += bytesWritten;
      if (bytesWritten < bytes.length) {
        this.#needNewline = true;
        throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes): is the disk full?`);
      }
      this.#needNewline = false;
      entry.persisted = true;
      return true;
    } catch (err) {
      // The bytes may be partly there: whatever comes next starts on a new line.
      this.#needNewline = true;
      this.#fail(err);
      return false;
    }
  }

  /** events.jsonl → events.1.jsonl → …; the oldest is replaced by rename. A cut mid-way leaves a gap, which reading skips. */
  async #rotate(): Promise<void> {
    await this.#closeHandle();
    if (this.#files === 0) {
      await fs.rm(this.#path(0), { force: true });
      return;
    }
    for (let i = this.#files; i >= 1; i--) {
      await fs.rename(this.#path(i - 1), this.#path(i)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /** Falls back to memory; says so once until the disk works again. */
  #fail(err: unknown): void {
    this.#failedAt = this.#now();
    this.#pending = [];
    void this.#closeHandle();
    if (this.#reported) return;
    this.#reported = true;
    log.warn('the event log cannot be written; keeping the latest events in memory', {
      dir: this.dir,
      kept: this.#memoryEvents,
      error: describeError(err),
    });
  }

  #path(index: number): string {
    return path.join(this.dir, index === 0 ? EVENT_FILE : `events.${index}.jsonl`);
  }
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n');
  } catch {
    // Missing (never rotated that far, or a rotation was cut short) or unreadable: nothing from it.
    return [];
  }
}

function parseLine(line: string): LoggedEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    const v: unknown = JSON.parse(line);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const e = v as Record<string, unknown>;
    if (typeof e.at !== 'string' || typeof e.kind !== 'string' || typeof e.message !== 'string') return undefined;
    return e as LoggedEvent;
  } catch {
    return undefined;
  }
}

const isSecretName = isSecretKey;

/** Fields that name a setting (an operator's `set destinations.0.passphrase=…`) and the fields carrying its value. */
const SETTING_NAME_FIELDS = ['key', 'path', 'setting'];
const SETTING_VALUE_FIELDS = new Set(['value', 'from', 'to']);

function namesSecretSetting(obj: Record<string, unknown>): boolean {
  return SETTING_NAME_FIELDS.some((f) => {
    const v = obj[f];
    return typeof v === 'string' && isSecretName(v.split('.').pop() ?? v);
  });
}

/** A copy fit for the log: secrets redacted at every depth, errors as their message, nothing JSON would lose or choke on. */
function clean(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactText(describeError(value));
  if (ancestors.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // Date, URL, Secret (which gives "[redacted]"), Buffer.
  if (typeof toJSON === 'function') return clean(toJSON.call(value), depth + 1, ancestors);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1, ancestors) ?? null);
    const obj = value as Record<string, unknown>;
    const redacted = redact(obj);
    const secretSetting = namesSecretSetting(obj);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(redacted)) {
      if (!Object.is(v, obj[k])) out[k] = v;
      else if (secretSetting && SETTING_VALUE_FIELDS.has(k) && v !== '' && v !== undefined) out[k] = REDACTED;
      else {
        const c = clean(v, depth + 1, ancestors);
        if (c !== undefined) out[k] = c;
      }
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}
