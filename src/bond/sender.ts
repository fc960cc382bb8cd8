/**
 * The bonding sender (SRTLA): a local UDP port where an SRT caller connects,
 * exactly like srtla_send; one UDP socket per uplink; SRT packets spread over
 * the uplinks by the Scheduler (held in the sender while every link is
 * full: sender-dispatch.ts); the receiver's return traffic (SRT ACKs, NAKs,
 * handshakes) back to the caller, one copy each. The registration with the
 * receiver is sender-registration.ts's. This file is the I/O around them:
 * sockets, timers and events; it sends what they decide.
 *
 *   const s = new BondSender({ receiver: 'ingest.example:5000', links: [...] });
 *   const port = await s.start();      // point the SRT caller at 127.0.0.1:port
 *   s.addLink({ name: 'cell-d', bind: '10.0.3.2' }); s.removeLink('cell-a');
 *   s.stats(); s.capacityBps(); s.on('link', …); await s.close();
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import { type BatchUdp, openBatchUdp, type UdpPeer, type UdpTarget } from '../native/udp.js';
import { BondConfigError, BondRefusedError, BondStateError } from './errors.js';
import { encodeKeepalive, encodeProbe, isRetransmission, SRT_CONTROL, srtControlType, srtDataSeq } from './protocol.js';
import { type LinkStateName, Scheduler } from './scheduler.js';
import { DataDispatch } from './sender-dispatch.js';
import { type BondLinkOptions, SenderLink } from './sender-link.js';
import { type RegistrationAction, SenderRegistration } from './sender-registration.js';
import { ReturnPath } from './sender-return.js';
import { type BondSenderStats, keepaliveInfo, senderLinkStats } from './sender-stats.js';

export type { BondSenderStats, SenderLinkStats } from './sender-stats.js';

const log = createLogger('bond');

/** Timers of the sender (keepalives far more often than the common 1 s, for RTT; registration's: REGISTRATION_TIMING). */
export const SENDER_TIMING = {
  HOUSEKEEPING_MS: 25,
  KEEPALIVE_MS: 100,
  /**
   * Keepalive interval of a live link that has heard nothing for KEEPALIVE_MS: a burst of
   * lost probes on an idle lossy modem must not look like a dead link.
   */
  QUIET_KEEPALIVE_MS: 25,
  CAPACITY_EVENT_MS: 500,
  /**
   * While every link is full, packets wait in the sender (sender-hold.ts) up to this long,
   * then leave over the least-full link anyway: a fifth of a 2 s SRT latency, so SRT keeps
   * time to repair what is still lost.
   */
  HOLD_MAX_MS: 400,
  /** Bytes the sender holds at most (a second at 20 Mbit/s); beyond, packets leave at once. */
  HOLD_MAX_BYTES: 2_500_000,
  /** How often held packets are offered to the links again. */
  HOLD_RETRY_MS: 2,
  /**
   * libsrt paces its packets onto the local port one by one; they are read a
   * window at a time (src/native/udp.ts), so the bonding sender wakes once per
   * window and what it sends on each link leaves in one sendmmsg. A window is
   * a few thousandths of the SRT latency.
   */
  CALLER_WINDOW_MS: 4,
} as const;

export interface BondSenderOptions {
  /** The bonding receiver, host:port (`fieldcast receive` or any SRTLA receiver). */
  receiver: string;
  links: BondLinkOptions[];
  /** Where the local SRT caller connects, host:port (default 127.0.0.1:0, any free port). */
  listen?: string;
  /** Metered links carry only what the free ones cannot (default true), or are bonded like any other. */
  meteredWhenNeeded?: boolean;
  /** Monotonic clock in ms (tests). */
  clock?: () => number;
}

