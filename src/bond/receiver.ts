/**
 * `fieldcast receive`: the SRTLA bonding receiver (SRTLA.md "Registration",
 * "Receiving"). Senders register groups (REG1 -> REG2 with the full id) and
 * links (REG2 -> REG3); each group's SRT packets go to the SRT listener over
 * the group's own socket (receiver-group.ts). Liveness: a link is dead after
 * 10 s of silence, a group with no live link after 10 s is dropped, a group
 * that registered but never sent data is reaped after 5 s.
 *
 * Every packet handler is wrapped: malformed or hostile input is counted and
 * dropped, never a crash. This module does not load the native addon — a
 * cloud VM runs it alone.
 *
 *   const r = new BondReceiver({ listen: '[::]:5000', forward: 'srt://127.0.0.1:9000' });
 *   await r.start(); r.stats(); r.close();
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TypedEmitter } from '../lib/events.js';
import { formatHostPort, parseHostPort, unmapIPv4 } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import {
  decodeSrtla,
  encodeReg2,
  encodeShortReply,
  isMalformed,
  isSrtData,
  isSrtla,
  SRTLA_ID_HALF,
  SRTLA_ID_LEN,
  srtControlType,
} from './protocol.js';
import { ReceiverOptionsError, ReceiverStartError } from './receiver-errors.js';
import { type GroupDeps, ReceiverGroup, type ReceiverLink } from './receiver-group.js';
import { DEFAULT_REGISTRATION_LIMITS, RegistrationGuard, type RegistrationLimits } from './receiver-limits.js';
import { MAX_BLOCKED_LISTED, type ReceiverCounters, type ReceiverStats, snapshot } from './receiver-stats.js';

const log = createLogger('receive');

const NGP_INTERVAL_MS = 1000;
const MAX_NGP_TRACKED = 10_000;

export interface BondReceiverOptions extends Partial<RegistrationLimits> {
  /** host:port to listen on; `[::]:5000` (the default) takes IPv4 and IPv6. */
  listen?: string;
  /** The SRT listener: `srt://host:port` (query ignored) or `host:port`. */
  forward: string;
  /** Reorder hold in ms (0 = off). */
  reorderMs?: number;
  maxGroups?: number;
  maxLinksPerGroup?: number;
  linkTimeoutMs?: number;
  groupTimeoutMs?: number;
  pendingGroupTimeoutMs?: number;
  housekeepingMs?: number;
}

export const RECEIVER_DEFAULTS = {
  listen: '[::]:5000',
  reorderMs: 50,
  // SRTLA.md: common receiver limits 200 groups, 8-16 links per group; timeouts 10 s.
  maxGroups: 200,
  maxLinksPerGroup: 16,
  linkTimeoutMs: 10_000,
  groupTimeoutMs: 10_000,
  pendingGroupTimeoutMs: 5_000,
  housekeepingMs: 1_000,
} as const;

type ResolvedOptions = Required<Omit<BondReceiverOptions, keyof RegistrationLimits>> & RegistrationLimits;

export type ReceiverEvents = {
  group: [{ tag: number; from: string }];
  groupClosed: [{ tag: number; reason: 'timeout' | 'never-sent-data' | 'closed' }];
  link: [{ tag: number; address: string; links: number }];
  linkClosed: [{ tag: number; address: string; reason: 'timeout' }];
};

function checkRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new ReceiverOptionsError(`${name} must be from ${min} to ${max} (got ${v})`, { [name]: v });
  return v;
}

/** `srt://host:port?…` or `host:port` -> host and port. */
export function parseForwardTarget(text: string): { host: string; port: number } {
  const m = /^(?:srt:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]]+):(\d{1,5})(?:[/?].*)?$/.exec(text.trim());
  if (!m) throw new ReceiverOptionsError(`forward target "${text}" is not srt://HOST:PORT (e.g. srt://127.0.0.1:9000)`, { value: text });
  try {
    return parseHostPort(`${m[1]}:${m[2]}`, 'forward target');
  } catch (e) {
    throw new ReceiverOptionsError((e as Error).message, { value: text });
  }
}

