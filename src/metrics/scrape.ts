/**
 * Metric families read from their source at scrape time (prom-client
 * `collect()`): nothing holds a copy of a figure between scrapes, so /metrics
 * can never disagree with the snapshot it came from.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type LabelValues<L extends string> = Record<L, string | number>;
export type Emit<L extends string> = (labels: LabelValues<L>, value: number) => void;
/** gaugeVec or counterVec, for families that differ only in type. */
export type FamilyVec = <L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (emit: Emit<L>) => void,
) => unknown;

/**
 * `read` once per scrape however many families ask: Registry.metrics() calls
 * every collect() of one scrape in the same turn, so a value kept until the
 * next microtask is that scrape's and no other's (were they ever spread over
 * turns, each would only read afresh).
 */
export function perScrape<T>(read: () => T): () => T {
  let held: { value: T } | undefined;
  return () => {
    if (held === undefined) {
      held = { value: read() };
      queueMicrotask(() => {
        held = undefined;
      });
    }
    return held.value;
  };
}

/** A gauge with one sample, or none while the figure is unknown (`undefined`): an absent sample is not a zero. */
export function gauge(registry: Registry, name: string, help: string, read: () => number | undefined): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v === undefined) this.remove();
      else this.set(v);
    },
  });
}

/** A gauge with a sample per label set; the samples are rebuilt each scrape, so what is gone (a link, an alert) leaves nothing behind. */
export function gaugeVec<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (emit: Emit<L>) => void,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.set(labels, value));
    },
  });
}

/** A counter read from a cumulative figure its owner keeps (prom-client counters only go up by inc(): reset, then inc by the total). */
export function counter(registry: Registry, name: string, help: string, read: () => number | undefined): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      this.reset();
      if (v === undefined) this.remove();
      else this.inc(v);
    },
  });
}

export function counterVec<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (emit: Emit<L>) => void,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.inc(labels, value));
    },
  });
}

/** Enum as gauges: a sample per possible value, 1 for the current one (PromQL `fieldcast_state{state="live"} == 1`). */
export function enumGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: L,
  values: readonly string[],
  read: () => string | undefined,
): Gauge<L> {
  return gaugeVec(registry, name, help, [label], (emit) => {
    const current = read();
    for (const v of values) emit({ [label]: v } as LabelValues<L>, v === current ? 1 : 0);
  });
}
