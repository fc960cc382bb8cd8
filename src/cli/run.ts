/**
 * `fieldcast run`: the appliance. The supervisor (src/supervisor/supervisor.ts)
 * from power-on to power-off: it streams by itself when the config says so,
 * keeps trying with the reason shown when it cannot, takes commands from
 * `fieldcast ctl` over its control socket, and prints one status line a second.
 */

import { version } from '../lib/version.js';
import { configFilePath, controlSocketPath, stateDir } from '../supervisor/paths.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { type Command, out, parseOptions } from './command.js';

const usage = `Usage: fieldcast run [--config FILE] [--state-dir DIR] [--socket PATH] [--json]

Runs the box: streams to the configured destination (at power-on when
autostart is set, the default), restarts what fails, and answers
fieldcast ctl. Prints one status line a second (--json: the snapshot).

  --config FILE    the config (default: config.json in the state directory;
                   missing there means the defaults until a setting is changed)
  --state-dir DIR  where the config, the event log and later the keys live
                   (default $STATE_DIRECTORY, /var/lib/fieldcast as root,
                   else $XDG_STATE_HOME/fieldcast)
  --socket PATH    the control socket (default $RUNTIME_DIRECTORY/control.sock,
                   /run/fieldcast/control.sock as root, else
                   $XDG_RUNTIME_DIR/fieldcast/control.sock)
  --quiet          no status line (the journal has the state changes)`;

export const command: Command = {
  name: 'run',
  summary: 'run the box: stream, restart what fails, answer fieldcast ctl (systemd runs this)',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      socket: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const env = process.env;
    const uid = process.getuid?.() ?? 0;
    const dir = stateDir({ flag: values['state-dir'], env, uid });
    const socketPath = controlSocketPath({ flag: values.socket, env, uid });
    const configFile = configFilePath({ flag: values.config, stateDir: dir });
    const supervisor = new Supervisor({
      configFile,
      configGiven: values.config !== undefined,
      stateDir: dir,
      socketPath,
      version: version(),
      ...(values.quiet ? {} : { onStatusLine: (line, snap) => out(values.json ? JSON.stringify(snap) : line) }),
      onStatusServer: (urls, code) => {
        for (const url of urls) out(`status page ${url}`);
        if (code) out(`setup code: ${code}`);
      },
    });
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals): void => {
        out(`${sig}: stopping`);
        void supervisor.stop().then(resolve);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    await supervisor.start();
    out(`fieldcast run: config ${configFile}, state ${dir}`);
    out(`control socket ${socketPath}: fieldcast ctl --socket ${socketPath} status`);
    await stopped;
    return 0;
  },
};
