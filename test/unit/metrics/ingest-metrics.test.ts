import { describe, expect, it } from 'vitest';
import type { IngestWatchSnapshot } from '../../../src/cloud/ingest-watch.js';
import { ingestMetrics } from '../../../src/metrics/ingest-metrics.js';
import { type ParsedFamily, parsePrometheus, sampleOf } from './prometheus-text.js';

const absent = (f: Map<string, ParsedFamily>, name: string) => (f.get(name)?.samples.length ?? 0) === 0;

const ARN = 'arn:aws:mediaconnect:us-west-2:111122223333:flow:1-a:Show';
const at = new Date('2026-12-03T08:59:00Z');
const reading = (v: number) => ({ latest: v, at, total: v });

function snapshot(s: Partial<IngestWatchSnapshot>): { snapshot(): IngestWatchSnapshot } {
  const full: IngestWatchSnapshot = {
    flowArn: ARN,
    state: 'starting',
    view: undefined,
    lastSuccessAt: undefined,
    error: undefined,
    polls: 0,
    failures: 0,
    ...s,
  };
  return { snapshot: () => full };
}

const view = {
  flow: { arn: ARN, name: 'Show', status: 'ACTIVE', sources: [], failover: undefined, errors: [] },
  source: undefined,
  metrics: {
    windowMinutes: 5,
    source: { bitRate: reading(4_500_000), roundTripMs: reading(84), recoveredPackets: reading(12) },
    tr101290: { SourcePCRError: reading(1) },
  },
  readAt: Date.parse('2026-12-03T09:00:30Z'),
};

describe("the ingest view's Prometheus families", () => {
  it('exports the latest minute while reads work', async () => {
    const text = await ingestMetrics(snapshot({ state: 'ok', view, lastSuccessAt: view.readAt, polls: 1 })).metrics();
    const f = parsePrometheus(text);
    expect(sampleOf(f, 'fieldcast_ingest_up')).toBe(1);
    expect(sampleOf(f, 'fieldcast_ingest_flow_status', { status: 'ACTIVE' })).toBe(1);
    expect(sampleOf(f, 'fieldcast_ingest_flow_status', { status: 'ERROR' })).toBe(0);
    expect(sampleOf(f, 'fieldcast_ingest_source_bit_rate_bits_per_second')).toBe(4_500_000);
    expect(sampleOf(f, 'fieldcast_ingest_source_round_trip_seconds')).toBeCloseTo(0.084);
    expect(sampleOf(f, 'fieldcast_ingest_source_packets_per_minute', { kind: 'recovered' })).toBe(12);
    expect(sampleOf(f, 'fieldcast_ingest_source_tr101290_errors_per_minute', { check: 'PCRError' })).toBe(1);
    expect(sampleOf(f, 'fieldcast_ingest_metrics_minute_timestamp_seconds')).toBe(at.getTime() / 1000);
    expect(sampleOf(f, 'fieldcast_ingest_last_success_timestamp_seconds')).toBe(view.readAt / 1000);
  });

  it('says a read failed, and why, with no stale figures', async () => {
    const error = { code: 'CLOUD_UNREACHABLE', message: 'cannot reach AWS' };
    const f = parsePrometheus(
      await ingestMetrics(snapshot({ state: 'failing', view, lastSuccessAt: view.readAt, error, failures: 2 })).metrics(),
    );
    expect(sampleOf(f, 'fieldcast_ingest_up')).toBe(0);
    expect(sampleOf(f, 'fieldcast_ingest_error', { code: 'CLOUD_UNREACHABLE', message: 'cannot reach AWS' })).toBe(1);
    expect(sampleOf(f, 'fieldcast_ingest_read_failures_total')).toBe(2);
    expect(sampleOf(f, 'fieldcast_ingest_last_success_timestamp_seconds')).toBe(view.readAt / 1000);
    expect(absent(f, 'fieldcast_ingest_source_bit_rate_bits_per_second')).toBe(true);
    expect(absent(f, 'fieldcast_ingest_source_tr101290_errors_per_minute')).toBe(true);
    expect(sampleOf(f, 'fieldcast_ingest_flow_status', { status: 'ACTIVE' })).toBe(0);
  });

  it('before the first read: nothing claimed', async () => {
    const f = parsePrometheus(await ingestMetrics(snapshot({})).metrics());
    expect(absent(f, 'fieldcast_ingest_up')).toBe(true);
    expect(absent(f, 'fieldcast_ingest_source_bit_rate_bits_per_second')).toBe(true);
  });
});