export type BondSenderEvents = {
  /** A link changed state (registering / live / stalled / dead). */
  link: [name: string, state: LinkStateName];
  /** The receiver accepted the group. */
  registered: [];
  /** The receiver refused a link or the group; the sender keeps retrying with back-off. */
  refused: [error: BondRefusedError];
  /** The SRT caller (re)appeared at this address. */
  caller: [address: string];
  /** The bonded capacity estimate, bit/s, every CAPACITY_EVENT_MS. */
  capacity: [bps: number];
  /** A preflight probe came back (see sendProbe). */
  probe: [link: string, seq: number, rttMs: number, bytes: number];
};

export class BondSender extends TypedEmitter<BondSenderEvents> {
  private readonly receiver: HostPort;
  private readonly listen: HostPort;
  private readonly now: () => number;
  private readonly registration: SenderRegistration;
  private readonly scheduler: Scheduler;
  private readonly data: DataDispatch;
  private readonly returns: ReturnPath;
  private readonly links = new Map<string, SenderLink>();
  private local: BatchUdp | undefined;
  private caller: UdpTarget | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;

  private lastCapacityAt = -Infinity;
  private readonly lastStates = new Map<string, LinkStateName>();

  private packetsFromCaller = 0;
  private packetsToCaller = 0;
  private unrouted = 0;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BondSenderOptions) {
    super();
    this.receiver = parseHostPort(opts.receiver, 'bonding receiver');
    this.listen = parseHostPort(opts.listen ?? '127.0.0.1:0', 'local SRT port', true);
    const names = new Set<string>();
    for (const l of opts.links) {
      if (names.has(l.name)) throw new BondConfigError(`two links are named "${l.name}": names must differ`, { name: l.name });
      names.add(l.name);
    }
    this.now = opts.clock ?? (() => performance.now());
    this.registration = new SenderRegistration(this.now());
    this.scheduler = new Scheduler(this.registration);
    this.scheduler.meteredWhenNeeded = opts.meteredWhenNeeded ?? true;
    const send = (id: string, msg: Buffer): boolean => {
      const link = this.links.get(id);
      link?.send(msg);
      return link !== undefined;
    };
    this.data = new DataDispatch(this.scheduler, send, SENDER_TIMING.HOLD_MAX_MS, SENDER_TIMING.HOLD_MAX_BYTES);
    this.returns = new ReturnPath(this.scheduler, this.registration);
  }

  /** Opens the local port and the uplinks; resolves with the local port for the SRT caller. */
  async start(): Promise<number> {
    if (this.closed) throw new BondStateError('the bonding sender was closed');
    if (this.started) throw new BondStateError('the bonding sender is already running');
    this.started = true;
    const sock = await openBatchUdp(
      {
        family: isIP(this.listen.host) === 6 ? 6 : 4,
        address: this.listen.host,
        port: this.listen.port,
        coalesceMs: SENDER_TIMING.CALLER_WINDOW_MS,
        recvBufferBytes: 4 << 20,
        sendBufferBytes: 4 << 20,
      },
      (msg, from) => this.fromCaller(msg, from),
      (err) => log.warn('local SRT socket error', { err: describeError(err) }),
    );
    this.local = sock;
    // Links open in parallel; one that cannot open is reported and left out, the others carry the stream.
    await Promise.all(
      this.opts.links.map((l) => this.addLink(l).catch((err: unknown) => log.error('uplink not available', { link: l.name, err }))),
    );
    this.timer = setInterval(() => this.housekeeping(), SENDER_TIMING.HOUSEKEEPING_MS);
    this.timer.unref?.();
    const port = sock.port;
    log.info('bonding sender ready', {
      srt: formatHostPort(this.listen.host, port),
      receiver: formatHostPort(this.receiver.host, this.receiver.port),
    });
    return port;
  }

  get port(): number | undefined {
    return this.local?.port;
  }

  /** Adds an uplink while live; it registers with the current group and starts carrying once accepted. */
  async addLink(options: BondLinkOptions): Promise<void> {
    if (this.closed) throw new BondStateError('the bonding sender was closed');
    if (this.links.has(options.name)) throw new BondConfigError(`a link named "${options.name}" already exists`, { name: options.name });
    const link = new SenderLink(options, (l, buf) => this.fromLink(l, buf));
    this.links.set(link.name, link);
    try {
      await link.open(this.receiver);
    } catch (err) {
      this.links.delete(link.name);
      link.close();
      throw err;
    }
    if (this.links.get(link.name) !== link) {
      link.close();
      return;
    }
    const now = this.now();
    this.scheduler.addLink(
      link.name,
      { priority: options.priority ?? 5, backupOnly: options.backupOnly ?? false, metered: options.metered ?? false },
      now,
    );
    this.act(this.registration.addLink(link.name, now), now);
  }

  /** Whether metered links carry only what the free ones cannot; takes effect from the next packet. */
  setMeteredWhenNeeded(on: boolean): void {
    this.scheduler.meteredWhenNeeded = on;
  }

  /**
   * Sends a preflight probe of `bytes` on a registered link (a padded
   * keepalive the receiver echoes); its echo comes back as a 'probe' event.
   * False when the link is not there or not registered yet.
   */
  sendProbe(linkName: string, seq: number, bytes: number): boolean {
    const l = this.links.get(linkName);
    if (!l?.isOpen || !this.registration.isRegistered(linkName)) return false;
    l.send(encodeProbe(this.now(), seq, bytes));
    return true;
  }

  /** Removes an uplink while live: its traffic moves to the others at once. */
  removeLink(name: string): boolean {
    const link = this.links.get(name);
    if (!link) return false;
    this.links.delete(name);
    this.scheduler.removeLink(name);
    this.registration.removeLink(name);
    this.lastStates.delete(name);
    link.close();
    log.info('uplink removed', { link: name });
    return true;
  }

  capacityBps(): number {
    return this.scheduler.capacityBps(this.now());
  }

  stats(): BondSenderStats {
    const now = this.now();
    const out: BondSenderStats = {
      group: this.registration.groupRegistered ? 'registered' : 'registering',
      capacityBps: this.scheduler.capacityBps(now),
      links: senderLinkStats([...this.links.values()], this.scheduler.stats(now), this.registration, now),
      packetsFromCaller: this.packetsFromCaller,
      packetsToCaller: this.packetsToCaller,
      unroutedPackets: this.unrouted + this.data.counters.unrouted,
      duplicatesDropped: this.returns.duplicates,
      redundantRetransmissions: this.data.counters.redundant,
      heldPackets: this.data.holding,
      heldTotal: this.data.counters.heldTotal,
      overflowPackets: this.data.counters.overflowed,
      malformedPackets: this.returns.malformed,
    };
    if (this.caller) out.caller = formatHostPort(this.caller.address, this.caller.port);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.data.clear();
    for (const l of this.links.values()) l.close();
    this.links.clear();
    const sock = this.local;
    this.local = undefined;
    await sock?.close();
  }

  // -- data path ------------------------------------------------------------

  private fromCaller(msg: Buffer, rinfo: UdpPeer): void {
    this.packetsFromCaller++;
    if (!this.caller || this.caller.port !== rinfo.port || this.caller.address !== rinfo.address) {
      if (!this.local) return;
      this.caller = this.local.target(rinfo.address, rinfo.port);
      const addr = formatHostPort(rinfo.address, rinfo.port);
      log.info('SRT caller connected', { from: addr });
      this.emit('caller', addr);
    }
    const now = this.now();
    const seq = srtDataSeq(msg);
    if (seq !== undefined) {
      this.data.offer(msg, seq, isRetransmission(msg), now);
      if (this.data.holding > 0) this.armHold();
      return;
    }
    const type = srtControlType(msg);
    if (type === SRT_CONTROL.HANDSHAKE || type === SRT_CONTROL.SHUTDOWN) {
      // Handshakes and shutdowns must not hang on one link's loss: send them on every registered link.
      let sent = false;
      for (const l of this.links.values()) {
        if (this.registration.isRegistered(l.name)) {
          l.send(msg);
          sent = true;
        }
      }
      if (!sent) this.unrouted++;
      return;
    }
    const id = this.scheduler.choose(msg.length, now);
    const link = id === undefined ? undefined : this.links.get(id);
    if (link) link.send(msg);
    else this.unrouted++;
  }

  private armHold(): void {
    if (this.holdTimer || this.closed) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.data.release(this.now());
      if (this.data.holding > 0) this.armHold();
    }, SENDER_TIMING.HOLD_RETRY_MS);
  }

  private fromLink(link: SenderLink, buf: Buffer): void {
    if (this.links.get(link.name) !== link) return;
    const now = this.now();
    const r = this.returns.read(link.name, buf, now);
    switch (r.kind) {
      case 'to-caller': {
        const caller = this.caller;
        if (!caller || !this.local) return;
        this.packetsToCaller++;
        this.local.send(buf, caller);
        return;
      }
      case 'probe':
        this.emit('probe', link.name, r.seq, r.rttMs, r.bytes);
        return;
      case 'registration':
        this.act(r.actions, now);
        return;
      case 'none':
        return;
    }
  }

  // -- registration (sender-registration.ts decides; this sends and reports) -

  private act(actions: readonly RegistrationAction[], now: number): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          this.links.get(a.link)?.send(a.packet);
          break;
        case 'group-registered':
          log.info('bonding group registered', { via: a.via });
          this.emit('registered');
          break;
        case 'group-lost':
          if (a.why === 'silence') log.warn('no answer from the bonding receiver on any link: registering again', { silentMs: a.silentMs });
          else log.warn('the bonding receiver no longer knows this stream (restarted?): registering again', { link: a.link });
          break;
        case 'link-registered':
          this.scheduler.onRegistered(a.link, now);
          log.info('uplink registered', { link: a.link });
          break;
        case 'link-lost':
          // The scheduler reads registration from the registration itself: nothing to copy.
          break;
        case 'refused': {
          const err = new BondRefusedError(`the bonding receiver refused link ${a.link}: ${a.reason}`, { link: a.link, reason: a.reason });
          log.warn('registration refused', { link: a.link, reason: a.reason });
          this.emit('refused', err);
          break;
        }
      }
    }
  }

  private housekeeping(): void {
    if (this.closed) return;
    const now = this.now();
    try {
      this.act(
        this.registration.tick(now, (id) => this.scheduler.stateOf(id) === 'stalled'),
        now,
      );
      for (const id of this.scheduler.tick(now)) {
        if (this.scheduler.stateOf(id) === 'dead') this.act(this.registration.linkDead(id), now);
      }
      for (const l of this.links.values()) {
        const heard = this.scheduler.link(l.name)?.lastRecvAt ?? now;
        const quiet = now - heard > SENDER_TIMING.KEEPALIVE_MS && this.scheduler.stateOf(l.name) === 'live';
        const every = quiet ? SENDER_TIMING.QUIET_KEEPALIVE_MS : SENDER_TIMING.KEEPALIVE_MS;
        if (this.registration.isRegistered(l.name) && now - l.lastKeepaliveAt >= every) {
          l.lastKeepaliveAt = now;
          l.send(this.keepalive(l, now));
        }
        const st = this.scheduler.stateOf(l.name);
        if (st && this.lastStates.get(l.name) !== st) {
          this.lastStates.set(l.name, st);
          log.info('uplink state', { link: l.name, state: st });
          this.emit('link', l.name, st);
        }
      }
      if (now - this.lastCapacityAt >= SENDER_TIMING.CAPACITY_EVENT_MS) {
        this.lastCapacityAt = now;
        this.emit('capacity', this.scheduler.capacityBps(now));
      }
    } catch (err) {
      log.error('bonding housekeeping failed', { err: describeError(err) });
    }
  }

  private keepalive(l: SenderLink, now: number): Buffer {
    return encodeKeepalive(Math.floor(now), keepaliveInfo([...this.links.keys()].indexOf(l.name), this.scheduler.link(l.name), now));
  }
}
