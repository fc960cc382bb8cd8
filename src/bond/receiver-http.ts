/**
 * The receiver's metrics endpoint, only when asked for (`--metrics-port`):
 * GET /metrics (Prometheus text) and GET /stats.json; with `--flow`, the
 * ingest's own view beside them (its families in /metrics, the last read
 * as /ingest.json). Nothing else listens.
 */
import type http from 'node:http';
import { Registry } from 'prom-client';
import { type IngestSnapshotSource, ingestMetrics } from '../metrics/ingest-metrics.js';
import { receiverMetrics } from '../metrics/receiver-metrics.js';
import { type MetricsRoute, serveMetrics } from '../metrics/server.js';
import type { BondReceiver } from './receiver.js';
import { ReceiverStartError } from './receiver-errors.js';

export async function serveReceiverMetrics(
  receiver: BondReceiver,
  host: string,
  port: number,
  ingest?: IngestSnapshotSource,
): Promise<http.Server> {
  const routes: Record<string, MetricsRoute> = {
    '/stats.json': { contentType: 'application/json', body: () => `${JSON.stringify(receiver.stats(), null, 2)}\n` },
  };
  let registry = receiverMetrics(receiver);
  if (ingest) {
    registry = Registry.merge([registry, ingestMetrics(ingest)]);
    routes['/ingest.json'] = { contentType: 'application/json', body: () => `${JSON.stringify(ingest.snapshot(), null, 2)}\n` };
  }
  try {
    return await serveMetrics({ host, port, registry, extraRoutes: routes });
  } catch (err) {
    // The receiver's start failures share one code, whichever socket failed.
    throw new ReceiverStartError((err as Error).message, { port }, err);
  }
}
