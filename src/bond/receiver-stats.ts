/**
 * The receiver's statistics: one plain snapshot (what `stats()` returns and
 * `--stats-json` writes) and its Prometheus families (`--metrics-port`).
 */
import { formatHostPort } from '../lib/hostport.js';
import type { MetricFamily } from '../metrics/prometheus.js';
import type { ReceiverGroup } from './receiver-group.js';
import type { ReorderStats } from './reorder.js';

export interface ReceiverCounters {
  packetsIn: number;
  bytesIn: number;
  /** Too short, wrong length, unknown SRTLA type, or an SRT control packet without a full header. */
  malformed: number;
  /** Non-registration packets from an address that is no registered link. */
  unknownSource: number;
  handlerErrors: number;
  /** Registrations ignored: the address is rate-limited or blocked. */
  throttled: number;
  regGroups: number;
  regLinks: number;
  regErr: number;
  regNgp: number;
  keepalivesEchoed: number;
  /** Groups that registered but never sent data, reaped. */
  groupsReaped: number;
  groupsTimedOut: number;
  linksTimedOut: number;
}

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
  forward: string;
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
  uptimeS: number;
  counters: ReceiverCounters;
  groups: ReceiverGroup[];
  linkTimeoutMs: number;
  blockedAddresses: number;
  blocked: readonly { ip: string; until: number }[];
  reorderMs: number;
  limits: ReceiverLimitsSnapshot;
}): ReceiverStats {
  const perGroup = a.groups.map((g): GroupStatsSnapshot => {
    const links = [...g.links.values()].map(
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
    };
  });
  return {
    listen: a.listen,
    forward: a.forward,
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

const P = 'fieldcast_receive_';

/** The snapshot as Prometheus families: receiver-wide counters, then per group and per link. */
export function receiverMetrics(s: ReceiverStats): MetricFamily[] {
  const c = s.counters;
  const one = (name: string, help: string, type: 'counter' | 'gauge', value: number): MetricFamily => ({
    name: P + name,
    help,
    type,
    samples: [{ value }],
  });
  const perGroup = (name: string, help: string, type: 'counter' | 'gauge', f: (g: GroupStatsSnapshot) => number): MetricFamily => ({
    name: P + name,
    help,
    type,
    samples: s.perGroup.map((g) => ({ labels: { group: g.group, from: g.from }, value: f(g) })),
  });
  const perLink = (name: string, help: string, type: 'counter' | 'gauge', f: (l: LinkStatsSnapshot) => number): MetricFamily => ({
    name: P + name,
    help,
    type,
    samples: s.perGroup.flatMap((g) => g.links.map((l) => ({ labels: { group: g.group, link: l.address }, value: f(l) }))),
  });
  return [
    one('uptime_seconds', 'Seconds since the receiver started', 'gauge', s.uptimeS),
    one('groups', 'Bonded streams (groups) registered', 'gauge', s.groups),
    one('links', 'Links registered over all groups', 'gauge', s.links),
    one('blocked_addresses', 'Source addresses ignored now for failed or flooding registrations', 'gauge', s.blockedAddresses),
    one('packets_received_total', 'Packets received on the listening socket', 'counter', c.packetsIn),
    one('bytes_received_total', 'Bytes received on the listening socket', 'counter', c.bytesIn),
    one('malformed_packets_total', 'Malformed packets dropped', 'counter', c.malformed),
    one('unknown_source_packets_total', 'Packets from addresses that are not registered links, dropped', 'counter', c.unknownSource),
    one('throttled_registrations_total', 'Registrations ignored from rate-limited or blocked addresses', 'counter', c.throttled),
    one('registrations_refused_total', 'Registrations answered REG_ERR', 'counter', c.regErr),
    one('registrations_unknown_group_total', 'REG2 for an unknown group, answered REG_NGP', 'counter', c.regNgp),
    one('groups_registered_total', 'Groups created (REG1)', 'counter', c.regGroups),
    one('links_registered_total', 'Links registered (REG2)', 'counter', c.regLinks),
    one('groups_reaped_total', 'Groups dropped for never sending data', 'counter', c.groupsReaped),
    one('groups_timed_out_total', 'Groups dropped with no live link', 'counter', c.groupsTimedOut),
    one('links_timed_out_total', 'Links dropped after silence', 'counter', c.linksTimedOut),
    perGroup('group_rate_bits_per_second', 'Bit rate received per group over the last second', 'gauge', (g) => g.rateBps),
    perGroup('group_live_links', 'Live links per group', 'gauge', (g) => g.liveLinks),
    perGroup('group_packets_forwarded_total', 'Packets forwarded to the SRT listener', 'counter', (g) => g.packetsForwarded),
    perGroup('group_bytes_forwarded_total', 'Bytes forwarded to the SRT listener', 'counter', (g) => g.bytesForwarded),
    perGroup('group_srt_naks_total', 'SRT NAKs (retransmission requests) from the listener', 'counter', (g) => g.naks),
    perGroup('group_srt_nak_sequences_total', 'Sequence numbers the listener asked again for', 'counter', (g) => g.nakSeqs),
    perGroup('group_reordered_packets_total', 'Data packets that arrived after a later one', 'counter', (g) => g.reorder.reordered),
    perGroup('group_reorder_gap_timeouts_total', 'Gaps released on hold timeout', 'counter', (g) => g.reorder.gapTimeouts),
    perGroup('group_reorder_skipped_total', 'Sequence numbers skipped by hold timeouts', 'counter', (g) => g.reorder.skipped),
    perLink('link_rate_bits_per_second', 'Bit rate received per link over the last second', 'gauge', (l) => l.rateBps),
    perLink('link_packets_total', 'Packets received per link', 'counter', (l) => l.packets),
    perLink('link_bytes_total', 'Bytes received per link', 'counter', (l) => l.bytes),
    perLink('link_last_seen_seconds', 'Seconds since the link was last heard', 'gauge', (l) => l.lastSeenMsAgo / 1000),
  ];
}
