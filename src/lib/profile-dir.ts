/**
 * A folder of JSON profiles (hardware/modems, hardware/boards): one file per
 * family, each checked against its zod schema, named uniquely, with a
 * `generic` one that stands in for what no other names. Adding hardware is
 * adding a file; a bad file is refused naming the file and each key.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';

export interface ProfileDirSpec<T extends { name: string }> {
  /** What one is called in messages: "modem profile", "board profile". */
  what: string;
  schema: z.ZodType<T>;
  /** The error to throw (each subsystem's own class and code). */
  fail: (message: string, details: Record<string, unknown>) => Error;
}

/** Validates one profile; the error names the source and each problem with its key. */
export function parseProfile<T extends { name: string }>(spec: ProfileDirSpec<T>, value: unknown, source: string): T {
  const r = spec.schema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw spec.fail(`${spec.what} ${source} is not valid: ${problems.join('; ')}`, { source, problems });
  }
  return r.data;
}

/** Every profile in `dir`, sorted by name; the one named `generic` must be there. */
export async function loadProfileDir<T extends { name: string }>(spec: ProfileDirSpec<T>, dir: string, generic: string): Promise<T[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw spec.fail(`the ${spec.what}s folder ${dir} cannot be read: ${(err as Error).message}`, { dir });
  }
  const profiles: T[] = [];
  for (const file of files) {
    const source = path.join(dir, file);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(source, 'utf8'));
    } catch (err) {
      throw spec.fail(`${spec.what} ${source} is not JSON: ${(err as Error).message}`, { source });
    }
    const profile = parseProfile(spec, json, source);
    if (profiles.some((p) => p.name === profile.name)) throw spec.fail(`two ${spec.what}s are named "${profile.name}"`, { source });
    profiles.push(profile);
  }
  if (!profiles.some((p) => p.name === generic)) throw spec.fail(`the "${generic}" ${spec.what} is missing from ${dir}`, { dir });
  return profiles.sort((a, b) => a.name.localeCompare(b.name));
}
