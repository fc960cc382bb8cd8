/**
 * The status page's load in `fieldcast bench status-page`: live clients and
 * an API request hammer (./page-clients-worker.ts), run in a worker thread
 * with its own event loop, so the clients' work never delays the far end's
 * readings of the stream in the main thread. The worker shares the machine's
 * cores with everything else, as phones on the box's Wi-Fi do not: on
 * loopback the clients' CPU is the box's too.
 */
import { Worker } from 'node:worker_threads';

export interface PageClientsOptions {
  /** The page's address, http://127.0.0.1:PORT. */
  base: string;
  /** A session cookie, `fc_session=…`. */
  cookie: string;
  clients: number;
}

export type ToPageClients = { op: 'hammer'; requestsPerS: number } | { op: 'stop' };

export interface PageClientsResult {
  /** Snapshots each live client received, over `liveS` seconds (from the last client's first snapshot to the stop). */
  snapshots: number[];
  liveS: number;
  /** Requests of the hammer answered 200, and the others (an error status or no answer). */
  answered: number;
  failed: number;
  /** How long the hammer ran, s. */
  hammerS: number;
  /** Each answered request's time, ms. */
  responseMs: number[];
}

export type FromPageClients = { op: 'connected' } | { op: 'failed'; message: string } | { op: 'done'; result: PageClientsResult };

export class PageClients {
  readonly #worker: Worker;
  readonly #failures: string[] = [];
  readonly #done: Promise<PageClientsResult>;
  #onConnected: (() => void) | undefined;
  #onFailed: ((e: Error) => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#done = new Promise<PageClientsResult>((resolve, reject) => {
      const fail = (e: Error): void => {
        reject(e);
        this.#onFailed?.(e);
      };
      worker.on('message', (m: FromPageClients) => {
        if (m.op === 'connected') this.#onConnected?.();
        else if (m.op === 'done') resolve(m.result);
        else this.#failures.push(m.message);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the page clients' worker exited (${code})`)));
    });
    this.#done.catch(() => undefined);
  }

  /** Starts the clients; resolves once each has had its first snapshot, within `timeoutMs`. */
  static async start(o: PageClientsOptions, timeoutMs: number): Promise<PageClients> {
    const c = new PageClients(new Worker(new URL('./page-clients-worker.js', import.meta.url), { workerData: o }));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the ${o.clients} live clients were not all fed within ${timeoutMs} ms`)),
          timeoutMs,
        );
        c.#onConnected = () => {
          clearTimeout(timer);
          resolve();
        };
        c.#onFailed = (e) => {
          clearTimeout(timer);
          reject(e);
        };
      });
    } catch (e) {
      await c.close();
      throw new Error(`${(e as Error).message}${c.#failures.length ? ` (${c.#failures.join('; ')})` : ''}`);
    }
    return c;
  }

  /** Live clients whose feed was refused or broke, in words. */
  get failures(): string[] {
    return [...this.#failures];
  }

  /** Starts API requests at `requestsPerS` beside the live clients. */
  hammer(requestsPerS: number): void {
    this.#worker.postMessage({ op: 'hammer', requestsPerS } satisfies ToPageClients);
  }

  /** Stops the requests and the live clients; what they got. */
  async stop(): Promise<PageClientsResult> {
    this.#worker.postMessage({ op: 'stop' } satisfies ToPageClients);
    return this.#done;
  }

  /** Ends the worker, whatever it was doing (idempotent). */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
