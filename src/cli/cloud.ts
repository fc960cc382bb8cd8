/**
 * `fieldcast cloud`: set up an AWS Elemental MediaConnect flow's SRT
 * listener source and its SRT password, and show the ingest's own view.
 * Runs where AWS credentials are (the receiver's VM, a laptop); the box
 * never needs them. Loads no native code.
 */
import { promises as fs } from 'node:fs';
import {
  AwsClients,
  CloudInputError,
  describeIngest,
  dryRunSetup,
  formatDryRun,
  parseFlowArn,
  readIngestView,
  type SetupConfig,
  setupFlow,
  setupOptions,
} from '../cloud/index.js';
import { loadConfig } from '../config/index.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage:
  fieldcast cloud setup --flow ARN [options]
  fieldcast cloud status --flow ARN [--source NAME] [--minutes N] [--json]

setup: makes the flow's source an SRT listener for Fieldcast (or fieldcast
receive) to call, with its SRT password in AWS Secrets Manager, and starts the
flow if asked. It reads first and changes only what differs: a second run with
the same inputs changes nothing.

  --flow ARN             the MediaConnect flow (its region is the one used)
  --port N               ingest port (1024-65535, not 2077/2088; default: the
                         source's own when it is already an SRT listener, or the
                         config's destination port when the box sends straight)
  --cidr CIDR            who may send, e.g. 203.0.113.7/32 (default: the bonding
                         receiver's address in the config's destination)
  --passphrase-file F    the SRT passphrase (10-80 characters), stored in a secret
                         and never printed (default: the config's passphrase)
  --role-arn ARN         the IAM role MediaConnect assumes to read the secret
                         (default: the one the source already has)
  --secret-name NAME     the secret (default fieldcast/FLOWNAME/srt-password, or
                         the one the source already reads)
  --source NAME          which source, when the flow has two; with --failover,
                         one the flow does not have yet is added as its second
  --failover MODE        merge or failover: turn the flow's source failover on
                         in that mode (a flow takes a second source only so);
                         MERGE needs the same bytes on both, as Fieldcast's two
                         destinations send
  --recovery-window MS   MERGE's recovery window (100-15000 ms): above the
                         difference in delay between the two paths
  --config FILE          the box's config: latency, stream id, passphrase and the
                         bonding receiver's address of its destination
  --destination N        which of the config's destinations, 0 or 1 (default 0):
                         one run per source, e.g. a flow's two sources in MERGE
  --latency-ms N         minimum SRT latency (default: the config's, else 1500)
  --stream-id S          SRT stream id (default: the config's; none: left as is)
  --start                start the flow when it is not running
  --dry-run              print the requests instead of sending them (no
                         credentials needed; the passphrase shows as "(set)")

status: the flow's state, its source and what the ingest received, from
DescribeFlow and CloudWatch, in plain words.

  --minutes N            how far back CloudWatch is read (default 5, 1-180)
  --json                 the view as JSON

Credentials and endpoint: the AWS SDK's own (AWS_PROFILE, AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, an instance role; AWS_ENDPOINT_URL). The README lists
the IAM permissions each command needs.`;

async function readConfig(file: string | undefined): Promise<SetupConfig | undefined> {
  return file === undefined ? undefined : loadConfig(file);
}

async function readPassphrase(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new CloudInputError(`cannot read the passphrase file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file,
    });
  }
}

async function setup(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    flow: { type: 'string' },
    port: { type: 'string' },
    cidr: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'role-arn': { type: 'string' },
    'secret-name': { type: 'string' },
    source: { type: 'string' },
    failover: { type: 'string' },
    'recovery-window': { type: 'string' },
    config: { type: 'string' },
    destination: { type: 'string' },
    'latency-ms': { type: 'string' },
    'stream-id': { type: 'string' },
    start: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  if (!values.flow) throw new UsageError('--flow ARN is required');
  const o = await setupOptions(
    {
      flow: values.flow,
      port: values.port,
      cidr: values.cidr,
      latencyMs: values['latency-ms'],
      streamId: values['stream-id'],
      passphraseText: await readPassphrase(values['passphrase-file']),
      roleArn: values['role-arn'],
      secretName: values['secret-name'],
      source: values.source,
      failover: values.failover,
      recoveryWindowMs: values['recovery-window'],
      destination: values.destination,
      start: values.start,
    },
    await readConfig(values.config),
  );
  if (values['dry-run']) {
    for (const line of formatDryRun(await dryRunSetup(o))) out(line);
    return 0;
  }
  const clients = new AwsClients({ region: o.flow.region });
  try {
    const report = await setupFlow(clients, o);
    for (const line of report.lines) out(line);
    return 0;
  } finally {
    clients.close();
  }
}

async function status(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    flow: { type: 'string' },
    source: { type: 'string' },
    minutes: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.flow) throw new UsageError('--flow ARN is required');
  const flow = parseFlowArn(values.flow);
  const windowMinutes = numberOption(values.minutes, '--minutes', 1, 180) ?? 5;
  const clients = new AwsClients({ region: flow.region });
  try {
    const view = await readIngestView(clients, flow, { windowMinutes, ...(values.source ? { sourceName: values.source } : {}) });
    if (values.json) out(JSON.stringify(view, null, 2));
    else for (const line of describeIngest(view)) out(line);
    return 0;
  } finally {
    clients.close();
  }
}

export const command: Command = {
  name: 'cloud',
  summary: 'set up a MediaConnect flow for Fieldcast and show what the ingest receives',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'setup') return setup(rest);
    if (sub === 'status') return status(rest);
    throw new UsageError(sub === undefined ? 'say setup or status' : `unknown subcommand "${sub}" (setup or status)`);
  },
};