export class BondReceiver extends TypedEmitter<ReceiverEvents> {
  readonly options: ResolvedOptions;
  private sock: dgram.Socket | undefined;
  private forwardHost = '';
  private forwardPort = 0;
  private readonly groups = new Map<string, ReceiverGroup>();
  private readonly links = new Map<string, ReceiverLink>();
  /** Groups not yet sending data, by the `ip|port` that sent REG1 (a resent REG1 gets the same group). */
  private readonly pendingByCreator = new Map<string, ReceiverGroup>();
  private readonly guard: RegistrationGuard;
  /** When REG_NGP last went to an unregistered address:port (rate limit). */
  private readonly ngpSentAt = new Map<string, number>();
  private housekeeping: NodeJS.Timeout | undefined;
  private lastHousekeeping = 0;
  private nextTag = 1;
  private startedAt = 0;
  private closed = false;
  private listenAddr = '';
  private readonly counters: ReceiverCounters = {
    packetsIn: 0,
    bytesIn: 0,
    malformed: 0,
    unknownSource: 0,
    handlerErrors: 0,
    throttled: 0,
    regGroups: 0,
    regLinks: 0,
    regErr: 0,
    regNgp: 0,
    keepalivesEchoed: 0,
    groupsReaped: 0,
    groupsTimedOut: 0,
    linksTimedOut: 0,
  };
  private readonly groupDeps: GroupDeps;

  constructor(opts: BondReceiverOptions) {
    super();
    const o = { ...RECEIVER_DEFAULTS, ...DEFAULT_REGISTRATION_LIMITS, ...stripUndefined(opts) } as ResolvedOptions;
    parseForwardTarget(o.forward);
    try {
      parseHostPort(o.listen, 'listen address', true);
    } catch (e) {
      throw new ReceiverOptionsError((e as Error).message, { listen: o.listen });
    }
    checkRange('reorderMs', o.reorderMs, 0, 2000);
    checkRange('maxGroups', o.maxGroups, 1, 100_000);
    checkRange('maxLinksPerGroup', o.maxLinksPerGroup, 1, 64);
    checkRange('linkTimeoutMs', o.linkTimeoutMs, 10, 600_000);
    checkRange('groupTimeoutMs', o.groupTimeoutMs, 10, 600_000);
    checkRange('pendingGroupTimeoutMs', o.pendingGroupTimeoutMs, 10, 600_000);
    checkRange('housekeepingMs', o.housekeepingMs, 5, 60_000);
    checkRange('registrationsPerSecond', o.registrationsPerSecond, 0.01, 1e6);
    checkRange('registrationBurst', o.registrationBurst, 1, 1e6);
    checkRange('maxPendingGroupsPerAddress', o.maxPendingGroupsPerAddress, 1, 100_000);
    checkRange('failureLimit', o.failureLimit, 1, 1e6);
    checkRange('failureWindowMs', o.failureWindowMs, 10, 3_600_000);
    checkRange('blockMs', o.blockMs, 0, 86_400_000);
    this.options = o;
    this.guard = new RegistrationGuard(o);
    this.groupDeps = {
      sendToLink: (msg, link) => this.sock?.send(msg, link.port, link.address),
      forwardHost: '',
      forwardPort: 0,
      reorderMs: o.reorderMs,
      linkTimeoutMs: o.linkTimeoutMs,
    };
  }

  /** The address actually bound (useful with port 0). */
  get address(): string {
    return this.listenAddr;
  }

  get port(): number {
    return Number(this.listenAddr.split(':').pop());
  }

