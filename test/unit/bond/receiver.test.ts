import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  controlWord,
  decodeSrtla,
  encodeKeepalive,
  encodeReg1,
  encodeReg2,
  encodeSrtAck,
  encodeSrtData,
  encodeSrtNak,
  SRT_CONTROL,
  SRTLA_TYPE,
  srtDataSeq,
} from '../../../src/bond/protocol.js';
import { BondReceiver } from '../../../src/bond/receiver.js';
import { ReceiverOptionsError } from '../../../src/bond/receiver-errors.js';
import { receiverMetrics } from '../../../src/metrics/receiver-metrics.js';
import { skipWithout } from '../../peers.js';
import { parsePrometheus, sampleOf } from '../metrics/prometheus-text.js';
import { Peer, type Rig, rig, sleep, waitFor } from './receiver-helpers.js';

const noV6 = skipWithout(
  'the dual-stack receiver test',
  Object.values(networkInterfaces()).some((l) => l?.some((a) => a.address === '::1')) ? [] : ['an IPv6 loopback address (::1)'],
);

let current: Rig | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
});

async function setup(opts: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  current = await rig(opts);
  return current;
}

const payload = Buffer.alloc(1316, 0x47);

/** An SRT control packet of the given type with a 16-byte header and a small body. */
function srtControl(type: number, body = 16): Buffer {
  const b = Buffer.alloc(16 + body);
  b.writeUInt16BE(0x8000 | type, 0);
  return b;
}

describe('BondReceiver registration', () => {
  it('REG1 creates a group (sender half + receiver half), REG2 registers each link with REG3', async () => {
    const r = await setup();
    const [a, b, c] = [await r.link(), await r.link(), await r.link()];
    const mine = randomBytes(256);
    const reg2 = await a.request(encodeReg1(mine), [SRTLA_TYPE.REG2]);
    const p = decodeSrtla(reg2);
    if (p?.kind !== 'reg2') throw new Error('expected REG2');
    expect(p.id.subarray(0, 128)).toEqual(mine.subarray(0, 128));
    expect(p.id.subarray(128)).not.toEqual(mine.subarray(128));
    // A resent REG1 (our answer was lost) gets the same group.
    const again = await a.request(encodeReg1(mine), [SRTLA_TYPE.REG2]);
    expect(again).toEqual(reg2);
    for (const l of [a, b, c]) expect(controlWord(await l.request(encodeReg2(p.id), [SRTLA_TYPE.REG3]))).toBe(SRTLA_TYPE.REG3);
    const s = r.receiver.stats();
    expect(s.groups).toBe(1);
    expect(s.links).toBe(3);
    // REG3 is the 2-byte form common senders expect.
    expect(a.peer.of(SRTLA_TYPE.REG3)[0]!.length).toBe(2);
  });

  it('answers REG_NGP to a REG2 for a group it does not know', async () => {
    const r = await setup();
    const a = await r.link();
    const reply = await a.request(encodeReg2(randomBytes(256)), [SRTLA_TYPE.REG_NGP, SRTLA_TYPE.REG3, SRTLA_TYPE.REG_ERR]);
    expect(controlWord(reply)).toBe(SRTLA_TYPE.REG_NGP);
    expect(r.receiver.stats().counters.regNgp).toBe(1);
  });

  it('tells a link it does not know (after a restart) to register again, at most once a second', async () => {
    const r = await setup();
    const a = await r.link();
    for (let i = 0; i < 20; i++) a.send(encodeSrtData(i, payload));
    a.send(encodeKeepalive(1));
    await waitFor(() => a.peer.of(SRTLA_TYPE.REG_NGP).length === 1);
    await sleep(100);
    expect(a.peer.of(SRTLA_TYPE.REG_NGP)).toHaveLength(1);
    expect(r.listener.got).toHaveLength(0);
    expect(r.receiver.stats().counters.unknownSource).toBe(21);
  });

  it('answers REG_ERR: too many links, address already in another group, too many groups', async () => {
    const r = await setup({ maxLinksPerGroup: 2, maxGroups: 2 });
    const [a, b, c] = [await r.link(), await r.link(), await r.link()];
    const id = await r.register([a, b]);
    const refused = [SRTLA_TYPE.REG3, SRTLA_TYPE.REG_ERR, SRTLA_TYPE.REG_NGP];
    expect(controlWord(await c.request(encodeReg2(id), refused))).toBe(SRTLA_TYPE.REG_ERR);
    // c starts a second group; a (in the first) may not join it.
    const id2 = await r.register([c]);
    expect(controlWord(await a.request(encodeReg2(id2), refused))).toBe(SRTLA_TYPE.REG_ERR);
    // A third group: the receiver is full.
    const d = await r.link();
    expect(controlWord(await d.request(encodeReg1(randomBytes(256)), [SRTLA_TYPE.REG2, SRTLA_TYPE.REG_ERR]))).toBe(SRTLA_TYPE.REG_ERR);
    expect(r.receiver.stats().counters.regErr).toBe(3);
  });

  it('rejects bad options with a clear error and opens nothing', () => {
    expect(() => new BondReceiver({ forward: 'http://x' })).toThrow(ReceiverOptionsError);
    expect(() => new BondReceiver({ forward: 'srt://127.0.0.1:9000', reorderMs: -1 })).toThrow(/reorderMs must be from 0/);
    expect(() => new BondReceiver({ forward: 'srt://127.0.0.1:9000', listen: 'nowhere' })).toThrow(/not host:port/);
  });
});

