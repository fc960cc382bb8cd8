import { afterAll, describe, expect, it } from 'vitest';
import { gatewaysByInterface, isLinkUp } from '../../../../src/uplinks/interfaces/discovery.js';
import { discoverInterfaces, UplinkDiscoveryError } from '../../../../src/uplinks/interfaces/index.js';
import { parseRouteShow } from '../../../../src/uplinks/interfaces/ip-json.js';
import { ADDR_SHOW, addrJson, BOX, FakeIp, fakeSysfs, ROUTE_SHOW } from './fake-net.js';

const sys = fakeSysfs(BOX);
afterAll(() => sys.remove());

const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '192.168.1.1', dev: 'eth0', protocol: 'dhcp', metric: 100, flags: [] },
  { dst: 'default', gateway: '192.168.1.254', dev: 'eth0', metric: 50, flags: [] },
  { dst: 'default', gateway: '10.64.0.1', dev: 'wwan0', metric: 700, flags: [] },
  { dst: '192.168.1.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.168.1.20', flags: [] },
]);

describe('discovery', () => {
  it('joins ip addresses, sysfs kinds and per-interface gateways', async () => {
    const ip = new FakeIp();
    ip.replies.set(
      ADDR_SHOW,
      addrJson({
        lo: { index: 1, flags: ['LOOPBACK', 'UP', 'LOWER_UP'], operstate: 'UNKNOWN', inet: ['127.0.0.1/8'] },
        eth0: { index: 2, inet: ['192.168.1.20/24'], inet6: ['fe80::1/64'] },
        wwan0: { index: 5, flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'], operstate: 'UNKNOWN', inet: ['10.64.12.7/29'] },
        ghost0: { index: 9, inet: ['10.9.9.9/24'] },
      }),
    );
    ip.replies.set(ROUTE_SHOW, ROUTES);
    const found = await discoverInterfaces({ sysRoot: sys.root, ip });
    const byName = new Map(found.map((i) => [i.name, i]));
    expect(byName.get('eth0')).toMatchObject({ kind: 'ethernet', up: true, gateway: '192.168.1.254', driver: 'r8169', bus: 'pci' });
    expect(byName.get('eth0')!.addresses.map((a) => `${a.family}:${a.address}`)).toEqual(['4:192.168.1.20', '6:fe80::1']);
    expect(byName.get('wwan0')).toMatchObject({ kind: 'cellular', up: true, operstate: 'unknown', gateway: '10.64.0.1' });
    expect(byName.get('lo')).toMatchObject({ kind: 'virtual' });
    // In ip's list but not in this sysfs: kept, but not a kind any default selection takes.
    expect(byName.get('ghost0')).toMatchObject({ kind: 'other' });
  });

  it('reports a failing ip as UPLINK_DISCOVERY_FAILED', async () => {
    const ip = new FakeIp();
    ip.replies.set(ADDR_SHOW, new Error('boom'));
    await expect(discoverInterfaces({ sysRoot: sys.root, ip })).rejects.toMatchObject({ code: 'UPLINK_DISCOVERY_FAILED' });
    await expect(discoverInterfaces({ sysRoot: sys.root, ip })).rejects.toBeInstanceOf(UplinkDiscoveryError);
  });

  it('takes the lowest-metric IPv4 default per interface, ignoring other tables and IPv6', () => {
    const routes = parseRouteShow(
      JSON.stringify([
        { dst: 'default', gateway: '10.0.0.1', dev: 'a', metric: 10, flags: [] },
        { dst: 'default', gateway: '10.0.0.9', dev: 'a', metric: 5, flags: [] },
        { dst: 'default', gateway: '10.1.0.1', dev: 'b', table: '100', flags: [] },
        { dst: 'default', gateway: 'fe80::1', dev: 'c', flags: [] },
        { type: 'unreachable', dst: 'default', metric: 1, flags: [] },
      ]),
    );
    expect([...gatewaysByInterface(routes)]).toEqual([['a', '10.0.0.9']]);
  });

  it('counts a point-to-point link in operstate unknown as up, unless it lost carrier or was set down', () => {
    expect(isLinkUp('unknown', true, undefined)).toBe(true);
    expect(isLinkUp('unknown', true, false)).toBe(false);
    expect(isLinkUp('up', false, true)).toBe(false);
    expect(isLinkUp('lowerlayerdown', true, false)).toBe(false);
  });

  it('survives junk from ip', async () => {
    const ip = new FakeIp();
    ip.replies.set(ADDR_SHOW, '[{"ifindex":"x"}, 3, null, {"ifname":"eth0","ifindex":2,"addr_info":[{"family":"inet"}]}]');
    ip.replies.set(ROUTE_SHOW, 'not json');
    const found = await discoverInterfaces({ sysRoot: sys.root, ip });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ name: 'eth0', addresses: [] });
  });
});