  async start(): Promise<void> {
    if (this.sock) return;
    const listen = parseHostPort(this.options.listen, 'listen address', true);
    const target = parseForwardTarget(this.options.forward);
    try {
      this.forwardHost = isIP(target.host) ? target.host : (await lookup(target.host)).address;
    } catch (err) {
      throw new ReceiverStartError(
        `cannot resolve the SRT listener's host ${target.host}: ${(err as Error).message}`,
        { host: target.host },
        err,
      );
    }
    this.forwardPort = target.port;
    this.groupDeps.forwardHost = this.forwardHost;
    this.groupDeps.forwardPort = this.forwardPort;
    const v6 = isIP(listen.host) === 6;
    const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: false, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(listen.port, listen.host, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      sock.close();
      throw new ReceiverStartError(
        `cannot listen on ${formatHostPort(listen.host, listen.port)}: ${(err as Error).message}`,
        { listen: this.options.listen },
        err,
      );
    }
    let lastErrorLog = Number.NEGATIVE_INFINITY;
    sock.on('error', (err) => {
      // A send error (e.g. ENOBUFS under a burst) can repeat per packet: log it at most every 10 s.
      const now = performance.now();
      if (now - lastErrorLog < 10_000) return;
      lastErrorLog = now;
      log.warn('socket error', { err });
    });
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.sock = sock;
    const a = sock.address();
    this.listenAddr = formatHostPort(a.address, a.port);
    this.startedAt = performance.now();
    this.lastHousekeeping = this.startedAt;
    this.housekeeping = setInterval(() => this.safeHousekeep(), this.options.housekeepingMs);
    log.info('listening', {
      listen: this.listenAddr,
      forward: formatHostPort(this.forwardHost, this.forwardPort),
      reorderMs: this.options.reorderMs,
    });
  }

  stats(): ReceiverStats {
    const now = performance.now();
    return snapshot({
      now,
      listen: this.listenAddr,
      forward: formatHostPort(this.forwardHost, this.forwardPort),
      uptimeS: this.startedAt ? (now - this.startedAt) / 1000 : 0,
      counters: this.counters,
      groups: [...this.groups.values()],
      linkTimeoutMs: this.options.linkTimeoutMs,
      blockedAddresses: this.guard.blockedNow(now),
      blocked: this.guard.blockedList(now, MAX_BLOCKED_LISTED),
      reorderMs: this.options.reorderMs,
      limits: {
        maxGroups: this.options.maxGroups,
        maxLinksPerGroup: this.options.maxLinksPerGroup,
        pendingGroupTimeoutS: this.options.pendingGroupTimeoutMs / 1000,
        blockS: this.options.blockMs / 1000,
      },
    });
  }

  /** Idempotent: closes every group's socket and the listening socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.housekeeping) clearInterval(this.housekeeping);
    for (const g of [...this.groups.values()]) this.dropGroup(g, 'closed');
    try {
      this.sock?.close();
    } catch {
      // already closed
    }
    log.info('closed');
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    try {
      this.handle(msg, rinfo);
    } catch (err) {
      this.counters.handlerErrors++;
      log.debug('packet handler failed', { from: rinfo.address, err });
    }
  }

  private handle(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.length;
    const now = performance.now();
    const key = `${rinfo.address}|${rinfo.port}`;
    const link = this.links.get(key);
    if (msg.length < 2) {
      c.malformed++;
      return;
    }
    if (isSrtla(msg)) {
      const p = decodeSrtla(msg);
      if (p === undefined || isMalformed(p)) {
        c.malformed++;
        return;
      }
      switch (p.kind) {
        case 'reg1':
          this.onReg1(p.id, rinfo, key, now);
          return;
        case 'reg2':
          this.onReg2(p.id, rinfo, key, now);
          return;
        case 'keepalive':
          if (!link) {
            this.unknownSource(key, rinfo, now);
            return;
          }
          // Echoed unchanged: the sender reads its timestamp back for RTT (SRTLA.md).
          link.lastSeen = now;
          link.keepalives++;
          link.group.lastSeen = now;
          c.keepalivesEchoed++;
          this.sock?.send(msg, rinfo.port, rinfo.address);
          return;
        default:
          // Receiver-to-sender types arriving here: not ours to act on.
          c.malformed++;
          return;
      }
    }
    if (!link) {
      if (isSrtData(msg) || srtControlType(msg) !== undefined) this.unknownSource(key, rinfo, now);
      else c.malformed++;
      return;
    }
    link.lastSeen = now;
    link.packets++;
    link.bytes += msg.length;
    const g = link.group;
    const wasPending = !g.hadData;
    g.fromSender(msg, link, now);
    if (wasPending && g.hadData) this.pendingEnded(g);
  }

  /**
   * Traffic from an address that is no link: after a receiver restart, every
   * sender's links look like this. REG_NGP tells the sender at once to
   * register again (SRTLA.md: "no such group: start again with REG1") instead
   * of waiting for its link timeouts. At most one per address:port a second,
   * and never bigger than what came in: no amplification.
   */
  private unknownSource(key: string, rinfo: dgram.RemoteInfo, now: number): void {
    this.counters.unknownSource++;
    const last = this.ngpSentAt.get(key);
    if (last !== undefined && now - last < NGP_INTERVAL_MS) return;
    if (last === undefined && this.ngpSentAt.size >= MAX_NGP_TRACKED) return;
    this.ngpSentAt.set(key, now);
    this.counters.regNgp++;
    this.reply('regNgp', rinfo);
  }

