import { afterAll, describe, expect, it } from 'vitest';
import { type Uplink, UplinkMonitor } from '../../../../src/uplinks/interfaces/index.js';
import { ADDR_SHOW, addrJson, BOX, FakeIp, fakeSysfs, ROUTE_SHOW } from './fake-net.js';

const sys = fakeSysfs(BOX);
afterAll(() => sys.remove());

function boxIp(withUsb: boolean): FakeIp {
  const ip = new FakeIp();
  setLinks(ip, withUsb);
  return ip;
}

function setLinks(ip: FakeIp, withUsb: boolean, ethAddress = '192.168.1.20/24'): void {
  ip.replies.set(
    ADDR_SHOW,
    addrJson({
      lo: { index: 1, flags: ['LOOPBACK', 'UP'], operstate: 'UNKNOWN', inet: ['127.0.0.1/8'] },
      eth0: { index: 2, inet: [ethAddress] },
      ...(withUsb ? { usb0: { index: 7, inet: ['192.168.8.100/24'] } } : {}),
    }),
  );
  ip.replies.set(ROUTE_SHOW, JSON.stringify([{ dst: 'default', gateway: '192.168.1.1', dev: 'eth0', flags: [] }]));
}

function record(m: UplinkMonitor): string[] {
  const seen: string[] = [];
  m.on('added', (u) => seen.push(`added ${u.name}`));
  m.on('removed', (u, why) => seen.push(`removed ${u.name} ${why}`));
  m.on('changed', (u, _p, c) => seen.push(`changed ${u.name} ${c.join(',')}`));
  return seen;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('UplinkMonitor', () => {
  it('reports the uplinks at start, then changes read from ip monitor, ignoring junk lines', async () => {
    const ip = boxIp(false);
    const m = new UplinkMonitor({ sysRoot: sys.root, ip, settleMs: 5 });
    const seen = record(m);
    const lists: Array<readonly Uplink[]> = [];
    m.on('uplinks', (l) => lists.push(l));
    const first = await m.start();
    expect(first.map((u) => u.name)).toEqual(['eth0']);
    expect(seen).toEqual(['added eth0']);
    expect(m.mode).toBe('ip-monitor');
    const child = ip.children[0]!;

    setLinks(ip, true);
    const scans = (): number => ip.calls.filter((c) => c === ADDR_SHOW).length;
    const before = scans();
    child.stdout.write('    link/ether 00:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff\n{"ifindex":\n\u0000garbage\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(scans()).toBe(before); // nothing readable: no rescan
    child.stdout.write('7: usb0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP\n');
    await until(() => seen.length === 2);
    expect(seen[1]).toBe('added usb0');
    expect(lists.at(-1)!.map((u) => u.name)).toEqual(['eth0', 'usb0']);

    setLinks(ip, true, '192.168.1.21/24');
    child.stdout.write('Deleted 2: eth0    inet 192.168.1.20/24 scope global eth0\n2: eth0    inet 192.168.1.21/24 scope global eth0\n');
    await until(() => seen.length === 3);
    expect(seen[2]).toBe('changed eth0 address');

    setLinks(ip, false, '192.168.1.21/24');
    child.stdout.write('Deleted 7: usb0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN\n');
    await until(() => seen.length === 4);
    expect(seen[3]).toBe('removed usb0 gone');

    m.close();
    m.close();
    expect(child.killed).toBe('SIGTERM');
    expect(m.mode).toBe('closed');
  });

  it('polls when ip monitor cannot be started', async () => {
    const ip = boxIp(false);
    ip.spawnError = Object.assign(new Error('spawn ip ENOENT'), { code: 'ENOENT' });
    const m = new UplinkMonitor({ sysRoot: sys.root, ip, pollIntervalMs: 20 });
    const seen = record(m);
    await m.start();
    expect(m.mode).toBe('poll');
    setLinks(ip, true);
    await until(() => seen.includes('added usb0'));
    m.close();
    const calls = ip.calls.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(ip.calls.length).toBe(calls); // closed: no more polling
  });

  it('falls back to polling when ip monitor stops', async () => {
    const ip = boxIp(false);
    const m = new UplinkMonitor({ sysRoot: sys.root, ip, pollIntervalMs: 20, settleMs: 5 });
    const seen = record(m);
    await m.start();
    ip.children[0]!.stderr.write('Cannot bind netlink socket: Operation not permitted\n');
    ip.children[0]!.emit('exit', 1, null);
    expect(m.mode).toBe('poll');
    setLinks(ip, true);
    await until(() => seen.includes('added usb0'));
    m.close();
  });

  it('keeps the last list when a scan fails, and a throwing listener does not stop it', async () => {
    const ip = boxIp(false);
    const m = new UplinkMonitor({ sysRoot: sys.root, ip, watch: 'poll', pollIntervalMs: 20 });
    m.on('added', () => {
      throw new Error('listener bug');
    });
    await m.start();
    ip.replies.set(ADDR_SHOW, new Error('ip: netlink busy'));
    await m.rescan();
    expect(m.uplinks().map((u) => u.name)).toEqual(['eth0']);
    setLinks(ip, true);
    await until(() => m.uplinks().length === 2);
    m.close();
  });

  it('reports a link that went down as removed for being down', async () => {
    const ip = boxIp(true);
    const m = new UplinkMonitor({ sysRoot: sys.root, ip, watch: 'poll' });
    const seen = record(m);
    await m.start();
    ip.replies.set(
      ADDR_SHOW,
      addrJson({
        eth0: { index: 2, inet: ['192.168.1.20/24'] },
        usb0: { index: 7, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN', inet: ['192.168.8.100/24'] },
      }),
    );
    sys.add('usb0', { ...BOX['usb0']!, operstate: 'down', carrier: 0, flags: '0x1002' });
    await m.rescan();
    expect(seen).toContain('removed usb0 down');
    m.close();
    sys.add('usb0', BOX['usb0']!);
  });
});
