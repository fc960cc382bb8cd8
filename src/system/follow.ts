/**
 * What `fieldcast run` does with a changed system.* setting. It runs as the
 * user fieldcast, which may not start units or load firewall rules: saving
 * config.json is what makes fieldcast-system.service (root) apply it. The
 * supervisor then watches for sshd to be in the state asked for, so that
 * `ctl set system.ssh=true` and the status page say whether it took, and on
 * a machine that is not the appliance image it says that nothing changed.
 */
import type { Config } from '../config/schema.js';
import { isApplianceImage } from './appliance.js';
import { type CommandRunner, runCommand } from './command.js';
import { SystemError } from './errors.js';
import { sshRunning } from './ssh.js';

/** fieldcast-system.service starts node as root and then sshd: seconds on a board, more under emulation. */
export const SYSTEM_APPLY_WAIT_MS = 30_000;

export interface FollowDeps {
  run?: CommandRunner;
  root?: string;
  timeoutMs?: number;
  pollMs?: number;
}

/** Resolves undefined once sshd runs exactly when `system.ssh` says, else the SystemError saying why not. */
export async function awaitSystemApplied(system: Config['system'], deps: FollowDeps = {}): Promise<SystemError | undefined> {
  if (!isApplianceImage(deps.root)) {
    return new SystemError(
      'SYSTEM_NOT_APPLIANCE',
      `saved, but this machine is not the Fieldcast appliance image: SSH and the firewall are left as they are (system.ssh=${system.ssh} takes effect only on the image)`,
    );
  }
  const run = deps.run ?? runCommand;
  const deadline = Date.now() + (deps.timeoutMs ?? SYSTEM_APPLY_WAIT_MS);
  for (;;) {
    if ((await sshRunning(run)) === system.ssh) return undefined;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, deps.pollMs ?? 500));
  }
  return new SystemError(
    'SYSTEM_NOT_APPLIED',
    `saved, but sshd is still ${system.ssh ? 'stopped' : 'running'} after ${Math.round((deps.timeoutMs ?? SYSTEM_APPLY_WAIT_MS) / 1000)} s: see journalctl -u fieldcast-system.service -u ssh.service`,
  );
}
