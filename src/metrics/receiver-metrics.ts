/**
 * `fieldcast receive`'s metrics: receiver-wide counters, then per group and
 * per link, all from one `stats()` per scrape. The names are the ones the
 * receiver has always exported, so dashboards keep working. With two
 * forwards, per group also the unit's session ended at the receiver
 * (`group_unit_session_*`) and each forward's own (`forward_*`, labelled
 * with the forward's number and host:port). SRT's own counts of a session
 * start again with each connection: they are gauges ("this session").
 */
import { Registry } from 'prom-client';
import type { ForwardStatsSnapshot, TerminatedSessionSnapshot } from '../bond/receiver-fanout-stats.js';
import type { GroupStatsSnapshot, LinkStatsSnapshot, ReceiverCounters, ReceiverStats } from '../bond/receiver-stats.js';
import { counter, counterVec, type FamilyVec, gauge, gaugeVec, perScrape } from './scrape.js';

export interface ReceiverStatsSource {
  stats(): ReceiverStats;
}

const P = 'fieldcast_receive_';

/** Registers the receiver's families on `registry` (a new one by default) and returns it. */
export function receiverMetrics(receiver: ReceiverStatsSource, registry: Registry = new Registry()): Registry {
  const stats = perScrape(() => receiver.stats());
  const total = (name: string, help: string, key: keyof ReceiverCounters) => counter(registry, P + name, help, () => stats().counters[key]);
  const perGroup = (make: FamilyVec, name: string, help: string, f: (g: GroupStatsSnapshot) => number) =>
    make(registry, P + name, help, ['group', 'from'], (emit) => {
      for (const g of stats().perGroup) emit({ group: g.group, from: g.from }, f(g));
    });
  const perLink = (make: FamilyVec, name: string, help: string, f: (l: LinkStatsSnapshot) => number) =>
    make(registry, P + name, help, ['group', 'link'], (emit) => {
      for (const g of stats().perGroup) for (const l of g.links) emit({ group: g.group, link: l.address }, f(l));
    });

  const perSession = (make: FamilyVec, name: string, help: string, f: (s: TerminatedSessionSnapshot) => number) =>
    make(registry, P + name, help, ['group', 'from'], (emit) => {
      for (const g of stats().perGroup) if (g.fanout) emit({ group: g.group, from: g.from }, f(g.fanout.session));
    });
  const perForward = (make: FamilyVec, name: string, help: string, f: (s: ForwardStatsSnapshot) => number) =>
    make(registry, P + name, help, ['group', 'forward', 'target'], (emit) => {
      for (const g of stats().perGroup)
        for (const d of g.fanout?.forwards ?? []) emit({ group: g.group, forward: d.index + 1, target: d.target }, f(d));
    });

  gauge(registry, `${P}uptime_seconds`, 'Seconds since the receiver started', () => stats().uptimeS);
  gauge(registry, `${P}groups`, 'Bonded streams (groups) registered', () => stats().groups);
  gauge(registry, `${P}links`, 'Links registered over all groups', () => stats().links);
  gauge(
    registry,
    `${P}blocked_addresses`,
    'Source addresses ignored now for failed or flooding registrations',
    () => stats().blockedAddresses,
  );
  total('packets_received_total', 'Packets received on the listening socket', 'packetsIn');
  total('bytes_received_total', 'Bytes received on the listening socket', 'bytesIn');
  total('malformed_packets_total', 'Malformed packets dropped', 'malformed');
  total('unknown_source_packets_total', 'Packets from addresses that are not registered links, dropped', 'unknownSource');
  total('throttled_registrations_total', 'Registrations ignored from rate-limited or blocked addresses', 'throttled');
  total('registrations_refused_total', 'Registrations answered REG_ERR', 'regErr');
  total('registrations_unknown_group_total', 'REG2 for an unknown group, answered REG_NGP', 'regNgp');
  total('groups_registered_total', 'Groups created (REG1)', 'regGroups');
  total('links_registered_total', 'Links registered (REG2)', 'regLinks');
  total('groups_reaped_total', 'Groups dropped for never sending data', 'groupsReaped');
  total('groups_timed_out_total', 'Groups dropped with no live link', 'groupsTimedOut');
  total('links_timed_out_total', 'Links dropped after silence', 'linksTimedOut');
  perGroup(gaugeVec, 'group_rate_bits_per_second', 'Bit rate received per group over the last second', (g) => g.rateBps);
  perGroup(gaugeVec, 'group_live_links', 'Live links per group', (g) => g.liveLinks);
  perGroup(counterVec, 'group_packets_forwarded_total', 'Packets forwarded to the SRT listener', (g) => g.packetsForwarded);
  perGroup(counterVec, 'group_bytes_forwarded_total', 'Bytes forwarded to the SRT listener', (g) => g.bytesForwarded);
  perGroup(counterVec, 'group_srt_naks_total', 'SRT NAKs (retransmission requests) from the listener', (g) => g.naks);
  perGroup(counterVec, 'group_srt_nak_sequences_total', 'Sequence numbers the listener asked again for', (g) => g.nakSeqs);
  perGroup(counterVec, 'group_reordered_packets_total', 'Data packets that arrived after a later one', (g) => g.reorder.reordered);
  perGroup(counterVec, 'group_reorder_gap_timeouts_total', 'Gaps released on hold timeout', (g) => g.reorder.gapTimeouts);
  perGroup(counterVec, 'group_reorder_skipped_total', 'Sequence numbers skipped by hold timeouts', (g) => g.reorder.skipped);
  perGroup(
    gaugeVec,
    'group_reorder_hold_seconds',
    'How long a gap is held for its packet now (adapted to the links)',
    (g) => g.reorder.holdMs / 1000,
  );
  perLink(gaugeVec, 'link_rate_bits_per_second', 'Bit rate received per link over the last second', (l) => l.rateBps);
  perLink(counterVec, 'link_packets_total', 'Packets received per link', (l) => l.packets);
  perLink(counterVec, 'link_bytes_total', 'Bytes received per link', (l) => l.bytes);
  perLink(gaugeVec, 'link_last_seen_seconds', 'Seconds since the link was last heard', (l) => l.lastSeenMsAgo / 1000);
  perSession(gaugeVec, 'group_unit_session_up', "1 while the unit's SRT session, ended here for the forwards, is connected", (s) =>
    s.connected ? 1 : 0,
  );
  perSession(counterVec, 'group_unit_session_bytes_total', 'TS bytes received from the unit (decrypted)', (s) => s.receivedBytes);
  perSession(counterVec, 'group_unit_sessions_total', 'SRT sessions the unit opened in this group', (s) => s.sessions);
  perSession(gaugeVec, 'group_unit_session_rtt_seconds', "SRT round-trip time of the unit's session", (s) => s.rttMs / 1000);
  perSession(gaugeVec, 'group_unit_session_lost_packets', 'Packets SRT found missing this session', (s) => s.lossPackets);
  perSession(gaugeVec, 'group_unit_session_dropped_packets', 'Packets SRT gave up on (too late) this session', (s) => s.dropPackets);
  perForward(gaugeVec, 'forward_up', '1 while the forward is connected to its listener', (d) => (d.connected ? 1 : 0));
  perForward(counterVec, 'forward_bytes_sent_total', 'TS bytes handed to the forward while connected', (d) => d.sentBytes);
  perForward(
    counterVec,
    'forward_dropped_packets_total',
    'TS chunks the forward did not send (down, or its queue full)',
    (d) => d.droppedPackets,
  );
  perForward(counterVec, 'forward_reconnects_total', 'Connections of the forward after its first', (d) => d.reconnects);
  perForward(gaugeVec, 'forward_rtt_seconds', 'SRT round-trip time to the listener', (d) => d.rttMs / 1000);
  perForward(gaugeVec, 'forward_send_rate_bits_per_second', 'SRT send rate', (d) => d.sendRateBps);
  perForward(gaugeVec, 'forward_lost_packets', 'Packets the listener reported lost this session', (d) => d.lossPackets);
  perForward(gaugeVec, 'forward_retransmitted_packets', 'Packets sent again this session', (d) => d.retransPackets);
  perForward(gaugeVec, 'forward_too_late_dropped_packets', 'Packets SRT dropped as too late this session', (d) => d.dropPackets);
  return registry;
}
