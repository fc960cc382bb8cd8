/**
 * `fieldcast cloud status` and the receiver's ingest view: the flow's state
 * and errors (DescribeFlow), its source, and what the ingest itself
 * received (CloudWatch), with a plain-words rendering for operators.
 */
import type { FlowArn } from './arn.js';
import type { AwsClients } from './clients.js';
import { CloudFlowShapeError } from './errors.js';
import { describeFlow, type FlowView, type SourceView } from './flow.js';
import { type IngestMetrics, type MetricReading, readIngestMetrics } from './ingest-metrics.js';
import { TR101290_METRICS } from './names.js';

export interface IngestView {
  flow: FlowView;
  /** The source the metrics are for; undefined when the flow has none. */
  source: SourceView | undefined;
  metrics: IngestMetrics;
  /** When it was read (ms since the epoch). */
  readAt: number;
}

export interface ReadIngestOptions {
  sourceName?: string;
  windowMinutes?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export async function readIngestView(clients: AwsClients, flowArn: FlowArn, o: ReadIngestOptions = {}): Promise<IngestView> {
  const flow = await describeFlow(clients, flowArn, o.signal);
  let source: SourceView | undefined;
  if (o.sourceName !== undefined) {
    source = flow.sources.find((s) => s.name === o.sourceName);
    if (!source) throw new CloudFlowShapeError(`the flow ${flow.name} has no source named "${o.sourceName}"`, { source: o.sourceName });
  } else source = flow.sources[0];
  const now = o.now?.() ?? new Date();
  const metrics = await readIngestMetrics(clients, flowArn.arn, source?.arn, {
    now,
    ...(o.windowMinutes !== undefined ? { windowMinutes: o.windowMinutes } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { flow, source, metrics, readAt: now.getTime() };
}

const FLOW_WORDS: Record<string, string> = {
  STANDBY: 'stopped (STANDBY): it takes no stream until started',
  ACTIVE: 'running (ACTIVE)',
  UPDATING: 'being changed (UPDATING)',
  STARTING: 'starting (STARTING)',
  STOPPING: 'stopping (STOPPING)',
  DELETING: 'being deleted (DELETING)',
  ERROR: 'in error (ERROR)',
};

function mbps(bps: number): string {
  return `${(bps / 1e6).toFixed(bps >= 10e6 ? 1 : 2)} Mbit/s`;
}

function minute(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}

function count(r: MetricReading | undefined): number {
  return Math.round(r?.total ?? 0);
}

/** The view in plain words, one line each. */
export function describeIngest(v: IngestView): string[] {
  const lines: string[] = [];
  const f = v.flow;
  lines.push(`Flow ${f.name}: ${FLOW_WORDS[f.status] ?? f.status}.`);
  for (const e of f.errors) lines.push(`MediaConnect reports: ${e}`);
  const s = v.source;
  if (!s) {
    lines.push('The flow has no source.');
    return lines;
  }
  const at = s.ingestIp ? ` at ${s.ingestIp}:${s.ingestPort ?? '?'}` : '';
  lines.push(
    `Source "${s.name}": ${s.protocol ?? 'unknown protocol'}${at}, senders allowed from ${s.whitelistCidr ?? 'nowhere set'}, minimum latency ${s.minLatency ?? '?'} ms, ${s.decryption?.keyType === 'srt-password' ? 'SRT password set' : 'no SRT password'}.`,
  );
  const m = v.metrics.source;
  const w = v.metrics.windowMinutes;
  if (Object.keys(m).length === 0 && Object.keys(v.metrics.tr101290).length === 0) {
    lines.push(
      `CloudWatch has no figures for this source in the last ${w} minutes: nothing has reached the ingest${f.status === 'ACTIVE' ? '' : ' (the flow is not running)'}.`,
    );
    return lines;
  }
  if (m.connected)
    lines.push(
      m.connected.latest >= 1
        ? `A sender is connected (minute of ${minute(m.connected.at)}).`
        : `No sender connected in the minute of ${minute(m.connected.at)}.`,
    );
  if (m.bitRate) lines.push(`The ingest receives ${mbps(m.bitRate.latest)} (minute of ${minute(m.bitRate.at)}).`);
  const loss = m.packetLossPercent ? `packet loss ${m.packetLossPercent.latest.toFixed(2)}%` : undefined;
  const rtt = m.roundTripMs ? `round trip ${Math.round(m.roundTripMs.latest)} ms` : undefined;
  const lat = m.latencyMs ? `latency ${Math.round(m.latencyMs.latest)} ms` : undefined;
  const jit = m.jitterMs ? `jitter ${Math.round(m.jitterMs.latest)} ms` : undefined;
  const levels = [loss, rtt, lat, jit].filter((x) => x !== undefined);
  if (levels.length) lines.push(`Latest minute: ${levels.join(', ')}.`);
  lines.push(
    `In the last ${w} minutes: ${count(m.totalPackets)} packets, ${count(m.recoveredPackets)} recovered by retransmission, ` +
      `${count(m.notRecoveredPackets)} lost for good, ${count(m.droppedPackets)} dropped, ${count(m.disconnections)} disconnections.`,
  );
  const errs = TR101290_METRICS.map((name) => [name, count(v.metrics.tr101290[name])] as const).filter(([, n]) => n > 0);
  lines.push(
    errs.length === 0
      ? `TR 101 290: no errors in the last ${w} minutes.`
      : `TR 101 290 errors in the last ${w} minutes: ${errs.map(([name, n]) => `${name.replace(/^Source/, '')} ${n}`).join(', ')}.`,
  );
  return lines;
}
