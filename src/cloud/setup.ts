/**
 * `fieldcast cloud setup`: the flow's source becomes an SRT listener with
 * the given port, allow-list, latency and stream id, its SRT password read
 * from a Secrets Manager secret, and the flow is started if asked. Reads
 * first (DescribeFlow, DescribeSecret, GetSecretValue), compares, and sends
 * a change only for what differs, so a second run changes nothing.
 */
import { UpdateFlowSourceCommand } from '@aws-sdk/client-mediaconnect';
import { pause } from '../lib/sleep.js';
import { defaultSecretName } from './arn.js';
import { isWorldOpen } from './cidr.js';
import type { AwsClients } from './clients.js';
import { CloudFlowShapeError, CloudInputError, CloudRequestError, fromAwsError } from './errors.js';
import { describeFlow, type FlowView, type SourceView, startFlow } from './flow.js';
import { applySecret, planSecret, readSecret } from './secret.js';
import type { SetupOptions } from './settings.js';
import {
  type DesiredSource,
  describeChanges,
  hasChanges,
  planSource,
  type SourceChanges,
  SRT_LISTENER,
  SRT_PASSWORD,
} from './source-plan.js';

export interface SetupReport {
  /** What was done, in plain words, one line each. */
  lines: string[];
  /** Change requests sent (CreateSecret, PutSecretValue, UpdateFlowSource, StartFlow). */
  changes: number;
}

export interface SetupRunOptions {
  /** How long to wait for an UPDATING flow to settle before starting it (default 60 s). */
  settleTimeoutMs?: number;
  settlePollMs?: number;
}

/** The source setup sets: the one named, or the flow's only one. */
export function pickSource(flow: FlowView, name: string | undefined): SourceView {
  if (name !== undefined) {
    const s = flow.sources.find((x) => x.name === name);
    if (!s)
      throw new CloudFlowShapeError(
        `the flow ${flow.name} has no source named "${name}" (it has: ${flow.sources.map((x) => x.name).join(', ') || 'none'})`,
        {
          source: name,
        },
      );
    return s;
  }
  if (flow.sources.length === 1 && flow.sources[0]) return flow.sources[0];
  if (flow.sources.length === 0)
    throw new CloudFlowShapeError(`the flow ${flow.name} has no source; add one in the MediaConnect console, then run setup again`, {});
  throw new CloudFlowShapeError(
    `the flow ${flow.name} has ${flow.sources.length} sources (${flow.sources.map((x) => x.name).join(', ')}): say which with --source NAME`,
    {},
  );
}

/** The port to set: the one asked for, else the source's own when it already listens for SRT. */
export function ingestPortFor(o: SetupOptions, source: SourceView | undefined): number {
  if (o.ingestPort !== undefined) return o.ingestPort;
  if (source?.protocol === SRT_LISTENER && source.ingestPort !== undefined) return source.ingestPort;
  throw new CloudInputError('give --port: the ingest port the flow listens on for SRT (1024-65535, not 2077 or 2088)', {});
}

async function settle(clients: AwsClients, o: SetupOptions, flow: FlowView, r: SetupRunOptions): Promise<FlowView> {
  const end = Date.now() + (r.settleTimeoutMs ?? 60_000);
  let f = flow;
  while (f.status === 'UPDATING' || f.status === 'STOPPING') {
    if (Date.now() > end) throw new CloudRequestError(`the flow ${f.name} stayed ${f.status}; start it later with --start`, {});
    await pause(r.settlePollMs ?? 2000);
    f = await describeFlow(clients, o.flow);
  }
  return f;
}

