/**
 * The source's `whitelistCidr`: who may send to the flow's SRT listener.
 * MediaConnect takes one IPv4 CIDR block (API reference, UpdateFlowSource);
 * a block with host bits set is refused here, before any request, with the
 * block it probably meant.
 */
import { isIP } from 'node:net';
import { CloudInputError } from './errors.js';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Checks and returns `a.b.c.d/n`; a bare address becomes `/32`. */
export function parseCidr(text: string): string {
  const t = text.trim();
  const [ip = '', bits, ...rest] = t.split('/');
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : Number.NaN;
  if (rest.length > 0 || isIP(ip) === 0 || !(prefix >= 0 && prefix <= 32)) {
    throw new CloudInputError(`"${text}" is not an IPv4 CIDR block (examples: 203.0.113.7/32 for one address, 203.0.113.0/24)`, {
      value: text,
    });
  }
  if (isIP(ip) === 6)
    throw new CloudInputError(`"${text}" is IPv6: a MediaConnect source's allow-list takes one IPv4 CIDR block`, { value: text });
  if (ip.split('.').some((p) => p.length > 1 && p.startsWith('0')))
    throw new CloudInputError(`"${text}" has a part with a leading zero; write the address as 203.0.113.7`, { value: text });
  const size = 2 ** (32 - prefix);
  const addr = ipv4ToInt(ip);
  const network = addr - (addr % size);
  if (network !== addr)
    throw new CloudInputError(
      `"${text}" has host bits set: the block is ${intToIpv4(network)}/${prefix} (or give ${ip}/32 for that one address)`,
      {
        value: text,
      },
    );
  return `${ip}/${prefix}`;
}

/** True for a block that lets the whole internet send (setup says so aloud). */
export function isWorldOpen(cidr: string): boolean {
  return cidr.endsWith('/0');
}
