/** Metrics: aggregation and the Prometheus text exposition. */
export { type MetricFamily, type MetricType, PROMETHEUS_CONTENT_TYPE, renderPrometheus, type Sample } from './prometheus.js';
