/**
 * `fieldcast update FILE`'s work: a signed RAUC bundle installed into the
 * root slot the box is not running from. RAUC checks the signature against
 * the keyring the image was built with and the compatible string before it
 * writes anything; the slot it writes is marked bad first and made the next
 * boot's first choice only once it is whole, so a power cut part-way leaves
 * the running slot the one that boots. The new slot must then prove itself:
 * the supervisor marks it good once fieldcast run has been healthy for a
 * while (mark-good.ts), else the box returns to the old slot.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { UpdateError } from './errors.js';
import { type InstallProgress, Rauc } from './rauc.js';

/** RAUC's config on the appliance image (image/rootfs/etc/rauc/system.conf). */
export const RAUC_SYSTEM_CONF = '/etc/rauc/system.conf';

export interface InstallOptions {
  rauc?: Rauc;
  onProgress?: (p: InstallProgress) => void;
  /** Where RAUC's config is looked for first (default RAUC_SYSTEM_CONF). */
  systemConf?: string;
}

/** Installs the bundle; throws UpdateError with the code the operator acts on. */
export async function installBundle(file: string, o: InstallOptions = {}): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new UpdateError('UPDATE_NO_FILE', `no bundle ${file} (or it cannot be read)`, { file });
  }
  try {
    await access(o.systemConf ?? RAUC_SYSTEM_CONF, constants.R_OK);
  } catch {
    throw new UpdateError(
      'UPDATE_NOT_RAUC_SYSTEM',
      `this is not the Fieldcast appliance image (no ${o.systemConf ?? RAUC_SYSTEM_CONF}): updates install only there`,
    );
  }
  await (o.rauc ?? new Rauc()).install(file, o.onProgress);
}

/** Asks systemd to reboot (after an install, into the new slot); resolves when systemctl has taken the request. */
export async function requestReboot(): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile('systemctl', ['reboot'], (err, _stdout, stderr) =>
      err ? reject(new UpdateError('UPDATE_FAILED', `installed, but the reboot was refused: ${stderr.trim() || err.message}`)) : resolve(),
    ),
  );
}