describe('BondReceiver data path', () => {
  it('echoes keepalives unchanged to registered links only', async () => {
    const r = await setup();
    const [a, stranger] = [await r.link(), await r.link()];
    await r.register([a]);
    const ka = encodeKeepalive(123_456_789);
    expect(await a.request(ka, [SRTLA_TYPE.KEEPALIVE])).toEqual(ka);
    stranger.send(ka);
    await sleep(100);
    expect(stranger.peer.of(SRTLA_TYPE.KEEPALIVE)).toHaveLength(0);
  });

  it('sends an SRTLA ACK per link every 10 data packets, naming them', async () => {
    const r = await setup({ reorderMs: 0 });
    const [a, b] = [await r.link(), await r.link()];
    await r.register([a, b]);
    for (let i = 0; i < 25; i++) a.send(encodeSrtData(1000 + i, payload));
    for (let i = 0; i < 9; i++) b.send(encodeSrtData(2000 + i, payload));
    await waitFor(() => a.peer.of(SRTLA_TYPE.ACK).length === 2);
    await waitFor(() => r.listener.got.length === 34);
    await sleep(50);
    const acks = a.peer.of(SRTLA_TYPE.ACK).map((m) => decodeSrtla(m));
    expect(acks).toEqual([
      { kind: 'ack', seqs: [...Array(10).keys()].map((i) => 1000 + i) },
      { kind: 'ack', seqs: [...Array(10).keys()].map((i) => 1010 + i) },
    ]);
    expect(a.peer.of(SRTLA_TYPE.ACK)[0]!.readUInt32BE(0)).toBe(0x91000000);
    expect(b.peer.of(SRTLA_TYPE.ACK)).toHaveLength(0);
  });

  it('forwards each group over its own socket, and sends ACK, NAK and handshake back on every live link', async () => {
    const r = await setup({ reorderMs: 0 });
    const [a, b, c, other] = [await r.link(), await r.link(), await r.link(), await r.link()];
    await r.register([a, b, c]);
    await r.register([other]);
    a.send(encodeSrtData(1, payload));
    b.send(encodeSrtData(2, payload));
    c.send(encodeSrtData(3, payload));
    other.send(encodeSrtData(77, payload));
    await waitFor(() => r.listener.got.length === 4);
    const ports = new Map(r.listener.got.map((g) => [srtDataSeq(g.msg), g.port]));
    expect(new Set([ports.get(1), ports.get(2), ports.get(3)]).size).toBe(1);
    expect(ports.get(77)).not.toBe(ports.get(1));
    const groupPort = ports.get(1)!;

    const reply = (m: Buffer) => r.listener.sock.send(m, groupPort, '127.0.0.1');
    const nak = encodeSrtNak([{ from: 2, to: 2 }]);
    reply(encodeSrtAck(3));
    reply(nak);
    reply(srtControl(SRT_CONTROL.HANDSHAKE, 48));
    const isType = (t: number) => (m: Buffer) => m.length >= 16 && controlWord(m) === (0x8000 | t);
    for (const l of [a, b, c]) {
      await waitFor(() => l.peer.of().some(isType(SRT_CONTROL.ACK)));
      await waitFor(() => l.peer.of().some(isType(SRT_CONTROL.NAK)));
      await waitFor(() => l.peer.of().some(isType(SRT_CONTROL.HANDSHAKE)));
    }
    // Anything else goes on the link that carried data last (c).
    reply(srtControl(SRT_CONTROL.KEEPALIVE));
    await waitFor(() => c.peer.of().some(isType(SRT_CONTROL.KEEPALIVE)));
    await sleep(50);
    expect(a.peer.of().some(isType(SRT_CONTROL.KEEPALIVE))).toBe(false);
    expect(other.peer.of().some(isType(SRT_CONTROL.NAK))).toBe(false);
    const g = r.receiver.stats().perGroup.find((x) => x.links.length === 3)!;
    expect(g).toMatchObject({ naks: 1, nakSeqs: 1, srtAcks: 1, handshakes: 1, packetsForwarded: 3 });
  });

  it('puts packets arriving out of order over different links back in sequence order', async () => {
    const r = await setup({ reorderMs: 200 });
    const [a, b] = [await r.link(), await r.link()];
    await r.register([a, b]);
    a.send(encodeSrtData(100, payload));
    await waitFor(() => r.listener.got.length === 1);
    a.send(encodeSrtData(102, payload));
    a.send(encodeSrtData(103, payload));
    await sleep(30);
    b.send(encodeSrtData(101, payload));
    await waitFor(() => r.listener.got.length === 4);
    expect(r.listener.got.map((g) => srtDataSeq(g.msg))).toEqual([100, 101, 102, 103]);
    // A gap that never fills is given up on after the hold time, not kept forever.
    a.send(encodeSrtData(105, payload));
    await waitFor(() => r.listener.got.length === 5, 2000);
    const reorder = r.receiver.stats().perGroup[0]!.reorder;
    expect(reorder).toMatchObject({ reordered: 1, gapTimeouts: 1, skipped: 1 });
  });
});

