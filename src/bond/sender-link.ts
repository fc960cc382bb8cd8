/**
 * One uplink of the bonding sender: a UDP socket bound to that uplink and
 * aimed at the receiver (or at the link's `via` relay). Its registration is
 * kept by sender-registration.ts, what it carries by the scheduler.
 *
 * Binding to an interface by name: node:dgram has no SO_BINDTODEVICE, so the
 * socket is bound to the interface's own address (from os.networkInterfaces());
 * with per-uplink source routing (src/uplinks) that sends it out of that
 * interface. An explicit `bind` address wins over `interface`.
 *
 * The socket is the addon's batched one where it loads (src/native/udp.ts):
 * what one turn of the event loop sends on a link leaves in one sendmmsg, and
 * what arrives is read as soon as it does (the return path is not delayed:
 * SRT's round-trip time runs through it).
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import { type BatchUdp, openBatchUdp, type UdpTarget } from '../native/udp.js';
import { BondConfigError, BondLinkError } from './errors.js';

const log = createLogger('bond');

export interface BondLinkOptions {
  /** Link name, e.g. cell-a or eth0. */
  name: string;
  /** Local address to send from. */
  bind?: string;
  /** Network interface whose address to send from. */
  interface?: string;
  /** A relay (link emulator, proxy) to send through instead of the receiver, host:port. */
  via?: string;
  /** Higher is preferred (0-9, default 5). */
  priority?: number;
  /** Idle until the other links cannot carry the stream. */
  backupOnly?: boolean;
  /** A data plan pays for what it carries (a cellular modem): with metered links "when needed", used only for what the free links cannot carry. */
  metered?: boolean;
}

export function validateLinkOptions(o: BondLinkOptions): void {
  if (!o.name || o.name.length > 32) throw new BondConfigError(`link name "${o.name}" must be 1 to 32 characters`, { name: o.name });
  if (o.bind !== undefined && isIP(o.bind) === 0) {
    throw new BondConfigError(`link ${o.name}: bind "${o.bind}" is not an IP address (example: 192.168.8.100)`, {
      name: o.name,
      bind: o.bind,
    });
  }
  if (o.via !== undefined) parseHostPort(o.via, `link ${o.name}: via`);
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || o.priority < 0 || o.priority > 9)) {
    throw new BondConfigError(`link ${o.name}: priority must be a whole number from 0 to 9`, { name: o.name, priority: o.priority });
  }
}

/** The local address to bind for a link, and the address family it implies. */
export function localAddressFor(o: BondLinkOptions, preferFamily: 4 | 6): { address?: string; family: 4 | 6 } {
  if (o.bind !== undefined) return { address: o.bind, family: isIP(o.bind) === 6 ? 6 : 4 };
  if (o.interface !== undefined) {
    const addrs = networkInterfaces()[o.interface];
    if (!addrs)
      throw new BondLinkError(`link ${o.name}: there is no network interface "${o.interface}" on this box`, { interface: o.interface });
    const usable = addrs.filter((a) => !(a.family === 'IPv6' && a.address.startsWith('fe80')));
    const pick = usable.find((a) => (a.family === 'IPv6' ? 6 : 4) === preferFamily) ?? usable[0];
    if (!pick)
      throw new BondLinkError(`link ${o.name}: interface "${o.interface}" has no IP address (is the modem connected?)`, {
        interface: o.interface,
      });
    return { address: pick.address, family: pick.family === 'IPv6' ? 6 : 4 };
  }
  return { family: preferFamily };
}

async function resolve(hp: HostPort, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const f = isIP(hp.host);
  if (f !== 0) return { address: hp.host, family: f === 6 ? 6 : 4 };
  const r = family === undefined ? await lookup(hp.host) : await lookup(hp.host, { family });
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}

export class SenderLink {
  readonly name: string;
  readonly options: BondLinkOptions;
  private socket: BatchUdp | undefined;
  target: UdpTarget | undefined;
  localAddress: string | undefined;

  lastKeepaliveAt = -Infinity;
  private closed = false;

  constructor(
    options: BondLinkOptions,
    private readonly onPacket: (link: SenderLink, buf: Buffer) => void,
  ) {
    validateLinkOptions(options);
    this.options = { ...options };
    this.name = options.name;
  }

  /** Opens the socket toward `receiver` (or the link's relay). */
  async open(receiver: HostPort): Promise<void> {
    const dest = this.options.via ? parseHostPort(this.options.via, `link ${this.name}: via`) : receiver;
    const destFamily = isIP(dest.host);
    const local = localAddressFor(this.options, destFamily === 6 ? 6 : 4);
    let target: { address: string; family: 4 | 6 };
    try {
      target = await resolve(dest, this.options.bind !== undefined || this.options.interface !== undefined ? local.family : undefined);
    } catch (err) {
      throw new BondLinkError(`link ${this.name}: cannot resolve "${dest.host}"`, { host: dest.host }, err);
    }
    if (local.address !== undefined && target.family !== local.family) {
      throw new BondLinkError(
        `link ${this.name}: its address ${local.address} is IPv${local.family} but the receiver ${formatHostPort(dest.host, dest.port)} is IPv${target.family}`,
        { name: this.name },
      );
    }
    let socket: BatchUdp;
    try {
      socket = await openBatchUdp(
        { family: target.family, address: local.address, port: 0, coalesceMs: 0, recvBufferBytes: 4 << 20, sendBufferBytes: 4 << 20 },
        (msg) => this.onPacket(this, msg),
        (err) => log.warn('uplink socket error', { link: this.name, err }),
      );
    } catch (err) {
      throw new BondLinkError(
        `link ${this.name}: cannot send from ${local.address ?? 'any address'} (is that address on this box?)`,
        { name: this.name },
        err,
      );
    }
    if (this.closed) {
      void socket.close();
      return;
    }
    this.socket = socket;
    this.target = socket.target(target.address, dest.port);
    this.localAddress = local.address;
    log.info('uplink open', { link: this.name, from: local.address ?? 'any', to: formatHostPort(target.address, dest.port) });
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.closed;
  }

  send(buf: Uint8Array): void {
    if (!this.socket || !this.target || this.closed) return;
    this.socket.send(buf, this.target);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.socket?.close();
    this.socket = undefined;
  }
}
