/**
 * Reads what the kernel publishes about a network interface under
 * /sys/class/net/<if> (Documentation/ABI/testing/sysfs-class-net). The root
 * is a parameter: unit tests build a fake tree in a temp directory, and the
 * namespace test rig mounts the namespace's own sysfs. A file that is missing
 * or unreadable leaves its field out; nothing here throws for one interface.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { toOperState } from './ip-json.js';
import type { SysfsFacts } from './types.js';

/** IFF_UP in `flags` (include/uapi/linux/if.h). */
const IFF_UP = 0x1;

export const DEFAULT_SYS_ROOT = '/sys';

export function netClassDir(sysRoot: string): string {
  return join(sysRoot, 'class', 'net');
}

/** The interface names sysfs lists; [] when the directory cannot be read. */
export async function listSysfsInterfaces(sysRoot: string = DEFAULT_SYS_ROOT): Promise<string[]> {
  try {
    return (await readdir(netClassDir(sysRoot))).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function linkName(path: string): Promise<string | undefined> {
  try {
    return basename(await readlink(path));
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `KEY=value` lines of a uevent file. */
export function parseUevent(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Whether sysfs has this interface at all. */
export function hasSysfsInterface(sysRoot: string, name: string): Promise<boolean> {
  return exists(join(netClassDir(sysRoot), name));
}

export async function readSysfsFacts(sysRoot: string, name: string): Promise<SysfsFacts> {
  const dir = join(netClassDir(sysRoot), name);
  const [type, uevent, driver, bus, hasDevice, wireless, phy, operstate, carrier, flags] = await Promise.all([
    readText(join(dir, 'type')),
    readText(join(dir, 'uevent')),
    linkName(join(dir, 'device', 'driver')),
    linkName(join(dir, 'device', 'subsystem')),
    exists(join(dir, 'device')),
    exists(join(dir, 'wireless')),
    exists(join(dir, 'phy80211')),
    readText(join(dir, 'operstate')),
    readText(join(dir, 'carrier')),
    readText(join(dir, 'flags')),
  ]);
  const facts: SysfsFacts = { hasDevice, wireless: wireless || phy };
  if (type !== undefined && /^\d+$/.test(type)) facts.arpType = Number(type);
  const devType = uevent !== undefined ? parseUevent(uevent).get('DEVTYPE') : undefined;
  if (devType) facts.devType = devType;
  if (driver) facts.driver = driver;
  if (bus) facts.bus = bus;
  if (operstate !== undefined) facts.operstate = toOperState(operstate);
  if (carrier === '0' || carrier === '1') facts.carrier = carrier === '1';
  if (flags !== undefined && /^(0x)?[0-9a-f]+$/i.test(flags)) facts.adminUp = (Number.parseInt(flags, 16) & IFF_UP) !== 0;
  return facts;
}