describe('BondReceiver liveness', () => {
  it('reaps a group that registered but never sent data', async () => {
    const r = await setup({ pendingGroupTimeoutMs: 200, housekeepingMs: 20 });
    const a = await r.link();
    const id = await r.register([a]);
    await waitFor(() => r.receiver.stats().groups === 0);
    expect(r.receiver.stats().counters.groupsReaped).toBe(1);
    expect(controlWord(await a.request(encodeReg2(id), [SRTLA_TYPE.REG_NGP, SRTLA_TYPE.REG3]))).toBe(SRTLA_TYPE.REG_NGP);
  });

  it('drops a silent link, then the group once no link is left', async () => {
    const r = await setup({ linkTimeoutMs: 300, groupTimeoutMs: 300, housekeepingMs: 20, reorderMs: 0 });
    const [a, b] = [await r.link(), await r.link()];
    await r.register([a, b]);
    a.send(encodeSrtData(1, payload));
    b.send(encodeSrtData(2, payload));
    const t0 = Date.now();
    while (Date.now() - t0 < 500) {
      a.send(encodeKeepalive(Date.now()));
      await sleep(50);
    }
    expect(r.receiver.stats().perGroup[0]!.links.map((l) => l.address)).toEqual([`127.0.0.1:${a.peer.port}`]);
    await waitFor(() => r.receiver.stats().groups === 0, 3000);
    expect(r.receiver.stats().counters).toMatchObject({ linksTimedOut: 2, groupsTimedOut: 1 });
  });
});

describe.skipIf(noV6)('BondReceiver over IPv6', () => {
  it('takes IPv4 and IPv6 links into one group on a dual-stack socket', async () => {
    const listener = await Peer.open();
    const receiver = new BondReceiver({ listen: '[::]:0', forward: `srt://127.0.0.1:${listener.port}`, reorderMs: 0 });
    await receiver.start();
    const v4 = await Peer.open('127.0.0.1');
    const v6 = await Peer.open('::1', 'udp6');
    try {
      const reg2 = new Promise<Buffer>((res) => v4.sock.once('message', res));
      v4.sock.send(encodeReg1(randomBytes(256)), receiver.port, '127.0.0.1');
      const id = (await reg2).subarray(2);
      v4.sock.send(encodeReg2(id), receiver.port, '127.0.0.1');
      v6.sock.send(encodeReg2(id), receiver.port, '::1');
      await waitFor(() => receiver.stats().links === 2);
      v6.sock.send(encodeSrtData(5, payload), receiver.port, '::1');
      await waitFor(() => listener.got.length === 1);
      expect(
        receiver
          .stats()
          .perGroup[0]!.links.map((l) => l.address)
          .sort(),
      ).toEqual([`127.0.0.1:${v4.port}`, `[::1]:${v6.port}`].sort());
    } finally {
      receiver.close();
      for (const p of [listener, v4, v6]) p.close();
    }
  });
});

describe('receiver statistics', () => {
  it('renders per-group and per-link figures in Prometheus text format', async () => {
    const r = await setup({ reorderMs: 0 });
    const a = await r.link();
    await r.register([a]);
    for (let i = 0; i < 5; i++) a.send(encodeSrtData(i, payload));
    await waitFor(() => r.listener.got.length === 5);
    const registry = receiverMetrics(r.receiver);
    const text = await registry.metrics();
    const m = parsePrometheus(text);
    expect(m.get('fieldcast_receive_groups')?.type).toBe('gauge');
    expect(sampleOf(m, 'fieldcast_receive_groups')).toBe(1);
    expect(m.get('fieldcast_receive_group_packets_forwarded_total')?.type).toBe('counter');
    // A group is known by the address that registered it (REG1 came from link a).
    expect(m.get('fieldcast_receive_group_packets_forwarded_total')?.samples).toEqual([
      { labels: { group: '1', from: `127.0.0.1:${a.peer.port}` }, value: 5 },
    ]);
    expect(m.get('fieldcast_receive_link_packets_total')?.samples).toEqual([
      { labels: { group: '1', link: `127.0.0.1:${a.peer.port}` }, value: 5 },
    ]);
    expect(sampleOf(m, 'fieldcast_receive_packets_received_total')).toBeGreaterThanOrEqual(5);
    // Read at scrape time: more data shows at the next scrape with nothing else done.
    for (let i = 5; i < 8; i++) a.send(encodeSrtData(i, payload));
    await waitFor(() => r.listener.got.length === 8);
    expect(sampleOf(parsePrometheus(await registry.metrics()), 'fieldcast_receive_link_packets_total')).toBe(8);
    // The group id is a credential: it never appears in statistics.
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(JSON.stringify(r.receiver.stats())).not.toMatch(/[0-9a-f]{64}/);
  });
});
