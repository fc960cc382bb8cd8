/**
 * One emulated uplink: a pair of UDP relays. The sender's link sends to
 * `listen`; the relay forwards from its own socket to the target (the
 * receiver), which therefore sees one stable source address per link, as it
 * would see one per modem. What the target sends back is relayed to the
 * address the sender last sent from. Each direction has its own Impairment.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatHostPort, type HostPort, unmapIPv4 } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import type { DirectionParams, DirectionPatch, LinkSpec, ScheduleEvent } from './config.js';
import { applyPatch, DIRECTION_DEFAULTS } from './config.js';
import { LinkSimSocketError } from './errors.js';
import { type DirectionStats, Impairment } from './impairment.js';
import { deriveSeed, Prng } from './prng.js';
import type { Deliverable, TimerHeap } from './timer-heap.js';

const log = createLogger('linksim');

export interface LinkChange {
  up?: DirectionPatch;
  down?: DirectionPatch;
  /** Seconds of darkness from now, both directions (0 ends an outage). */
  outage?: number;
}

export interface LinkStats {
  name: string;
  /** Where the sender sends this link (its `via`). */
  listen: string;
  /** The sender's address as last seen, if any packet came yet. */
  peer: string | undefined;
  /** Where the relay sends from: the address the receiver sees this link as. */
  relay: string;
  up: DirectionStats;
  down: DirectionStats;
}

export interface LinkDeps {
  heap: TimerHeap;
  now: () => number;
  seed: number;
  target: HostPort;
}

function socketType(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

export class SimLink {
  readonly name: string;
  private readonly up: Impairment;
  private readonly down: Impairment;
  private inSock: dgram.Socket | undefined;
  private outSock: dgram.Socket | undefined;
  private peer: { address: string; port: number } | undefined;
  private listenAddr = '';
  private relayAddr = '';
  /** IP + UDP header bytes of each relayed datagram (IPv4 20 + 8, IPv6 40 + 8). */
  private headerBytes = 28;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly upSink: Deliverable;
  private readonly downSink: Deliverable;

  constructor(
    private readonly spec: LinkSpec,
    private readonly deps: LinkDeps,
  ) {
    this.name = spec.name;
    this.up = new Impairment(applyPatch(DIRECTION_DEFAULTS, spec.up), new Prng(deriveSeed(deps.seed, `${spec.name}/up`)));
    this.down = new Impairment(applyPatch(DIRECTION_DEFAULTS, spec.down), new Prng(deriveSeed(deps.seed, `${spec.name}/down`)));
    this.upSink = {
      deliver: (data, now) => {
        if (this.up.inOutage(now)) return this.up.lostInOutage();
        this.up.delivered(data.length);
        this.outSock?.send(data);
      },
    };
    this.downSink = {
      deliver: (data, now) => {
        const peer = this.peer;
        if (this.down.inOutage(now)) return this.down.lostInOutage();
        this.down.delivered(data.length);
        if (peer) this.inSock?.send(data, peer.port, peer.address);
      },
    };
  }

  /** host:port the sender's link should send to (BondLinkConfig.via). */
  get address(): string {
    return this.listenAddr;
  }

  get params(): { up: Readonly<DirectionParams>; down: Readonly<DirectionParams> } {
    return { up: this.up.params, down: this.down.params };
  }

  async start(listen: HostPort): Promise<void> {
    const target = await resolve(this.deps.target);
    const inSock = dgram.createSocket({ type: socketType(listen.host), ipv6Only: false });
    const outSock = dgram.createSocket(socketType(target.host));
    this.inSock = inSock;
    this.outSock = outSock;
    for (const s of [inSock, outSock]) {
      // ICMP "port unreachable" while the target is down surfaces here: an emulated link carries on.
      s.on('error', (err) => log.debug('relay socket error', { link: this.name, err }));
    }
    try {
      await new Promise<void>((res, rej) => {
        inSock.once('error', rej);
        inSock.bind(listen.port, listen.host, () => {
          inSock.off('error', rej);
          res();
        });
      });
      await new Promise<void>((res, rej) => {
        outSock.once('error', rej);
        outSock.connect(target.port, target.host, () => {
          outSock.off('error', rej);
          res();
        });
      });
    } catch (err) {
      this.close();
      throw new LinkSimSocketError(
        `link ${this.name}: cannot listen on ${formatHostPort(listen.host, listen.port)} or reach ${formatHostPort(target.host, target.port)}: ${(err as Error).message}`,
        { link: this.name },
        err,
      );
    }
    const a = inSock.address();
    this.listenAddr = formatHostPort(a.address, a.port);
    const r = outSock.address();
    this.relayAddr = formatHostPort(r.address, r.port);
    this.headerBytes = r.family === 'IPv6' ? 48 : 28;
    inSock.on('message', (msg, rinfo) => {
      this.peer = { address: rinfo.address, port: rinfo.port };
      this.offer(this.up, this.upSink, msg);
    });
    outSock.on('message', (msg) => this.offer(this.down, this.downSink, msg));
    this.scheduleEvents(this.spec.schedule);
  }

  /** Live change: rates, delays, loss, outage. Applies to packets offered from now on. */
  set(change: LinkChange): void {
    if (change.up) this.up.set(change.up);
    if (change.down) this.down.set(change.down);
    if (change.outage !== undefined) {
      const now = this.deps.now();
      this.up.outage(now, change.outage * 1000);
      this.down.outage(now, change.outage * 1000);
      log.info(change.outage > 0 ? 'outage' : 'outage ended', { link: this.name, seconds: change.outage });
    }
  }

  stats(): LinkStats {
    const now = this.deps.now();
    const peer = this.peer ? formatHostPort(unmapIPv4(this.peer.address), this.peer.port) : undefined;
    return { name: this.name, listen: this.listenAddr, peer, relay: this.relayAddr, up: this.up.stats(now), down: this.down.stats(now) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    for (const s of [this.inSock, this.outSock]) {
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
  }

  private offer(imp: Impairment, sink: Deliverable, msg: Buffer): void {
    const now = this.deps.now();
    // A modem's rate is of IP packets: the datagram's IP and UDP headers take their share.
    const v = imp.offer(now, msg.length + this.headerBytes);
    if (v.deliverAt === undefined) return;
    if (v.deliverAt <= now) {
      sink.deliver(msg, now);
      return;
    }
    this.deps.heap.push(v.deliverAt, sink, msg);
  }

  private scheduleEvents(events: readonly ScheduleEvent[]): void {
    for (const e of events) {
      const t = setTimeout(() => {
        const change: LinkChange = {};
        if (e.up) change.up = e.up;
        if (e.down) change.down = e.down;
        if (e.outage !== undefined) change.outage = e.outage;
        this.set(change);
      }, e.at * 1000);
      this.timers.push(t);
    }
  }
}

async function resolve(t: HostPort): Promise<HostPort> {
  if (isIP(t.host)) return t;
  try {
    const r = await lookup(t.host);
    return { host: r.address, port: t.port };
  } catch (err) {
    throw new LinkSimSocketError(`cannot resolve the target host ${t.host}: ${(err as Error).message}`, { host: t.host }, err);
  }
}
