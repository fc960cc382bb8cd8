import { describe, expect, it } from 'vitest';
import {
  checkSelection,
  type DiscoveredInterface,
  diffUplinks,
  type InterfaceKind,
  selectUplinks,
  UplinkConfigError,
  unusableReason,
} from '../../../../src/uplinks/interfaces/index.js';
import { globToRegExp, matchesAny, subnetOf } from '../../../../src/uplinks/interfaces/selection.js';

let nextIndex = 1;
function iface(name: string, kind: InterfaceKind, over: Partial<DiscoveredInterface> = {}, inet = ['10.0.0.2/24']): DiscoveredInterface {
  return {
    name,
    index: nextIndex++,
    kind,
    operstate: 'up',
    adminUp: true,
    up: true,
    addresses: inet.map((a) => ({
      family: 4,
      address: a.split('/')[0]!,
      prefixLength: Number(a.split('/')[1]),
      scope: 'global',
      secondary: false,
    })),
    ...over,
  };
}

const BOX = [
  iface('lo', 'virtual', {}, ['127.0.0.1/8']),
  iface('eth0', 'ethernet', { gateway: '192.168.1.1' }, ['192.168.1.20/24']),
  iface('wlan0', 'wifi', {}, ['172.20.10.3/28']),
  iface('wwan0', 'cellular', {}, ['10.64.12.7/32']),
  iface('usb0', 'cellular', { gateway: '192.168.8.1' }, ['192.168.8.100/24']),
  iface('veth0', 'virtual', {}, ['10.201.0.1/30']),
  iface('veth1', 'virtual', {}, ['10.201.1.1/30']),
  iface('eth1', 'ethernet', { up: false, operstate: 'down' }, ['192.168.2.2/24']),
  iface('eth2', 'ethernet', {}, []),
  iface('eth3', 'ethernet', {}, ['169.254.7.7/16']),
];

const names = (sel: Parameters<typeof selectUplinks>[1]): string[] => selectUplinks(BOX, sel).map((u) => u.name);

describe('uplink selection', () => {
  it('by default takes every usable ethernet, wifi and cellular interface, never a virtual one', () => {
    expect(names({})).toEqual(['eth0', 'wlan0', 'wwan0', 'usb0']);
  });

  it('an explicit list takes interfaces whatever their kind (veths in a lab)', () => {
    expect(names({ interfaces: ['veth*'] })).toEqual(['veth0', 'veth1']);
    expect(names({ interfaces: ['eth0', 'veth1'] })).toEqual(['eth0', 'veth1']);
    expect(names({ interfaces: ['w*'] })).toEqual(['wlan0', 'wwan0']);
  });

  it('ignoreInterfaces wins, with or without a list', () => {
    expect(names({ ignoreInterfaces: ['wlan*', 'usb?'] })).toEqual(['eth0', 'wwan0']);
    expect(names({ interfaces: ['veth*'], ignoreInterfaces: ['veth0'] })).toEqual(['veth1']);
  });

  it('leaves out what is down, has no IPv4 address, or only a link-local one, and says why', () => {
    const all = names({ interfaces: ['eth*'] });
    expect(all).toEqual(['eth0']);
    expect(unusableReason(BOX.find((i) => i.name === 'eth1')!)).toBe('down');
    expect(unusableReason(BOX.find((i) => i.name === 'eth2')!)).toBe('no-address');
    expect(unusableReason(BOX.find((i) => i.name === 'eth3')!)).toBe('no-address');
  });

  it('gives each uplink its address, subnet and gateway; a /32 has no subnet, a gateway is optional', () => {
    const [eth0, , wwan0] = selectUplinks(BOX, {});
    expect(eth0).toMatchObject({ address: '192.168.1.20', prefixLength: 24, subnet: '192.168.1.0/24', gateway: '192.168.1.1' });
    expect(wwan0).toMatchObject({ address: '10.64.12.7', prefixLength: 32 });
    expect(wwan0!.subnet).toBeUndefined();
    expect(wwan0!.gateway).toBeUndefined();
  });

  it('globs: *, ?, sets, ranges and negation; everything else is literal', () => {
    expect(matchesAny('wwan0', ['wwan*'])).toBe(true);
    expect(matchesAny('wwan10', ['wwan?'])).toBe(false);
    expect(matchesAny('usb1', ['usb[01]'])).toBe(true);
    expect(matchesAny('usb2', ['usb[0-1]'])).toBe(false);
    expect(matchesAny('usb2', ['usb[!01]'])).toBe(true);
    expect(matchesAny('eth0', ['eth.'])).toBe(false);
    expect(globToRegExp('a+b').test('a+b')).toBe(true);
  });

  it('rejects a pattern that cannot name an interface, with the key and the value', () => {
    expect(() => checkSelection({ interfaces: ['eth0/1'] })).toThrow(UplinkConfigError);
    expect(() => checkSelection({ interfaces: [''] })).toThrow(/interfaces: ""/);
    expect(() => checkSelection({ ignoreInterfaces: ['usb[0'] })).toThrow(/unclosed/);
    expect(() => checkSelection({ interfaces: ['averyveryverylongname0'] })).toThrow(UplinkConfigError);
    expect(() => checkSelection({ interfaces: ['eth*', 'wwan0'], ignoreInterfaces: ['wlan?'] })).not.toThrow();
  });

  it('computes subnets', () => {
    expect(subnetOf('10.0.1.6', 30)).toBe('10.0.1.4/30');
    expect(subnetOf('192.168.8.100', 24)).toBe('192.168.8.0/24');
    expect(subnetOf('10.0.0.1', 0)).toBe('0.0.0.0/0');
    expect(subnetOf('10.0.0.1', 32)).toBeUndefined();
    expect(subnetOf('fe80::1', 64)).toBeUndefined();
  });

  it('diffs two lists: added, removed, and changes of address, gateway and state', () => {
    const before = selectUplinks(BOX, {});
    const after = selectUplinks(
      BOX.filter((i) => i.name !== 'wlan0').map((i) => {
        if (i.name === 'eth0') return { ...i, gateway: '192.168.1.254' };
        if (i.name === 'usb0')
          return { ...i, operstate: 'unknown' as const, addresses: [{ ...i.addresses[0]!, address: '192.168.8.101' }] };
        return i;
      }),
      {},
    );
    const extra = selectUplinks([iface('eth5', 'ethernet')], {});
    const d = diffUplinks(before, [...after, ...extra]);
    expect(d.added.map((u) => u.name)).toEqual(['eth5']);
    expect(d.removed.map((u) => u.name)).toEqual(['wlan0']);
    expect(d.changed.map((c) => [c.uplink.name, c.changes])).toEqual([
      ['eth0', ['gateway']],
      ['usb0', ['address', 'state']],
    ]);
    expect(diffUplinks(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });
});