export async function setupFlow(clients: AwsClients, o: SetupOptions, r: SetupRunOptions = {}): Promise<SetupReport> {
  const lines: string[] = [];
  let changes = 0;
  const flow = await describeFlow(clients, o.flow);
  const source = pickSource(flow, o.sourceName);
  lines.push(
    `Flow ${flow.name} (${o.flow.region}) is ${flow.status}; its source "${source.name}" is ${source.protocol ?? 'of no known protocol'}.`,
  );

  let decryption: DesiredSource['decryption'];
  if (o.passphrase) {
    const roleArn = o.roleArn ?? (source.decryption?.keyType === SRT_PASSWORD ? source.decryption.roleArn : undefined);
    if (!roleArn)
      throw new CloudInputError(
        'give --role-arn: the IAM role MediaConnect assumes to read the SRT password from Secrets Manager (README: "IAM permissions")',
        {},
      );
    const createName = o.secretName ?? defaultSecretName(o.flow);
    const lookFor = o.secretName ?? (source.decryption?.keyType === SRT_PASSWORD ? source.decryption.secretArn : undefined) ?? createName;
    const state = await readSecret(clients, lookFor, o.passphrase);
    const step = planSecret(state, createName);
    const secretArn = await applySecret(clients, step, o.passphrase, flow.name);
    if (step.kind === 'create') lines.push(`Created the secret ${step.name} holding the SRT password (set).`);
    else if (step.kind === 'put')
      lines.push(`Stored the new SRT password (set) in the secret ${state.kind === 'present' ? state.name : lookFor}.`);
    else lines.push(`The secret ${state.kind === 'present' ? state.name : lookFor} already holds this SRT password: unchanged.`);
    if (step.kind !== 'none') changes++;
    const region = secretArn.split(':')[3];
    const account = secretArn.split(':')[4];
    if (secretArn.startsWith('arn:') && (region !== o.flow.region || account !== o.flow.account))
      throw new CloudInputError(
        `the secret ${secretArn} is not in the flow's account and region (${o.flow.account}, ${o.flow.region}); MediaConnect reads only those`,
        {},
      );
    decryption = { roleArn, secretArn };
  } else if (source.decryption?.keyType === SRT_PASSWORD) {
    lines.push('No passphrase given: the source keeps the SRT password it has.');
  }

  const want: DesiredSource = {
    ingestPort: ingestPortFor(o, source),
    whitelistCidr: o.whitelistCidr,
    minLatency: o.minLatency,
    streamId: o.streamId,
    decryption,
  };
  const c = planSource(source, want);
  if (hasChanges(c)) {
    await updateSource(clients, o, source, c);
    changes++;
    lines.push(`Set the source "${source.name}": ${describeChanges(c, source).join('; ')}.`);
  } else {
    lines.push(
      `The source "${source.name}" already is an SRT listener on port ${want.ingestPort} for ${want.whitelistCidr}, minimum latency ${want.minLatency} ms: unchanged.`,
    );
  }
  if (c.whitelistCidr !== undefined) lines.push(`The allow-list ${o.whitelistCidr} comes from ${o.cidrFrom}.`);
  if (isWorldOpen(o.whitelistCidr))
    lines.push(
      `Warning: ${o.whitelistCidr} lets any address on the internet send to the flow${decryption ? '' : ', and no passphrase is set'}.`,
    );

  let status = flow.status;
  if (o.start) {
    const now = await settle(clients, o, hasChanges(c) ? await describeFlow(clients, o.flow) : flow, r);
    if (now.status === 'ACTIVE' || now.status === 'STARTING') lines.push(`The flow is already ${now.status}: not started again.`);
    else {
      status = await startFlow(clients, o.flow);
      changes++;
      lines.push(`Started the flow (MediaConnect reports ${status}); fieldcast cloud status shows when it is ACTIVE.`);
    }
  } else if (flow.status !== 'ACTIVE' && flow.status !== 'STARTING') {
    lines.push(`The flow is ${flow.status}: run again with --start to start it.`);
  }
  if (source.ingestIp)
    lines.push(
      `Senders call srt://${source.ingestIp}:${want.ingestPort} (SRT latency ${want.minLatency} ms or more${decryption ? ', the same passphrase' : ''}${o.streamId ? `, stream id ${o.streamId}` : ''}).`,
    );
  lines.push(changes === 0 ? 'Nothing changed.' : `${changes} change${changes === 1 ? '' : 's'} sent.`);
  return { lines, changes };
}

/** The UpdateFlowSource request for `c` (also what --dry-run prints). */
export function updateSourceCommand(flowArn: string, sourceArn: string, c: SourceChanges): UpdateFlowSourceCommand {
  return new UpdateFlowSourceCommand({
    FlowArn: flowArn,
    SourceArn: sourceArn,
    ...(c.protocol ? { Protocol: c.protocol } : {}),
    ...(c.ingestPort !== undefined ? { IngestPort: c.ingestPort } : {}),
    ...(c.whitelistCidr !== undefined ? { WhitelistCidr: c.whitelistCidr } : {}),
    ...(c.minLatency !== undefined ? { MinLatency: c.minLatency } : {}),
    ...(c.streamId !== undefined ? { StreamId: c.streamId } : {}),
    ...(c.decryption
      ? { Decryption: { KeyType: c.decryption.keyType, RoleArn: c.decryption.roleArn, SecretArn: c.decryption.secretArn } }
      : {}),
  });
}

async function updateSource(clients: AwsClients, o: SetupOptions, source: SourceView, c: SourceChanges): Promise<void> {
  try {
    await clients.mediaconnect.send(updateSourceCommand(o.flow.arn, source.arn, c));
  } catch (err) {
    throw fromAwsError(err, 'setting the source (UpdateFlowSource)', `source ${source.name} of flow ${o.flow.arn}`);
  }
}
