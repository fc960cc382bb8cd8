/**
 * The firewall's LAN chain, from the config the box runs (pure). The base
 * ruleset (image/rootfs/etc/nftables.conf, loaded by nftables.service) drops
 * everything coming in but replies, ICMP and DHCP, drops cellular
 * interfaces outright, and sends LAN interfaces to the chain `lan` of table
 * `inet fieldcast`; this fills that chain with the TCP ports the config
 * serves: the status page's (unless it listens on loopback only), /metrics'
 * when it listens beyond loopback, and SSH's while system.ssh is on. The
 * script is one nft transaction: flush and refill, or nothing.
 */
import type { Config } from '../config/schema.js';

/** The base ruleset's table and LAN chain (image/rootfs/etc/nftables.conf). */
export const FIREWALL_TABLE = 'inet fieldcast';
export const LAN_CHAIN = 'lan';
export const SSH_PORT = 22;

/** The part of the config the firewall follows. */
export type FirewallConfig = Pick<Config, 'status' | 'metrics' | 'system'>;

const LOOPBACK = new Set(['loopback', '127.0.0.1', '::1', 'localhost']);

/** What the LAN may reach, each port with why (for the log and `fieldcast system apply`'s report). */
export function lanPorts(config: FirewallConfig): Array<{ port: number; why: string }> {
  const ports: Array<{ port: number; why: string }> = [];
  const beyondLoopback = (listen: readonly string[]): boolean => listen.some((l) => !LOOPBACK.has(l));
  if (config.status.port > 0 && beyondLoopback(config.status.listen)) ports.push({ port: config.status.port, why: 'status page' });
  if (config.metrics.port > 0 && beyondLoopback([config.metrics.listen])) ports.push({ port: config.metrics.port, why: 'metrics' });
  if (config.system.ssh) ports.push({ port: SSH_PORT, why: 'ssh' });
  // One rule per port, once (two services on one port would be refused by the second's listen anyway).
  return ports.filter((p, i) => ports.findIndex((q) => q.port === p.port) === i);
}

/** The nft script (`nft -f -`) that makes the LAN chain accept exactly these TCP ports. */
export function lanChainScript(ports: ReadonlyArray<{ port: number; why: string }>): string {
  const lines = [`flush chain ${FIREWALL_TABLE} ${LAN_CHAIN}`];
  for (const p of ports) lines.push(`add rule ${FIREWALL_TABLE} ${LAN_CHAIN} tcp dport ${p.port} accept comment "${p.why}"`);
  return `${lines.join('\n')}\n`;
}
