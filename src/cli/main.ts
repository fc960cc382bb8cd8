/**
 * `fieldcast`: one CLI for every program of the appliance. Each command lives
 * in its own file and is loaded only when asked for, so `fieldcast receive`
 * on a cloud VM never loads the media addon.
 */
import { describeError, FieldcastError } from '../lib/errors.js';
import { version } from '../lib/version.js';
import { type Command, err, out, UsageError } from './command.js';

type Loader = () => Promise<{ command: Command }>;

/** Commands in the order `--help` lists them. */
const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  run: { summary: 'run the box: stream, restart what fails, answer fieldcast ctl (systemd runs this)', load: () => import('./run.js') },
  ctl: { summary: 'control a running fieldcast run: status, start, stop, set, get, events', load: () => import('./ctl.js') },
  config: { summary: 'check a config file, or print every key with its default', load: () => import('./config.js') },
  bench: { summary: 'run the benchmark scenarios and print their figures', load: () => import('./bench.js') },
  probe: { summary: 'list capture inputs, audio inputs and the H.264 encoders that open', load: () => import('./probe.js') },
  panel: { summary: 'draw a front-panel page as a display shows it', load: () => import('./panel.js') },
  modem: { summary: 'read a modem at a serial port: identity, SIM, network, signal', load: () => import('./modem.js') },
  encode: { summary: 'encode the test pattern or a capture input to an MPEG-TS file', load: () => import('./encode.js') },
  mux: { summary: 'mux H.264, AAC (ADTS) and KLV files into an MPEG-TS', load: () => import('./mux.js') },
  analyse: { summary: 'check an MPEG-TS against TR 101 290 and report', load: () => import('./analyse.js') },
  linksim: { summary: 'emulate lossy, rate-limited cellular links as UDP relays on loopback', load: () => import('./linksim.js') },
  demo: { summary: 'the whole chain on this machine, with live figures (npm start)', load: () => import('./demo.js') },
  send: { summary: 'stream live over SRT (directly or bonded), printing a status line a second', load: () => import('./send.js') },
  receive: { summary: 'bonding receiver (SRTLA): merge uplinks and forward to an SRT listener', load: () => import('./receive.js') },
  cloud: { summary: 'set up a MediaConnect flow for Fieldcast and show what the ingest receives', load: () => import('./cloud.js') },
  record: {
    summary: 'the recordings of what the box sent: what the ingest missed, and their upload to S3',
    load: () => import('./record.js'),
  },
  update: { summary: 'install a signed update bundle into the other root slot (A/B, RAUC)', load: () => import('./update.js') },
  system: { summary: 'apply the firewall and SSH settings of the config (appliance image, root)', load: () => import('./system.js') },
};

export function registeredCommands(): string[] {
  return Object.keys(COMMANDS);
}

export { version };

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `fieldcast ${version()} — live-video contribution encoder`,
    '',
    'Usage: fieldcast COMMAND [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "fieldcast COMMAND --help" for the options of one command.',
    'Log level: FIELDCAST_LOG=debug|info|warn|error (per module: FIELDCAST_LOG=info,bond=debug)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(helpText());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    out(version());
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    err(`fieldcast: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`fieldcast ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    err(`fieldcast ${name}: ${describeError(e)}`);
    if (!(e instanceof FieldcastError) && e instanceof Error && e.stack) err(e.stack);
    return 1;
  }
}
