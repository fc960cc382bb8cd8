import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeSrtla,
  decodeSrtNak,
  encodeKeepalive,
  encodeReg1,
  encodeReg2,
  encodeSrtAck,
  encodeSrtData,
  encodeSrtNak,
  isMalformed,
  SRTLA_TYPE,
  srtDataSeq,
} from '../../../src/bond/protocol.js';
import { Prng } from '../../../src/linksim/prng.js';
import { type Rig, rig, sleep, waitFor } from './receiver-helpers.js';

let current: Rig | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
});

const payload = Buffer.alloc(1316, 0x47);

/** Seeded junk: random bytes, truncated real packets, real headers with random bodies. */
function junk(rng: Prng): Buffer {
  const pick = Math.floor(rng.next() * 6);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rng.next() * 256)));
  const cut = (b: Buffer) => b.subarray(0, Math.floor(rng.next() * b.length));
  switch (pick) {
    case 0:
      return bytes(Math.floor(rng.next() * 1500));
    case 1:
      return cut(encodeReg2(bytes(256)));
    case 2: {
      // An SRTLA type with a random body length.
      const b = bytes(Math.floor(rng.next() * 300) + 2);
      b.writeUInt16BE([0x9000, 0x9100, 0x9200, 0x9201, 0x9202, 0x9210, 0x9211, 0x9212, 0x92ff][Math.floor(rng.next() * 9)]!, 0);
      return b;
    }
    case 3:
      return cut(encodeSrtData(Math.floor(rng.next() * 2 ** 31), payload));
    case 4: {
      // SRT control with a random type and body.
      const b = bytes(Math.floor(rng.next() * 64));
      if (b.length >= 2) b.writeUInt16BE(0x8000 | Math.floor(rng.next() * 0x10), 0);
      return b;
    }
    default:
      return cut(
        encodeSrtNak([
          { from: 5, to: 9 },
          { from: 20, to: 20 },
        ]),
      );
  }
}

describe('receiver under hostile input', () => {
  it('a REG1 flood from one address does not lock out a real sender from another', async () => {
    const r = await rig({ reorderMs: 0 });
    current = r;
    const flooder = await r.link('127.0.0.2');
    for (let i = 0; i < 3000; i++) {
      flooder.send(encodeReg1(randomBytes(256)));
      if (i % 200 === 0) await sleep(1);
    }
    await waitFor(() => r.receiver.stats().counters.packetsIn >= 3000 * 0.9);
    const afterFlood = r.receiver.stats();
    expect(afterFlood.groups).toBeLessThanOrEqual(4);
    expect(afterFlood.counters.throttled).toBeGreaterThan(2000);
    expect(afterFlood.blockedAddresses).toBe(1);
    // The real sender registers and streams.
    const [a, b] = [await r.link('127.0.0.1'), await r.link('127.0.0.1')];
    await r.register([a, b]);
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).send(encodeSrtData(i, payload));
    await waitFor(() => r.listener.got.length === 20);
    // The flooder stays shut out while blocked.
    const before = flooder.peer.got.length;
    flooder.send(encodeReg1(randomBytes(256)));
    await sleep(100);
    expect(flooder.peer.got.length).toBe(before);
  });

  it('blocks an address that keeps sending REG2 for groups that do not exist, and only that address', async () => {
    const r = await rig({ reorderMs: 0 });
    current = r;
    const prober = await r.link('127.0.0.5');
    for (let i = 0; i < 60; i++) prober.send(encodeReg2(randomBytes(256)));
    await waitFor(() => r.receiver.stats().counters.packetsIn === 60);
    const s = r.receiver.stats();
    // DEFAULT_REGISTRATION_LIMITS.failureLimit: 20 REG_NGP, then silence.
    expect(prober.peer.of(SRTLA_TYPE.REG_NGP)).toHaveLength(20);
    expect(s.blockedAddresses).toBe(1);
    expect(s.counters.throttled).toBe(40);
    const a = await r.link('127.0.0.1');
    await r.register([a]);
    expect(r.receiver.stats().links).toBe(1);
  });

  it('the protocol decoders survive a seeded fuzz loop without throwing', () => {
    const rng = new Prng(2026);
    let malformed = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = junk(rng);
      const p = decodeSrtla(b);
      if (p !== undefined && isMalformed(p)) malformed++;
      srtDataSeq(b);
      decodeSrtNak(b);
    }
    expect(malformed).toBeGreaterThan(1000);
  });

  it('counts and ignores random and truncated packets on its socket, and still serves a real group', async () => {
    const r = await rig({ reorderMs: 30 });
    current = r;
    const [a, stranger] = [await r.link(), await r.link('127.0.0.3')];
    await r.register([a]);
    a.send(encodeSrtData(0, payload));
    await waitFor(() => r.listener.got.length === 1);
    const rng = new Prng(7);
    for (let i = 0; i < 4000; i++) {
      (i % 2 ? a : stranger).send(junk(rng));
      if (i % 100 === 0) await sleep(1);
    }
    // The listener side too: junk arriving on the group's forwarding socket.
    const groupPort = r.listener.got[0]!.port;
    for (let i = 0; i < 1000; i++) r.listener.sock.send(junk(rng), groupPort, '127.0.0.1');
    await waitFor(() => r.receiver.stats().counters.packetsIn >= 4000 * 0.9);
    await sleep(200);
    const s = r.receiver.stats();
    expect(s.counters.handlerErrors).toBe(0);
    expect(s.counters.malformed + s.perGroup.reduce((n, g) => n + g.malformed, 0)).toBeGreaterThan(500);
    expect(s.counters.unknownSource).toBeGreaterThan(500);

    // A fresh sender registers and its data flows; the old link still works too.
    const [b, c] = [await r.link('127.0.0.4'), await r.link('127.0.0.4')];
    await r.register([b, c]);
    const seen = r.listener.got.length;
    for (let i = 0; i < 10; i++) (i % 2 ? b : c).send(encodeSrtData(500 + i, payload));
    await waitFor(() => r.listener.got.slice(seen).filter((g) => (srtDataSeq(g.msg) ?? -1) >= 500).length === 10);
    expect(await a.request(encodeKeepalive(1), [SRTLA_TYPE.KEEPALIVE])).toEqual(encodeKeepalive(1));
    // Return traffic still reaches the real links.
    r.listener.sock.send(encodeSrtAck(510), r.listener.got.at(-1)!.port, '127.0.0.1');
    await waitFor(() => b.peer.of(0x8002).length > 0 && c.peer.of(0x8002).length > 0);
  });
});
