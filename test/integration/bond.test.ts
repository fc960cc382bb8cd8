/**
 * End to end through the link emulator (issue 5 "Tests"): a paced TS ->
 * srt-live-transmit (caller) -> BondSender -> 3 lossy emulated cellular links
 * -> BondReceiver -> srt-live-transmit (listener) -> file, checked for
 * continuity-counter errors and SRT drops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BondChain, type ChainOptions, makeTestTs, type StreamResult } from '../../src/bench/bond-venue-chain.js';
import { VENUE_CAPACITY_BPS } from '../../src/linksim/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { waitUntil } from './srt-helpers.js';

const skip = skipWithout('the bonded end-to-end tests', missingTools('srt-live-transmit', 'ffmpeg'));

let dir = '';
let ts = '';
const chains: BondChain[] = [];

beforeAll(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'fieldcast-bond-'));
  ts = join(dir, 'test.ts');
  await makeTestTs(ts, 10_000_000, 24);
}, 120_000);

afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function chain(opts: Partial<ChainOptions> = {}): Promise<BondChain> {
  const c = new BondChain({ workDir: dir, processes: 'in-process', ...opts });
  chains.push(c);
  await c.start();
  return c;
}

function report(name: string, c: BondChain, r: StreamResult): void {
  const rc = c.receiver?.stats().perGroup[0];
  // Shares of everything sent over the run (the live `share` covers the last
  // few seconds, empty once the stream has ended).
  const all = c.senderStats()?.links ?? [];
  const sent = all.reduce((n, l) => n + l.sentPackets, 0);
  const links = all.map((l) => `${l.name} ${((100 * l.sentPackets) / Math.max(1, sent)).toFixed(0)}% ${l.state}`).join(', ');
  console.info(
    `${name}: ${r.inputPackets} packets in, CC errors ${r.ccErrors}; listener received ${r.listener.packets} (unique ${r.listener.unique}), ` +
      `reported lost ${r.listener.lost}, dropped ${r.listener.dropped}; caller retransmitted ${r.caller.retransmitted}; ` +
      `NAKs through the receiver ${rc?.naks ?? '?'} naming ${rc?.nakSeqs ?? '?'} packets; ` +
      `redundant retransmissions held back ${c.senderStats()?.redundantRetransmissions ?? '?'}; ` +
      `held while every link was full ${c.senderStats()?.heldTotal ?? '?'} (${c.senderStats()?.overflowPackets ?? '?'} sent over a full link); links: ${links}`,
  );
}

/** Packets the receiver has had from each emulated link (it knows a link by the relay's address). */
function receivedPerLink(c: BondChain): Map<string, number> {
  const byAddress = new Map((c.receiver?.stats().perGroup[0]?.links ?? []).map((l) => [l.address, l.packets]));
  return new Map(c.sim.stats().map((l) => [l.name, byAddress.get(l.relay) ?? 0]));
}

