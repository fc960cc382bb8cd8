/** Loopback UDP port helpers for the benchmarks and tests that start real peers. */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

/** A UDP port that was free a moment ago on `host` (bound and released: a tiny race, fine on a test box). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** True once something has bound UDP `port` (reads /proc/net/udp{,6}). */
export function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      if (readFileSync(f, 'utf8').includes(hex)) return true;
    } catch {
      // no IPv6 table on this kernel
    }
  }
  return false;
}
