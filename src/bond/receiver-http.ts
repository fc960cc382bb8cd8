/**
 * The receiver's metrics endpoint, only when asked for (`--metrics-port`):
 * GET /metrics (Prometheus text) and GET /stats.json. Nothing else listens.
 */
import http from 'node:http';
import { formatHostPort } from '../lib/hostport.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../metrics/prometheus.js';
import type { BondReceiver } from './receiver.js';
import { ReceiverStartError } from './receiver-errors.js';
import { receiverMetrics } from './receiver-stats.js';

export async function serveReceiverMetrics(receiver: BondReceiver, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(renderPrometheus(receiverMetrics(receiver.stats())));
      } else if (path === '/stats.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(receiver.stats(), null, 2)}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /stats.json\n');
      }
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new ReceiverStartError(`cannot serve metrics on ${formatHostPort(host, port)}: ${(err as Error).message}`, { port }, err);
  }
  return server;
}
