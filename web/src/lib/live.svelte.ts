/**
 * The live feed: GET /api/v1/live, the status snapshot twice a second as
 * server-sent events (EventSource sends the session cookie by itself).
 *
 * The page must never show old figures as if they were now: `stale` turns
 * true when nothing has come for STALE_MS, and the page says so. When the
 * feed fails, EventSource tries again by itself; when it gives up (the
 * server refused it: no session), the session is checked and the page goes
 * back to its login if it has ended.
 */
import { api } from './api.ts';
import type { StatusSnapshot } from './types.ts';

/** Two missed updates and a bit: the feed sends every 500 ms. */
const STALE_MS = 2500;
const RETRY_MS = 2000;

export class LiveFeed {
  /** The latest snapshot (replaced whole, never changed in place). */
  snapshot = $state.raw<StatusSnapshot | undefined>(undefined);
  /** When the latest one arrived (performance.now()). */
  receivedAt = $state(0);
  stale = $state(true);

  #source: EventSource | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #listeners = new Set<(s: StatusSnapshot) => void>();
  #closed = false;

  /** Calls `fn` with each snapshot as it arrives; returns the unsubscribe. */
  subscribe(fn: (s: StatusSnapshot) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  start(): void {
    this.#closed = false;
    this.#connect();
    this.#timer ??= setInterval(() => {
      this.stale = performance.now() - this.receivedAt > STALE_MS;
    }, 500);
    // A first picture at once, before the feed opens.
    api
      .status()
      .then((s) => {
        if (!this.snapshot) this.#take(s);
      })
      .catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    this.#source?.close();
    this.#source = undefined;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#timer = undefined;
  }

  #connect(): void {
    if (this.#closed) return;
    const es = new EventSource('/api/v1/live');
    this.#source = es;
    es.onmessage = (ev: MessageEvent<string>) => {
      try {
        this.#take(JSON.parse(ev.data) as StatusSnapshot);
      } catch {
        // A torn message: the next one is half a second away.
      }
    };
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED || this.#closed) return;
      // Refused (not 200): is the session still there?
      this.#source = undefined;
      this.#retry = setTimeout(() => {
        api
          .resume()
          .then((live) => {
            if (live) this.#connect();
            else this.#sessionEnded();
          })
          .catch(() => this.#connect());
      }, RETRY_MS);
    };
  }

  #sessionEnded(): void {
    this.close();
    api.endSession();
  }

  #take(s: StatusSnapshot): void {
    this.snapshot = s;
    this.receivedAt = performance.now();
    this.stale = false;
    for (const fn of this.#listeners) {
      try {
        fn(s);
      } catch {
        // One view failing must not stop the others.
      }
    }
  }
}
