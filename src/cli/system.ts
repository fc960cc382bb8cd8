/** `fieldcast system apply`: the firewall's LAN chain and SSH from the config, on the appliance image (src/system). */
import { promises as fs } from 'node:fs';
import { defaultConfig, loadConfig } from '../config/index.js';
import { describeError } from '../lib/errors.js';
import { configFilePath, stateDir } from '../supervisor/paths.js';
import { applySystem, SystemError } from '../system/index.js';
import { type Command, err, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast system apply [--config FILE]

On the appliance image, as root: makes the firewall and SSH follow the config
(by default the one fieldcast run uses, /var/lib/fieldcast/config.json; the
defaults when there is none). LAN interfaces may then reach the status
page's port, /metrics' when it listens beyond loopback, and port 22 while
system.ssh is true; sshd runs exactly while system.ssh is true, and the keys
in system.sshKeys may log in as root. fieldcast-system.service runs this at
boot and each time the config is saved.

Exit status: 0 applied; 1 not applied, its code printed (SYSTEM_NOT_APPLIANCE
on a machine that is not the image: nothing changed; SYSTEM_NOT_ROOT,
SYSTEM_FIREWALL_FAILED, SYSTEM_SSH_FAILED, CONFIG_INVALID); 2 usage.`;

export const command: Command = {
  name: 'system',
  summary: 'apply the firewall and SSH settings of the config (appliance image, root)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { config: { type: 'string' } }, true);
    if (positionals.length !== 1 || positionals[0] !== 'apply') throw new UsageError('system takes one action: apply');
    const file = configFilePath({ flag: values.config, stateDir: stateDir({ env: process.env, uid: process.getuid?.() ?? 0 }) });
    try {
      const exists = await fs.access(file).then(
        () => true,
        () => false,
      );
      if (!exists && values.config) throw new UsageError(`the config file ${file} does not exist`);
      const config = exists ? await loadConfig(file) : defaultConfig();
      const applied = await applySystem(config);
      const ports = applied.lanPorts.map((p) => `${p.port} (${p.why})`).join(', ') || 'nothing';
      out(`system: LAN interfaces may reach tcp ${ports}; cellular uplinks nothing`);
      out(`system: ssh ${applied.ssh ? `on, ${applied.sshKeys} key(s) may log in as root` : 'off'}`);
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const code = e instanceof SystemError ? e.code : ((e as { code?: string }).code ?? 'SYSTEM_FAILED');
      err(`system: not applied (${code}): ${describeError(e)}`);
      return 1;
    }
  },
};
