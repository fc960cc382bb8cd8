/**
 * The receiver behind two emulated links whose delays differ by 40 ms, as
 * cellular links do: with the reorder stage the SRT listener sees sequence
 * order; without it, a gap at nearly every packet (each one a false loss for
 * a listener with no reorder tolerance).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReg1, encodeReg2, encodeSrtData, SRTLA_TYPE, srtDataSeq } from '../../src/bond/protocol.js';
import { BondReceiver } from '../../src/bond/receiver.js';
import { LinkSim } from '../../src/linksim/linksim.js';
import { Link, Peer, sleep, waitFor } from '../unit/bond/receiver-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function run(reorderMs: number): Promise<number[]> {
  const listener = await Peer.open();
  const receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `srt://127.0.0.1:${listener.port}`, reorderMs });
  await receiver.start();
  const sim = new LinkSim({
    seed: 5,
    target: `127.0.0.1:${receiver.port}`,
    links: [
      { name: 'near', up: { delayMs: 10, jitterMs: 2 }, down: { delayMs: 10 } },
      { name: 'far', up: { delayMs: 50, jitterMs: 2 }, down: { delayMs: 50 } },
    ],
  });
  await sim.start();
  const peers = [await Peer.open(), await Peer.open()];
  cleanups.push(() => {
    sim.close();
    receiver.close();
    for (const p of [listener, ...peers]) p.close();
  });
  const links = ['near', 'far'].map((n, i) => new Link(peers[i]!, Number(sim.link(n).address.split(':').pop())));
  const reg2 = await links[0]!.request(encodeReg1(randomBytes(256)), [SRTLA_TYPE.REG2]);
  for (const l of links) await l.request(encodeReg2(reg2.subarray(2)), [SRTLA_TYPE.REG3]);
  const payload = Buffer.alloc(1316);
  for (let i = 0; i < 200; i++) {
    links[i % 2]!.send(encodeSrtData(i, payload));
    await sleep(2);
  }
  await waitFor(() => listener.got.length === 200, 5000);
  return listener.got.map((g) => srtDataSeq(g.msg)!);
}

function outOfOrder(seqs: number[]): number {
  let n = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) n++;
  return n;
}

describe('receiver behind emulated links of different delay', () => {
  it('hands the listener sequence order with the reorder stage, and not without it', async () => {
    const ordered = await run(200);
    expect(ordered).toEqual([...Array(200).keys()]);
    const raw = await run(0);
    expect(raw.slice().sort((a, b) => a - b)).toEqual([...Array(200).keys()]);
    expect(outOfOrder(raw)).toBeGreaterThan(20);
  });
});
