/**
 * A MediaConnect flow as Fieldcast reads it (DescribeFlow): its state and
 * its sources, in the few fields setup compares and status shows.
 */
import { DescribeFlowCommand, type Source, StartFlowCommand } from '@aws-sdk/client-mediaconnect';
import type { FlowArn } from './arn.js';
import type { AwsClients } from './clients.js';
import { fromAwsError } from './errors.js';
import type { FlowStatus } from './names.js';

export interface SourceView {
  arn: string;
  name: string;
  protocol: string | undefined;
  ingestIp: string | undefined;
  ingestPort: number | undefined;
  whitelistCidr: string | undefined;
  minLatency: number | undefined;
  streamId: string | undefined;
  decryption: { keyType: string | undefined; roleArn: string | undefined; secretArn: string | undefined } | undefined;
}

export interface FlowView {
  arn: string;
  name: string;
  status: FlowStatus | string;
  sources: SourceView[];
  /** Source failover (DescribeFlow sourceFailoverConfig): whether the flow takes two sources, and how it uses them. */
  failover: { state: string | undefined; mode: string | undefined; recoveryWindow: number | undefined } | undefined;
  /** What MediaConnect says is wrong with the flow (DescribeFlow messages.errors). */
  errors: string[];
}

function sourceView(s: Source): SourceView {
  return {
    arn: s.SourceArn ?? '',
    name: s.Name ?? '',
    protocol: s.Transport?.Protocol,
    ingestIp: s.IngestIp,
    ingestPort: s.IngestPort,
    whitelistCidr: s.WhitelistCidr,
    minLatency: s.Transport?.MinLatency,
    streamId: s.Transport?.StreamId,
    decryption: s.Decryption
      ? { keyType: s.Decryption.KeyType, roleArn: s.Decryption.RoleArn, secretArn: s.Decryption.SecretArn }
      : undefined,
  };
}

export async function describeFlow(clients: AwsClients, flow: FlowArn, signal?: AbortSignal): Promise<FlowView> {
  try {
    const r = await clients.mediaconnect.send(new DescribeFlowCommand({ FlowArn: flow.arn }), { abortSignal: signal });
    const f = r.Flow;
    const sources = (f?.Sources?.length ? f.Sources : f?.Source ? [f.Source] : []).map(sourceView);
    return {
      arn: f?.FlowArn ?? flow.arn,
      name: f?.Name ?? flow.name,
      status: f?.Status ?? 'unknown',
      sources,
      failover: f?.SourceFailoverConfig
        ? {
            state: f.SourceFailoverConfig.State,
            mode: f.SourceFailoverConfig.FailoverMode,
            recoveryWindow: f.SourceFailoverConfig.RecoveryWindow,
          }
        : undefined,
      errors: r.Messages?.Errors ?? [],
    };
  } catch (err) {
    throw fromAwsError(err, 'reading the flow (DescribeFlow)', `flow ${flow.arn}`);
  }
}

/** Starts the flow; resolves to the state MediaConnect reports as the start begins. */
export async function startFlow(clients: AwsClients, flow: FlowArn): Promise<string> {
  try {
    const r = await clients.mediaconnect.send(new StartFlowCommand({ FlowArn: flow.arn }));
    return r.Status ?? 'STARTING';
  } catch (err) {
    throw fromAwsError(err, 'starting the flow (StartFlow)', `flow ${flow.arn}`);
  }
}
