/**
 * The receiver's statistics: one plain snapshot (what `stats()` returns,
 * `--stats-json` writes and /metrics reads: metrics/receiver-metrics.ts).
 */
import { formatHostPort } from '../lib/hostport.js';
import type { FanoutStatsSnapshot } from './receiver-fanout-stats.js';
import type { GroupTable } from './receiver-table.js';
import type { ReorderStats } from './reorder.js';

// The bond subsystem's public face (index.ts) offers the receiver's metrics from here.

/** Counted where packets come in (receiver.ts). */
export interface PacketCounters {
  packetsIn: number;
  bytesIn: number;
  /** Too short, wrong length, unknown SRTLA type, or an SRT control packet without a full header. */
  malformed: number;
  handlerErrors: number;
  keepalivesEchoed: number;
}

/** Counted by the registration (receiver-registration.ts). */
export interface RegistrationCounters {
  /** Non-registration packets from an address that is no registered link. */
  unknownSource: number;
  /** Registrations ignored: the address is rate-limited or blocked. */
  throttled: number;
  regGroups: number;
  regLinks: number;
  regErr: number;
  regNgp: number;
  /** Groups that registered but never sent data, reaped. */
  groupsReaped: number;
  groupsTimedOut: number;
  linksTimedOut: number;
}

export type ReceiverCounters = PacketCounters & RegistrationCounters;

export interface LinkStatsSnapshot {
  address: string;
  live: boolean;
  packets: number;
  bytes: number;
  rateBps: number;
  lastSeenMsAgo: number;
  keepalives: number;
  srtlaAcks: number;
}

export interface GroupStatsSnapshot {
  /** A short number for this group (its id is a credential and never shown). */
  group: number;
  /** Who registered it. */
  from: string;
  ageS: number;
  sendingData: boolean;
  liveLinks: number;
  rateBps: number;
  lastSeenMsAgo: number;
  packetsIn: number;
  bytesIn: number;
  packetsForwarded: number;
  bytesForwarded: number;
  packetsFromListener: number;
  srtAcks: number;
  naks: number;
  nakSeqs: number;
  handshakes: number;
  malformed: number;
  reorder: ReorderStats;
  links: LinkStatsSnapshot[];
  /** Two forwards: the unit's session ended here and each forward's own (once the group has sent something). */
  fanout?: FanoutStatsSnapshot;
}

/** The limits in force, from the flags or the defaults: an operator reads here that a setting took. */
export interface ReceiverLimitsSnapshot {
  maxGroups: number;
  maxLinksPerGroup: number;
  /** A group that registered but sent no data is dropped after this. */
  pendingGroupTimeoutS: number;
  /** How long an address whose registrations keep failing is ignored. */
  blockS: number;
}

export interface BlockedAddressSnapshot {
  address: string;
  /** Seconds until its registrations are heard again. */
  remainingS: number;
}

export interface ReceiverStats {
  listen: string;
  /** The listener (relay), or both forwards, as host:port. */
  forward: string;
  /** 'relay': packets relayed to one listener; 'fanout': each session ended here and sent on to two. */
  mode: 'relay' | 'fanout';
  uptimeS: number;
  reorderMs: number;
  limits: ReceiverLimitsSnapshot;
  groups: number;
  links: number;
  blockedAddresses: number;
  /** The addresses ignored now (the longest blocks first, at most MAX_BLOCKED_LISTED; blockedAddresses counts them all). */
  blocked: BlockedAddressSnapshot[];
  counters: ReceiverCounters;
  perGroup: GroupStatsSnapshot[];
}

/** Blocked addresses named in a snapshot: enough to find a unit, bounded under a flood. */
export const MAX_BLOCKED_LISTED = 100;

export function snapshot(a: {
  now: number;
  listen: string;
  forward: string;
  mode: 'relay' | 'fanout';
  uptimeS: number;
  counters: ReceiverCounters;
  table: Pick<GroupTable, 'groups' | 'linksOf'>;
  linkTimeoutMs: number;
  blockedAddresses: number;
  blocked: readonly { ip: string; until: number }[];
  reorderMs: number;
  limits: ReceiverLimitsSnapshot;
}): ReceiverStats {
  const perGroup = [...a.table.groups()].map((g): GroupStatsSnapshot => {
    const links = [...a.table.linksOf(g).values()].map(
      (l): LinkStatsSnapshot => ({
        address: formatHostPort(l.ip, l.port),
        live: a.now - l.lastSeen <= a.linkTimeoutMs,
        packets: l.packets,
        bytes: l.bytes,
        rateBps: Math.round(l.rateBps),
        lastSeenMsAgo: Math.round(a.now - l.lastSeen),
        keepalives: l.keepalives,
        srtlaAcks: l.srtlaAcks,
      }),
    );
    const c = g.counters;
    return {
      group: g.tag,
      from: formatHostPort(g.creatorIp, Number(g.creatorKey.split('|')[1])),
      ageS: Math.round((a.now - g.createdAt) / 100) / 10,
      sendingData: g.hadData,
      liveLinks: links.filter((l) => l.live).length,
      rateBps: Math.round(g.rateBps),
      lastSeenMsAgo: Math.round(a.now - g.lastSeen),
      packetsIn: c.packetsIn,
      bytesIn: c.bytesIn,
      packetsForwarded: c.packetsForwarded,
      bytesForwarded: c.bytesForwarded,
      packetsFromListener: c.packetsFromListener,
      srtAcks: c.srtAcks,
      naks: c.naks,
      nakSeqs: c.nakSeqs,
      handshakes: c.handshakes,
      malformed: c.malformed,
      reorder: g.reorderStats(),
      links,
      ...fanoutOf(g),
    };
  });
  return {
    listen: a.listen,
    forward: a.forward,
    mode: a.mode,
    uptimeS: Math.round(a.uptimeS * 10) / 10,
    reorderMs: a.reorderMs,
    limits: { ...a.limits },
    groups: perGroup.length,
    links: perGroup.reduce((n, g) => n + g.links.length, 0),
    blockedAddresses: a.blockedAddresses,
    blocked: a.blocked.map((b) => ({ address: b.ip, remainingS: Math.round((b.until - a.now) / 100) / 10 })),
    counters: { ...a.counters },
    perGroup,
  };
}

function fanoutOf(g: { fanoutStats(): FanoutStatsSnapshot | undefined }): { fanout?: FanoutStatsSnapshot } {
  const f = g.fanoutStats();
  return f ? { fanout: f } : {};
}
