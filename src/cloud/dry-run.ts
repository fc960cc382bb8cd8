/**
 * `fieldcast cloud setup --dry-run`: the requests setup would send, as the
 * SDK itself builds them (method, URL, target, JSON body), printed instead
 * of sent. The clients get placeholder credentials and a request handler
 * that keeps each request and never opens a socket, so no credentials and
 * no network are needed. The passphrase shows only as "(set)". Without
 * reading the flow, the plan is the one for a flow and secret that match
 * nothing yet; a real run sends only what differs.
 */
import { DescribeFlowCommand, MediaConnectClient, StartFlowCommand } from '@aws-sdk/client-mediaconnect';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { addedSourceSecretName, defaultSecretName } from './arn.js';
import { isWorldOpen } from './cidr.js';
import { describeSecretInput } from './secret.js';
import type { SetupOptions } from './settings.js';
import { addSourceCommand, updateFlowCommand, updateSourceCommand } from './setup.js';
import { planSource } from './source-plan.js';

/** The request the SDK built, as handed to the HTTP layer. */
interface BuiltRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface CapturedRequest {
  operation: string;
  method: string;
  url: string;
  /** JSON-RPC services name the operation in a header. */
  target: string | undefined;
  body: unknown;
}

const SOURCE_ARN = '<the source ARN DescribeFlow returns>';
const SECRET_ARN = '<the ARN CreateSecret returns>';
const ROLE_ARN = '<--role-arn, or the role the source already has>';

class Captured extends Error {
  constructor(readonly request: BuiltRequest) {
    super('captured (dry run)');
    this.name = 'DryRunCaptured';
  }
}

const capture = {
  handle(request: BuiltRequest): Promise<never> {
    return Promise.reject(new Captured(request));
  },
  updateHttpClientConfig(): void {},
  httpHandlerConfigs(): Record<string, never> {
    return {};
  },
  destroy(): void {},
};

function clientConfig(region: string) {
  return {
    region,
    credentials: { accessKeyId: 'dry-run', secretAccessKey: 'dry-run' },
    requestHandler: capture,
    maxAttempts: 1,
  };
}

function redactBody(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if ('SecretString' in parsed) parsed['SecretString'] = '(set)';
    return parsed;
  } catch {
    return body;
  }
}

interface Sender {
  send(command: never): Promise<unknown>;
}

async function built(client: Sender, command: unknown, operation: string): Promise<CapturedRequest> {
  try {
    await client.send(command as never);
  } catch (err) {
    if (err instanceof Captured) {
      const q = err.request;
      const port = q.port ? `:${q.port}` : '';
      return {
        operation,
        method: q.method,
        url: `${q.protocol}//${q.hostname}${port}${decodeURIComponent(q.path)}`,
        target: q.headers['x-amz-target'],
        body: redactBody(q.body),
      };
    }
    throw err;
  }
  throw new Error(`the dry run sent ${operation}`);
}

export interface DryRunPlan {
  reads: CapturedRequest[];
  writes: { request: CapturedRequest; when: string }[];
  notes: string[];
}

export async function dryRunSetup(o: SetupOptions): Promise<DryRunPlan> {
  const mc = new MediaConnectClient(clientConfig(o.flow.region));
  const sm = new SecretsManagerClient(clientConfig(o.flow.region));
  try {
    const reads: CapturedRequest[] = [await built(mc, new DescribeFlowCommand({ FlowArn: o.flow.arn }), 'DescribeFlow')];
    const writes: DryRunPlan['writes'] = [];
    const notes: string[] = [];
    let decryption: { roleArn: string; secretArn: string } | undefined;
    if (o.passphrase) {
      const name = o.secretName ?? defaultSecretName(o.flow);
      reads.push(await built(sm, new DescribeSecretCommand({ SecretId: name }), 'DescribeSecret'));
      reads.push(await built(sm, new GetSecretValueCommand({ SecretId: name }), 'GetSecretValue'));
      writes.push({
        request: await built(
          sm,
          new CreateSecretCommand({ Name: name, SecretString: o.passphrase.reveal(), Description: describeSecretInput(o.flow.name) }),
          'CreateSecret',
        ),
        when: 'when the secret does not exist yet',
      });
      writes.push({
        request: await built(sm, new PutSecretValueCommand({ SecretId: name, SecretString: o.passphrase.reveal() }), 'PutSecretValue'),
        when: 'instead, when the secret exists and holds another passphrase',
      });
      decryption = { roleArn: o.roleArn ?? ROLE_ARN, secretArn: SECRET_ARN };
      if (!o.roleArn) notes.push('No --role-arn: a real run uses the role the source already has, and stops if it has none.');
    }
    if (o.ingestPort === undefined) notes.push("No --port: a real run keeps the source's port when it already listens for SRT.");
    const changes = planSource(undefined, {
      ingestPort: o.ingestPort ?? 0,
      whitelistCidr: o.whitelistCidr,
      minLatency: o.minLatency,
      streamId: o.streamId,
      decryption,
    });
    if (o.ingestPort === undefined) delete changes.ingestPort;
    if (o.failover) {
      writes.unshift({
        request: await built(mc, updateFlowCommand(o.flow.arn, o.failover), 'UpdateFlow'),
        when: 'first, when source failover is not on in this mode already',
      });
    }
    writes.push({
      request: await built(mc, updateSourceCommand(o.flow.arn, SOURCE_ARN, changes), 'UpdateFlowSource'),
      when: `with only the fields that differ from the source as it is${o.failover && o.sourceName ? `, when the flow has a source "${o.sourceName}"` : ''}`,
    });
    if (o.failover && o.sourceName) {
      if (o.passphrase && !o.secretName)
        notes.push(`A source added as the flow's second gets a secret of its own: ${addedSourceSecretName(o.flow, o.sourceName)}.`);
      writes.push({
        request: await built(mc, addSourceCommand(o.flow.arn, o.sourceName, changes), 'AddFlowSources'),
        when: `instead, when the flow has no source "${o.sourceName}" yet (added as its second)`,
      });
    }
    if (o.start)
      writes.push({
        request: await built(mc, new StartFlowCommand({ FlowArn: o.flow.arn }), 'StartFlow'),
        when: 'when the flow is not already ACTIVE or STARTING',
      });
    notes.push(`The allow-list ${o.whitelistCidr} comes from ${o.cidrFrom}.`);
    if (isWorldOpen(o.whitelistCidr)) notes.push(`Warning: ${o.whitelistCidr} lets any address on the internet send to the flow.`);
    return { reads, writes, notes };
  } finally {
    mc.destroy();
    sm.destroy();
  }
}

function requestLine(r: CapturedRequest): string[] {
  const head = `  ${r.operation}: ${r.method} ${r.url}${r.target ? ` (X-Amz-Target: ${r.target})` : ''}`;
  return r.body === undefined ? [head] : [head, `    ${JSON.stringify(r.body)}`];
}

export function formatDryRun(p: DryRunPlan): string[] {
  return [
    'Dry run: nothing is sent and no credentials are needed. The passphrase shows only as (set).',
    'Setup reads first:',
    ...p.reads.flatMap(requestLine),
    'Then sends, for a flow and secret that match nothing yet (a real run sends only what differs, and nothing when all matches):',
    ...p.writes.flatMap((w) => [...requestLine(w.request), `    ${w.when}`]),
    ...p.notes,
  ];
}
