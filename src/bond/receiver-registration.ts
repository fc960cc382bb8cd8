/**
 * The bonding receiver's registration (SRTLA.md "Registration") without I/O.
 * REG1 creates a group: the sender's half of the id and a random half of
 * ours, answered with REG2. REG2 registers the link it came from with that
 * group (REG3). Refusals get REG_ERR; a REG2 for a group we do not know gets
 * REG_NGP, and so does traffic from an address that is no link (after a
 * restart), so that senders start over at once. Liveness: a link silent for
 * the link timeout leaves its group; a group with no link for the group
 * timeout, or that sent no data within the pending timeout, is dropped.
 *
 * A packet, its source address and the time come in; the reply and what
 * changed come out. Who belongs where is the table's (receiver-table.ts), and
 * only this module changes it; per-address hardening is receiver-limits.ts's.
 * The receiver (receiver.ts) sends the replies, logs and reports.
 */
import { randomBytes } from 'node:crypto';
import { encodeReg2, encodeShortReply, SRTLA_ID_HALF, SRTLA_ID_LEN } from './protocol.js';
import type { GroupSpec, ReceiverGroup, ReceiverLink } from './receiver-group.js';
import { RegistrationGuard, type RegistrationLimits } from './receiver-limits.js';
import type { RegistrationCounters } from './receiver-stats.js';
import type { GroupTable } from './receiver-table.js';

/** REG_NGP to an address that is no link: at most once a second per address:port, for this many addresses at most. */
const NGP_INTERVAL_MS = 1000;
const MAX_NGP_TRACKED = 10_000;

export interface RegistrationOptions extends RegistrationLimits {
  maxGroups: number;
  maxLinksPerGroup: number;
  linkTimeoutMs: number;
  groupTimeoutMs: number;
  pendingGroupTimeoutMs: number;
}

/** Where a packet came from. */
export interface Source {
  /** `address|port` as the socket reports it: how links are known. */
  key: string;
  address: string;
  port: number;
  /** The address with an IPv4-mapped IPv6 address unmapped (limits are per IP). */
  ip: string;
}

export type RegistrationResult =
  /** Throttled, or REG_NGP already sent to this address within the second: no answer at all. */
  | { kind: 'ignored' }
  /** An answer that changes nothing: REG2 again to a resent REG1, REG3 again to a link, REG_NGP. */
  | { kind: 'answered'; reply: Buffer }
  | { kind: 'refused'; reply: Buffer; why: string }
  /** `replaced`: the group this sender made before it started over, dropped now (it never sent data). */
  | { kind: 'group'; reply: Buffer; group: ReceiverGroup; replaced?: ReceiverGroup }
  | { kind: 'link'; reply: Buffer; link: ReceiverLink };

export type Expiry =
  | { kind: 'link-timeout'; link: ReceiverLink }
  | { kind: 'group-dropped'; group: ReceiverGroup; reason: 'timeout' | 'never-sent-data' };

const IGNORED: RegistrationResult = { kind: 'ignored' };

export class ReceiverRegistration {
  readonly counters: RegistrationCounters = {
    unknownSource: 0,
    throttled: 0,
    regGroups: 0,
    regLinks: 0,
    regErr: 0,
    regNgp: 0,
    groupsReaped: 0,
    groupsTimedOut: 0,
    linksTimedOut: 0,
  };
  private readonly guard: RegistrationGuard;
  /** When REG_NGP last went to an unregistered address:port (rate limit). */
  private readonly ngpSentAt = new Map<string, number>();
  private nextTag = 1;

  constructor(
    private readonly table: GroupTable,
    private readonly options: RegistrationOptions,
    /** Makes the group of a new registration (the receiver gives it its socket side). */
    private readonly openGroup: (spec: GroupSpec) => ReceiverGroup,
    /** Random bytes for the receiver's half of each id (tests pass their own). */
    private readonly random: (bytes: number) => Buffer = randomBytes,
  ) {
    this.guard = new RegistrationGuard(options);
  }

  /** REG1 (create a group) or REG2 (register this address as a link of one). */
  onPacket(p: { kind: 'reg1' | 'reg2'; id: Buffer }, from: Source, now: number): RegistrationResult {
    if (this.guard.admit(from.ip, now) !== 'ok') {
      this.counters.throttled++;
      return IGNORED;
    }
    return p.kind === 'reg1' ? this.reg1(p.id, from, now) : this.reg2(p.id, from, now);
  }

  /**
   * Traffic from an address that is no link: after a receiver restart, every
   * sender's links look like this. REG_NGP tells the sender at once to
   * register again (SRTLA.md: "no such group: start again with REG1") instead
   * of waiting for its link timeouts. At most one per address:port a second,
   * and never bigger than what came in: no amplification.
   */
  unknownSource(from: Source, now: number): RegistrationResult {
    this.counters.unknownSource++;
    const last = this.ngpSentAt.get(from.key);
    if (last !== undefined && now - last < NGP_INTERVAL_MS) return IGNORED;
    if (last === undefined && this.ngpSentAt.size >= MAX_NGP_TRACKED) return IGNORED;
    this.ngpSentAt.set(from.key, now);
    this.counters.regNgp++;
    return { kind: 'answered', reply: encodeShortReply('regNgp') };
  }

