import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkSimConfigError } from '../../../src/linksim/errors.js';
import { LinkSim } from '../../../src/linksim/linksim.js';
import { VENUE_LINKS } from '../../../src/linksim/presets.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function udp(
  onMessage?: (msg: Buffer, rinfo: dgram.RemoteInfo, sock: dgram.Socket) => void,
): Promise<{ sock: dgram.Socket; port: number }> {
  const sock = dgram.createSocket('udp4');
  if (onMessage) sock.on('message', (m, r) => onMessage(m, r, sock));
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  cleanups.push(() => sock.close());
  return { sock, port: sock.address().port };
}

/** An echo server standing in for the receiver. */
async function echoServer(): Promise<{ port: number; received: number[] }> {
  const received: number[] = [];
  const { port } = await udp((msg, rinfo, sock) => {
    received.push(msg.readUInt32BE(0));
    sock.send(msg, rinfo.port, rinfo.address);
  });
  return { port, received };
}

async function sim(config: ConstructorParameters<typeof LinkSim>[0]): Promise<LinkSim> {
  const s = new LinkSim(config);
  cleanups.push(() => s.close());
  await s.start();
  return s;
}

function viaPort(s: LinkSim, name: string): number {
  return Number(s.link(name).address.split(':').pop());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function packet(i: number, size = 200): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(i, 0);
  return b;
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('LinkSim over loopback', () => {
  it('relays both ways with delay and jitter, keeping order when reorder is off', async () => {
    const echo = await echoServer();
    const s = await sim({
      target: `127.0.0.1:${echo.port}`,
      links: [{ name: 'a', up: { delayMs: 5, jitterMs: 4 }, down: { delayMs: 5, jitterMs: 4 } }],
    });
    const back: number[] = [];
    const sentAt: number[] = [];
    const rtt: number[] = [];
    const client = await udp((msg) => {
      const i = msg.readUInt32BE(0);
      back.push(i);
      rtt[i] = performance.now() - sentAt[i]!;
    });
    for (let i = 0; i < 300; i++) {
      sentAt[i] = performance.now();
      client.sock.send(packet(i), viaPort(s, 'a'), '127.0.0.1');
      if (i % 20 === 0) await sleep(2);
    }
    await waitFor(() => back.length === 300);
    expect(echo.received).toEqual([...Array(300).keys()]);
    expect(back).toEqual([...Array(300).keys()]);
    // Each way takes at least its delay less its jitter (5 - 4 ms): no packet came back sooner than 2 ms.
    expect(Math.min(...rtt)).toBeGreaterThanOrEqual(2);
    const st = s.link('a').stats();
    expect(st.up.delivered).toBe(300);
    expect(st.down.delivered).toBe(300);
    expect(st.peer).toBe(`127.0.0.1:${client.port}`);
  });

  it('drops the same packets for the same seed (a run repeats)', async () => {
    async function run(seed: number): Promise<number[]> {
      const echo = await echoServer();
      const s = await sim({ seed, target: `127.0.0.1:${echo.port}`, links: [{ name: 'a', up: { loss: 0.2, burst: 3 } }] });
      const client = await udp();
      for (let i = 0; i < 500; i++) {
        client.sock.send(packet(i), viaPort(s, 'a'), '127.0.0.1');
        if (i % 25 === 0) await sleep(1);
      }
      await waitFor(() => s.link('a').stats().up.packetsIn === 500);
      await waitFor(() => echo.received.length === s.link('a').stats().up.delivered);
      const st = s.link('a').stats().up;
      expect(st.droppedLoss + st.delivered).toBe(500);
      return echo.received;
    }
    const a = await run(42);
    const b = await run(42);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(300);
    expect(a.length).toBeLessThan(480);
  });

  it('tail-drops beyond the queue when offered a burst over the rate', async () => {
    const echo = await echoServer();
    const s = await sim({
      target: `127.0.0.1:${echo.port}`,
      links: [{ name: 'a', up: { rate: '1M', queuePackets: 20, queueMs: 10_000, burstBytes: 1500 } }],
    });
    const client = await udp();
    // 100 x 200 bytes in one go (the relay reads them together, the socket buffer holds them), far over 1 Mbit/s.
    for (let i = 0; i < 100; i++) client.sock.send(packet(i, 200), viaPort(s, 'a'), '127.0.0.1');
    await waitFor(() => s.link('a').stats().up.packetsIn === 100);
    const queued = s.link('a').stats().up.queuePackets;
    expect(queued).toBeLessThanOrEqual(20);
    await waitFor(() => s.link('a').stats().up.queuePackets === 0);
    const st = s.link('a').stats().up;
    // The bucket (1500 bytes) lets about seven packets straight through, the queue holds 20;
    // the relay reads the burst in a few event-loop turns, during which the queue drains a little.
    expect(st.delivered).toBeGreaterThanOrEqual(20);
    expect(st.delivered).toBeLessThanOrEqual(45);
    expect(st.droppedQueue).toBe(100 - st.delivered);
    await waitFor(() => echo.received.length === st.delivered);
    expect(echo.received.slice(0, 20)).toEqual([...Array(20).keys()]);
    expect([...echo.received].sort((a, b) => a - b)).toEqual(echo.received);
  });

  it('follows its schedule: an outage drops both directions, then the link comes back', async () => {
    const echo = await echoServer();
    const s = await sim({ target: `127.0.0.1:${echo.port}`, links: [{ name: 'a', schedule: [{ at: 0.3, outage: 0.4 }] }] });
    const sent: { i: number; t: number }[] = [];
    const back = new Set<number>();
    const client = await udp((msg) => back.add(msg.readUInt32BE(0)));
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < 1000; i++) {
      sent.push({ i, t: performance.now() - t0 });
      client.sock.send(packet(i), viaPort(s, 'a'), '127.0.0.1');
      await sleep(10);
    }
    await sleep(100);
    const st = s.link('a').stats();
    expect(st.up.droppedOutage).toBeGreaterThan(10);
    // Well clear of the edges (timers on a busy machine), everything came back before and after, nothing during.
    const before = sent.filter(({ t }) => t < 0.25 * 1000);
    const during = sent.filter(({ t }) => t > 0.35 * 1000 && t < 0.65 * 1000);
    const after = sent.filter(({ t }) => t > 0.8 * 1000);
    for (const phase of [before, during, after]) expect(phase.length).toBeGreaterThanOrEqual(3);
    expect(before.filter(({ i }) => !back.has(i))).toEqual([]);
    expect(during.filter(({ i }) => back.has(i))).toEqual([]);
    expect(after.filter(({ i }) => !back.has(i))).toEqual([]);
  });

  it('changes live through set(), and rejects a bad change without applying any of it', async () => {
    const echo = await echoServer();
    const s = await sim({ target: `127.0.0.1:${echo.port}`, links: [{ name: 'a' }] });
    const link = s.link('a');
    expect(() => link.set({ up: { delayMs: 10, loss: 7 } })).toThrow(LinkSimConfigError);
    expect(() => link.set({ up: { delayMs: 10 }, down: { rate: 'fast' } })).toThrow(/down.*rate/);
    const client = await udp();
    client.sock.send(packet(1), viaPort(s, 'a'), '127.0.0.1');
    await waitFor(() => echo.received.length === 1);
    link.set({ up: { loss: 1 } });
    for (let i = 2; i < 20; i++) client.sock.send(packet(i), viaPort(s, 'a'), '127.0.0.1');
    await waitFor(() => link.stats().up.packetsIn === 19);
    expect(link.stats().up.droppedLoss).toBe(18);
    expect(() => s.link('nope')).toThrow(/no emulated link named "nope"/);
  });
});

describe('LinkSim config', () => {
  it('names each bad key', () => {
    let err: unknown;
    try {
      new LinkSim({ links: [{ name: 'a', up: { rate: '8 parsecs', loss: 2 } }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LinkSimConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('links.0.up.rate');
    expect(msg).toContain('links.0.up.loss');
    // Cross-field checks run once every field is valid.
    expect(() => new LinkSim({ links: [{ name: 'a' }, { name: 'a' }] })).toThrow(/links\.1\.name: link names must be unique/);
    expect(() => new LinkSim({ links: [{ name: 'a' }] })).toThrow(/links\.0\.target: no target here/);
  });

  it('expresses the bond-venue links as a preset', () => {
    const s = new LinkSim({ target: '127.0.0.1:5000', links: [...VENUE_LINKS] });
    expect(s.config.links.map((l) => l.name)).toEqual(['cell-a', 'cell-b', 'cell-c']);
    expect(s.config.links[0]!.up).toMatchObject({ rate: 8_000_000, delayMs: 20, jitterMs: 10, loss: 0.005, burst: 3 });
    expect(s.config.links[2]!.up).toMatchObject({ rate: 3_000_000, delayMs: 60, loss: 0.03, burst: 10 });
  });
});
