/**
 * What the emulated path itself costs: the one-way delay of each link,
 * measured by sending timestamped probes through a LinkSim built from the
 * same specs (same code, same timers) to a local socket. Both ends read this
 * machine's monotonic clock, so no clock sync is involved.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseHostPort } from '../lib/hostport.js';
import { LinkSim, type LinkSpecInput } from '../linksim/index.js';
import { percentile } from '../media/far-end.js';

export interface LinkDelay {
  name: string;
  /** Median one-way delay, ms. */
  p50Ms: number;
  probes: number;
  received: number;
}

const PROBES = 40;
const SPACING_MS = 10;

export async function measureOneWayDelays(links: readonly LinkSpecInput[], seed: number): Promise<LinkDelay[]> {
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const arrivals = new Map<string, number[]>();
  sink.on('message', (m) => {
    const name = m.subarray(8).toString();
    const delay = performance.now() - m.readDoubleBE(0);
    const list = arrivals.get(name) ?? [];
    list.push(delay);
    arrivals.set(name, list);
  });
  const sim = new LinkSim({ seed, target: `127.0.0.1:${sink.address().port}`, links: links.map((l) => ({ ...l, schedule: [] })) });
  await sim.start();
  const out = createSocket('udp4');
  await new Promise<void>((r) => out.bind(0, '127.0.0.1', r));
  try {
    for (let i = 0; i < PROBES; i++) {
      for (const name of sim.names) {
        const { host, port } = parseHostPort(sim.link(name).address, 'link');
        const b = Buffer.alloc(8 + Buffer.byteLength(name));
        b.writeDoubleBE(performance.now(), 0);
        b.write(name, 8);
        out.send(b, port, host);
      }
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    const slowest = Math.max(...links.map((l) => (l.up?.delayMs ?? 0) + (l.up?.jitterMs ?? 0)));
    await new Promise((r) => setTimeout(r, slowest + 200));
  } finally {
    sim.close();
    out.close();
    sink.close();
  }
  return sim.names.map((name) => {
    const d = arrivals.get(name) ?? [];
    return { name, p50Ms: percentile(d, 50), probes: PROBES, received: d.length };
  });
}
