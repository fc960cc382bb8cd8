import { describe, expect, it } from 'vitest';
import { SourceRouting, type Uplink, UplinkRouteError, UplinkStateError } from '../../../../src/uplinks/interfaces/index.js';
import { FakeKernel } from './fake-kernel.js';

const ETH0: Uplink = {
  name: 'eth0',
  kind: 'ethernet',
  address: '192.168.1.20',
  prefixLength: 24,
  subnet: '192.168.1.0/24',
  gateway: '192.168.1.1',
  operstate: 'up',
};
const WWAN0: Uplink = { name: 'wwan0', kind: 'cellular', address: '10.64.12.7', prefixLength: 32, operstate: 'unknown' };

function kernel(...links: string[]): FakeKernel {
  const k = new FakeKernel();
  for (const l of links) k.links.add(l);
  return k;
}

describe('SourceRouting', () => {
  it('applies, then a second apply runs no command', async () => {
    const k = kernel('eth0', 'wwan0');
    const routing = new SourceRouting({ ip: k });
    const steps = await routing.apply([ETH0, WWAN0]);
    expect(steps).toHaveLength(5);
    expect(k.ownedRules()).toEqual(['1000 from 192.168.1.20 lookup 100', '1001 from 10.64.12.7 lookup 101']);
    expect(routing.tableOf('wwan0')).toBe(101);
    const before = k.commands.length;
    expect(await routing.apply([ETH0, WWAN0])).toEqual([]);
    expect(k.commands.length).toBe(before);
  });

  it('follows an address change and a removal, and close() leaves nothing in its range', async () => {
    const k = kernel('eth0', 'wwan0');
    const routing = new SourceRouting({ ip: k });
    await routing.apply([ETH0, WWAN0]);
    await routing.apply([ETH0, { ...WWAN0, address: '10.64.99.1' }]);
    expect(k.ownedRules()).toEqual(['1000 from 192.168.1.20 lookup 100', '1001 from 10.64.99.1 lookup 101']);
    k.removeLink('wwan0');
    await routing.apply([ETH0]);
    expect(k.ownedRules()).toEqual(['1000 from 192.168.1.20 lookup 100']);
    await routing.close();
    await routing.close();
    expect(k.ownedRules()).toEqual([]);
    expect(k.routes).toEqual([]);
    expect(k.rules.map((r) => r.priority)).toEqual([0, 32766, 32767]);
    await expect(routing.apply([ETH0])).rejects.toBeInstanceOf(UplinkStateError);
  });

  it('runs one apply at a time, and a burst of requests settles on the last list', async () => {
    const k = kernel('eth0', 'wwan0');
    const routing = new SourceRouting({ ip: k });
    const runs = [routing.apply([ETH0]), routing.apply([ETH0, WWAN0]), routing.apply([WWAN0]), routing.apply([ETH0, WWAN0])];
    await Promise.all(runs);
    expect(k.ownedRules()).toEqual(['1000 from 192.168.1.20 lookup 100', '1001 from 10.64.12.7 lookup 101']);
  });

  it('treats "done already" as done: an interface unplugged since the scan, a rule added elsewhere', async () => {
    const k = kernel('eth0');
    k.rules.push({ priority: 1000, src: '192.168.1.20', table: '100' });
    const routing = new SourceRouting({ ip: k });
    await expect(routing.apply([ETH0, WWAN0])).resolves.toBeDefined(); // wwan0 is not a link of this kernel
    expect(k.ownedRules()).toContain('1000 from 192.168.1.20 lookup 100');
  });

  it('reports UPLINK_ROUTE_FAILED naming the uplink, after running the other steps', async () => {
    const k = kernel('eth0', 'wwan0');
    k.failing.set('route replace default dev wwan0 table 101', 'RTNETLINK answers: Operation not permitted');
    const routing = new SourceRouting({ ip: k });
    const failed: UplinkRouteError[] = [];
    routing.on('failed', (e) => failed.push(e));
    const err = await routing.apply([ETH0, WWAN0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UplinkRouteError);
    expect(err).toMatchObject({ code: 'UPLINK_ROUTE_FAILED' });
    expect((err as Error).message).toMatch(/uplink wwan0.*Operation not permitted/);
    expect(failed).toHaveLength(1);
    expect(k.ownedRules()).toEqual(['1000 from 192.168.1.20 lookup 100', '1001 from 10.64.12.7 lookup 101']);
  });

  it('refuses a table range over the kernel tables', () => {
    expect(() => new SourceRouting({ tableBase: 240, ip: kernel() })).toThrow(/reserved table 253/);
  });
});
