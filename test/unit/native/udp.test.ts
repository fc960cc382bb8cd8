/**
 * The bonded path's batched UDP sockets (src/native/udp.ts): the addon's
 * recvmmsg/sendmmsg socket and its node:dgram fallback keep one contract —
 * every datagram delivered whole and in order with its sender, sends to a
 * target leave in order, oversized datagrams dropped and counted, a handler
 * that throws costs only its own datagram, a bind that cannot happen is a
 * UdpSocketError. Real datagrams on loopback.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../../src/native/index.js';
import { type BatchUdp, type BatchUdpOptions, openBatchUdp, type UdpPeer, UdpSocketError } from '../../../src/native/udp.js';
import { skipWithout } from '../../peers.js';

const skipNative = skipWithout(
  'the batched UDP socket tests (addon)',
  nativeAvailable() ? [] : ['the native addon (npm run build:native)'],
);

interface Got {
  msg: Buffer;
  from: UdpPeer;
}

const kinds: { name: string; native: boolean; skip: boolean }[] = [
  { name: 'the addon (recvmmsg/sendmmsg)', native: true, skip: skipNative },
  { name: 'node:dgram', native: false, skip: false },
];

function payload(i: number, size = 100 + (i % 7) * 150): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(kinds)('batched UDP on $name', ({ native, skip }) => {
  const open: BatchUdp[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  async function socket(
    o: Partial<BatchUdpOptions>,
    onPacket: (msg: Buffer, from: UdpPeer) => void = () => {},
    onError: (e: unknown) => void = () => {},
  ) {
    const s = await openBatchUdp({ family: 4, address: '127.0.0.1', native, ...o }, onPacket, onError);
    open.push(s);
    return s;
  }

  it.skipIf(skip)('delivers every datagram whole, in order, with its sender', async () => {
    const got: Got[] = [];
    const rx = await socket({ coalesceMs: native ? 4 : undefined }, (msg, from) => got.push({ msg: Buffer.from(msg), from: { ...from } }));
    const tx = await socket({});
    expect(rx.batched).toBe(native);
    const to = tx.target('127.0.0.1', rx.port);
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      sent.push(payload(i));
      tx.send(sent[i]!, to);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => got.length === sent.length, `${sent.length} datagrams`);
    expect(got.map((g) => g.msg)).toEqual(sent);
    expect(new Set(got.map((g) => `${g.from.address}:${g.from.port}`))).toEqual(new Set([`127.0.0.1:${tx.port}`]));
    expect(tx.stats().sendErrors).toBe(0);
  });

  it.skipIf(skip)('names the right sender when datagrams from two sockets interleave', async () => {
    const got: Got[] = [];
    const rx = await socket({}, (msg, from) => got.push({ msg: Buffer.from(msg), from: { ...from } }));
    const a = await socket({});
    const b = await socket({});
    const ta = a.target('127.0.0.1', rx.port);
    const tb = b.target('127.0.0.1', rx.port);
    for (let i = 0; i < 40; i++) {
      if (i % 3 === 0) b.send(payload(i, 64), tb);
      else a.send(payload(i, 64), ta);
    }
    await until(() => got.length === 40, '40 datagrams');
    for (const g of got) {
      const i = g.msg.readUInt32BE(0);
      expect(g.from.port, `datagram ${i}`).toBe(i % 3 === 0 ? b.port : a.port);
    }
  });

  it.skipIf(skip)('drops and counts datagrams longer than maxDatagram, keeping the rest', async () => {
    const got: Buffer[] = [];
    const rx = await socket({ maxDatagram: 500 }, (msg) => got.push(Buffer.from(msg)));
    const tx = dgram.createSocket('udp4');
    const send = (b: Buffer) => new Promise<void>((r) => tx.send(b, rx.port, '127.0.0.1', () => r()));
    try {
      await send(payload(1, 400));
      await send(payload(2, 1400));
      await send(payload(3, 500));
      await until(() => got.length === 2 && rx.stats().truncated === 1, 'two kept, one dropped');
    } finally {
      tx.close();
    }
    expect(got.map((b) => b.readUInt32BE(0))).toEqual([1, 3]);
  });

  it.skipIf(skip)('a handler that throws costs only its own datagram', async () => {
    const got: number[] = [];
    const errors: unknown[] = [];
    const rx = await socket(
      {},
      (msg) => {
        const i = msg.readUInt32BE(0);
        if (i === 2) throw new Error('bad packet');
        got.push(i);
      },
      (e) => errors.push(e),
    );
    const tx = await socket({});
    const to = tx.target('127.0.0.1', rx.port);
    for (let i = 0; i < 5; i++) tx.send(payload(i, 32), to);
    await until(() => got.length === 4, 'four datagrams');
    expect(got).toEqual([0, 1, 3, 4]);
    expect(errors).toHaveLength(1);
  });

  it.skipIf(skip)('a port already taken is a UdpSocketError naming it, and changes nothing', async () => {
    const first = await socket({});
    const err = await openBatchUdp(
      { family: 4, address: '127.0.0.1', port: first.port, native },
      () => {},
      () => {},
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UdpSocketError);
    expect((err as UdpSocketError).code).toBe('UDP_SOCKET');
    expect((err as Error).message).toContain(`port ${first.port}`);
    // The first socket still receives.
    const got: number[] = [];
    const rx = await socket({}, (m) => got.push(m.length));
    first.send(payload(0, 77), first.target('127.0.0.1', rx.port));
    await until(() => got.length === 1, 'one datagram');
    expect(got).toEqual([77]);
  });

  it.skipIf(skip)('sends nothing after close and closes twice harmlessly', async () => {
    const got: number[] = [];
    const rx = await socket({}, (m) => got.push(m.length));
    const tx = await openBatchUdp(
      { family: 4, address: '127.0.0.1', native },
      () => {},
      () => {},
    );
    const to = tx.target('127.0.0.1', rx.port);
    await tx.close();
    tx.send(payload(0), to);
    await tx.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([]);
  });
});
