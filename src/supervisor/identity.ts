/**
 * The box's identity: made once, at its first start, and kept in the state
 * directory (on the appliance, the state partition, so it survives updates of
 * either root slot). Two boxes flashed from one image get different ones.
 *
 *   { "id": "fc-3f9a1c07b2d4", "createdAt": "2026-12-03T12:00:00.000Z" }
 *
 * The id names the box where its name may not (every box starts as
 * "fieldcast"): in the status snapshot, the status page, `fieldcast_info` and
 * the event log. It is not a secret and grants nothing. A file that cannot be
 * read as an identity (damaged media) is replaced by a new identity, and the
 * caller is told, so the operator knows the box's id changed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../lib/atomic-file.js';

export const IDENTITY_FILE = 'identity.json';

const IdentitySchema = z.object({
  id: z.string().regex(/^fc-[0-9a-f]{12}$/),
  createdAt: z.string().datetime(),
});
export type DeviceIdentity = z.infer<typeof IdentitySchema>;

export interface LoadedIdentity {
  identity: DeviceIdentity;
  /** 'kept': read as it was; 'made': the first start; 'replaced': the file was unreadable, a new identity was made. */
  how: 'kept' | 'made' | 'replaced';
  /** Why the old file was replaced, in plain words. */
  why?: string;
}

/** A new identity: 48 random bits, far beyond any fleet's size. */
export function newIdentity(now: Date = new Date()): DeviceIdentity {
  return { id: `fc-${randomBytes(6).toString('hex')}`, createdAt: now.toISOString() };
}

/** Reads the identity in `stateDir`, making it (atomically) when there is none or it is damaged. */
export async function loadOrMakeIdentity(stateDir: string, now: Date = new Date()): Promise<LoadedIdentity> {
  const file = path.join(stateDir, IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let why: string | undefined;
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const r = IdentitySchema.safeParse(parsed);
    if (r.success) return { identity: r.data, how: 'kept' };
    why = `${IDENTITY_FILE} in ${stateDir} could not be read as an identity`;
  }
  const identity = newIdentity(now);
  await writeFileAtomic(file, `${JSON.stringify(identity, null, 2)}\n`, 0o644);
  return why ? { identity, how: 'replaced', why } : { identity, how: 'made' };
}
