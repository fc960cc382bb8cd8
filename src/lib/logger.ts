/**
 * One logger per module (`createLogger('bond')`), levels set at run time,
 * structured fields, one line per record to stderr (journald picks it up;
 * stdout stays for what a command prints: `--json` output parses).
 *
 * Format: `LEVEL module: message key=value ...`, or JSON lines when
 * FIELDCAST_LOG_FORMAT=json. The level comes from FIELDCAST_LOG (`debug`,
 * `info`, `warn`, `error`, `silent`; per module as `bond=debug,info`) and can
 * be changed live with `setLogLevel`. Fields whose key looks like a secret are
 * redacted, so a passphrase never reaches a log.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface LogRecord {
  time: number;
  level: Exclude<LogLevel, 'silent'>;
  module: string;
  message: string;
  fields: LogFields;
}

export type LogSink = (record: LogRecord) => void;

const SECRET_KEY = /pass(phrase|word)?|secret|token|key$/i;

let defaultLevel: LogLevel = 'info';
const moduleLevels = new Map<string, LogLevel>();
let sink: LogSink = writeLine;

function isLevel(s: string): s is LogLevel {
  return s in ORDER;
}

/** Applies a spec such as `info`, or `warn,bond=debug,srt=debug`. Unknown parts are ignored. */
export function setLogLevel(spec: string): void {
  moduleLevels.clear();
  for (const part of spec.split(',')) {
    const [a, b] = part.trim().split('=');
    if (b === undefined) {
      if (a && isLevel(a)) defaultLevel = a;
    } else if (a && isLevel(b)) {
      moduleLevels.set(a, b);
    }
  }
}

let recent: LogRecord[] = [];
let recentCapacity = 0;

/** Keeps the last `n` records in memory as well (the status page's log download); 0 keeps none. */
export function keepRecentLogs(n: number): void {
  recentCapacity = n;
  recent = recent.slice(-n);
}

/** The records kept by keepRecentLogs, oldest first (already redacted). */
export function recentLogs(): readonly LogRecord[] {
  return recent;
}

/** Replaces where records go (tests, the pipeline child forwarding to its parent). */
export function setLogSink(next: LogSink | undefined): void {
  sink = next ?? writeLine;
}

/** Whether a field or setting of this name holds a secret (a passphrase, a token, a key). */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** The top level of a record's fields, secrets replaced (the event log walks deeper with its own rules). */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEY.test(k) && v !== '' ? '[redacted]' : v;
  }
  return out;
}

/** `srt://host:port?…&passphrase=…` anywhere in a string: the value goes, the rest of the URL stays readable. */
const SRT_URL = /srt:\/\/[^\s"'<>]*/gi;
const PASSPHRASE_PARAM = /([?&]passphrase=)[^&#\s"'<>]*/gi;

export function redactText(text: string): string {
  if (!/srt:\/\//i.test(text)) return text;
  return text.replace(SRT_URL, (url) => url.replace(PASSPHRASE_PARAM, '$1[redacted]'));
}

const MAX_REDACT_DEPTH = 6;

/** Secrets replaced at every depth of a record's fields: nested objects, arrays, srt:// URLs in strings. */
export function redactDeep(fields: LogFields): LogFields {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactText(v);
    if (v === null || typeof v !== 'object' || v instanceof Error || depth >= MAX_REDACT_DEPTH) return v;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return v; // Date, URL, Secret, Buffer print themselves
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(redact(v as LogFields))) out[k] = x === '[redacted]' ? x : walk(x, depth + 1);
    return out;
  };
  return walk(fields, 0) as LogFields;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /^[\w.:/@+-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

function writeLine(r: LogRecord): void {
  if (process.env.FIELDCAST_LOG_FORMAT === 'json') {
    process.stderr.write(`${JSON.stringify({ t: new Date(r.time).toISOString(), ...r })}\n`);
    return;
  }
  process.stderr.write(`${formatLogLine(r)}\n`);
}

/** One record as the console shows it: `WARN  module: message key=value …` (an error's stack below it). */
export function formatLogLine(r: LogRecord): string {
  let line = `${r.level.toUpperCase().padEnd(5)} ${r.module}: ${r.message}`;
  let stack = '';
  for (const [k, v] of Object.entries(r.fields)) {
    line += ` ${k}=${formatValue(v)}`;
    if (v instanceof Error && v.stack && r.level === 'error') stack = `\n${v.stack}`;
  }
  return `${line}${stack}`;
}

export interface Logger {
  readonly module: string;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  child(sub: string): Logger;
}

export function createLogger(module: string): Logger {
  const enabled = (level: LogLevel): boolean => ORDER[level] >= ORDER[moduleLevels.get(module) ?? defaultLevel];
  const log =
    (level: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: LogFields = {}): void => {
      if (!enabled(level)) return;
      const record: LogRecord = { time: Date.now(), level, module, message, fields: redactDeep(fields) };
      if (recentCapacity > 0) {
        recent.push(record);
        if (recent.length > recentCapacity) recent.splice(0, recent.length - recentCapacity);
      }
      sink(record);
    };
  return {
    module,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    enabled,
    child: (sub) => createLogger(`${module}.${sub}`),
  };
}

if (process.env.FIELDCAST_LOG) setLogLevel(process.env.FIELDCAST_LOG);
