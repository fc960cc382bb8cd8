/**
 * The status page's clients for `fieldcast bench status-page`, in a worker
 * thread (./page-clients.ts starts it): live clients on /api/v1/live, as
 * many phones with the page open, each counting the snapshots it gets; and,
 * when asked, API requests at a fixed rate (the snapshot, the history, the
 * event log), each answer's time kept. Plain fetch streams with the session
 * cookie, as the page's EventSource sends it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromPageClients, PageClientsOptions, ToPageClients } from './page-clients.js';

const URLS = ['/api/v1/status', '/api/v1/history', '/api/v1/events?limit=50'];

const o = workerData as PageClientsOptions;
const port = parentPort!;
const send = (m: FromPageClients): void => port.postMessage(m);
const feeds = new AbortController();
const snapshots = new Array<number>(o.clients).fill(0);
let connected = 0;
let connectedAt = 0;
let answered = 0;
let failed = 0;
const responseMs: number[] = [];
let hammer: Promise<void> | undefined;
let hammering = false;
let hammerS = 0;

async function feed(i: number): Promise<void> {
  const r = await fetch(`${o.base}/api/v1/live`, { headers: { cookie: o.cookie }, signal: feeds.signal });
  if (r.status !== 200 || !r.body) throw new Error(`/api/v1/live answered ${r.status}`);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let first = true;
  // Each event ends with a blank line (the JSON holds no newline); a chunk may end between its two newlines.
  let tail = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const text = tail + decoder.decode(value, { stream: true });
      snapshots[i]! += (text.match(/\n\n/g) ?? []).length;
      tail = text.endsWith('\n') && !text.endsWith('\n\n') ? '\n' : '';
      if (first && snapshots[i]! > 0) {
        first = false;
        if (++connected === o.clients) {
          connectedAt = performance.now();
          send({ op: 'connected' });
        }
      }
    }
  } catch (e) {
    if (!feeds.signal.aborted) throw e;
  }
}

async function request(url: string): Promise<void> {
  const t = performance.now();
  try {
    const r = await fetch(`${o.base}${url}`, { headers: { cookie: o.cookie } });
    await r.arrayBuffer();
    if (r.status === 200) {
      answered++;
      responseMs.push(performance.now() - t);
    } else failed++;
  } catch {
    failed++;
  }
}

/** Requests on a fixed schedule (not one after the other's answer), so a slow answer does not lower the rate. */
async function runHammer(perS: number): Promise<void> {
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let n = 0; hammering; n++) {
    pending.push(request(URLS[n % URLS.length]!));
    const wait = t0 + ((n + 1) * 1000) / perS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  hammerS = (performance.now() - t0) / 1000;
  await Promise.all(pending);
}

const readers = snapshots.map((_, i) =>
  feed(i).catch((e: Error) => {
    send({ op: 'failed', message: `live client ${i + 1}: ${e.message}` });
  }),
);

port.on('message', (m: ToPageClients) => {
  if (m.op === 'hammer' && !hammer) {
    hammering = true;
    hammer = runHammer(m.requestsPerS);
  } else if (m.op === 'stop') {
    hammering = false;
    const liveS = (performance.now() - connectedAt) / 1000;
    void (async () => {
      await hammer;
      feeds.abort();
      await Promise.all(readers);
      send({ op: 'done', result: { snapshots, liveS, answered, failed, hammerS, responseMs } });
      port.close();
    })();
  }
});
