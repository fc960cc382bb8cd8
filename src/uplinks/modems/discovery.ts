/**
 * Finding a modem's AT port. A USB modem shows several ttys (diagnostics,
 * GPS, AT, PPP); which is the AT port is fixed by its USB interface number,
 * which the profile gives. For each ttyUSB* and ttyACM* under /sys/class/tty the
 * USB interface (bInterfaceNumber) and the device (idVendor, idProduct) are
 * read from sysfs; candidates are then confirmed by AT → OK.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { AtChannel } from './at-channel.js';
import type { ModemProfile } from './profiles.js';
import { profileForUsb } from './profiles.js';

export interface UsbTty {
  /** `ttyUSB2`. */
  tty: string;
  /** `/dev/ttyUSB2`. */
  device: string;
  vendorId: string;
  productId: string;
  interfaceNumber: number;
  /** The USB device's sysfs name (`1-1.2`): the same modem after a restart, whatever tty number it gets. */
  usbDevice: string;
}

export interface AtPortCandidate extends UsbTty {
  profile: ModemProfile;
}

export interface DiscoveryOptions {
  /** Default /sys; tests give a fake tree. */
  sysRoot?: string;
  /** Default /dev. */
  devRoot?: string;
}

const TTY_NAME = /^tty(USB|ACM)\d+$/;
/** tty → usb-serial port → interface for ttyUSB; tty → interface for ttyACM. */
const MAX_WALK_UP = 3;

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** The USB facts of one tty, or undefined when it is not on USB. */
export async function usbTtyInfo(tty: string, opts: DiscoveryOptions = {}): Promise<UsbTty | undefined> {
  const sys = opts.sysRoot ?? '/sys';
  let dir: string;
  try {
    dir = await realpath(path.join(sys, 'class/tty', tty, 'device'));
  } catch {
    return undefined;
  }
  for (let i = 0; i <= MAX_WALK_UP; i++, dir = path.dirname(dir)) {
    const ifNum = await readTrimmed(path.join(dir, 'bInterfaceNumber'));
    if (ifNum === undefined) continue;
    const usb = path.dirname(dir);
    const vendorId = await readTrimmed(path.join(usb, 'idVendor'));
    const productId = await readTrimmed(path.join(usb, 'idProduct'));
    if (vendorId === undefined || productId === undefined) return undefined;
    return {
      tty,
      device: path.join(opts.devRoot ?? '/dev', tty),
      vendorId: vendorId.toLowerCase(),
      productId: productId.toLowerCase(),
      // sysfs prints it as two hex digits (usb/core/sysfs.c).
      interfaceNumber: Number.parseInt(ifNum, 16),
      usbDevice: path.basename(usb),
    };
  }
  return undefined;
}

/** Every USB tty, in name order. */
export async function listUsbTtys(opts: DiscoveryOptions = {}): Promise<UsbTty[]> {
  let names: string[];
  try {
    names = await readdir(path.join(opts.sysRoot ?? '/sys', 'class/tty'));
  } catch {
    return [];
  }
  const out: UsbTty[] = [];
  for (const name of names.filter((n) => TTY_NAME.test(n)).sort(byTtyNumber)) {
    const info = await usbTtyInfo(name, opts);
    if (info) out.push(info);
  }
  return out;
}

function byTtyNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The ttys that are some profile's AT port by USB ids and interface number. */
export async function findAtPortCandidates(profiles: readonly ModemProfile[], opts: DiscoveryOptions = {}): Promise<AtPortCandidate[]> {
  const out: AtPortCandidate[] = [];
  for (const t of await listUsbTtys(opts)) {
    const profile = profileForUsb(profiles, t.vendorId, t.productId);
    if (profile && profile.atInterface === t.interfaceNumber) out.push({ ...t, profile });
  }
  return out;
}

export type PortProbe = (device: string) => Promise<boolean>;

/** Opens the port and checks AT → OK. */
export const probeAtPort: PortProbe = async (device) => {
  try {
    const channel = await AtChannel.open({ path: device, reopen: false });
    await channel.close();
    return true;
  } catch {
    return false;
  }
};

/** The candidates that answer AT. */
export async function discoverAtPorts(
  profiles: readonly ModemProfile[],
  opts: DiscoveryOptions & { probe?: PortProbe } = {},
): Promise<AtPortCandidate[]> {
  const probe = opts.probe ?? probeAtPort;
  const out: AtPortCandidate[] = [];
  for (const c of await findAtPortCandidates(profiles, opts)) if (await probe(c.device)) out.push(c);
  return out;
}

/**
 * A locator for AtChannel's `locate`: where the AT port of the same USB
 * device is now. A restart can renumber its ttys (ttyUSB2 → ttyUSB6).
 */
export function atPortLocator(
  profiles: readonly ModemProfile[],
  usbDevice: string,
  opts: DiscoveryOptions = {},
): () => Promise<string | undefined> {
  return async () => (await findAtPortCandidates(profiles, opts)).find((c) => c.usbDevice === usbDevice)?.device;
}
