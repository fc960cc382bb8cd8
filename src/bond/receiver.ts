/**
 * `fieldcast receive`: the SRTLA bonding receiver (SRTLA.md "Registration",
 * "Receiving"). Senders register groups (REG1 -> REG2 with the full id) and
 * links (REG2 -> REG3): receiver-registration.ts decides, receiver-table.ts
 * keeps who belongs where. Each group's SRT packets go to the SRT listener
 * over the group's own socket (receiver-group.ts). Liveness: a link is dead
 * after 10 s of silence, a group with no live link after 10 s is dropped, a
 * group that registered but never sent data is reaped after 5 s. This file is
 * the socket, the timer and the events around them (its options:
 * receiver-options.ts).
 *
 * One forward: each group's SRT packets are relayed to that listener as they
 * came, and the SRT session runs from the unit to it. Two forwards
 * (receiver-forwards.ts): each group's session ends here, decrypted with the
 * unit's passphrase, and its TS is sent on to both listeners, each over its
 * own SRT session (receiver-fanout.ts).
 *
 * Every packet handler is wrapped: malformed or hostile input is counted and
 * dropped, never a crash. This module does not load the native addon — a
 * cloud VM runs it alone; only the fan-out (two forwards) imports it, when
 * the receiver starts.
 *
 *   const r = new BondReceiver({ listen: '[::]:5000', forward: 'srt://127.0.0.1:9000' });
 *   const f = new BondReceiver({ forward: ['srt://10.0.1.20:5000', 'srt://10.0.2.20:5000'], passphrase });
 *   await r.start(); r.stats(); r.close();
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TypedEmitter } from '../lib/events.js';
import { formatHostPort, parseHostPort, unmapIPv4 } from '../lib/hostport.js';
import { createLogger } from '../lib/logger.js';
import type { Secret } from '../srt/secret.js';
import { decodeSrtla, isMalformed, isSrtData, isSrtla, srtControlType } from './protocol.js';
import { ReceiverStartError } from './receiver-errors.js';
import { type ForwardPlan, forwardTarget, parseForwardTarget } from './receiver-forwards.js';
import { type GroupDeps, ReceiverGroup } from './receiver-group.js';
import { type BondReceiverOptions, type ResolvedOptions, resolveReceiverOptions } from './receiver-options.js';
import { ReceiverRegistration, type RegistrationResult, type Source } from './receiver-registration.js';
import { MAX_BLOCKED_LISTED, type PacketCounters, type ReceiverStats, snapshot } from './receiver-stats.js';
import { GroupTable } from './receiver-table.js';

const log = createLogger('receive');

// Where they used to be defined: their users import them from here.
export { parseForwardTarget } from './receiver-forwards.js';
export { type BondReceiverOptions, FANOUT_MAX_GROUPS, RECEIVER_DEFAULTS } from './receiver-options.js';

/** Why a group went: silence, never sending data, its sender starting over from the same port, or the receiver closing. */
export type GroupClosedReason = 'timeout' | 'never-sent-data' | 'replaced' | 'closed';

export type ReceiverEvents = {
  group: [{ tag: number; from: string }];
  groupClosed: [{ tag: number; reason: GroupClosedReason }];
  link: [{ tag: number; address: string; links: number }];
  linkClosed: [{ tag: number; address: string; reason: 'timeout' }];
};

export class BondReceiver extends TypedEmitter<ReceiverEvents> {
  readonly options: ResolvedOptions;
  /** Relay to one listener, or fan out to two (receiver-forwards.ts). */
  readonly plan: ForwardPlan;
  readonly #passphrase: Secret | undefined;
  private sock: dgram.Socket | undefined;
  private forwardHost = '';
  private forwardPort = 0;
  private readonly table = new GroupTable();
  private readonly registration: ReceiverRegistration;
  private housekeeping: NodeJS.Timeout | undefined;
  private lastHousekeeping = 0;
  private startedAt = 0;
  private closed = false;
  private listenAddr = '';
  private readonly counters: PacketCounters = { packetsIn: 0, bytesIn: 0, malformed: 0, handlerErrors: 0, keepalivesEchoed: 0 };
  private readonly groupDeps: GroupDeps;

