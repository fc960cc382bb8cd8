/**
 * The bonding sender (SRTLA): a local UDP port where an SRT caller connects,
 * exactly like srtla_send; one UDP socket per uplink; SRT packets spread over
 * the uplinks by the Scheduler (held in the sender while every link is
 * full: sender-hold.ts); the receiver's return traffic (SRT ACKs, NAKs,
 * handshakes) back to the caller, one copy each.
 *
 *   const s = new BondSender({ receiver: 'ingest.example:5000', links: [...] });
 *   const port = await s.start();      // point the SRT caller at 127.0.0.1:port
 *   s.addLink({ name: 'cell-d', bind: '10.0.3.2' }); s.removeLink('cell-a');
 *   s.stats(); s.capacityBps(); s.on('link', …); await s.close();
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import { BondConfigError, BondRefusedError, BondStateError } from './errors.js';
import {
  decodeSrtla,
  decodeSrtNak,
  encodeKeepalive,
  encodeProbe,
  encodeReg1,
  encodeReg2,
  idMatchesOurHalf,
  isRetransmission,
  probeSeq,
  SRT_CONTROL,
  SRTLA_ID_LEN,
  srtAckSeq,
  srtControlType,
  srtDataSeq,
} from './protocol.js';
import { type LinkStateName, Scheduler } from './scheduler.js';
import { ReturnDedupe } from './sender-dedupe.js';
import { type HeldPacket, HoldQueue } from './sender-hold.js';
import { type BondLinkOptions, SenderLink } from './sender-link.js';
import { type BondSenderStats, keepaliveInfo, senderLinkStats } from './sender-stats.js';

export type { BondSenderStats, SenderLinkStats } from './sender-stats.js';

const log = createLogger('bond');

/** Timers of the sender (SRTLA.md "Registration"; keepalives far more often than the common 1 s, for RTT). */
export const SENDER_TIMING = {
  HOUSEKEEPING_MS: 25,
  KEEPALIVE_MS: 100,
  /**
   * Keepalive interval of a live link that has heard nothing for KEEPALIVE_MS: a burst of
   * lost probes on an idle lossy modem must not look like a dead link.
   */
  QUIET_KEEPALIVE_MS: 25,
  REG1_RETRY_MS: 2000,
  REG2_RETRY_MS: 1000,
  /** No answer on any link for this long: the receiver forgot us (restart) — register the group again. */
  REGROUP_SILENCE_MS: 5000,
  /** After starting over, REG_NGP answers to what was sent before are stale: ignored this long (well above any link's RTT). */
  REGROUP_GRACE_MS: 1000,
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
  private readonly scheduler = new Scheduler();
  private readonly links = new Map<string, SenderLink>();
  private readonly dedupe = new ReturnDedupe();
  private local: Socket | undefined;
  private caller: RemoteInfo | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;

  private groupId: Buffer = randomBytes(SRTLA_ID_LEN);
  private fullId: Buffer | undefined;
  private lastReg1At = -Infinity;
  private lastRegroupAt = -Infinity;
  private reg1Turn = 0;
  private groupBackoffUntil = 0;
  private lastAnswerAt: number;
  private lastCapacityAt = -Infinity;
  private readonly lastStates = new Map<string, LinkStateName>();

  private packetsFromCaller = 0;
  private packetsToCaller = 0;
  private unrouted = 0;
  private duplicates = 0;
  private redundant = 0;
  private readonly held = new HoldQueue(SENDER_TIMING.HOLD_MAX_BYTES);
  private holdTimer: NodeJS.Timeout | undefined;
  private heldTotal = 0;
  private overflowed = 0;
  private malformed = 0;

  constructor(private readonly opts: BondSenderOptions) {
    super();
    this.receiver = parseHostPort(opts.receiver, 'bonding receiver');
    this.listen = parseHostPort(opts.listen ?? '127.0.0.1:0', 'local SRT port', true);
    this.scheduler.meteredWhenNeeded = opts.meteredWhenNeeded ?? true;
    const names = new Set<string>();
    for (const l of opts.links) {
      if (names.has(l.name)) throw new BondConfigError(`two links are named "${l.name}": names must differ`, { name: l.name });
      names.add(l.name);
    }
    this.now = opts.clock ?? (() => performance.now());
    this.lastAnswerAt = this.now();
  }

  /** Opens the local port and the uplinks; resolves with the local port for the SRT caller. */
  async start(): Promise<number> {
    if (this.closed) throw new BondStateError('the bonding sender was closed');
    if (this.started) throw new BondStateError('the bonding sender is already running');
    this.started = true;
    const family = isIP(this.listen.host) === 6 ? 'udp6' : 'udp4';
    const sock = createSocket({ type: family, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    sock.on('message', (msg, rinfo) => this.fromCaller(msg, rinfo));
    sock.on('error', (err) => log.warn('local SRT socket error', { err }));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.listen.port, this.listen.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.local = sock;
    // Links open in parallel; one that cannot open is reported and left out, the others carry the stream.
    await Promise.all(
      this.opts.links.map((l) => this.addLink(l).catch((err: unknown) => log.error('uplink not available', { link: l.name, err }))),
    );
    this.timer = setInterval(() => this.housekeeping(), SENDER_TIMING.HOUSEKEEPING_MS);
    this.timer.unref?.();
    const port = sock.address().port;
    log.info('bonding sender ready', {
      srt: formatHostPort(this.listen.host, port),
      receiver: formatHostPort(this.receiver.host, this.receiver.port),
    });
    return port;
  }

  get port(): number | undefined {
    return this.local?.address().port;
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
    this.scheduler.addLink(
      link.name,
      { priority: options.priority ?? 5, backupOnly: options.backupOnly ?? false, metered: options.metered ?? false },
      this.now(),
    );
    if (this.fullId) this.sendReg2(link, this.now());
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
    if (!l?.isOpen || !l.registered) return false;
    l.send(encodeProbe(this.now(), seq, bytes));
    return true;
  }

  /** Removes an uplink while live: its traffic moves to the others at once. */
  removeLink(name: string): boolean {
    const link = this.links.get(name);
    if (!link) return false;
    this.links.delete(name);
    this.scheduler.removeLink(name);
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
      group: this.fullId ? 'registered' : 'registering',
      capacityBps: this.scheduler.capacityBps(now),
      links: senderLinkStats([...this.links.values()], this.scheduler.stats(now), this.fullId !== undefined, now),
      packetsFromCaller: this.packetsFromCaller,
      packetsToCaller: this.packetsToCaller,
      unroutedPackets: this.unrouted,
      duplicatesDropped: this.duplicates,
      redundantRetransmissions: this.redundant,
      heldPackets: this.held.length,
      heldTotal: this.heldTotal,
      overflowPackets: this.overflowed,
      malformedPackets: this.malformed,
    };
    if (this.caller) out.caller = formatHostPort(this.caller.address, this.caller.port);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.held.clear();
    for (const l of this.links.values()) l.close();
    this.links.clear();
    const sock = this.local;
    this.local = undefined;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }

  // -- data path ------------------------------------------------------------

  private fromCaller(msg: Buffer, rinfo: RemoteInfo): void {
    this.packetsFromCaller++;
    if (!this.caller || this.caller.port !== rinfo.port || this.caller.address !== rinfo.address) {
      this.caller = rinfo;
      const addr = formatHostPort(rinfo.address, rinfo.port);
      log.info('SRT caller connected', { from: addr });
      this.emit('caller', addr);
    }
    const now = this.now();
    const seq = srtDataSeq(msg);
    if (seq !== undefined) {
      const retx = isRetransmission(msg);
      if (retx && this.scheduler.redundantRetransmission(seq, now)) {
        this.redundant++;
        return;
      }
      // New data keeps its order behind what is held; a repair may pass it.
      const mustWait = retx ? this.held.holdingRepairs : this.held.holdingData;
      if (!mustWait && this.sendData(msg, seq, retx, now, false)) return;
      const p: HeldPacket = { msg, seq, retransmission: retx, at: now };
      if (this.held.push(p)) {
        this.heldTotal++;
        this.armHold();
      } else if (!this.sendData(msg, seq, retx, now, true)) this.unrouted++;
      return;
    }
    const type = srtControlType(msg);
    if (type === SRT_CONTROL.HANDSHAKE || type === SRT_CONTROL.SHUTDOWN) {
      // Handshakes and shutdowns must not hang on one link's loss: send them on every registered link.
      let sent = false;
      for (const l of this.links.values()) {
        if (l.registered) {
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

  /**
   * Sends a data packet over a link with room; with `overflow`, when none has
   * room, over the least-full one (counted). False when no link took it.
   */
  private sendData(msg: Buffer, seq: number, retx: boolean, now: number, overflow: boolean): boolean {
    let id = this.scheduler.send(seq, msg.length, now, retx, false);
    if (id === undefined && overflow) {
      id = this.scheduler.send(seq, msg.length, now, retx, true);
      if (id !== undefined) this.overflowed++;
    }
    const link = id === undefined ? undefined : this.links.get(id);
    if (!link) return false;
    link.send(msg);
    return true;
  }

  private armHold(): void {
    if (this.holdTimer || this.closed) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.releaseHeld();
    }, SENDER_TIMING.HOLD_RETRY_MS);
  }

  /** Offers held packets to the links, oldest repair first; one held too long leaves over the least-full link. */
  private releaseHeld(): void {
    const now = this.now();
    // Held at or before this, a packet has waited its limit: it leaves first, from
    // either queue (a repair that waits must not hold older data past the cap).
    const overdueAt = now - SENDER_TIMING.HOLD_MAX_MS;
    for (let p = this.held.peek(overdueAt); p; p = this.held.peek(overdueAt)) {
      if (p.retransmission && this.scheduler.redundantRetransmission(p.seq, now)) {
        this.held.shift(overdueAt);
        this.redundant++;
        continue;
      }
      const overdue = p.at <= overdueAt;
      if (!this.sendData(p.msg, p.seq, p.retransmission, now, overdue)) {
        if (!overdue) break;
        this.unrouted++;
      }
      this.held.shift(overdueAt);
    }
    if (this.held.length > 0) this.armHold();
  }

  private fromLink(link: SenderLink, buf: Buffer): void {
    if (this.links.get(link.name) !== link) return;
    const now = this.now();
    const srtla = decodeSrtla(buf);
    if (srtla === undefined) {
      this.fromReceiverSrt(link, buf, now);
      return;
    }
    switch (srtla.kind) {
      case 'malformed':
        this.malformed++;
        return;
      case 'keepalive': {
        this.answered(link, now);
        const probe = probeSeq(buf);
        if (probe !== undefined) {
          // A preflight probe's echo: its size makes its RTT no keepalive's.
          if (srtla.timestampMs !== undefined) this.emit('probe', link.name, probe, Math.max(0, now - srtla.timestampMs), buf.length);
          return;
        }
        const ts = srtla.timestampMs;
        // Only our own echoes: a timestamp from our clock, not in the future, under 10 s old.
        if (ts !== undefined && ts <= now + 1 && now - ts < 10_000)
          this.scheduler.onKeepaliveRtt(link.name, Math.max(0, now - ts), ts, now);
        return;
      }
      case 'ack':
        this.answered(link, now);
        this.scheduler.onSrtlaAck(link.name, srtla.seqs, now);
        return;
      case 'reg2':
        if (!this.fullId && idMatchesOurHalf(this.groupId, srtla.id)) {
          this.fullId = srtla.id;
          this.lastAnswerAt = now;
          log.info('bonding group registered', { via: link.name });
          this.emit('registered');
          for (const l of this.links.values()) this.sendReg2(l, now);
        }
        return;
      case 'reg3':
        this.answered(link, now);
        if (!link.registered) {
          link.accept();
          this.scheduler.setRegistered(link.name, true, now);
          log.info('uplink registered', { link: link.name });
        }
        return;
      case 'regErr':
        this.refused(link, 'too many links or groups, or this address is in another group', now, false);
        return;
      case 'regNak':
        this.refused(link, srtla.text || 'refused', now, true);
        return;
      case 'regNgp':
        // One restart of the receiver answers REG_NGP on every link, to every REG2 and keepalive
        // already on its way: start over once, not once per answer (each fresh REG1 would make
        // the receiver open yet another group and refuse the links it already holds elsewhere).
        if (!this.fullId || now - this.lastRegroupAt < SENDER_TIMING.REGROUP_GRACE_MS) return;
        log.warn('the bonding receiver no longer knows this stream (restarted?): registering again', { link: link.name });
        this.regroup(now);
        return;
      case 'reg1':
        this.malformed++;
        return;
    }
  }

  private fromReceiverSrt(link: SenderLink, buf: Buffer, now: number): void {
    this.answered(link, now);
    if (this.dedupe.isDuplicate(buf, now)) {
      this.duplicates++;
      return;
    }
    const type = srtControlType(buf);
    if (type === SRT_CONTROL.ACK) {
      const ack = srtAckSeq(buf);
      if (ack !== undefined) this.scheduler.onSrtAck(ack, now);
    } else if (type === SRT_CONTROL.NAK) {
      const nak = decodeSrtNak(buf);
      if (nak.kind === 'nak') this.scheduler.onNak(nak.ranges, now);
    }
    const caller = this.caller;
    if (!caller || !this.local) return;
    this.packetsToCaller++;
    this.local.send(buf, caller.port, caller.address);
  }

  private answered(link: SenderLink, now: number): void {
    this.lastAnswerAt = now;
    this.scheduler.onReceive(link.name, now);
  }

  // -- registration (SRTLA.md "Registration") -------------------------------

  private sendReg2(link: SenderLink, now: number): void {
    if (!this.fullId || !link.isOpen || link.refusedUntil > now) return;
    link.lastRegSentAt = now;
    link.send(encodeReg2(this.fullId));
  }

  private refused(link: SenderLink, reason: string, now: number, forGood: boolean): void {
    if (!this.fullId) {
      // REG1 itself was refused: the group could not be created.
      this.groupBackoffUntil = now + link.refuse(reason, now, forGood);
      link.refusedUntil = 0;
    } else {
      link.refuse(reason, now, forGood);
      this.scheduler.setRegistered(link.name, false, now);
    }
    const err = new BondRefusedError(`the bonding receiver refused link ${link.name}: ${reason}`, { link: link.name, reason });
    log.warn('registration refused', { link: link.name, reason });
    this.emit('refused', err);
  }

  /** Starts over with a new group (REG_NGP, or the receiver silent on every link). */
  private regroup(now: number): void {
    this.lastRegroupAt = now;
    this.fullId = undefined;
    this.groupId = randomBytes(SRTLA_ID_LEN);
    this.lastReg1At = -Infinity;
    this.lastAnswerAt = now;
    for (const l of this.links.values()) {
      l.registered = false;
      this.scheduler.setRegistered(l.name, false, now);
    }
  }

  private housekeeping(): void {
    if (this.closed) return;
    const now = this.now();
    try {
      this.register(now);
      for (const id of this.scheduler.tick(now)) {
        const st = this.scheduler.stateOf(id);
        if (st === 'dead') {
          const l = this.links.get(id);
          if (l) l.registered = false;
          this.scheduler.setRegistered(id, false, now);
        }
      }
      for (const l of this.links.values()) {
        const heard = this.scheduler.link(l.name)?.lastRecvAt ?? now;
        const quiet = now - heard > SENDER_TIMING.KEEPALIVE_MS && this.scheduler.stateOf(l.name) === 'live';
        const every = quiet ? SENDER_TIMING.QUIET_KEEPALIVE_MS : SENDER_TIMING.KEEPALIVE_MS;
        if (l.registered && now - l.lastKeepaliveAt >= every) {
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

  private register(now: number): void {
    const open = [...this.links.values()].filter((l) => l.isOpen);
    if (open.length === 0) return;
    if (this.fullId && now - this.lastAnswerAt > SENDER_TIMING.REGROUP_SILENCE_MS) {
      log.warn('no answer from the bonding receiver on any link: registering again', { silentMs: Math.round(now - this.lastAnswerAt) });
      this.regroup(now);
    }
    if (!this.fullId) {
      if (now < this.groupBackoffUntil || now - this.lastReg1At < SENDER_TIMING.REG1_RETRY_MS) return;
      // Rotate REG1 over the links: the first one tried may be the broken one.
      const link = open[this.reg1Turn++ % open.length]!;
      this.lastReg1At = now;
      link.send(encodeReg1(this.groupId));
      return;
    }
    for (const l of open) {
      const st = this.scheduler.stateOf(l.name);
      // Unregistered links ask to join; stalled ones re-ask, which also detects a restarted receiver (REG_NGP).
      const wants = !l.registered || st === 'stalled';
      if (wants && now - l.lastRegSentAt >= SENDER_TIMING.REG2_RETRY_MS) this.sendReg2(l, now);
    }
  }

  private keepalive(l: SenderLink, now: number): Buffer {
    return encodeKeepalive(Math.floor(now), keepaliveInfo([...this.links.keys()].indexOf(l.name), this.scheduler.link(l.name), now));
  }
}