  private reply(kind: 'reg3' | 'regErr' | 'regNgp', rinfo: dgram.RemoteInfo): void {
    this.sock?.send(encodeShortReply(kind), rinfo.port, rinfo.address);
  }

  private refuse(rinfo: dgram.RemoteInfo, ip: string, now: number, why: string): void {
    this.counters.regErr++;
    this.guard.fail(ip, now);
    this.reply('regErr', rinfo);
    log.debug('registration refused', { from: formatHostPort(ip, rinfo.port), why });
  }

  private admitted(ip: string, now: number): boolean {
    const a = this.guard.admit(ip, now);
    if (a === 'ok') return true;
    this.counters.throttled++;
    return false;
  }

  private onReg1(id: Buffer, rinfo: dgram.RemoteInfo, key: string, now: number): void {
    const ip = unmapIPv4(rinfo.address);
    if (!this.admitted(ip, now)) return;
    if (this.links.has(key)) {
      this.refuse(rinfo, ip, now, 'address is already a link of a group');
      return;
    }
    const again = this.pendingByCreator.get(key);
    if (again?.id.subarray(0, SRTLA_ID_HALF).equals(id.subarray(0, SRTLA_ID_HALF))) {
      // Our REG2 answer was lost and the sender asks again: the same group, the same answer.
      this.sock?.send(encodeReg2(again.id), rinfo.port, rinfo.address);
      return;
    }
    if (this.groups.size >= this.options.maxGroups) {
      this.refuse(rinfo, ip, now, 'too many groups');
      return;
    }
    if (!this.guard.canCreatePending(ip, now)) {
      this.refuse(rinfo, ip, now, 'too many groups registering from this address');
      return;
    }
    const full = Buffer.alloc(SRTLA_ID_LEN);
    id.copy(full, 0, 0, SRTLA_ID_HALF);
    randomBytes(SRTLA_ID_LEN - SRTLA_ID_HALF).copy(full, SRTLA_ID_HALF);
    const g = new ReceiverGroup(this.nextTag++, full.toString('hex'), full, key, ip, now, this.groupDeps);
    this.groups.set(g.idHex, g);
    if (again) this.pendingByCreator.delete(key);
    this.pendingByCreator.set(key, g);
    this.guard.pendingCreated(ip, now);
    this.counters.regGroups++;
    this.sock?.send(encodeReg2(full), rinfo.port, rinfo.address);
    const from = formatHostPort(ip, rinfo.port);
    log.info('group registered', { group: g.tag, from });
    this.emit('group', { tag: g.tag, from });
  }

