/** The box's identity (src/supervisor/identity.ts) on a real state directory. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, loadOrMakeIdentity, newIdentity } from '../../../src/supervisor/identity.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function stateDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fc-identity-'));
  dirs.push(d);
  return d;
}

describe('the box identity', () => {
  it('is made at the first start, written whole, and kept at every start after', async () => {
    const dir = stateDir();
    const at = new Date('2026-12-03T12:00:00.000Z');
    const first = await loadOrMakeIdentity(dir, at);
    expect(first.how).toBe('made');
    expect(first.identity.id).toMatch(/^fc-[0-9a-f]{12}$/);
    expect(first.identity.createdAt).toBe(at.toISOString());
    expect(JSON.parse(readFileSync(path.join(dir, IDENTITY_FILE), 'utf8'))).toEqual(first.identity);
    // Only the file: no temp file left beside it.
    expect(readdirSync(dir)).toEqual([IDENTITY_FILE]);
    const again = await loadOrMakeIdentity(dir, new Date('2027-01-01T00:00:00.000Z'));
    expect(again).toEqual({ identity: first.identity, how: 'kept' });
  });

  it('differs between two boxes (two state directories)', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await loadOrMakeIdentity(stateDir())).identity.id);
    expect(ids.size).toBe(20);
    expect(newIdentity().id).not.toBe(newIdentity().id);
  });

  it.each([
    ['torn JSON', '{"id": "fc-3f9a'],
    ['an id of the wrong shape', JSON.stringify({ id: 'box-1', createdAt: '2026-12-03T12:00:00.000Z' })],
    ['no date', JSON.stringify({ id: 'fc-3f9a1c07b2d4' })],
    ['empty', ''],
  ])('a file that is %s is replaced by a new identity, and the reason is given', async (_what, text) => {
    const dir = stateDir();
    writeFileSync(path.join(dir, IDENTITY_FILE), text);
    const r = await loadOrMakeIdentity(dir);
    expect(r.how).toBe('replaced');
    expect(r.why).toContain(IDENTITY_FILE);
    expect(JSON.parse(readFileSync(path.join(dir, IDENTITY_FILE), 'utf8'))).toEqual(r.identity);
    expect((await loadOrMakeIdentity(dir)).how).toBe('kept');
  });

  it('a state directory that cannot be written is an error for the caller, and nothing is left behind', async () => {
    const dir = path.join(stateDir(), 'missing', 'deeper');
    await expect(loadOrMakeIdentity(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