  /** The group's first SRT packet: it no longer counts against its creator's groups in registration. */
  sentData(g: ReceiverGroup): void {
    if (this.table.endPending(g)) this.guard.pendingEnded(g.creatorIp);
  }

  /** Housekeeping: links silent past the link timeout leave; groups reaped or timed out are dropped. */
  expire(now: number): Expiry[] {
    const o = this.options;
    const out: Expiry[] = [];
    for (const g of [...this.table.groups()]) {
      for (const l of [...this.table.linksOf(g).values()]) {
        if (now - l.lastSeen <= o.linkTimeoutMs) continue;
        this.table.removeLink(l);
        this.counters.linksTimedOut++;
        out.push({ kind: 'link-timeout', link: l });
      }
      if (!g.hadData && now - g.createdAt > o.pendingGroupTimeoutMs) {
        this.counters.groupsReaped++;
        this.drop(g);
        out.push({ kind: 'group-dropped', group: g, reason: 'never-sent-data' });
      } else if (this.table.linksOf(g).size === 0 && now - g.lastSeen > o.groupTimeoutMs) {
        this.counters.groupsTimedOut++;
        this.drop(g);
        out.push({ kind: 'group-dropped', group: g, reason: 'timeout' });
      }
    }
    this.guard.sweep(now);
    for (const [k, t] of this.ngpSentAt) if (now - t > NGP_INTERVAL_MS) this.ngpSentAt.delete(k);
    return out;
  }

  /** Removes a group and its links (expiry, or the receiver closing). */
  drop(g: ReceiverGroup): void {
    if (this.table.removeGroup(g)) this.guard.pendingEnded(g.creatorIp);
  }

  /** Addresses whose registrations are ignored now, how many and the longest blocks (receiver-limits.ts). */
  blocked(now: number, max: number): { count: number; list: { ip: string; until: number }[] } {
    return { count: this.guard.blockedNow(now), list: this.guard.blockedList(now, max) };
  }

  private reg1(id: Buffer, from: Source, now: number): RegistrationResult {
    if (this.table.link(from.key)) return this.refuse(from, now, 'address is already a link of a group');
    const again = this.table.pendingFrom(from.key);
    if (again?.id.subarray(0, SRTLA_ID_HALF).equals(id.subarray(0, SRTLA_ID_HALF))) {
      // Our REG2 answer was lost and the sender asks again: the same group, the same answer.
      return { kind: 'answered', reply: encodeReg2(again.id) };
    }
    // A new id from the same address and port: that sender started over (restarted), and the group it
    // made before will never send data. The new one replaces it: dropped now, it no longer counts
    // against the address or the receiver (one port can hold at most one group that never sent data).
    const replaced = again && !again.hadData ? again : undefined;
    if (replaced) this.drop(replaced);
    if (this.table.groupCount >= this.options.maxGroups) return this.refuse(from, now, 'too many groups');
    if (!this.guard.canCreatePending(from.ip, now)) return this.refuse(from, now, 'too many groups registering from this address');
    const full = Buffer.alloc(SRTLA_ID_LEN);
    id.copy(full, 0, 0, SRTLA_ID_HALF);
    this.random(SRTLA_ID_LEN - SRTLA_ID_HALF).copy(full, SRTLA_ID_HALF);
    const g = this.openGroup({
      tag: this.nextTag++,
      id: full,
      idHex: full.toString('hex'),
      creatorKey: from.key,
      creatorIp: from.ip,
      createdAt: now,
    });
    this.table.addGroup(g);
    this.guard.pendingCreated(from.ip, now);
    this.counters.regGroups++;
    return { kind: 'group', reply: encodeReg2(full), group: g, ...(replaced ? { replaced } : {}) };
  }

  private reg2(id: Buffer, from: Source, now: number): RegistrationResult {
    const g = this.table.group(id.toString('hex'));
    if (!g) {
      // We do not know it (restarted, or reaped): the sender must start over with REG1.
      this.counters.regNgp++;
      this.guard.fail(from.ip, now);
      return { kind: 'answered', reply: encodeShortReply('regNgp') };
    }
    const existing = this.table.link(from.key);
    if (existing && existing.group !== g) return this.refuse(from, now, 'address is already a link of another group');
    if (existing) {
      // The link asks again (our REG3 was lost, or it was stalled): the same answer.
      existing.lastSeen = now;
      return { kind: 'answered', reply: encodeShortReply('reg3') };
    }
    if (this.table.linksOf(g).size >= this.options.maxLinksPerGroup) return this.refuse(from, now, 'too many links in the group');
    const link: ReceiverLink = {
      key: from.key,
      address: from.address,
      port: from.port,
      ip: from.ip,
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
    this.table.addLink(link);
    g.lastSeen = now;
    this.counters.regLinks++;
    return { kind: 'link', reply: encodeShortReply('reg3'), link };
  }

  private refuse(from: Source, now: number, why: string): RegistrationResult {
    this.counters.regErr++;
    this.guard.fail(from.ip, now);
    return { kind: 'refused', reply: encodeShortReply('regErr'), why };
  }
}
