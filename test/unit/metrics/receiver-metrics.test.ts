import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { receiverMetrics } from '../../../src/metrics/receiver-metrics.js';
import { parsePrometheus, sampleOf } from './prometheus-text.js';
import { receiverStats } from './receiver-stats-fixture.js';

/** Every family `fieldcast receive` exported before prom-client, with its type: dashboards key on these. */
const FAMILIES: Record<string, 'gauge' | 'counter'> = {
  fieldcast_receive_uptime_seconds: 'gauge',
  fieldcast_receive_groups: 'gauge',
  fieldcast_receive_links: 'gauge',
  fieldcast_receive_blocked_addresses: 'gauge',
  fieldcast_receive_packets_received_total: 'counter',
  fieldcast_receive_bytes_received_total: 'counter',
  fieldcast_receive_malformed_packets_total: 'counter',
  fieldcast_receive_unknown_source_packets_total: 'counter',
  fieldcast_receive_throttled_registrations_total: 'counter',
  fieldcast_receive_registrations_refused_total: 'counter',
  fieldcast_receive_registrations_unknown_group_total: 'counter',
  fieldcast_receive_groups_registered_total: 'counter',
  fieldcast_receive_links_registered_total: 'counter',
  fieldcast_receive_groups_reaped_total: 'counter',
  fieldcast_receive_groups_timed_out_total: 'counter',
  fieldcast_receive_links_timed_out_total: 'counter',
  fieldcast_receive_group_rate_bits_per_second: 'gauge',
  fieldcast_receive_group_live_links: 'gauge',
  fieldcast_receive_group_packets_forwarded_total: 'counter',
  fieldcast_receive_group_bytes_forwarded_total: 'counter',
  fieldcast_receive_group_srt_naks_total: 'counter',
  fieldcast_receive_group_srt_nak_sequences_total: 'counter',
  fieldcast_receive_group_reordered_packets_total: 'counter',
  fieldcast_receive_group_reorder_gap_timeouts_total: 'counter',
  fieldcast_receive_group_reorder_hold_seconds: 'gauge',
  fieldcast_receive_group_reorder_skipped_total: 'counter',
  fieldcast_receive_link_rate_bits_per_second: 'gauge',
  fieldcast_receive_link_packets_total: 'counter',
  fieldcast_receive_link_bytes_total: 'counter',
  fieldcast_receive_link_last_seen_seconds: 'gauge',
  // Two forwards (fan-out): the unit's session ended at the receiver, and each forward.
  fieldcast_receive_group_unit_session_up: 'gauge',
  fieldcast_receive_group_unit_session_bytes_total: 'counter',
  fieldcast_receive_group_unit_sessions_total: 'counter',
  fieldcast_receive_group_unit_session_rtt_seconds: 'gauge',
  fieldcast_receive_group_unit_session_lost_packets: 'gauge',
  fieldcast_receive_group_unit_session_dropped_packets: 'gauge',
  fieldcast_receive_forward_up: 'gauge',
  fieldcast_receive_forward_bytes_sent_total: 'counter',
  fieldcast_receive_forward_dropped_packets_total: 'counter',
  fieldcast_receive_forward_reconnects_total: 'counter',
  fieldcast_receive_forward_rtt_seconds: 'gauge',
  fieldcast_receive_forward_send_rate_bits_per_second: 'gauge',
  fieldcast_receive_forward_lost_packets: 'gauge',
  fieldcast_receive_forward_retransmitted_packets: 'gauge',
  fieldcast_receive_forward_too_late_dropped_packets: 'gauge',
};

