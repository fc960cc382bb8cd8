/**
 * Which interfaces are uplinks (pure). By default every ethernet, wifi and
 * cellular interface; `interfaces` names them instead (exact names or globs,
 * whatever their kind, so a lab can bond veths); `ignoreInterfaces` removes
 * some either way. Of those, the usable ones are up with an IPv4 address.
 */
import { UplinkConfigError } from './errors.js';
import { DEFAULT_UPLINK_KINDS, type DiscoveredInterface, type InterfaceAddress, type Uplink } from './types.js';

export interface UplinkSelection {
  /** Names or globs (`eth*`, `wwan?`, `usb[01]`); default every ethernet, wifi and cellular interface. */
  interfaces?: readonly string[];
  /** Names or globs never used. */
  ignoreInterfaces?: readonly string[];
}

/** Why a selected interface is not a usable uplink now, in words for the status page. */
export type UnusableReason = 'down' | 'no-address';

/** What an interface name may hold (the kernel's dev_valid_name: no '/', ':' or whitespace). */
const NAME_CHARS = /^[^/:\s]+$/;
/** IFNAMSIZ less the terminating NUL. */
const MAX_NAME_LENGTH = 15;

/** Checks the selection once where it enters; throws UplinkConfigError naming the pattern. */
export function checkSelection(sel: UplinkSelection): void {
  for (const [key, list] of [
    ['interfaces', sel.interfaces],
    ['ignoreInterfaces', sel.ignoreInterfaces],
  ] as const) {
    if (list === undefined) continue;
    for (const p of list) {
      const glob = typeof p === 'string' && /[*?[]/.test(p);
      if (typeof p !== 'string' || !NAME_CHARS.test(p) || (!glob && p.length > MAX_NAME_LENGTH)) {
        throw new UplinkConfigError(`${key}: "${String(p)}" is not an interface name or pattern (example: eth0, wwan*)`, {
          key,
          value: p,
        });
      }
      globToRegExp(p); // throws on an unclosed [
    }
  }
}

const compiled = new Map<string, RegExp>();

/** `*` any run, `?` one character, `[abc]` / `[a-z]` / `[!a]` a set; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new UplinkConfigError(`interface pattern "${pattern}" has an unclosed "["`, { value: pattern });
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const out = new RegExp(`${re}$`);
  compiled.set(pattern, out);
  return out;
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(name));
}

/** Whether the selection takes this interface (by name and kind; not whether it works now). */
export function isSelected(iface: DiscoveredInterface, sel: UplinkSelection): boolean {
  if (sel.ignoreInterfaces !== undefined && matchesAny(iface.name, sel.ignoreInterfaces)) return false;
  if (sel.interfaces !== undefined) return matchesAny(iface.name, sel.interfaces);
  return DEFAULT_UPLINK_KINDS.includes(iface.kind);
}

/**
 * The address an uplink sends from: the first primary IPv4 address the kernel
 * lists, not link-local (169.254/16 is what a phone tether gets without DHCP,
 * and it reaches nothing).
 */
export function uplinkAddress(iface: DiscoveredInterface): InterfaceAddress | undefined {
  const v4 = iface.addresses.filter((a) => a.family === 4 && a.scope !== 'host' && !a.address.startsWith('169.254.'));
  return v4.find((a) => !a.secondary) ?? v4[0];
}

export function unusableReason(iface: DiscoveredInterface): UnusableReason | undefined {
  if (!iface.up) return 'down';
  if (uplinkAddress(iface) === undefined) return 'no-address';
  return undefined;
}

/** `10.0.1.6/30` → `10.0.1.4/30`; undefined for /32 (nothing else is on the link). */
export function subnetOf(address: string, prefixLength: number): string | undefined {
  if (prefixLength >= 32 || prefixLength < 0) return undefined;
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const value = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  const net = (value & mask) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${prefixLength}`;
}

/** The usable uplinks among `ifaces`, in the kernel's interface order. */
export function selectUplinks(ifaces: readonly DiscoveredInterface[], sel: UplinkSelection = {}): Uplink[] {
  const out: Uplink[] = [];
  for (const iface of [...ifaces].sort((a, b) => a.index - b.index)) {
    if (!isSelected(iface, sel) || unusableReason(iface) !== undefined) continue;
    const addr = uplinkAddress(iface)!;
    const uplink: Uplink = {
      name: iface.name,
      kind: iface.kind,
      address: addr.address,
      prefixLength: addr.prefixLength,
      operstate: iface.operstate,
    };
    const subnet = addr.peer === undefined ? subnetOf(addr.address, addr.prefixLength) : undefined;
    if (subnet !== undefined) uplink.subnet = subnet;
    if (iface.gateway !== undefined) uplink.gateway = iface.gateway;
    if (iface.driver !== undefined) uplink.driver = iface.driver;
    out.push(uplink);
  }
  return out;
}
