/** Metrics: Prometheus families read at scrape time (prom-client), one registry per server, and the endpoint that serves them. */
export { MetricsListenError } from './errors.js';
export { type ReceiverStatsSource, receiverMetrics } from './receiver-metrics.js';
export { DEFAULT_METRICS_HOST, type MetricsRoute, type ServeMetricsOptions, serveMetrics } from './server.js';
export { type SupervisorMetricsOptions, supervisorMetrics } from './supervisor-metrics.js';
