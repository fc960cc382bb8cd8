/**
 * Writes a file so a power cut at any moment leaves the old or the new
 * content, never a torn one: a temp file beside it, fsync, rename over it,
 * fsync the folder. The temp file is `.NAME.<8 hex>.tmp`: what a cut before
 * the rename leaves behind (the config store sweeps those at start-up).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w', mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