  constructor(opts: BondReceiverOptions) {
    super();
    const { options: o, plan } = resolveReceiverOptions(opts);
    this.options = o;
    this.plan = plan;
    this.#passphrase = opts.passphrase;
    this.groupDeps = {
      sendToLink: (msg, link) => this.sock?.send(msg, link.port, link.address),
      linksOf: (g) => this.table.linksOf(g),
      forwardHost: '',
      forwardPort: 0,
      reorderMs: o.reorderMs,
      linkTimeoutMs: o.linkTimeoutMs,
    };
    this.registration = new ReceiverRegistration(this.table, o, (spec) => new ReceiverGroup(spec, this.groupDeps));
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
    if (this.plan.mode === 'relay') await this.resolveRelay(this.plan.target);
    else {
      try {
        // Only here is the SRT addon needed: the relay-only receiver never loads it.
        const { fanoutFactory } = await import('./receiver-fanout.js');
        this.groupDeps.terminate = fanoutFactory(this.plan.forwards, this.#passphrase);
      } catch (err) {
        throw new ReceiverStartError(
          `two --forward need the SRT addon (the receiver ends each unit's session to send it on to both): ${(err as Error).message}`,
          {},
          err,
        );
      }
    }
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
    log.info('listening', { listen: this.listenAddr, forward: this.forwardText(), reorderMs: this.options.reorderMs });
  }

  /** Where the streams go, as stats and logs say it: host:port, or both forwards' (never a URL's query). */
  private forwardText(): string {
    if (this.plan.mode === 'relay') return formatHostPort(this.forwardHost, this.forwardPort);
    return this.plan.forwards.map(forwardTarget).join(', ');
  }

  private async resolveRelay(text: string): Promise<void> {
    const target = parseForwardTarget(text);
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
  }

  stats(): ReceiverStats {
    const now = performance.now();
    const blocked = this.registration.blocked(now, MAX_BLOCKED_LISTED);
    return snapshot({
      now,
      listen: this.listenAddr,
      forward: this.forwardText(),
      mode: this.plan.mode,
      uptimeS: this.startedAt ? (now - this.startedAt) / 1000 : 0,
      counters: { ...this.counters, ...this.registration.counters },
      table: this.table,
      linkTimeoutMs: this.options.linkTimeoutMs,
      blockedAddresses: blocked.count,
      blocked: blocked.list,
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
    for (const g of [...this.table.groups()]) {
      this.registration.drop(g);
      this.groupClosed(g, 'closed');
    }
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
    const link = this.table.link(key);
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
        case 'reg2':
          this.answer(this.registration.onPacket(p, source(key, rinfo), now), rinfo);
          return;
        case 'keepalive':
          if (!link) {
            this.answer(this.registration.unknownSource(source(key, rinfo), now), rinfo);
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
      if (isSrtData(msg) || srtControlType(msg) !== undefined) this.answer(this.registration.unknownSource(source(key, rinfo), now), rinfo);
      else c.malformed++;
      return;
    }
    link.lastSeen = now;
    link.packets++;
    link.bytes += msg.length;
    const g = link.group;
    const wasPending = !g.hadData;
    g.fromSender(msg, link, now);
    if (wasPending && g.hadData) this.registration.sentData(g);
  }

  /** Sends the registration's answer and says what changed. */
  private answer(r: RegistrationResult, rinfo: dgram.RemoteInfo): void {
    if (r.kind === 'ignored') return;
    this.sock?.send(r.reply, rinfo.port, rinfo.address);
    switch (r.kind) {
      case 'refused':
        log.debug('registration refused', { from: formatHostPort(unmapIPv4(rinfo.address), rinfo.port), why: r.why });
        return;
      case 'group': {
        if (r.replaced) this.groupClosed(r.replaced, 'replaced');
        const from = formatHostPort(r.group.creatorIp, rinfo.port);
        log.info('group registered', { group: r.group.tag, from });
        this.emit('group', { tag: r.group.tag, from });
        return;
      }
      case 'link': {
        const g = r.link.group;
        const address = formatHostPort(r.link.ip, r.link.port);
        const links = this.table.linksOf(g).size;
        log.info('link registered', { group: g.tag, link: address, links });
        this.emit('link', { tag: g.tag, address, links });
        return;
      }
      case 'answered':
        return;
    }
  }

  private groupClosed(g: ReceiverGroup, reason: GroupClosedReason): void {
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
    const seconds = Math.max(0.001, (now - this.lastHousekeeping) / 1000);
    this.lastHousekeeping = now;
    for (const e of this.registration.expire(now)) {
      if (e.kind === 'group-dropped') {
        this.groupClosed(e.group, e.reason);
        continue;
      }
      const address = formatHostPort(e.link.ip, e.link.port);
      log.info('link timed out', { group: e.link.group.tag, link: address });
      this.emit('linkClosed', { tag: e.link.group.tag, address, reason: 'timeout' });
    }
    for (const g of this.table.groups()) g.updateRates(seconds);
  }
}

function source(key: string, rinfo: dgram.RemoteInfo): Source {
  return { key, address: rinfo.address, port: rinfo.port, ip: unmapIPv4(rinfo.address) };
}
