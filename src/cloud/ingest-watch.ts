/**
 * The ingest view kept fresh for `fieldcast receive --flow`: one read every
 * interval (never two at once, each bounded in time), the latest view and
 * whether the last read worked. It owns that state; the receiver's
 * /metrics reads it. AWS being slow or unreachable costs the receiver
 * nothing but a log line when the state changes: the forwarding path never
 * waits on it.
 */

import { describeError, FieldcastError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import type { FlowArn } from './arn.js';
import { type AwsAccess, AwsClients } from './clients.js';
import { INGEST_POLL_DEFAULT_S } from './names.js';
import { type IngestView, readIngestView } from './status.js';

export { parseFlowArn } from './arn.js';

const log = createLogger('cloud');

/** starting: no read finished yet; ok: the last read worked; failing: it did not (AWS unreachable, refused, …). */
export type IngestWatchState = 'starting' | 'ok' | 'failing';

export interface IngestWatchSnapshot {
  flowArn: string;
  state: IngestWatchState;
  /** The last view read; kept while failing, but /metrics shows only `lastSuccessAt` then. */
  view: IngestView | undefined;
  lastSuccessAt: number | undefined;
  error: { code: string; message: string } | undefined;
  polls: number;
  failures: number;
}

export interface IngestWatchOptions {
  flow: FlowArn;
  access: AwsAccess;
  intervalMs?: number;
  sourceName?: string;
}

export class IngestWatch {
  readonly #o: IngestWatchOptions;
  readonly #clients: AwsClients;
  #state: IngestWatchState = 'starting';
  #view: IngestView | undefined;
  #lastSuccessAt: number | undefined;
  #error: { code: string; message: string } | undefined;
  #polls = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort = new AbortController();
  #closed = false;

  constructor(o: IngestWatchOptions) {
    this.#o = o;
    // Short timeouts and few tries: a read that cannot finish well inside the interval is a failed read.
    this.#clients = new AwsClients({ maxAttempts: 2, requestTimeoutMs: 10_000, ...o.access });
  }

  get intervalMs(): number {
    return this.#o.intervalMs ?? INGEST_POLL_DEFAULT_S * 1000;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    void this.poll();
    this.#timer = setInterval(() => void this.poll(), this.intervalMs);
    this.#timer.unref();
  }

  /** One read now, unless one is under way (then that one). */
  poll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#running ??= this.#read().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #read(): Promise<void> {
    this.#polls++;
    try {
      const view = await readIngestView(this.#clients, this.#o.flow, {
        signal: this.#abort.signal,
        ...(this.#o.sourceName !== undefined ? { sourceName: this.#o.sourceName } : {}),
      });
      if (this.#closed) return;
      if (this.#state !== 'ok') log.info('reading the ingest view', { flow: this.#o.flow.name, status: view.flow.status });
      this.#view = view;
      this.#lastSuccessAt = view.readAt;
      this.#error = undefined;
      this.#state = 'ok';
    } catch (err) {
      if (this.#closed) return;
      this.#failures++;
      const e =
        err instanceof FieldcastError
          ? { code: err.code, message: err.message }
          : { code: 'CLOUD_REQUEST_FAILED', message: describeError(err) };
      if (this.#state !== 'failing' || this.#error?.code !== e.code)
        log.warn('cannot read the ingest view', { flow: this.#o.flow.name, ...e });
      this.#error = e;
      this.#state = 'failing';
    }
  }

  snapshot(): IngestWatchSnapshot {
    return {
      flowArn: this.#o.flow.arn,
      state: this.#state,
      view: this.#view,
      lastSuccessAt: this.#lastSuccessAt,
      error: this.#error,
      polls: this.#polls,
      failures: this.#failures,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    this.#clients.close();
  }
}
