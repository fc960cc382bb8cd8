/**
 * MediaConnect's names that Fieldcast reads: flow states (API reference,
 * Flow.status) and the CloudWatch metrics of a flow source (user guide,
 * "Source metrics", TR 101 290). No SDK here, so /metrics code can use
 * them without loading the AWS clients.
 */

/** Flow states (MediaConnect API reference, Flow.status). */
export const FLOW_STATUSES = ['STANDBY', 'ACTIVE', 'UPDATING', 'DELETING', 'STARTING', 'STOPPING', 'ERROR'] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

export const NAMESPACE = 'AWS/MediaConnect';

/** How a metric is read: a level (its latest minute) or a count (summed). */
export type Kind = 'level' | 'count';

export interface MetricSpec {
  metric: string;
  stat: 'Average' | 'Sum' | 'Minimum' | 'Maximum';
  kind: Kind;
}

/** The stream-health metrics, keyed by the name Fieldcast uses for them. */
export const SOURCE_METRICS = {
  bitRate: { metric: 'SourceBitRate', stat: 'Average', kind: 'level' },
  packetLossPercent: { metric: 'SourcePacketLossPercent', stat: 'Average', kind: 'level' },
  roundTripMs: { metric: 'SourceRoundTripTime', stat: 'Average', kind: 'level' },
  latencyMs: { metric: 'SourceLatency', stat: 'Average', kind: 'level' },
  jitterMs: { metric: 'SourceJitter', stat: 'Average', kind: 'level' },
  connected: { metric: 'SourceConnected', stat: 'Minimum', kind: 'level' },
  disconnections: { metric: 'SourceDisconnections', stat: 'Sum', kind: 'count' },
  totalPackets: { metric: 'SourceTotalPackets', stat: 'Sum', kind: 'count' },
  droppedPackets: { metric: 'SourceDroppedPackets', stat: 'Sum', kind: 'count' },
  recoveredPackets: { metric: 'SourceRecoveredPackets', stat: 'Sum', kind: 'count' },
  notRecoveredPackets: { metric: 'SourceNotRecoveredPackets', stat: 'Sum', kind: 'count' },
  arqRequests: { metric: 'SourceARQRequests', stat: 'Sum', kind: 'count' },
  arqRecovered: { metric: 'SourceARQRecovered', stat: 'Sum', kind: 'count' },
} as const satisfies Record<string, MetricSpec>;
export type SourceMetric = keyof typeof SOURCE_METRICS;

/** TR 101 290 checks MediaConnect counts on every source (priority 1, then 2). */
export const TR101290_METRICS = [
  'SourceTSSyncLoss',
  'SourceTSByteError',
  'SourceContinuityCounter',
  'SourcePATError',
  'SourcePMTError',
  'SourcePIDError',
  'SourceTransportError',
  'SourceCRCError',
  'SourcePCRError',
  'SourcePCRAccuracyError',
  'SourcePTSError',
  'SourceCATError',
] as const;
export type Tr101290Metric = (typeof TR101290_METRICS)[number];

/** How often `fieldcast receive --flow` reads the ingest view: CloudWatch's figures are per minute. */
export const INGEST_POLL_DEFAULT_S = 60;
export const INGEST_POLL_MIN_S = 10;
