/**
 * Applies the config's system settings to the appliance, as root
 * (`fieldcast system apply`, run by fieldcast-system.service at boot and
 * whenever config.json changes): the firewall's LAN chain (firewall.ts) and
 * sshd (ssh.ts). SSH on: its keys, sshd started, then port 22 opened; off:
 * port 22 closed first, then sshd stopped, so the port is never open with
 * nothing chosen behind it. On a machine that is not the appliance image it
 * changes nothing and says so (SYSTEM_NOT_APPLIANCE).
 */
import type { Config } from '../config/schema.js';
import { isApplianceImage } from './appliance.js';
import { type CommandRunner, runCommand, wordsOf } from './command.js';
import { SystemError } from './errors.js';
import { lanChainScript, lanPorts } from './firewall.js';
import { setSshRunning, writeAuthorizedKeys } from './ssh.js';

export interface ApplyDeps {
  run?: CommandRunner;
  /** Where the image's marker is looked for (tests: a folder without it). */
  root?: string;
  uid?: number;
}

export interface SystemApplied {
  /** The TCP ports LAN interfaces may reach now, with why. */
  lanPorts: Array<{ port: number; why: string }>;
  ssh: boolean;
  sshKeys: number;
}

async function loadFirewall(config: Pick<Config, 'status' | 'metrics' | 'system'>, run: CommandRunner): Promise<SystemApplied['lanPorts']> {
  const ports = lanPorts(config);
  const r = await run('nft', ['-f', '-'], lanChainScript(ports));
  if (r.exitCode !== 0) {
    throw new SystemError(
      'SYSTEM_FIREWALL_FAILED',
      `the firewall's LAN chain was not loaded (is nftables.service's base ruleset, table inet fieldcast, there?): nft: ${wordsOf(r)}`,
    );
  }
  return ports;
}

export async function applySystem(config: Pick<Config, 'status' | 'metrics' | 'system'>, deps: ApplyDeps = {}): Promise<SystemApplied> {
  const run = deps.run ?? runCommand;
  if (!isApplianceImage(deps.root)) {
    throw new SystemError(
      'SYSTEM_NOT_APPLIANCE',
      'this machine is not the Fieldcast appliance image (no /etc/fieldcast-image): its firewall and SSH are left as they are',
    );
  }
  if ((deps.uid ?? process.getuid?.() ?? 0) !== 0) {
    throw new SystemError(
      'SYSTEM_NOT_ROOT',
      'the firewall and SSH are applied as root (fieldcast-system.service does it): nothing changed',
    );
  }
  const { ssh, sshKeys } = config.system;
  let ports: SystemApplied['lanPorts'];
  if (ssh) {
    await writeAuthorizedKeys(sshKeys);
    await setSshRunning(true, run);
    ports = await loadFirewall(config, run);
  } else {
    ports = await loadFirewall(config, run);
    await setSshRunning(false, run);
    await writeAuthorizedKeys([]);
  }
  return { lanPorts: ports, ssh, sshKeys: ssh ? sshKeys.length : 0 };
}