describe('receiverMetrics', () => {
  it('exports the same families, types and labels as before', async () => {
    const m = parsePrometheus(await receiverMetrics({ stats: () => withFanout(receiverStats(2, 3)) }).metrics());
    expect(Object.fromEntries([...m.values()].map((f) => [f.name, f.type]))).toEqual(FAMILIES);
    for (const f of m.values()) {
      const keys = new Set(f.samples.map((s) => Object.keys(s.labels).join(',')));
      if (f.name.startsWith('fieldcast_receive_group_')) expect([...keys]).toEqual(['group,from']);
      else if (f.name.startsWith('fieldcast_receive_forward_')) expect([...keys]).toEqual(['group,forward,target']);
      else if (f.name.startsWith('fieldcast_receive_link_')) expect([...keys]).toEqual(['group,link']);
      else expect([...keys]).toEqual(['']);
    }
    expect(m.get('fieldcast_receive_group_live_links')?.samples).toHaveLength(2);
    expect(m.get('fieldcast_receive_link_packets_total')?.samples).toHaveLength(6);
    expect(sampleOf(m, 'fieldcast_receive_uptime_seconds')).toBe(3600.5);
    expect(sampleOf(m, 'fieldcast_receive_registrations_unknown_group_total')).toBe(7);
    expect(sampleOf(m, 'fieldcast_receive_group_reorder_skipped_total', { group: '2', from: '10.0.0.1:4000' })).toBe(2);
    expect(sampleOf(m, 'fieldcast_receive_link_last_seen_seconds', { group: '1', link: '10.1.0.0:5001' })).toBe(0.008);
    // IPv6 link addresses keep their brackets as label values.
    expect(sampleOf(m, 'fieldcast_receive_link_packets_total', { group: '2', link: '[2001:db8::1]:5002' })).toBe(668);
  });

  it("shows each forward's state, bytes, reconnects and SRT figures, and the unit's session, for a group that fans out", async () => {
    const m = parsePrometheus(await receiverMetrics({ stats: () => withFanout(receiverStats(2, 1)) }).metrics());
    // Only the group that fans out has them.
    expect(m.get('fieldcast_receive_forward_up')?.samples).toHaveLength(2);
    const b = { group: '2', forward: '2', target: '10.0.2.20:5000' };
    expect(sampleOf(m, 'fieldcast_receive_forward_up', { ...b, forward: '1', target: '10.0.1.20:5000' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_receive_forward_up', b)).toBe(0);
    expect(sampleOf(m, 'fieldcast_receive_forward_bytes_sent_total', b)).toBe(1_000_000);
    expect(sampleOf(m, 'fieldcast_receive_forward_reconnects_total', b)).toBe(3);
    expect(sampleOf(m, 'fieldcast_receive_forward_dropped_packets_total', b)).toBe(40);
    expect(sampleOf(m, 'fieldcast_receive_forward_rtt_seconds', { ...b, forward: '1', target: '10.0.1.20:5000' })).toBe(0.004);
    expect(sampleOf(m, 'fieldcast_receive_forward_lost_packets', { ...b, forward: '1', target: '10.0.1.20:5000' })).toBe(5);
    expect(sampleOf(m, 'fieldcast_receive_group_unit_session_up', { group: '2', from: '10.0.0.1:4000' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_receive_group_unit_session_rtt_seconds', { group: '2', from: '10.0.0.1:4000' })).toBe(0.09);
    expect(sampleOf(m, 'fieldcast_receive_group_unit_sessions_total', { group: '2', from: '10.0.0.1:4000' })).toBe(1);
  });

  it('reads the receiver once per scrape, and what changed or went shows at the next', async () => {
    let calls = 0;
    let stats = receiverStats(3, 3);
    const registry = receiverMetrics({
      stats: () => {
        calls++;
        return stats;
      },
    });
    const first = parsePrometheus(await registry.metrics());
    expect(calls).toBe(1);
    expect(sampleOf(first, 'fieldcast_receive_groups')).toBe(3);
    stats = receiverStats(1, 2, 50);
    const second = parsePrometheus(await registry.metrics());
    expect(calls).toBe(2);
    expect(sampleOf(second, 'fieldcast_receive_groups')).toBe(1);
    expect(sampleOf(second, 'fieldcast_receive_packets_received_total')).toBe(5_000_050);
    // A group that is gone leaves no stale sample behind.
    expect(second.get('fieldcast_receive_group_packets_forwarded_total')?.samples).toEqual([
      { labels: { group: '1', from: '10.0.0.0:4000' }, value: 1040 },
    ]);
    expect(second.get('fieldcast_receive_link_bytes_total')?.samples).toHaveLength(2);
  });

  it('keeps each receiver on its own registry, never the global one', async () => {
    const a = receiverMetrics({ stats: () => receiverStats(1, 1) });
    const b = receiverMetrics({ stats: () => receiverStats(4, 1) });
    expect(sampleOf(parsePrometheus(await a.metrics()), 'fieldcast_receive_groups')).toBe(1);
    expect(sampleOf(parsePrometheus(await b.metrics()), 'fieldcast_receive_groups')).toBe(4);
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('fieldcast_');
    const mine = new Registry();
    expect(receiverMetrics({ stats: () => receiverStats(1, 1) }, mine)).toBe(mine);
  });
});

/** The last group fans out: its unit's session is up, forward 1 live, forward 2 reconnecting. */
function withFanout(s: ReturnType<typeof receiverStats>): ReturnType<typeof receiverStats> {
  const g = s.perGroup.at(-1)!;
  const forward = (i: number, target: string, up: boolean) => ({
    name: `forward ${i + 1}`,
    index: i,
    target,
    state: up ? ('live' as const) : ('reconnecting' as const),
    connected: up,
    rttMs: up ? 4 : 0,
    sendRateBps: up ? 4_000_000 : 0,
    sendBufferMs: 2,
    lossPackets: up ? 5 : 0,
    retransPackets: up ? 6 : 0,
    dropPackets: 0,
    bandwidthBps: 0,
    sentBytes: up ? 2_000_000 : 1_000_000,
    droppedPackets: up ? 0 : 40,
    connects: up ? 1 : 4,
    reconnects: up ? 0 : 3,
    needsOperator: false,
    gate: { open: up, heldBack: 0, sentFromBuffer: 0, buffered: 0 },
  });
  g.fanout = {
    session: {
      connected: true,
      sessions: 1,
      receivedBytes: 2_000_000,
      rttMs: 90,
      lossPackets: 12,
      dropPackets: 0,
      unitEncryption: 'encrypted',
    },
    forwards: [forward(0, '10.0.1.20:5000', true), forward(1, '10.0.2.20:5000', false)],
  };
  return s;
}
