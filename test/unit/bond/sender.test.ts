/**
 * BondSender on loopback against the real BondReceiver: registration,
 * data both ways, de-duplicated return traffic, links added and removed
 * live, refusal, a receiver restart, bad options. A UDP socket stands where
 * the SRT listener would be (it records what the receiver forwards).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BondConfigError, BondLinkError } from '../../../src/bond/errors.js';
import {
  decodeSrtla,
  encodeReg2,
  encodeShortReply,
  encodeSrtAck,
  encodeSrtData,
  encodeSrtNak,
  srtDataSeq,
} from '../../../src/bond/protocol.js';
import { BondReceiver } from '../../../src/bond/receiver.js';
import { BondSender, SENDER_TIMING } from '../../../src/bond/sender.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { skipWithout } from '../../peers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A socket with a receive buffer as large as an SRT listener's: the receiver forwards a released hold as one burst. */
async function udp(host = '127.0.0.1', type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
  const s = createSocket({ type, recvBufferSize: 4 << 20 });
  await new Promise<void>((r) => s.bind(0, host, r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The SRT listener's seat: records forwarded data, can answer the receiver's group socket. */
async function listenerSeat(host = '127.0.0.1', type: 'udp4' | 'udp6' = 'udp4') {
  const sock = await udp(host, type);
  const seqs = new Set<number>();
  let peer: RemoteInfo | undefined;
  sock.on('message', (m, r) => {
    peer = r;
    const s = srtDataSeq(m);
    if (s !== undefined) seqs.add(s);
  });
  return {
    sock,
    seqs,
    port: sock.address().port,
    reply: (b: Buffer) => peer && sock.send(b, peer.port, peer.address),
  };
}

async function receiver(forwardPort: number, opts: { listen?: string; maxLinksPerGroup?: number } = {}): Promise<BondReceiver> {
  const r = new BondReceiver({ listen: opts.listen ?? '127.0.0.1:0', forward: `127.0.0.1:${forwardPort}`, reorderMs: 20, ...opts });
  await r.start();
  cleanups.push(() => r.close());
  return r;
}

async function sender(receiverAddr: string, links: { name: string; bind?: string }[]): Promise<{ s: BondSender; port: number }> {
  const s = new BondSender({ receiver: receiverAddr, links });
  cleanups.push(() => s.close());
  const port = await s.start();
  return { s, port };
}

/** An SRT caller's seat: sends numbered data packets to the sender, records what comes back. */
async function caller(senderPort: number, host = '127.0.0.1', type: 'udp4' | 'udp6' = 'udp4') {
  const sock = await udp(host, type);
  const back: Buffer[] = [];
  sock.on('message', (m) => back.push(m));
  let seq = 1;
  return {
    back,
    port: sock.address().port,
    send(n: number) {
      for (let i = 0; i < n; i++) sock.send(encodeSrtData(seq++, Buffer.alloc(1316, 0x47)), senderPort, host);
    },
    /** An SRT retransmission (the flag set) of `s`. */
    resend(s: number) {
      sock.send(encodeSrtData(s, Buffer.alloc(1316, 0x47), 0, true), senderPort, host);
    },
    get next() {
      return seq;
    },
  };
}

/** A listener seat, a receiver forwarding to it, and a sender with links a and b, both live. */
async function twoLinkBond() {
  const seat = await listenerSeat();
  const r = await receiver(seat.port);
  const { s, port } = await sender(r.address, [
    { name: 'a', bind: '127.0.0.1' },
    { name: 'b', bind: '127.0.0.2' },
  ]);
  await until('both links live', () => s.stats().links.every((l) => l.state === 'live'));
  return { seat, r, s, port };
}

describe('BondSender with the bonding receiver on loopback', () => {
  it('registers every link, carries data, and passes each return packet to the caller once', async () => {
    const { seat, r, s, port } = await twoLinkBond();
    expect(s.stats().group).toBe('registered');
    const c = await caller(port);
    c.send(200);
    await until('data at the listener', () => seat.seqs.size === 200);
    // A NAK and an ACK from the listener come back over both links; the caller sees each once.
    const nak = encodeSrtNak([{ from: 5, to: 7 }], 0, 1234);
    seat.reply(nak);
    seat.reply(encodeSrtAck(201, 1, 0, true));
    await until('return traffic', () => c.back.length >= 2);
    // Both copies of each (one per link) have arrived once the second is counted as a duplicate.
    await until('the second copies', () => s.stats().duplicatesDropped === 2);
    await sleep(300);
    expect(c.back.filter((b) => b.equals(nak))).toHaveLength(1);
    expect(c.back).toHaveLength(2);
    const st = s.stats();
    expect(st.duplicatesDropped).toBe(2);
    expect(st.packetsToCaller).toBe(2);
    expect(st.caller).toBe(`127.0.0.1:${c.port}`);
    expect(st.links.map((l) => l.target)).toEqual([r.address, r.address]);
    // Each link measured its RTT (from keepalive echoes).
    for (const l of st.links) expect(l.rttMs).toEqual(expect.any(Number));
    expect(st.links.reduce((a, l) => a + l.sentPackets, 0)).toBe(200);
    expect(s.capacityBps()).toBeGreaterThan(0);
  });

  it('holds a burst no link has room for and releases all of it as the links drain', async () => {
    const { seat, s, port } = await twoLinkBond();
    const c = await caller(port);
    // Far more than two fresh links' estimated rate x 150 ms: most of it must wait in the sender.
    c.send(600);
    await until('every packet at the listener', () => seat.seqs.size === 600);
    const st = s.stats();
    expect(st.heldPackets).toBe(0);
    expect(st.heldTotal).toBeGreaterThan(50);
    expect(st.unroutedPackets).toBe(0);
    expect(st.links.reduce((a, l) => a + l.sentPackets, 0)).toBe(600);
  });

  it('keeps the stream whole while links are removed and added live', async () => {
    const { seat, s, port } = await twoLinkBond();
    const c = await caller(port);
    const pump = setInterval(() => c.send(5), 5);
    cleanups.push(() => clearInterval(pump));
    await sleep(300);
    expect(s.removeLink('a')).toBe(true);
    await sleep(300);
    await s.addLink({ name: 'c', bind: '127.0.0.3' });
    await until('link c live', () => s.stats().links.find((l) => l.name === 'c')?.state === 'live', 3000);
    expect(s.removeLink('b')).toBe(true);
    await sleep(500);
    clearInterval(pump);
    await until('everything at the listener', () => seat.seqs.size === c.next - 1, 3000);
    expect(s.stats().links.map((l) => l.name)).toEqual(['c']);
    expect(s.stats().links[0]!.sentPackets).toBeGreaterThan(0);
    expect(s.stats().unroutedPackets).toBe(0);
  });

  it('reports a refused link in words and keeps the others', async () => {
    const seat = await listenerSeat();
    const r = await receiver(seat.port, { maxLinksPerGroup: 1 });
    const refused: string[] = [];
    const s = new BondSender({
      receiver: r.address,
      links: [
        { name: 'a', bind: '127.0.0.1' },
        { name: 'b', bind: '127.0.0.2' },
      ],
    });
    cleanups.push(() => s.close());
    s.on('refused', (e) => refused.push(e.code));
    await s.start();
    await until('a refusal', () => refused.length > 0);
    expect(refused[0]).toBe('BOND_REFUSED');
    const st = s.stats();
    expect(st.links.filter((l) => l.state === 'live')).toHaveLength(1);
    expect(st.links.find((l) => l.state !== 'live')!.why).toMatch(/refused/);
  });

  it('registers again by itself after the receiver restarts', async () => {
    const seat = await listenerSeat();
    let r = await receiver(seat.port);
    const port0 = r.port;
    const { s, port } = await sender(r.address, [
      { name: 'a', bind: '127.0.0.1' },
      { name: 'b', bind: '127.0.0.2' },
    ]);
    await until('links live', () => s.stats().links.every((l) => l.state === 'live'));
    const c = await caller(port);
    c.send(10);
    await until('first data', () => seat.seqs.size === 10);
    let registrations = 0;
    s.on('registered', () => registrations++);
    r.close();
    await sleep(200);
    r = await receiver(seat.port, { listen: `127.0.0.1:${port0}` });
    await until('re-registered', () => registrations > 0 && s.stats().links.every((l) => l.state === 'live'), 12_000);
    // Every link hears "no such group": the sender starts over once, not once per link.
    await sleep(300);
    expect(registrations).toBe(1);
    expect(r.stats().counters.regGroups).toBe(1);
    const before = seat.seqs.size;
    c.send(10);
    await until('data after the restart', () => seat.seqs.size === before + 10);
  }, 20_000);

  it('rejects bad options with clear errors and changes nothing', async () => {
    expect(() => new BondSender({ receiver: 'nowhere', links: [] })).toThrow(InvalidInputError);
    expect(() => new BondSender({ receiver: '127.0.0.1:5000', links: [{ name: 'a' }, { name: 'a' }] })).toThrow(BondConfigError);
    const seat = await listenerSeat();
    const r = await receiver(seat.port);
    const { s } = await sender(r.address, []);
    await expect(s.addLink({ name: 'x', bind: 'not-an-ip' })).rejects.toThrow(BondConfigError);
    await expect(s.addLink({ name: 'y', interface: 'nosuchif0' })).rejects.toThrow(BondLinkError);
    await expect(s.addLink({ name: 'z', bind: '192.0.2.55' })).rejects.toThrow(/cannot send from 192\.0\.2\.55/);
    await expect(s.addLink({ name: 'p', bind: '127.0.0.1', priority: 12 })).rejects.toThrow(/priority/);
    expect(s.stats().links).toHaveLength(0);
    await s.addLink({ name: 'lo', interface: 'lo' });
    await until('lo live', () => s.stats().links[0]?.state === 'live');
    expect(s.stats().links[0]!.local).toBe('127.0.0.1');
  });

  const noV6 = skipWithout(
    'the IPv6 bonding test',
    Object.values(networkInterfaces()).some((l) => l?.some((a) => a.address === '::1')) ? [] : ['an IPv6 loopback address (::1)'],
  );
  it.skipIf(noV6)('works over IPv6', async () => {
    const seat = await listenerSeat();
    const r = await receiver(seat.port, { listen: '[::1]:0' });
    const s = new BondSender({ receiver: r.address, links: [{ name: 'v6', bind: '::1' }], listen: '[::1]:0' });
    cleanups.push(() => s.close());
    const port = await s.start();
    await until('v6 live', () => s.stats().links[0]?.state === 'live');
    const c = await caller(port, '::1', 'udp6');
    c.send(20);
    await until('data', () => seat.seqs.size === 20);
    expect(r.address).toBe(`[::1]:${r.port}`);
    expect(s.stats().links[0]!.target).toBe(r.address);
    expect(s.stats().caller).toBe(`[::1]:${c.port}`);
  });
});

/**
 * A bonding receiver that registers links and echoes keepalives but never
 * acknowledges data (no SRTLA ACK, no SRT ACK): what the sender sends stays
 * in flight, so once the links' in-flight caps are reached they stay full.
 */
async function silentReceiver() {
  const sock = await udp();
  sock.on('message', (m, r) => {
    const reply = (b: Buffer) => sock.send(b, r.port, r.address);
    const p = decodeSrtla(m);
    if (p?.kind === 'reg1') reply(encodeReg2(Buffer.concat([p.id.subarray(0, 128), randomBytes(128)])));
    else if (p?.kind === 'reg2') reply(encodeShortReply('reg3'));
    else if (p?.kind === 'keepalive') reply(m);
  });
  return `127.0.0.1:${sock.address().port}`;
}

/** A sender on the silent receiver, its clock in the test's hands: it moves only when `to()` moves it. */
async function heldBond() {
  const receiver = await silentReceiver();
  let now = 10_000;
  const s = new BondSender({
    receiver,
    links: [
      { name: 'a', bind: '127.0.0.1' },
      { name: 'b', bind: '127.0.0.2' },
    ],
    clock: () => now,
  });
  cleanups.push(() => s.close());
  const port = await s.start();
  await until('both links live', () => s.stats().links.every((l) => l.state === 'live'));
  const t0 = now;
  return {
    s,
    port,
    /** Sets the sender's clock to `ms` after the start, then lets its timers (hold retries every 2 ms, keepalives) run. */
    async to(ms: number) {
      now = t0 + ms;
      await sleep(100);
    },
  };
}

describe('BondSender hold limit (README: "holds the excess for up to 400 ms")', () => {
  it('keeps a held packet until it has waited 400 ms, then sends it over a full link, counted', async () => {
    expect(SENDER_TIMING.HOLD_MAX_MS).toBe(400);
    const { s, port, to } = await heldBond();
    const c = await caller(port);
    c.send(600);
    await until('the burst at the sender', () => s.stats().packetsFromCaller === 600);
    await to(0);
    const first = s.stats();
    // Far more than two fresh links' in-flight caps: most of the burst waits.
    expect(first.heldPackets).toBeGreaterThan(300);
    expect(first.overflowPackets).toBe(0);
    expect(first.links.reduce((n, l) => n + l.sentPackets, 0)).toBe(600 - first.heldPackets);
    // 399 ms later the links' virtual queues have drained, so some packets leave, as any would,
    // until the unacknowledged data fills the links again; nothing has been forced out.
    await to(399);
    const before = s.stats();
    expect(before.overflowPackets).toBe(0);
    expect(before.heldPackets).toBeGreaterThan(0);
    expect(before.links.reduce((n, l) => n + l.sentPackets, 0)).toBe(600 - before.heldPackets);
    // At 400 ms every packet still held has waited its limit: all of it leaves, over full links.
    await to(400);
    const after = s.stats();
    expect(after.heldPackets).toBe(0);
    expect(after.overflowPackets).toBe(before.heldPackets);
    expect(after.unroutedPackets).toBe(0);
    expect(after.links.reduce((n, l) => n + l.sentPackets, 0)).toBe(600);
  });

  // releaseHeld() stops at the first packet it cannot send: it must ask the hold for the
  // overdue packets first, or a young held repair keeps older data waiting past the limit.
  it('lets data that has waited 400 ms leave even while a repair held later still waits', async () => {
    const { s, port, to } = await heldBond();
    const c = await caller(port);
    c.send(600);
    await until('the burst at the sender', () => s.stats().packetsFromCaller === 600);
    await to(300);
    const data = s.stats().heldPackets;
    expect(data).toBeGreaterThan(0);
    expect(s.stats().overflowPackets).toBe(0);
    // A repair while the links are still full: it waits too, ahead of new data.
    c.resend(5000);
    await until('the repair held', () => s.stats().heldPackets === data + 1);
    await to(400);
    // The data held at 0 has waited 400 ms: gone; the repair held at 300 has not: still waiting.
    expect(s.stats()).toMatchObject({ heldPackets: 1, overflowPackets: data });
    await to(700);
    expect(s.stats()).toMatchObject({ heldPackets: 0, overflowPackets: data + 1, unroutedPackets: 0 });
  });
});
