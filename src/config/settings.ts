/**
 * Reading and changing the config one key at a time: `fieldcast ctl set
 * video.maxBitrate=6000000 destinations.0.latencyMs=2000`, `ctl get video`.
 *
 * A key is a dotted path into the config (array elements by index:
 * `bond.links.1.priority`). A value is text as typed; it is read as the
 * schema's type at that key wants (a number, true/false, a string as it is —
 * `video.fps=30` stays the string "30" the enum takes — or JSON for a whole
 * object or list). The changed config is validated whole: one bad value
 * refuses every change given with it, naming the key, the value and what was
 * expected, and nothing changes.
 */
import { z } from 'zod';
import { isSecretKey as isSecretName } from '../lib/logger.js';
import { ConfigInvalidError, type ConfigProblem } from './errors.js';
import { type Config, ConfigSchema } from './schema.js';
import { validateConfig } from './store.js';

/** One `KEY=VALUE`, as typed. */
export interface Assignment {
  key: string;
  value: string;
}

const KEY = /^[A-Za-z][A-Za-z0-9]*(\.(\d+|[A-Za-z][A-Za-z0-9]*))*$/;

/** Splits `KEY=VALUE` (the value may itself contain `=`). */
export function parseAssignment(text: string): Assignment {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigInvalidError([{ key: text, value: text, expected: 'KEY=VALUE, e.g. video.maxBitrate=6000000' }]);
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1) };
}

/** The value at `key` (a section or a single value); undefined keys are an error naming the key. */
export function getSetting(config: Config, key: string): unknown {
  const path = splitKey(key);
  schemaAt(path, key); // refuses keys the schema does not have
  let v: unknown = config;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** A copy of `value` with every secret (a passphrase, at any depth) replaced: what `get` shows. */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return isSecretName(key) ? '[set]' : value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v, k)]));
  }
  return value;
}

/** True when the key names a secret (its value is never echoed back). */
export function isSecretKey(key: string): boolean {
  return splitKey(key).some((p) => isSecretName(p));
}

/**
 * The config with every assignment applied, validated whole. Throws
 * ConfigInvalidError naming each bad key, its value and what it expects;
 * `config` itself is never changed.
 */
export function applySettings(config: Config, assignments: readonly Assignment[]): Config {
  if (assignments.length === 0) throw new ConfigInvalidError([{ key: '(none)', value: '', expected: 'at least one KEY=VALUE' }]);
  const draft = structuredClone(config) as unknown as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  for (const a of assignments) {
    try {
      const path = splitKey(a.key);
      setAt(draft, path, coerce(schemaAt(path, a.key), a.value), a.key);
    } catch (err) {
      if (err instanceof ConfigInvalidError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => hideSecret(p)));
  try {
    return validateConfig(draft, 'the change');
  } catch (err) {
    if (err instanceof ConfigInvalidError)
      throw new ConfigInvalidError(
        err.problems.map((p) => hideSecret(p)),
        'the change',
      );
    throw err;
  }
}

function hideSecret(p: ConfigProblem): ConfigProblem {
  return isSecretKey(p.key) && typeof p.value === 'string' ? { ...p, value: '[redacted]' } : p;
}

function splitKey(key: string): string[] {
  if (!KEY.test(key)) {
    throw new ConfigInvalidError([{ key, value: key, expected: 'a dotted key such as video.maxBitrate or destinations.0.url' }]);
  }
  return key.split('.');
}

type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = s.unwrap() as AnySchema;
    } else if (s instanceof z.ZodPipe) s = s.out as AnySchema;
    else return s;
  }
}

/** The schema of the value at `path`; a key the config does not have is refused. */
function schemaAt(path: readonly string[], key: string): AnySchema {
  let s: AnySchema = ConfigSchema;
  for (const [i, p] of path.entries()) {
    const inner = unwrap(s);
    let next: AnySchema | undefined;
    if (inner instanceof z.ZodObject) next = (inner.shape as Record<string, AnySchema>)[p];
    else if (inner instanceof z.ZodArray && /^\d+$/.test(p)) next = inner.element as AnySchema;
    if (!next) {
      const at = path.slice(0, i).join('.') || '(top level)';
      const known =
        inner instanceof z.ZodObject
          ? `one of ${Object.keys(inner.shape).join(', ')}`
          : inner instanceof z.ZodArray
            ? 'an index (0, 1, …)'
            : 'nothing: it is a single value';
      throw new ConfigInvalidError([{ key, value: p, expected: `a key of ${at}: ${known}` }]);
    }
    s = next;
  }
  return s;
}

/** Text as the schema at the key wants it. What cannot be read goes on as text, for the schema to refuse in words. */
function coerce(schema: AnySchema, text: string): unknown {
  const s = unwrap(schema);
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return text;
  if (s instanceof z.ZodNumber) return numberOf(text);
  if (s instanceof z.ZodBoolean) {
    const t = text.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(t)) return true;
    if (['false', 'no', 'off', '0'].includes(t)) return false;
    return text;
  }
  if (s instanceof z.ZodUnion) {
    // A union of literals (pbkeylen: 16 | 24 | 32): numbers where the literals are numbers.
    const options = s.options as AnySchema[];
    if (options.every((o) => o instanceof z.ZodLiteral && typeof o.value === 'number')) return numberOf(text);
    return text;
  }
  if (s instanceof z.ZodObject || s instanceof z.ZodArray) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** A number as typed: 6000000, 6e6, or with a k/M suffix (6M = 6 000 000). */
function numberOf(text: string): unknown {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e\d+)?)\s*([kKM]?)\s*$/.exec(text);
  if (!m) return text;
  const scale = m[2] === 'M' ? 1e6 : m[2] ? 1e3 : 1;
  return Math.round(Number(m[1]) * scale * 1e6) / 1e6;
}

function setAt(root: Record<string, unknown>, path: readonly string[], value: unknown, key: string): void {
  let node: unknown = root;
  for (const [i, p] of path.slice(0, -1).entries()) {
    const holder = node as Record<string, unknown> | unknown[];
    let next = (holder as Record<string, unknown>)[p];
    if (next === undefined) {
      if (Array.isArray(holder) && Number(p) > holder.length) {
        throw new ConfigInvalidError([
          { key, value: p, expected: `an index from 0 to ${holder.length} (${path.slice(0, i).join('.')} has ${holder.length})` },
        ]);
      }
      // A new element or section: made from what is set in it (the schema's defaults fill the rest).
      next = /^\d+$/.test(path[i + 1] ?? '') ? [] : {};
      // A second destination is named ingest-2, not the first's default: names label the metrics and the page.
      if (Array.isArray(holder) && path[i - 1] === 'destinations' && i === 1 && Number(p) > 0) next = { name: `ingest-${Number(p) + 1}` };
      (holder as Record<string, unknown>)[p] = next;
    }
    node = next;
  }
  const last = path.at(-1)!;
  if (Array.isArray(node) && Number(last) > node.length) {
    throw new ConfigInvalidError([{ key, value: last, expected: `an index from 0 to ${node.length}` }]);
  }
  (node as Record<string, unknown>)[last] = value;
}
