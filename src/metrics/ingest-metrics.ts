/**
 * The ingest's own view in the receiver's /metrics (`fieldcast receive
 * --flow`), beside the receiver's figures: the flow's state, whether AWS
 * answered the last read, and CloudWatch's latest minute for the source.
 * While reads fail, `fieldcast_ingest_up` is 0, the error is named, and
 * the figures are absent rather than stale (`last_success` says how old
 * the last good ones were).
 */
import { Registry } from 'prom-client';
import type { IngestWatchSnapshot } from '../cloud/ingest-watch.js';
import { FLOW_STATUSES, type SourceMetric, TR101290_METRICS } from '../cloud/names.js';
import { counter, enumGauge, gauge, gaugeVec, perScrape } from './scrape.js';

export interface IngestSnapshotSource {
  snapshot(): IngestWatchSnapshot;
}

const P = 'fieldcast_ingest_';

/** Levels with their Prometheus name, help and unit conversion. */
const LEVELS: { key: SourceMetric; name: string; help: string; scale: number }[] = [
  { key: 'bitRate', name: 'source_bit_rate_bits_per_second', help: 'Bit rate the ingest received (SourceBitRate)', scale: 1 },
  { key: 'packetLossPercent', name: 'source_packet_loss_percent', help: 'Packet loss the ingest saw (SourcePacketLossPercent)', scale: 1 },
  {
    key: 'roundTripMs',
    name: 'source_round_trip_seconds',
    help: 'SRT round-trip time the ingest measured (SourceRoundTripTime)',
    scale: 1e-3,
  },
  { key: 'latencyMs', name: 'source_latency_seconds', help: 'SRT latency of the ingest session (SourceLatency)', scale: 1e-3 },
  { key: 'jitterMs', name: 'source_jitter_seconds', help: 'Jitter the ingest saw (SourceJitter)', scale: 1e-3 },
  { key: 'connected', name: 'source_connected', help: '1 while a sender was connected all minute (SourceConnected, minimum)', scale: 1 },
];

/** Counts per minute, as one family labelled by kind. */
const COUNTS: { key: SourceMetric; kind: string }[] = [
  { key: 'totalPackets', kind: 'total' },
  { key: 'recoveredPackets', kind: 'recovered' },
  { key: 'notRecoveredPackets', kind: 'not_recovered' },
  { key: 'droppedPackets', kind: 'dropped' },
  { key: 'arqRequests', kind: 'arq_requests' },
  { key: 'arqRecovered', kind: 'arq_recovered' },
];

export function ingestMetrics(watch: IngestSnapshotSource, registry: Registry = new Registry()): Registry {
  const snap = perScrape(() => watch.snapshot());
  const fresh = () => {
    const s = snap();
    return s.state === 'ok' ? s.view : undefined;
  };
  gauge(registry, `${P}up`, '1 when the last read of the flow and its CloudWatch metrics worked, 0 when it failed', () =>
    snap().state === 'starting' ? undefined : snap().state === 'ok' ? 1 : 0,
  );
  gaugeVec(registry, `${P}error`, 'The reason the last read failed (1 while it does), by error code', ['code', 'message'], (emit) => {
    const e = snap().error;
    if (snap().state === 'failing' && e) emit({ code: e.code, message: e.message.slice(0, 200) }, 1);
  });
  gauge(registry, `${P}last_success_timestamp_seconds`, 'When the ingest view was last read', () => {
    const t = snap().lastSuccessAt;
    return t === undefined ? undefined : t / 1000;
  });
  counter(registry, `${P}read_failures_total`, 'Reads of the ingest view that failed', () => snap().failures);
  enumGauge(
    registry,
    `${P}flow_status`,
    'The MediaConnect flow state, 1 for the current one',
    'status',
    FLOW_STATUSES,
    () => fresh()?.flow.status,
  );
  gauge(registry, `${P}flow_errors`, 'Errors MediaConnect reports on the flow now', () => fresh()?.flow.errors.length);
  gauge(registry, `${P}metrics_minute_timestamp_seconds`, 'Start of the latest minute CloudWatch had for the source', () => {
    const b = fresh()?.metrics.source.bitRate ?? fresh()?.metrics.source.connected;
    return b ? b.at.getTime() / 1000 : undefined;
  });
  for (const l of LEVELS)
    gauge(registry, `${P}${l.name}`, `${l.help}, latest minute`, () => {
      const r = fresh()?.metrics.source[l.key];
      return r ? r.latest * l.scale : undefined;
    });
  gaugeVec(registry, `${P}source_packets_per_minute`, 'Packets the ingest counted in the latest minute, by kind', ['kind'], (emit) => {
    const m = fresh()?.metrics.source;
    if (!m) return;
    for (const c of COUNTS) {
      const r = m[c.key];
      if (r) emit({ kind: c.kind }, r.latest);
    }
  });
  gauge(
    registry,
    `${P}source_disconnections_per_minute`,
    'Sender disconnections in the latest minute (SourceDisconnections)',
    () => fresh()?.metrics.source.disconnections?.latest,
  );
  gaugeVec(
    registry,
    `${P}source_tr101290_errors_per_minute`,
    'TR 101 290 errors the ingest counted in the latest minute, by check (SourceContinuityCounter → ContinuityCounter)',
    ['check'],
    (emit) => {
      const t = fresh()?.metrics.tr101290;
      if (!t) return;
      for (const name of TR101290_METRICS) {
        const r = t[name];
        if (r) emit({ check: name.replace(/^Source/, '') }, r.latest);
      }
    },
  );
  return registry;
}