  private onReg2(id: Buffer, rinfo: dgram.RemoteInfo, key: string, now: number): void {
    const ip = unmapIPv4(rinfo.address);
    if (!this.admitted(ip, now)) return;
    const g = this.groups.get(id.toString('hex'));
    if (!g) {
      // We do not know it (restarted, or reaped): the sender must start over with REG1.
      this.counters.regNgp++;
      this.guard.fail(ip, now);
      this.reply('regNgp', rinfo);
      return;
    }
    const existing = this.links.get(key);
    if (existing && existing.group !== g) {
      this.refuse(rinfo, ip, now, 'address is already a link of another group');
      return;
    }
    if (existing) {
      existing.lastSeen = now;
      this.reply('reg3', rinfo);
      return;
    }
    if (g.links.size >= this.options.maxLinksPerGroup) {
      this.refuse(rinfo, ip, now, 'too many links in the group');
      return;
    }
    const link: ReceiverLink = {
      key,
      address: rinfo.address,
      port: rinfo.port,
      ip,
      group: g,
      registeredAt: now,
      lastSeen: now,
      packets: 0,
      bytes: 0,
      keepalives: 0,
      srtlaAcks: 0,
      ackLog: [],
      rateBps: 0,
      rateBytesMark: 0,
    };
    g.links.set(key, link);
    g.lastSeen = now;
    this.links.set(key, link);
    this.counters.regLinks++;
    this.reply('reg3', rinfo);
    const address = formatHostPort(ip, rinfo.port);
    log.info('link registered', { group: g.tag, link: address, links: g.links.size });
    this.emit('link', { tag: g.tag, address, links: g.links.size });
  }

  private pendingEnded(g: ReceiverGroup): void {
    if (this.pendingByCreator.get(g.creatorKey) === g) {
      this.pendingByCreator.delete(g.creatorKey);
      this.guard.pendingEnded(g.creatorIp);
    }
  }

  private dropGroup(g: ReceiverGroup, reason: 'timeout' | 'never-sent-data' | 'closed'): void {
    if (!g.hadData) this.pendingEnded(g);
    for (const l of g.links.values()) this.links.delete(l.key);
    g.links.clear();
    this.groups.delete(g.idHex);
    g.close();
    if (reason !== 'closed') log.info('group dropped', { group: g.tag, reason });
    this.emit('groupClosed', { tag: g.tag, reason });
  }

  private safeHousekeep(): void {
    try {
      this.housekeep(performance.now());
    } catch (err) {
      this.counters.handlerErrors++;
      log.warn('housekeeping failed', { err });
    }
  }

  private housekeep(now: number): void {
    const o = this.options;
    const seconds = Math.max(0.001, (now - this.lastHousekeeping) / 1000);
    this.lastHousekeeping = now;
    for (const g of [...this.groups.values()]) {
      for (const l of [...g.links.values()]) {
        if (now - l.lastSeen > o.linkTimeoutMs) {
          g.links.delete(l.key);
          this.links.delete(l.key);
          this.counters.linksTimedOut++;
          const address = formatHostPort(l.ip, l.port);
          log.info('link timed out', { group: g.tag, link: address });
          this.emit('linkClosed', { tag: g.tag, address, reason: 'timeout' });
        }
      }
      if (!g.hadData && now - g.createdAt > o.pendingGroupTimeoutMs) {
        this.counters.groupsReaped++;
        this.dropGroup(g, 'never-sent-data');
      } else if (g.links.size === 0 && now - g.lastSeen > o.groupTimeoutMs) {
        this.counters.groupsTimedOut++;
        this.dropGroup(g, 'timeout');
      } else {
        g.updateRates(seconds);
      }
    }
    this.guard.sweep(now);
    for (const [k, t] of this.ngpSentAt) if (now - t > NGP_INTERVAL_MS) this.ngpSentAt.delete(k);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
