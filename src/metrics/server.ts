/**
 * The metrics endpoint: GET /metrics (Prometheus text from one registry)
 * and any extra read-only routes its owner adds. It serves only what it is
 * given: the registry is built elsewhere, so another server (the status
 * page) can serve the same one.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import { formatHostPort } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import { MetricsListenError } from './errors.js';

const log = createLogger('metrics');

/** Figures name addresses and streams: they stay on the box unless the operator opens them. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsRoute {
  contentType: string;
  /** Built at each request. */
  body: () => string | Promise<string>;
}

export interface ServeMetricsOptions {
  /** Default DEFAULT_METRICS_HOST (loopback). */
  host?: string;
  /** 0 for any free port (read it from `server.address()`). */
  port: number;
  registry: Registry;
  /** More GET routes by path, such as `/stats.json`. */
  extraRoutes?: Readonly<Record<string, MetricsRoute>>;
}

export async function serveMetrics(o: ServeMetricsOptions): Promise<http.Server> {
  const host = o.host ?? DEFAULT_METRICS_HOST;
  const routes = new Map<string, MetricsRoute>([
    ['/metrics', { contentType: o.registry.contentType, body: () => o.registry.metrics() }],
    ...Object.entries(o.extraRoutes ?? {}),
  ]);
  const notFound = `not found: try ${[...routes.keys()].join(' or ')}\n`;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(notFound);
      return;
    }
    // A figure that cannot be read fails this request only; the next scrape tries again.
    Promise.resolve()
      .then(route.body)
      .then(
        (body) => res.writeHead(200, { 'content-type': route.contentType }).end(body),
        (err: unknown) => {
          log.warn('cannot build a metrics response', { path, err });
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot read the figures now\n');
        },
      );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new MetricsListenError(
      `cannot serve metrics on ${formatHostPort(host, o.port)}: ${(err as Error).message}`,
      { host, port: o.port },
      err,
    );
  }
  return server;
}
