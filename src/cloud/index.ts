/**
 * MediaConnect set-up and the ingest's own view (AWS SDK v3): `fieldcast
 * cloud setup|status` and `fieldcast receive --flow`. Runs where AWS
 * credentials belong (the receiver's VM, a laptop), never needed on the box.
 */
export { checkRoleArn, defaultSecretName, type FlowArn, parseFlowArn } from './arn.js';
export { isWorldOpen, parseCidr } from './cidr.js';
export { type AwsAccess, AwsClients, type StaticCredentials } from './clients.js';
export { type DryRunPlan, dryRunSetup, formatDryRun } from './dry-run.js';
export * from './errors.js';
export type { FlowView, SourceView } from './flow.js';
export type { IngestMetrics } from './ingest-metrics.js';
export {
  IngestWatch,
  type IngestWatchOptions,
  type IngestWatchSnapshot,
  type IngestWatchState,
} from './ingest-watch.js';
export {
  FLOW_STATUSES,
  type FlowStatus,
  INGEST_POLL_DEFAULT_S,
  INGEST_POLL_MIN_S,
  NAMESPACE,
  SOURCE_METRICS,
  TR101290_METRICS,
} from './names.js';
export { type SetupConfig, type SetupFlags, type SetupOptions, setupOptions } from './settings.js';
export { type SetupReport, setupFlow } from './setup.js';
export { planSource, type SourceChanges } from './source-plan.js';
export { describeIngest, type IngestView, readIngestView } from './status.js';
