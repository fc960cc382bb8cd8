/**
 * Preflight against a real bonding receiver (BondReceiver) through emulated
 * links of known rate, delay and loss (linksim): what it reports per link is
 * what the links are, and what it recommends follows from it. No SRT data
 * is sent: nothing reaches the SRT listener behind the receiver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BondReceiver } from '../../src/bond/receiver.js';
import { LinkSim } from '../../src/linksim/index.js';
import { recommend, runPreflight } from '../../src/uplinks/preflight.js';
import { freeUdpPort } from './srt-helpers.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('preflight', () => {
  it('recommends from what it found: 70% of the bonded rate less overhead and audio, latency by the worst RTT and loss', () => {
    expect(recommend({ rateBps: 10_000_000, worstRttMs: 80, worstLoss: 0.005 })).toEqual({
      minBitrate: 1_500_000,
      maxBitrate: 6_200_000,
      latencyMs: 250,
    });
    expect(recommend({ rateBps: 10_000_000, worstRttMs: 80, worstLoss: 0.05 })?.latencyMs).toBe(400);
    expect(recommend({ rateBps: 2_000_000, worstRttMs: 10, worstLoss: 0 })).toEqual({
      minBitrate: 200_000,
      maxBitrate: 1_100_000,
      latencyMs: 120,
    });
    expect(recommend({ rateBps: 0 })).toBeUndefined();
  });

  it('measures each link to the real receiver: RTT, loss and the rate that got through; nothing is forwarded', async () => {
    const forwardPort = await freeUdpPort();
    const receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `127.0.0.1:${forwardPort}` });
    await receiver.start();
    closers.push(() => receiver.close());
    const sim = new LinkSim({
      seed: 3,
      target: `127.0.0.1:${receiver.port}`,
      links: [
        { name: 'fast', listen: '127.0.0.1:0', up: { rate: '6M', delayMs: 20, queueMs: 200 }, down: { delayMs: 20 } },
        { name: 'slow', listen: '127.0.0.1:0', up: { rate: '2M', delayMs: 50, loss: 0.1, queueMs: 200 }, down: { delayMs: 50 } },
      ],
    });
    await sim.start();
    closers.push(() => sim.close());
    const r = await runPreflight({
      receiver: `127.0.0.1:${receiver.port}`,
      links: sim.names.map((name) => ({ name, bind: '127.0.0.1', via: sim.link(name).address })),
      seconds: 6,
    });
    console.log(`preflight: ${r.summary}; ${JSON.stringify(r.links)}`);
    const fast = r.links.find((l) => l.name === 'fast')!;
    const slow = r.links.find((l) => l.name === 'slow')!;
    expect(fast).toMatchObject({ registered: true });
    expect(slow).toMatchObject({ registered: true });
    // RTT: at least the emulated delay both ways.
    expect(fast.rttMs).toBeGreaterThanOrEqual(39);
    expect(slow.rttMs).toBeGreaterThanOrEqual(99);
    // Loss: the lossy link shows it, the clean one does not.
    expect(fast.loss).toBeLessThan(0.02);
    expect(slow.loss).toBeGreaterThan(0);
    // The rate: the step that held before the link's own rate (doubling from 1 Mbit/s), never above it.
    expect(fast.rateBps).toBeGreaterThan(2_000_000);
    expect(fast.rateBps).toBeLessThanOrEqual(6_600_000);
    expect(slow.rateBps).toBeGreaterThan(1_000_000);
    expect(slow.rateBps).toBeLessThanOrEqual(2_200_000);
    // 10% loss on ~100 small probes reads 6-13%: at least 4 × the worst RTT (about 100 ms), more than a
    // clean link's 3 ×, whatever this run's sample read (6 × at 10%: see the recommend test above).
    expect(r.recommend?.latencyMs).toBeGreaterThanOrEqual(400);
    // Probes only: the receiver forwarded no SRT data.
    expect(receiver.stats().perGroup.every((g) => g.packetsForwarded === 0)).toBe(true);
  }, 60_000);
});
