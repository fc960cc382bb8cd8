import { describe, expect, it } from 'vitest';
import { parseMonitorLine } from '../../../../src/uplinks/interfaces/index.js';
import { LineSplitter, MAX_LINE_LENGTH } from '../../../../src/uplinks/interfaces/monitor-lines.js';

describe('ip monitor line parser', () => {
  it('reads the text output of iproute2 without JSON monitor support', () => {
    expect(parseMonitorLine('5: vc@vd: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default ')).toEqual({
      kind: 'link',
      deleted: false,
      ifname: 'vc',
    });
    expect(parseMonitorLine('Deleted 7: vc@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default')).toEqual({
      kind: 'link',
      deleted: true,
      ifname: 'vc',
    });
    expect(parseMonitorLine('3: wwan0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN')).toMatchObject({
      kind: 'link',
      ifname: 'wwan0',
    });
    expect(parseMonitorLine('5: vc    inet 10.0.3.1/24 scope global vc')).toEqual({ kind: 'address', deleted: false, ifname: 'vc' });
    expect(parseMonitorLine('Deleted 5: vc    inet6 fe80::6803:efff:fe7a:caab/64 scope link tentative ')).toEqual({
      kind: 'address',
      deleted: true,
      ifname: 'vc',
    });
    expect(parseMonitorLine('default via 10.0.1.2 dev va proto dhcp metric 100')).toEqual({ kind: 'route', deleted: false, ifname: 'va' });
    expect(parseMonitorLine('10.0.3.0/24 dev vc proto kernel scope link src 10.0.3.1 linkdown ')).toMatchObject({
      kind: 'route',
      ifname: 'vc',
    });
    expect(parseMonitorLine('Deleted local 10.0.3.1 dev vc table local proto kernel scope host src 10.0.3.1 ')).toEqual({
      kind: 'route',
      deleted: true,
      ifname: 'vc',
    });
    expect(parseMonitorLine('Deleted multicast ff00::/8 dev vd table local proto kernel metric 256 pref medium')).toMatchObject({
      kind: 'route',
      ifname: 'vd',
    });
    expect(parseMonitorLine('unreachable default table 100')).toEqual({ kind: 'route', deleted: false });
    expect(parseMonitorLine('[LINK]5: vc@vd: <UP> mtu 1500')).toMatchObject({ kind: 'link', ifname: 'vc' });
  });

  it('reads JSON events', () => {
    expect(parseMonitorLine('{"ifindex":5,"ifname":"wwan0","flags":["UP"],"link_type":"none"}')).toEqual({
      kind: 'link',
      deleted: false,
      ifname: 'wwan0',
    });
    expect(parseMonitorLine('{"deleted":true,"ifindex":5,"ifname":"vc","addr_info":[{"family":"inet","local":"10.0.3.1"}]}')).toEqual({
      kind: 'address',
      deleted: true,
      ifname: 'vc',
    });
    expect(parseMonitorLine('{"dst":"default","gateway":"10.0.1.2","dev":"va","flags":[]}')).toEqual({
      kind: 'route',
      deleted: false,
      ifname: 'va',
    });
  });

  it('ignores continuation lines and anything malformed, never throws', () => {
    const junk = [
      '',
      '   ',
      '    link/ether 6a:03:ef:7a:ca:ab brd ff:ff:ff:ff:ff:ff',
      '       valid_lft forever preferred_lft forever',
      '{"ifindex":5,"ifname":',
      '{}',
      '[1,2,3]',
      'null',
      '{"ifname":42}',
      'Deleted ',
      'Deleted',
      '5: garbage',
      '12345 foo',
      'Timestamp: Tue Dec  2 05:11:00 2025 123456 usec',
      '[NEIGH]10.0.0.1 dev eth0 lladdr aa:bb:cc:dd:ee:ff REACHABLE',
      '\u0000\u0001\u0002binary',
      'x'.repeat(MAX_LINE_LENGTH + 1),
      'ip: cannot open netlink socket',
    ];
    for (const line of junk) expect(parseMonitorLine(line), JSON.stringify(line.slice(0, 40))).toBeUndefined();
  });

  it('splits chunks into lines across chunk boundaries and bounds a line without an end', () => {
    const s = new LineSplitter();
    expect(s.push('5: vc@vd: <UP> mt')).toEqual([]);
    expect(s.push('u 1500\r\n    link/ether x\nDel')).toEqual(['5: vc@vd: <UP> mtu 1500', '    link/ether x']);
    expect(s.end()).toEqual(['Del']);
    expect(s.push('y'.repeat(MAX_LINE_LENGTH + 10))).toEqual([]);
    expect(s.end()).toEqual([]);
  });
});
