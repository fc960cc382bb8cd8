/**
 * The ingest's own view of the stream, from CloudWatch (GetMetricData):
 * namespace AWS/MediaConnect, dimensions FlowARN and SourceARN, one-minute
 * periods over the last few minutes. Metric names as MediaConnect publishes
 * them (MediaConnect user guide, "Source metrics"; TR 101 290 metrics).
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from './clients.js';
import { fromAwsError } from './errors.js';
import { type MetricSpec, NAMESPACE, SOURCE_METRICS, type SourceMetric, TR101290_METRICS, type Tr101290Metric } from './names.js';

export interface MetricReading {
  /** The latest minute's value. */
  latest: number;
  /** Start of that minute. */
  at: Date;
  /** All minutes in the window added up (the figure for counts). */
  total: number;
}

export interface IngestMetrics {
  windowMinutes: number;
  source: Partial<Record<SourceMetric, MetricReading>>;
  /** Only the checks CloudWatch has data for. */
  tr101290: Partial<Record<Tr101290Metric, MetricReading>>;
}

/** Query ids: GetMetricData wants ^[a-z][a-zA-Z0-9_]*$. */
function idOf(metric: string): string {
  return metric.charAt(0).toLowerCase() + metric.slice(1);
}

export function metricQueries(flowArn: string, sourceArn: string | undefined, periodS = 60): MetricDataQuery[] {
  const dimensions = [{ Name: 'FlowARN', Value: flowArn }, ...(sourceArn ? [{ Name: 'SourceARN', Value: sourceArn }] : [])];
  const specs: MetricSpec[] = [
    ...Object.values(SOURCE_METRICS),
    ...TR101290_METRICS.map((metric): MetricSpec => ({ metric, stat: 'Sum', kind: 'count' })),
  ];
  return specs.map((s) => ({
    Id: idOf(s.metric),
    MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: s.metric, Dimensions: dimensions }, Period: periodS, Stat: s.stat },
    ReturnData: true,
  }));
}

export interface ReadMetricsOptions {
  windowMinutes?: number;
  now?: Date;
  signal?: AbortSignal;
}

export async function readIngestMetrics(
  clients: AwsClients,
  flowArn: string,
  sourceArn: string | undefined,
  o: ReadMetricsOptions = {},
): Promise<IngestMetrics> {
  const windowMinutes = o.windowMinutes ?? 5;
  const end = new Date(Math.floor((o.now ?? new Date()).getTime() / 60_000) * 60_000);
  const start = new Date(end.getTime() - windowMinutes * 60_000);
  const byId = new Map<string, { values: number[]; times: Date[] }>();
  let next: string | undefined;
  try {
    do {
      const r = await clients.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: metricQueries(flowArn, sourceArn),
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampDescending',
          ...(next ? { NextToken: next } : {}),
        }),
        { abortSignal: o.signal },
      );
      for (const m of r.MetricDataResults ?? []) {
        if (!m.Id) continue;
        const acc = byId.get(m.Id) ?? { values: [], times: [] };
        acc.values.push(...(m.Values ?? []));
        acc.times.push(...(m.Timestamps ?? []));
        byId.set(m.Id, acc);
      }
      next = r.NextToken;
    } while (next);
  } catch (err) {
    throw fromAwsError(err, 'reading the ingest metrics (CloudWatch GetMetricData)', `flow ${flowArn}`);
  }
  const reading = (metric: string): MetricReading | undefined => {
    const acc = byId.get(idOf(metric));
    if (!acc || acc.values.length === 0) return undefined;
    let latestIndex = 0;
    acc.times.forEach((t, i) => {
      if (t.getTime() > (acc.times[latestIndex]?.getTime() ?? 0)) latestIndex = i;
    });
    return {
      latest: acc.values[latestIndex] ?? 0,
      at: acc.times[latestIndex] ?? end,
      total: acc.values.reduce((a, b) => a + b, 0),
    };
  };
  const source: IngestMetrics['source'] = {};
  for (const [key, spec] of Object.entries(SOURCE_METRICS) as [SourceMetric, MetricSpec][]) {
    const r = reading(spec.metric);
    if (r) source[key] = r;
  }
  const tr101290: IngestMetrics['tr101290'] = {};
  for (const m of TR101290_METRICS) {
    const r = reading(m);
    if (r) tr101290[m] = r;
  }
  return { windowMinutes, source, tr101290 };
}
