/**
 * Uplinks in real network namespaces: discovery over the box namespace's own
 * sysfs and `ip -n`, source routing applied with `ip`, and proof by packet
 * counters that a datagram sent from each uplink's address leaves by that
 * uplink's interface. Then the monitor must follow an uplink removed, one
 * added and an address changed, and close() must leave no rule or table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIpCommand,
  discoverInterfaces,
  SourceRouting,
  selectUplinks,
  type Uplink,
  UplinkMonitor,
  type UplinkRemovedReason,
} from '../../src/uplinks/interfaces/index.js';
import { skipWithout } from '../peers.js';
import { ip as ipSync, missingForNetns, NetnsRig, type RigUplink } from './netns.js';

const skip = skipWithout('uplinks in network namespaces', missingForNetns());

/** Datagrams per check: far above the few ARP packets an interface sends by itself. */
const N = 50;
/** The monitor reports within about a second; this bound is for a loaded CI machine. */
const EVENT_BOUND_MS = 5000;
const TABLE_BASE = 100;
const TABLE_COUNT = 16;

async function until(what: string, cond: () => boolean, ms = EVENT_BOUND_MS): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

describe.skipIf(skip)('uplinks in network namespaces', () => {
  const rig = new NetnsRig();
  const up: RigUplink[] = [];
  let monitor: UplinkMonitor | undefined;
  let routing: SourceRouting | undefined;
  const events: string[] = [];

  const ownRules = (): Array<{ priority: number; src: string; table: string }> =>
    rig.rules().filter((r) => Number(r.table) >= TABLE_BASE && Number(r.table) < TABLE_BASE + TABLE_COUNT);

  /** Sends N datagrams from `from` and returns how many packets each box interface sent meanwhile. */
  async function sendAndCount(from: string, devs: string[]): Promise<Map<string, number>> {
    const before = new Map(devs.map((d) => [d, rig.txPackets(d)]));
    await rig.send(from, N);
    return new Map(devs.map((d) => [d, rig.txPackets(d) - before.get(d)!]));
  }

  beforeAll(async () => {
    try {
      rig.create();
      // Two uplinks with a default gateway in the main table (fcup0 preferred), one directly connected without.
      up.push(rig.addUplink(0, { defaultMetric: 100 }), rig.addUplink(1, { defaultMetric: 200 }), rig.addUplink(2));
      await rig.startReceiver();
    } catch (err) {
      rig.destroy();
      throw err;
    }
  });

  afterAll(async () => {
    try {
      monitor?.close();
      await Promise.race([routing?.close(), new Promise((r) => setTimeout(r, 5000))]);
    } finally {
      rig.destroy();
    }
  });

  it('discovers the veths of the box namespace and takes them as uplinks when named', async () => {
    const ip = createIpCommand({ netns: rig.box });
    const found = await discoverInterfaces({ sysRoot: rig.sysRoot, ip });
    const names = found.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['lo', 'fcup0', 'fcup1', 'fcup2']));
    expect(found.find((i) => i.name === 'fcup0')).toMatchObject({ kind: 'virtual', up: true, gateway: '10.201.0.2' });
    expect(selectUplinks(found, {})).toEqual([]); // veths are not uplinks by default
    const uplinks = selectUplinks(found, { interfaces: ['fcup*'] });
    expect(uplinks.map((u) => [u.name, u.address, u.subnet, u.gateway])).toEqual([
      ['fcup0', '10.201.0.1', '10.201.0.0/30', '10.201.0.2'],
      ['fcup1', '10.201.1.1', '10.201.1.0/30', '10.201.1.2'],
      ['fcup2', '10.201.2.1', '10.201.2.0/30', undefined],
    ]);
  });

  it('without source routing, a datagram from the second uplink leaves by the main default (the first)', async () => {
    const tx = await sendAndCount(up[1]!.address, ['fcup0', 'fcup1', 'fcup2']);
    expect(tx.get('fcup0')).toBeGreaterThanOrEqual(N);
    expect(tx.get('fcup1')).toBeLessThan(N / 5);
  });

  it('with source routing, each uplink sends by its own interface', async () => {
    const ip = createIpCommand({ netns: rig.box });
    monitor = new UplinkMonitor({ sysRoot: rig.sysRoot, ip, interfaces: ['fcup*'] });
    routing = new SourceRouting({ ip, tableBase: TABLE_BASE, tableCount: TABLE_COUNT, priorityBase: 1000 });
    monitor.on('added', (u: Uplink) => events.push(`added ${u.name} ${Date.now()}`));
    monitor.on('removed', (u: Uplink, why: UplinkRemovedReason) => events.push(`removed ${u.name} ${why} ${Date.now()}`));
    monitor.on('changed', (u: Uplink) => events.push(`changed ${u.name} ${Date.now()}`));
    const applied = routing.next('applied', AbortSignal.timeout(EVENT_BOUND_MS));
    await monitor.start();
    expect(monitor.mode).toBe('ip-monitor');
    routing.follow(monitor);
    await applied;

    expect(ownRules().map((r) => `${r.priority} ${r.src} ${r.table}`)).toEqual([
      '1000 10.201.0.1 100',
      '1001 10.201.1.1 101',
      '1002 10.201.2.1 102',
    ]);
    const t101 = rig.tableRoutes().filter((r) => r.table === '101');
    expect(t101).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: 'default', gateway: '10.201.1.2', dev: 'fcup1' }),
        expect.objectContaining({ dst: '10.201.1.0/30', dev: 'fcup1' }),
      ]),
    );
    expect(rig.tableRoutes().filter((r) => r.table === '102')).toEqual(
      expect.arrayContaining([expect.objectContaining({ dst: 'default', dev: 'fcup2' })]),
    );
    // A second run over the settled state changes nothing.
    expect(await routing.apply(monitor.uplinks())).toEqual([]);

    for (const u of up) {
      const tx = await sendAndCount(u.address, ['fcup0', 'fcup1', 'fcup2']);
      for (const [dev, n] of tx) {
        if (dev === u.name) expect(n, `${u.name}: packets on its own interface`).toBeGreaterThanOrEqual(N);
        else expect(n, `${u.name}: packets leaking out of ${dev}`).toBeLessThan(N / 5);
      }
    }
    await until('the receiver has every datagram', () => up.every((u) => rig.receivedFrom(u.address) >= N));
  });

  it('follows an uplink removed and one added: events and rules', async () => {
    const gone = up[1]!;
    const t0 = Date.now();
    rig.removeUplink(gone);
    const removedAfter = await until('the monitor reports fcup1 removed', () => events.some((e) => e.startsWith('removed fcup1 gone')));
    await until('the rule of fcup1 is deleted', () => !ownRules().some((r) => r.src === gone.address));
    expect(removedAfter, 'ms from the link deletion to the event').toBeLessThan(EVENT_BOUND_MS);

    const t1 = Date.now();
    const added = rig.addUplink(3);
    await until('the monitor reports fcup3 added', () => events.some((e) => e.startsWith('added fcup3')));
    await until('fcup3 has its rule', () => ownRules().some((r) => r.src === added.address));
    expect(Date.now() - t1).toBeLessThan(EVENT_BOUND_MS);
    expect(t1).toBeGreaterThanOrEqual(t0);
    // fcup3 takes a table no one held (fcup1's 101 stays reserved in case it returns).
    expect(ownRules().find((r) => r.src === added.address)!.table).toBe('103');
    expect(rig.tableRoutes().some((r) => r.table === '101')).toBe(false);

    const tx = await sendAndCount(added.address, ['fcup0', 'fcup2', 'fcup3']);
    expect(tx.get('fcup3')).toBeGreaterThanOrEqual(N);
    expect(tx.get('fcup0')).toBeLessThan(N / 5);
    up.splice(1, 1, added);
  });

  it('follows an address change: the rule moves to the new address', async () => {
    const u = up.find((x) => x.name === 'fcup2')!;
    const moved = '10.202.2.1';
    ipSync('-n', rig.box, 'addr', 'add', `${moved}/24`, 'dev', u.name);
    ipSync('-n', rig.box, 'addr', 'del', `${u.address}/30`, 'dev', u.name);
    await until('the monitor reports fcup2 changed', () => events.some((e) => e.startsWith('changed fcup2')));
    await until('the rule follows the address', () => {
      const srcs = ownRules().map((r) => r.src);
      return srcs.includes(moved) && !srcs.includes(u.address);
    });
    expect(ownRules().find((r) => r.src === moved)!.table).toBe('102');
    const tx = await sendAndCount(moved, ['fcup0', 'fcup2', 'fcup3']);
    expect(tx.get('fcup2')).toBeGreaterThanOrEqual(N);
  });

  it('a polling monitor sees a new interface too', async () => {
    const ip = createIpCommand({ netns: rig.box });
    const polling = new UplinkMonitor({ sysRoot: rig.sysRoot, ip, interfaces: ['fcup*'], watch: 'poll' });
    try {
      await polling.start();
      expect(polling.mode).toBe('poll');
      const seen: string[] = [];
      polling.on('added', (x) => seen.push(x.name));
      const extra = rig.addUplink(4);
      await until('the polling monitor reports fcup4', () => seen.includes('fcup4'));
      await until('the main monitor gave fcup4 a rule', () => ownRules().some((r) => r.src === extra.address));
    } finally {
      polling.close();
    }
  });

  it('close() leaves no rule and no table behind', async () => {
    monitor!.close();
    monitor!.close();
    expect(monitor!.mode).toBe('closed');
    await routing!.close();
    await routing!.close();
    expect(ownRules()).toEqual([]);
    expect(rig.tableRoutes().filter((r) => Number(r.table) >= TABLE_BASE && Number(r.table) < TABLE_BASE + TABLE_COUNT)).toEqual([]);
    // The main table and the kernel's own rules are as they were.
    expect(rig.rules().map((r) => r.priority)).toEqual([0, 32766, 32767]);
  });
});