describe.skipIf(skip)('bonded SRT end to end through emulated cellular links', () => {
  it('carries 60% of the summed capacity with zero continuity errors, over more than its biggest link, as the receiver counts it', async () => {
    const c = await chain();
    const r = await c.stream('sixty', ts, 0.6 * VENUE_CAPACITY_BPS, 15);
    report('60% of capacity', c, r);
    expect(r.problems).toEqual([]);
    expect(r.ccErrors).toBe(0);
    expect(r.listener.dropped).toBe(0);
    // Gaps inside the stream show as CC errors; the last few packets of a session may be cut
    // off when the caller is stopped (nothing after them reveals their loss to SRT in time).
    expect(r.outputBytes).toBeGreaterThanOrEqual(r.inputPackets * 1316 * 0.995);
    // Pictures arrived without a stall once the stream was under way.
    expect(r.arrivals.longestGap(r.startedAt + 2000)).toBeLessThan(500);
    // 9.6 Mbit/s is more than cell-a's 8: the receiver must have had a good share over
    // cell-b too. (cell-c, the slowest and lossiest, carries only what the others cannot:
    // at this load, next to nothing.)
    const got = receivedPerLink(c);
    const total = [...got.values()].reduce((a, b) => a + b, 0);
    console.info(`the receiver had ${[...got].map(([n, p]) => `${n} ${p}`).join(', ')} packets`);
    expect(total).toBeGreaterThanOrEqual(r.listener.unique);
    expect(got.get('cell-a')! / total).toBeGreaterThan(0.5);
    expect(got.get('cell-b')! / total).toBeGreaterThan(0.1);
  }, 90_000);

  it('loses nothing when a link goes dark mid-stream, and the receiver hears that link again after it', async () => {
    const c = await chain();
    let duringOutage: Map<string, number> | undefined;
    // 5 Mbit/s: what the two remaining links (8 Mbit/s together) carry with room for
    // SRT's burst of retransmissions of what was in flight on the dead link.
    const r = await c.stream('dark', ts, 5_000_000, 15, (ms) => {
      if (ms >= 5000 && ms < 5100) c.sim.link('cell-a').set({ outage: 5 });
      if (ms >= 9500 && !duringOutage) duringOutage = receivedPerLink(c);
    });
    report('cell-a dark for 5 s', c, r);
    expect(r.problems).toEqual([]);
    expect(r.ccErrors).toBe(0);
    expect(r.listener.dropped).toBe(0);
    // Gaps inside the stream show as CC errors; the last few packets of a session may be cut
    // off when the caller is stopped (nothing after them reveals their loss to SRT in time).
    expect(r.outputBytes).toBeGreaterThanOrEqual(r.inputPackets * 1316 * 0.995);
    expect(r.arrivals.longestGap(r.startedAt + 2000), 'longest stall in pictures at the listener, ms').toBeLessThan(500);
    // It came back: the receiver got cell-a's packets again after the outage.
    const after = receivedPerLink(c);
    expect(after.get('cell-a')! - duringOutage!.get('cell-a')!).toBeGreaterThan(100);
  }, 90_000);

  it('starts carrying traffic on a link added mid-stream within 2 s, as the receiver counts it', async () => {
    const c = await chain({ senderLinks: ['cell-b', 'cell-c'] });
    let addedAt = 0;
    let carryingAfterMs = Number.POSITIVE_INFINITY;
    let atAdd = 0;
    const r = await c.stream('added', ts, 5_000_000, 12, async (ms) => {
      if (addedAt === 0 && ms >= 4000) {
        addedAt = ms;
        atAdd = receivedPerLink(c).get('cell-a')!;
        await c.sender!.addLink(c.linkOptions('cell-a'));
      }
      // Registration and keepalives count too: it carries traffic once data packets follow them.
      if (addedAt && carryingAfterMs === Number.POSITIVE_INFINITY && receivedPerLink(c).get('cell-a')! > atAdd + 50)
        carryingAfterMs = ms - addedAt;
    });
    report('cell-a added at 4 s', c, r);
    console.info(`the receiver had cell-a's traffic ${carryingAfterMs.toFixed(0)} ms after it was added`);
    expect(r.problems).toEqual([]);
    expect(carryingAfterMs).toBeLessThanOrEqual(2000);
    expect(r.ccErrors).toBe(0);
    expect(r.listener.dropped).toBe(0);
  }, 90_000);

  it('recovers by itself from a receiver restart mid-stream: pictures back within 8 s, continuous after, every link registered with the new one', async () => {
    const c = await chain();
    let phase = 0;
    let registeredAgain = false;
    let stoppedAt = 0;
    c.sender!.on('registered', () => {
      if (phase === 2) registeredAgain = true;
    });
    // What arrives from 10 s on (5 s after the new receiver started) is analysed on its own.
    const r = await c.stream(
      'restart',
      ts,
      4_000_000,
      18,
      async (ms) => {
        if (phase === 0 && ms >= 4000) {
          phase = 1;
          stoppedAt = performance.now();
          c.stopReceiver();
        } else if (phase === 1 && ms >= 5000) {
          phase = 2;
          await c.startReceiver();
        }
      },
      { tailFromMs: 10_000 },
    );
    report('receiver restarted at 4 s', c, r);
    expect(r.problems).toEqual([]);
    expect(registeredAgain).toBe(true);
    // The SRT session went with the old receiver's forwarding socket (the listener knows its
    // peer by address): the caller's new one comes through the new group once both ends have
    // given the old one up, at SRT's 5 s peer-idle timeout (README).
    const back = r.arrivals.resumptionAfter(stoppedAt)!;
    expect(back).toBeDefined();
    console.info(`the listener had no picture for ${back.gapMs.toFixed(0)} ms across the receiver restart (down 1 s)`);
    expect(back.gapMs).toBeLessThan(8000);
    // From then on the stream is whole, and carried for long.
    expect(r.tail!.packets).toBeGreaterThan(5000);
    expect(r.tail!.ccErrors).toBe(0);
    expect(r.arrivals.longestGap(back.atMs + 1000)).toBeLessThan(500);
    // Every link registered with the new receiver. (A link may
    // still be catching up on a late answer at the instant the stream ends: it is given the
    // sender's own re-registration time.)
    const endedAt = Date.now();
    await waitUntil('every link live again', () => c.senderStats()!.links.every((l) => l.state === 'live'), 5000);
    console.info(`every link live ${Date.now() - endedAt} ms after the stream ended`);
    // The new receiver hears all three (4 Mbit/s needs only cell-a's data; the others keep alive).
    const group = c.receiver!.stats().perGroup[0]!;
    expect(group.links.filter((l) => l.live)).toHaveLength(3);
    expect(receivedPerLink(c).get('cell-a')).toBeGreaterThan(2000);
  }, 90_000);
});
