/**
 * Loading, validating and saving the config. Saving is atomic — temp file in
 * the same folder, fsync, rename, fsync of the folder — because power can be
 * cut at any moment on a camera rig and a half-written config must never be
 * what the box boots with.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { ConfigInvalidError, ConfigIoError, type ConfigProblem } from './errors.js';
import { type Config, ConfigSchema } from './schema.js';

const SECRET = /pass(phrase|word)?|secret|token/i;

function valueAt(input: unknown, keyPath: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of keyPath) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function problemsOf(error: z.ZodError, input: unknown): ConfigProblem[] {
  return error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(top level)';
    let value = valueAt(input, issue.path);
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (issue.path.length ? `${key}.${k}` : k));
      return { key: keys.join(', '), value: valueAt(input, [...issue.path, issue.keys[0] ?? '']), expected: 'no such key' };
    }
    if (issue.path.some((p) => SECRET.test(String(p))) && typeof value === 'string') value = '[redacted]';
    const code = issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : undefined;
    return { key, value, expected: issue.message, ...(code ? { code } : {}) };
  });
}

/** Validates a parsed config object; throws ConfigInvalidError naming every bad key. */
export function validateConfig(input: unknown, source?: string): Config {
  const result = ConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigInvalidError(problemsOf(result.error, input), source);
  return result.data;
}

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/** Reads and validates a JSON config file. A missing file is an error here; callers choose defaults. */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigIoError(`cannot read the config file ${file}: ${(err as Error).message}`, { file }, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigInvalidError([{ key: '(file)', value: file, expected: `valid JSON (${(err as Error).message})` }], file);
  }
  return validateConfig(parsed, file);
}

/** Writes a config atomically: temp file, fsync, rename, fsync the folder. Validates first. */
export async function saveConfig(file: string, config: unknown): Promise<Config> {
  const valid = validateConfig(config, file);
  try {
    await writeFileAtomic(file, `${JSON.stringify(valid, null, 2)}\n`);
  } catch (err) {
    throw new ConfigIoError(`cannot save the config to ${file}: ${(err as Error).message}`, { file }, err);
  }
  return valid;
}

/**
 * Removes temp files a save left behind when power was cut before its rename
 * (`.config.json.<random>.tmp` beside the file). Run at start-up, before the
 * first save; a file that cannot be removed is left for the next start.
 */
export async function sweepSaveLeftovers(file: string): Promise<string[]> {
  const dir = path.dirname(path.resolve(file));
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const gone: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || !/^[0-9a-f]{8}\.tmp$/.test(n.slice(prefix.length))) continue;
    try {
      await fs.rm(path.join(dir, n), { force: true });
      gone.push(n);
    } catch {
      // left for the next start
    }
  }
  return gone;
}
