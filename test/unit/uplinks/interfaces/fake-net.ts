/** A fake /sys/class/net tree in a temp directory, and an `ip` that answers from canned JSON. */

import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { IpCommand, IpProcess } from '../../../../src/uplinks/interfaces/index.js';

export interface FakeInterface {
  type: number;
  devType?: string;
  /** Name of the parent device's driver; with `bus`, makes a `device/` entry. */
  driver?: string;
  bus?: string;
  /** A `device/` entry without a driver link. */
  device?: boolean;
  wireless?: boolean;
  operstate?: string;
  carrier?: 0 | 1;
  flags?: string;
}

export function fakeSysfs(ifaces: Record<string, FakeInterface>): {
  root: string;
  add(name: string, f: FakeInterface): void;
  remove(): void;
} {
  const root = mkdtempSync(join(tmpdir(), 'fc-sysfs-'));
  const add = (name: string, f: FakeInterface): void => {
    const dir = join(root, 'class', 'net', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'type'), `${f.type}\n`);
    writeFileSync(join(dir, 'uevent'), `${f.devType ? `DEVTYPE=${f.devType}\n` : ''}INTERFACE=${name}\nIFINDEX=3\n`);
    writeFileSync(join(dir, 'operstate'), `${f.operstate ?? 'up'}\n`);
    if (f.carrier !== undefined || f.operstate === undefined) writeFileSync(join(dir, 'carrier'), `${f.carrier ?? 1}\n`);
    writeFileSync(join(dir, 'flags'), `${f.flags ?? '0x1003'}\n`);
    if (f.driver !== undefined || f.bus !== undefined || f.device) {
      mkdirSync(join(dir, 'device'));
      // As in real sysfs, relative links into /sys/bus; they need not resolve for readlink.
      if (f.driver !== undefined) symlinkSync(`../../../../bus/${f.bus ?? 'usb'}/drivers/${f.driver}`, join(dir, 'device', 'driver'));
      if (f.bus !== undefined) symlinkSync(`../../../../bus/${f.bus}`, join(dir, 'device', 'subsystem'));
    }
    if (f.wireless) {
      mkdirSync(join(dir, 'wireless'));
      symlinkSync('../../ieee80211/phy0', join(dir, 'phy80211'));
    }
  };
  for (const [name, f] of Object.entries(ifaces)) add(name, f);
  return { root, add, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** The box of the unit tests: a QMI modem, a cdc_ncm stick, an iPhone, wifi, ethernet, and the virtual rest. */
export const BOX: Record<string, FakeInterface> = {
  lo: { type: 772, operstate: 'unknown' },
  eth0: { type: 1, driver: 'r8169', bus: 'pci' },
  wlan0: { type: 1, devType: 'wlan', driver: 'brcmfmac', bus: 'sdio', wireless: true },
  wwan0: { type: 65534, devType: 'wwan', driver: 'qmi_wwan', bus: 'usb', operstate: 'unknown', carrier: 1 },
  usb0: { type: 1, driver: 'cdc_ncm', bus: 'usb' },
  eth1: { type: 1, driver: 'ipheth', bus: 'usb' },
  veth0: { type: 1 },
  br0: { type: 1, devType: 'bridge' },
  tun0: { type: 65534, operstate: 'unknown' },
  ppp0: { type: 512, operstate: 'unknown' },
  can0: { type: 280, driver: 'mcp251x', bus: 'spi' },
};

export interface AddrSpec {
  index: number;
  flags?: string[];
  operstate?: string;
  inet?: string[];
  inet6?: string[];
}

/** `ip -json addr show` output for `links`. */
export function addrJson(links: Record<string, AddrSpec>): string {
  return JSON.stringify(
    Object.entries(links).map(([name, l]) => ({
      ifindex: l.index,
      ifname: name,
      flags: l.flags ?? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      operstate: l.operstate ?? 'UP',
      link_type: name === 'lo' ? 'loopback' : 'ether',
      addr_info: [
        ...(l.inet6 ?? []).map((a) => ({ family: 'inet6', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]), scope: 'link' })),
        ...(l.inet ?? []).map((a) => ({ family: 'inet', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]), scope: 'global' })),
      ],
    })),
  );
}

export class FakeChild extends EventEmitter implements IpProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  killed: NodeJS.Signals | undefined;

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.killed = signal;
    setImmediate(() => this.emit('exit', null, signal));
    return true;
  }
}

/** An `ip` whose replies a test sets per command (keyed by the joined arguments), recording every call. */
export class FakeIp implements IpCommand {
  readonly netns = undefined;
  readonly calls: string[] = [];
  readonly children: FakeChild[] = [];
  replies = new Map<string, string | Error>();
  spawnError: Error | undefined;

  async run(args: readonly string[]): Promise<string> {
    const key = args.join(' ');
    this.calls.push(key);
    const reply = this.replies.get(key) ?? (key.includes('show') ? '[]' : '');
    if (reply instanceof Error) throw reply;
    return reply;
  }

  spawn(): IpProcess {
    if (this.spawnError) throw this.spawnError;
    const child = new FakeChild();
    this.children.push(child);
    return child;
  }
}

export const ADDR_SHOW = '-json addr show';
export const ROUTE_SHOW = '-4 -N -json route show table main';
