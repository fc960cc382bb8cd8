/**
 * The receiver's metrics endpoint, only when asked for (`--metrics-port`):
 * GET /metrics (Prometheus text) and GET /stats.json. Nothing else listens.
 */
import type http from 'node:http';
import { receiverMetrics } from '../metrics/receiver-metrics.js';
import { serveMetrics } from '../metrics/server.js';
import type { BondReceiver } from './receiver.js';
import { ReceiverStartError } from './receiver-errors.js';

export async function serveReceiverMetrics(receiver: BondReceiver, host: string, port: number): Promise<http.Server> {
  try {
    return await serveMetrics({
      host,
      port,
      registry: receiverMetrics(receiver),
      extraRoutes: {
        '/stats.json': { contentType: 'application/json', body: () => `${JSON.stringify(receiver.stats(), null, 2)}\n` },
      },
    });
  } catch (err) {
    // The receiver's start failures share one code, whichever socket failed.
    throw new ReceiverStartError((err as Error).message, { port }, err);
  }
}
