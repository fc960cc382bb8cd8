/**
 * `fieldcast cloud setup`: the flow's source becomes an SRT listener with
 * the given port, allow-list, latency and stream id, its SRT password read
 * from a Secrets Manager secret, and the flow is started if asked. Reads
 * first (DescribeFlow, DescribeSecret, GetSecretValue), compares, and sends
 * a change only for what differs, so a second run changes nothing.
 *
 * With --failover (MERGE or FAILOVER) it also turns the flow's source
 * failover on in that mode (UpdateFlow) and, when --source names a source
 * the flow does not have yet, adds it as the flow's second source
 * (AddFlowSources): the box's second destination. MediaConnect takes a
 * second source only once failover is on, so that comes first.
 */
import { AddFlowSourcesCommand, UpdateFlowCommand, UpdateFlowSourceCommand } from '@aws-sdk/client-mediaconnect';
import { pause } from '../lib/sleep.js';
import { addedSourceSecretName, defaultSecretName } from './arn.js';
import { isWorldOpen } from './cidr.js';
import type { AwsClients } from './clients.js';
import { CloudFlowShapeError, CloudInputError, CloudRequestError, fromAwsError } from './errors.js';
import { describeFlow, type FlowView, type SourceView, startFlow } from './flow.js';
import { applySecret, planSecret, readSecret } from './secret.js';
import type { FailoverWish, SetupOptions } from './settings.js';
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

/** A flow takes at most this many sources (two, with source failover on). */
const MAX_FLOW_SOURCES = 2;

/**
 * The source setup sets: the one named, or the flow's only one; undefined
 * when `adding` and the flow has no source of that name yet (setup adds it).
 */
