/**
 * `host:port` as operators type it: `127.0.0.1:5000`, `[::]:5000`,
 * `[2001:db8::1]:9000`, `ingest.example.com:5000`. IPv6 literals need the
 * brackets (RFC 3986 §3.2.2) so the port is unambiguous.
 */
import { isIP } from 'node:net';
import { InvalidInputError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`; port 0 only when `allowZero` (bind to any free port). */
export function parseHostPort(text: string, what = 'address', allowZero = false): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || port > 65535 || (port === 0 && !allowZero)) {
    throw new InvalidInputError(`${what} "${text}" is not host:port (examples: 127.0.0.1:5000, [::]:5000)`, { value: text });
  }
  if (m[1] !== undefined && isIP(host) !== 6)
    throw new InvalidInputError(`${what} "${text}": [${host}] is not an IPv6 address`, { value: text });
  return { host, port };
}

/** Formats an address for logs and stats: IPv6 in brackets, IPv4-mapped IPv6 shown as IPv4. */
export function formatHostPort(host: string, port: number): string {
  const h = unmapIPv4(host);
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`;
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) -> `192.0.2.1`. */
export function unmapIPv4(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}
