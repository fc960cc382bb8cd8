/**
 * sshd on the appliance: the keys that may log in as root (system.sshKeys,
 * written to /run/fieldcast-ssh/authorized_keys, root's alone, where the
 * image's sshd_config looks), and ssh.service started or stopped. Not
 * enabled or disabled: the root is read-only, and what says whether SSH
 * runs at boot is the config, which fieldcast-system.service applies at
 * every boot. Stopping sshd leaves sessions already open (Debian's unit
 * kills only the listener); new ones are refused.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { type CommandRunner, runCommand, wordsOf } from './command.js';
import { SystemError } from './errors.js';

export const SSH_UNIT = 'ssh.service';
export const AUTHORIZED_KEYS = '/run/fieldcast-ssh/authorized_keys';

/** Writes the keys that may log in (an empty file when there are none: no one can). */
export async function writeAuthorizedKeys(keys: readonly string[], file = AUTHORIZED_KEYS): Promise<void> {
  try {
    await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await fs.chmod(dirname(file), 0o700);
    await writeFileAtomic(file, keys.map((k) => `${k}\n`).join(''), 0o600);
  } catch (err) {
    throw new SystemError('SYSTEM_SSH_FAILED', `cannot write the SSH keys to ${file}: ${(err as Error).message}`, { file });
  }
}

/** Starts or stops sshd; throws SYSTEM_SSH_FAILED with systemctl's words. */
export async function setSshRunning(on: boolean, run: CommandRunner = runCommand): Promise<void> {
  const r = await run('systemctl', [on ? 'start' : 'stop', SSH_UNIT]);
  if (r.exitCode !== 0) {
    throw new SystemError(
      'SYSTEM_SSH_FAILED',
      `sshd did not ${on ? 'start' : 'stop'}: systemctl ${on ? 'start' : 'stop'} ${SSH_UNIT}: ${wordsOf(r)}`,
    );
  }
}

/** Whether sshd runs now (`systemctl is-active`; any user may ask). */
export async function sshRunning(run: CommandRunner = runCommand): Promise<boolean> {
  const r = await run('systemctl', ['is-active', '--quiet', SSH_UNIT]);
  return r.exitCode === 0;
}