export function pickSource(flow: FlowView, name: string | undefined, adding = false): SourceView | undefined {
  if (name !== undefined) {
    const s = flow.sources.find((x) => x.name === name);
    if (s) return s;
    const has = flow.sources.map((x) => x.name).join(', ') || 'none';
    if (!adding)
      throw new CloudFlowShapeError(
        `the flow ${flow.name} has no source named "${name}" (it has: ${has}); to add it as the flow's second source, give --failover merge (or failover)`,
        { source: name },
      );
    if (flow.sources.length >= MAX_FLOW_SOURCES)
      throw new CloudFlowShapeError(`the flow ${flow.name} already has ${flow.sources.length} sources (${has}): a flow takes two at most`, {
        source: name,
      });
    return undefined;
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
  const source = pickSource(flow, o.sourceName, o.failover !== undefined);
  const sourceName = source?.name ?? o.sourceName ?? '';
  lines.push(
    source
      ? `Flow ${flow.name} (${o.flow.region}) is ${flow.status}; its source "${source.name}" is ${source.protocol ?? 'of no known protocol'}.`
      : `Flow ${flow.name} (${o.flow.region}) is ${flow.status}; it has no source "${sourceName}" yet (it has ${flow.sources.map((x) => `"${x.name}"`).join(', ')}).`,
  );
  // A source being added may read its password with the role the flow's other source uses.
  const roleSource = source ?? flow.sources[0];

  if (o.failover) {
    const f = planFailover(flow, o.failover);
    if (f) {
      await updateFlow(clients, o, f);
      changes++;
      lines.push(`Turned source failover on in ${describeFailover(o.failover)}.`);
    } else lines.push(`Source failover is already on in ${describeFailover(o.failover)}: unchanged.`);
  }

  let decryption: DesiredSource['decryption'];
  if (o.passphrase) {
    const roleArn = o.roleArn ?? (roleSource?.decryption?.keyType === SRT_PASSWORD ? roleSource.decryption.roleArn : undefined);
    if (!roleArn)
      throw new CloudInputError(
        'give --role-arn: the IAM role MediaConnect assumes to read the SRT password from Secrets Manager (README: "IAM permissions")',
        {},
      );
    const createName = o.secretName ?? (source ? defaultSecretName(o.flow) : addedSourceSecretName(o.flow, sourceName));
    const lookFor = o.secretName ?? (source?.decryption?.keyType === SRT_PASSWORD ? source.decryption.secretArn : undefined) ?? createName;
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
  } else if (source?.decryption?.keyType === SRT_PASSWORD) {
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
  let ingestIp = source?.ingestIp;
  if (!source) {
    ingestIp = await addSource(clients, o, sourceName, c);
    changes++;
    lines.push(`Added the source "${sourceName}": ${describeChanges(c, undefined).join('; ')}.`);
  } else if (hasChanges(c)) {
    await updateSource(clients, o, source, c);
    changes++;
    lines.push(`Set the source "${source.name}": ${describeChanges(c, source).join('; ')}.`);
  } else {
    lines.push(
      `The source "${sourceName}" already is an SRT listener on port ${want.ingestPort} for ${want.whitelistCidr}, minimum latency ${want.minLatency} ms: unchanged.`,
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
  if (ingestIp)
    lines.push(
      `Senders call srt://${ingestIp}:${want.ingestPort} (SRT latency ${want.minLatency} ms or more${decryption ? ', the same passphrase' : ''}${o.streamId ? `, stream id ${o.streamId}` : ''}).`,
    );
  lines.push(changes === 0 ? 'Nothing changed.' : `${changes} change${changes === 1 ? '' : 's'} sent.`);
  return { lines, changes };
}

/** What UpdateFlow must set so the flow's source failover is as wished; undefined when it already is. */
export function planFailover(flow: FlowView, w: FailoverWish): FailoverWish | undefined {
  const f = flow.failover;
  const same = f?.state === 'ENABLED' && f.mode === w.mode && (w.recoveryWindowMs === undefined || f.recoveryWindow === w.recoveryWindowMs);
  return same ? undefined : w;
}

function describeFailover(w: FailoverWish): string {
  return w.mode === 'MERGE'
    ? `MERGE mode (a packet lost on one source is taken from the other${w.recoveryWindowMs !== undefined ? `, recovery window ${w.recoveryWindowMs} ms` : ''})`
    : 'FAILOVER mode (the flow switches to the other source when one stops)';
}

/** The UpdateFlow request that turns source failover on as wished (also what --dry-run prints). */
export function updateFlowCommand(flowArn: string, w: FailoverWish): UpdateFlowCommand {
  return new UpdateFlowCommand({
    FlowArn: flowArn,
    SourceFailoverConfig: {
      State: 'ENABLED',
      FailoverMode: w.mode,
      ...(w.recoveryWindowMs !== undefined ? { RecoveryWindow: w.recoveryWindowMs } : {}),
    },
  });
}

/** The AddFlowSources request for a new SRT listener source named `name` (also what --dry-run prints). */
export function addSourceCommand(flowArn: string, name: string, c: SourceChanges): AddFlowSourcesCommand {
  return new AddFlowSourcesCommand({
    FlowArn: flowArn,
    Sources: [{ Name: name, ...sourceFields({ ...c, protocol: SRT_LISTENER }) }],
  });
}

async function updateFlow(clients: AwsClients, o: SetupOptions, w: FailoverWish): Promise<void> {
  try {
    await clients.mediaconnect.send(updateFlowCommand(o.flow.arn, w));
  } catch (err) {
    throw fromAwsError(err, 'turning source failover on (UpdateFlow)', `flow ${o.flow.arn}`);
  }
}

/** Adds the source; resolves to the address senders call, where MediaConnect gives it. */
async function addSource(clients: AwsClients, o: SetupOptions, name: string, c: SourceChanges): Promise<string | undefined> {
  try {
    const r = await clients.mediaconnect.send(addSourceCommand(o.flow.arn, name, c));
    return r.Sources?.find((x) => x.Name === name)?.IngestIp;
  } catch (err) {
    throw fromAwsError(err, 'adding the source (AddFlowSources)', `source ${name} of flow ${o.flow.arn}`);
  }
}

/** The UpdateFlowSource request for `c` (also what --dry-run prints). */
export function updateSourceCommand(flowArn: string, sourceArn: string, c: SourceChanges): UpdateFlowSourceCommand {
  return new UpdateFlowSourceCommand({
    FlowArn: flowArn,
    SourceArn: sourceArn,
    ...sourceFields(c),
  });
}

/** The changes as the fields UpdateFlowSource and AddFlowSources' SetSourceRequest share (only those given). */
function sourceFields(c: SourceChanges) {
  return {
    ...(c.protocol ? { Protocol: c.protocol } : {}),
    ...(c.ingestPort !== undefined ? { IngestPort: c.ingestPort } : {}),
    ...(c.whitelistCidr !== undefined ? { WhitelistCidr: c.whitelistCidr } : {}),
    ...(c.minLatency !== undefined ? { MinLatency: c.minLatency } : {}),
    ...(c.streamId !== undefined ? { StreamId: c.streamId } : {}),
    ...(c.decryption
      ? { Decryption: { KeyType: c.decryption.keyType, RoleArn: c.decryption.roleArn, SecretArn: c.decryption.secretArn } }
      : {}),
  };
}

async function updateSource(clients: AwsClients, o: SetupOptions, source: SourceView, c: SourceChanges): Promise<void> {
  try {
    await clients.mediaconnect.send(updateSourceCommand(o.flow.arn, source.arn, c));
  } catch (err) {
    throw fromAwsError(err, 'setting the source (UpdateFlowSource)', `source ${source.name} of flow ${o.flow.arn}`);
  }
}
