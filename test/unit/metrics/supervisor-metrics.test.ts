import { describe, expect, it } from 'vitest';
import { supervisorMetrics } from '../../../src/metrics/supervisor-metrics.js';
import type { StatusSnapshot } from '../../../src/supervisor/snapshot.js';
import { type ParsedFamily, parsePrometheus, sampleOf } from './prometheus-text.js';

const PASSPHRASE = 'correct-horse-battery';

/** On air with the slate (the input lost its signal), over 3 links, the backup destination reconnecting. */
function slateOnAir(): StatusSnapshot {
  return {
    version: 1,
    at: '2025-05-01T10:00:00.000Z',
    device: { id: 'fc-0a1b2c3d4e5f', name: 'cam-7', version: '0.1.0', uptimeS: 5400 },
    state: 'no-signal',
    reason: `no signal on hdmi0: slate on air to srt://ingest.example.com:5000?passphrase=${PASSPHRASE}`,
    since: '2025-05-01T09:58:00.000Z',
    stream: {
      desired: 'on',
      picture: 'slate',
      input: { name: 'hdmi0', source: '/dev/video0', signal: false },
      video: { bitrateBps: 3_200_000, minBps: 500_000, maxBps: 8_000_000, adaptive: true, reason: 'congestion', codec: 'h264' },
      tsBitrateBps: 3_450_000,
      framesEncoded: 162_000,
      framesDropped: 12,
      pipeline: { pid: 4242, restarts: 3, lastError: 'encoder hung' },
    },
    destinations: [
      {
        name: 'main',
        url: 'srt://ingest.example.com:5000?mode=caller',
        state: 'live',
        rttMs: 84,
        sendBufferMs: 120,
        sendRateBps: 3_500_000,
        lossPackets: 210,
        retransPackets: 230,
        dropPackets: 4,
        connectedForS: 600,
      },
      {
        name: 'backup "B"',
        // A producer that forgot to strip it: the metrics must still not carry it.
        url: `srt://backup.example.net:6000?passphrase=${PASSPHRASE}`,
        state: 'reconnecting',
        reason: 'no answer from backup.example.net:6000',
        rttMs: 0,
        sendBufferMs: 0,
        sendRateBps: 0,
        lossPackets: 17,
        retransPackets: 9,
        dropPackets: 0,
      },
    ],
    bond: {
      receiver: 'bond.example.com:5000',
      capacityBps: 9_000_000,
      links: [
        { name: 'wwan0', state: 'live', throughputBps: 2_000_000, share: 0.55, rttMs: 62, loss: 0.01, sentPackets: 90_000 },
        { name: 'wwan1', state: 'live', throughputBps: 1_600_000, share: 0.45, rttMs: 95, loss: 0.03, sentPackets: 70_000 },
        { name: 'eth0', state: 'stalled', why: 'no answer for 3 s', throughputBps: 0, share: 0, loss: 1, sentPackets: 1_200 },
      ],
    },
    health: {
      cpuLoad: 0.62,
      temperatureC: 71.5,
      throttled: ['under-voltage', 'freq-capped'],
      memoryUsedBytes: 1_200_000_000,
      memoryTotalBytes: 4_000_000_000,
      diskFreeBytes: 20_000_000_000,
      diskTotalBytes: 32_000_000_000,
      eventLoopLagMs: 4.5,
      alerts: [{ code: 'HEALTH_HOT', level: 'warn', message: 'the box is hot', since: '2025-05-01T09:50:00.000Z' }],
    },
    alerts: [
      {
        code: 'INPUT_NO_SIGNAL',
        level: 'error',
        message: 'no signal on hdmi0',
        action: 'check the camera cable',
        since: '2025-05-01T09:58:00.000Z',
      },
      { code: 'UPLINK_DOWN', level: 'warn', message: 'eth0 stalled', since: '2025-05-01T09:59:00.000Z' },
      { code: 'HEALTH_HOT', level: 'warn', message: 'the box is hot', since: '2025-05-01T09:50:00.000Z' },
    ],
  };
}

/** Back on the input, live on both destinations over 2 links, nothing raised. */
function liveAgain(): StatusSnapshot {
  const s = slateOnAir();
  s.state = 'live';
  s.reason = 'live to main and backup over 2 links';
  s.stream.picture = 'input';
  s.stream.input.signal = true;
  s.stream.video = { ...s.stream.video, bitrateBps: 5_000_000, reason: 'recover' };
  s.stream.pipeline.restarts = 4;
  s.destinations[1] = { ...s.destinations[1]!, state: 'live', rttMs: 120, lossPackets: 20 };
  s.bond!.links = s.bond!.links.slice(0, 2);
  s.health = { ...s.health, temperatureC: undefined, throttled: [], alerts: [] };
  s.alerts = [];
  return s;
}

async function scrape(get: () => StatusSnapshot): Promise<{ text: string; m: Map<string, ParsedFamily> }> {
  const text = await supervisorMetrics(get, { processMetrics: false }).metrics();
  return { text, m: parsePrometheus(text) };
}

const samples = (m: Map<string, ParsedFamily>, name: string): Record<string, string | number>[] =>
  (m.get(name)?.samples ?? [])
    .map((s) => ({ ...s.labels, value: s.value }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('supervisorMetrics', () => {
  it('shows the operator state and the picture as enums, one series each at 1', async () => {
    const { m } = await scrape(slateOnAir);
    expect(samples(m, 'fieldcast_state')).toEqual(
      ['degraded', 'error', 'idle', 'live', 'no-signal', 'starting'].map((state) => ({ state, value: state === 'no-signal' ? 1 : 0 })),
    );
    expect(samples(m, 'fieldcast_picture')).toEqual(
      ['input', 'none', 'passthrough', 'slate'].map((picture) => ({ picture, value: picture === 'slate' ? 1 : 0 })),
    );
    expect(sampleOf(m, 'fieldcast_input_signal')).toBe(0);
    expect(sampleOf(m, 'fieldcast_uptime_seconds')).toBe(5400);
    expect(samples(m, 'fieldcast_info')).toEqual([{ version: '0.1.0', device_id: 'fc-0a1b2c3d4e5f', value: 1 }]);
  });

  it('shows the encoder: bit rate, its bounds, the ABR reason, the TS rate, frames and pipeline restarts', async () => {
    const { m } = await scrape(slateOnAir);
    expect(sampleOf(m, 'fieldcast_video_bitrate_bps')).toBe(3_200_000);
    expect(sampleOf(m, 'fieldcast_video_bitrate_min_bps')).toBe(500_000);
    expect(sampleOf(m, 'fieldcast_video_bitrate_max_bps')).toBe(8_000_000);
    expect(samples(m, 'fieldcast_abr_info')).toEqual([{ adaptive: 'true', reason: 'congestion', value: 1 }]);
    expect(sampleOf(m, 'fieldcast_ts_bitrate_bps')).toBe(3_450_000);
    expect(sampleOf(m, 'fieldcast_frames_encoded_total')).toBe(162_000);
    expect(sampleOf(m, 'fieldcast_frames_dropped_total')).toBe(12);
    expect(sampleOf(m, 'fieldcast_pipeline_restarts_total')).toBe(3);
  });

  it('shows each destination by its name: connected, state, RTT, buffer, rate, and loss/retrans/drop as counters', async () => {
    const { m } = await scrape(slateOnAir);
    const backup = { destination: 'backup "B"' };
    expect(samples(m, 'fieldcast_srt_connected')).toEqual([
      { destination: 'backup "B"', value: 0 },
      { destination: 'main', value: 1 },
    ]);
    expect(sampleOf(m, 'fieldcast_srt_state', { ...backup, state: 'reconnecting' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_srt_state', { ...backup, state: 'live' })).toBe(0);
    expect(m.get('fieldcast_srt_state')?.samples).toHaveLength(10);
    expect(sampleOf(m, 'fieldcast_srt_rtt_ms', { destination: 'main' })).toBe(84);
    expect(sampleOf(m, 'fieldcast_srt_send_buffer_ms', { destination: 'main' })).toBe(120);
    expect(sampleOf(m, 'fieldcast_srt_send_rate_bps', { destination: 'main' })).toBe(3_500_000);
    expect(sampleOf(m, 'fieldcast_srt_loss_packets_total', backup)).toBe(17);
    expect(sampleOf(m, 'fieldcast_srt_retrans_packets_total', { destination: 'main' })).toBe(230);
    expect(sampleOf(m, 'fieldcast_srt_drop_packets_total', { destination: 'main' })).toBe(4);
    for (const n of ['loss', 'retrans', 'drop']) expect(m.get(`fieldcast_srt_${n}_packets_total`)?.type).toBe('counter');
    expect(m.get('fieldcast_srt_rtt_ms')?.type).toBe('gauge');
  });

  it('shows each bonded link: up, state, throughput, share, loss, RTT (when known), packets, and the bond capacity', async () => {
    const { m } = await scrape(slateOnAir);
    expect(samples(m, 'fieldcast_link_up')).toEqual([
      { link: 'eth0', value: 0 },
      { link: 'wwan0', value: 1 },
      { link: 'wwan1', value: 1 },
    ]);
    expect(sampleOf(m, 'fieldcast_link_state', { link: 'eth0', state: 'stalled' })).toBe(1);
    expect(m.get('fieldcast_link_state')?.samples.filter((s) => s.value === 1)).toHaveLength(3);
    expect(sampleOf(m, 'fieldcast_link_throughput_bps', { link: 'wwan0' })).toBe(2_000_000);
    expect(sampleOf(m, 'fieldcast_link_share_ratio', { link: 'wwan1' })).toBe(0.45);
    expect(sampleOf(m, 'fieldcast_link_loss_ratio', { link: 'eth0' })).toBe(1);
    // eth0 has no RTT figure: no sample rather than a false zero.
    expect(samples(m, 'fieldcast_link_rtt_ms')).toEqual([
      { link: 'wwan0', value: 62 },
      { link: 'wwan1', value: 95 },
    ]);
    expect(sampleOf(m, 'fieldcast_link_sent_packets_total', { link: 'wwan1' })).toBe(70_000);
    expect(m.get('fieldcast_link_sent_packets_total')?.type).toBe('counter');
    expect(sampleOf(m, 'fieldcast_bond_capacity_bps')).toBe(9_000_000);
  });

  it('shows health, throttling flags and alerts by code and level', async () => {
    const { m } = await scrape(slateOnAir);
    expect(sampleOf(m, 'fieldcast_cpu_load')).toBe(0.62);
    expect(sampleOf(m, 'fieldcast_temperature_celsius')).toBe(71.5);
    expect(sampleOf(m, 'fieldcast_memory_used_bytes')).toBe(1_200_000_000);
    expect(sampleOf(m, 'fieldcast_memory_total_bytes')).toBe(4_000_000_000);
    expect(sampleOf(m, 'fieldcast_disk_free_bytes')).toBe(20_000_000_000);
    expect(sampleOf(m, 'fieldcast_disk_total_bytes')).toBe(32_000_000_000);
    expect(sampleOf(m, 'fieldcast_event_loop_lag_ms')).toBe(4.5);
    expect(samples(m, 'fieldcast_throttled')).toEqual([
      { flag: 'freq-capped', value: 1 },
      { flag: 'under-voltage', value: 1 },
    ]);
    expect(samples(m, 'fieldcast_alert')).toEqual([
      { code: 'HEALTH_HOT', level: 'warn', value: 1 },
      { code: 'INPUT_NO_SIGNAL', level: 'error', value: 1 },
      { code: 'UPLINK_DOWN', level: 'warn', value: 1 },
    ]);
  });

  it('never carries a URL, a host name, a passphrase or an operator message', async () => {
    const { text } = await scrape(slateOnAir);
    for (const secret of [PASSPHRASE, 'srt://', 'example.com', 'example.net', 'passphrase', 'no signal on', 'cam-7', '/dev/video0'])
      expect(text).not.toContain(secret);
  });

  it('reads the snapshot once per scrape, and the next scrape shows what changed', async () => {
    let snapshot = slateOnAir();
    let reads = 0;
    const registry = supervisorMetrics(
      () => {
        reads++;
        return snapshot;
      },
      { processMetrics: false },
    );
    await registry.metrics();
    expect(reads).toBe(1);
    snapshot = liveAgain();
    const m = parsePrometheus(await registry.metrics());
    expect(reads).toBe(2);
    expect(sampleOf(m, 'fieldcast_state', { state: 'live' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_state', { state: 'no-signal' })).toBe(0);
    expect(sampleOf(m, 'fieldcast_picture', { picture: 'input' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_input_signal')).toBe(1);
    expect(samples(m, 'fieldcast_abr_info')).toEqual([{ adaptive: 'true', reason: 'recover', value: 1 }]);
    expect(sampleOf(m, 'fieldcast_pipeline_restarts_total')).toBe(4);
    expect(sampleOf(m, 'fieldcast_srt_connected', { destination: 'backup "B"' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_srt_loss_packets_total', { destination: 'backup "B"' })).toBe(20);
    // What is gone leaves nothing behind: the link, the temperature reading, the flags, the alerts.
    expect(samples(m, 'fieldcast_link_up').map((s) => s.link)).toEqual(['wwan0', 'wwan1']);
    expect(m.get('fieldcast_link_state')?.samples.some((s) => s.labels.link === 'eth0')).toBe(false);
    expect(m.get('fieldcast_temperature_celsius')?.samples).toEqual([]);
    expect(m.get('fieldcast_throttled')?.samples).toEqual([]);
    expect(m.get('fieldcast_alert')?.samples).toEqual([]);
  });

  it('a box without bonding shows no link series and no capacity', async () => {
    const { m } = await scrape(() => ({ ...slateOnAir(), bond: undefined }));
    expect(m.get('fieldcast_bond_capacity_bps')?.samples).toEqual([]);
    expect(m.get('fieldcast_link_up')?.samples).toEqual([]);
    expect(m.get('fieldcast_link_sent_packets_total')?.samples).toEqual([]);
  });

  it("a link state these metrics do not know still shows as that link's state", async () => {
    const s = slateOnAir();
    s.bond!.links[2]!.state = 'probing';
    const { m } = await scrape(() => s);
    expect(sampleOf(m, 'fieldcast_link_state', { link: 'eth0', state: 'probing' })).toBe(1);
    expect(sampleOf(m, 'fieldcast_link_up', { link: 'eth0' })).toBe(0);
  });

  it("adds Node's process figures with the fieldcast_ prefix, on its own registry", async () => {
    const registry = supervisorMetrics(slateOnAir);
    const m = parsePrometheus(await registry.metrics());
    for (const name of [
      'fieldcast_process_cpu_user_seconds_total',
      'fieldcast_process_resident_memory_bytes',
      'fieldcast_nodejs_eventloop_lag_p99_seconds',
      'fieldcast_nodejs_heap_size_used_bytes',
    ])
      expect(m.has(name), name).toBe(true);
    expect(sampleOf(m, 'fieldcast_process_resident_memory_bytes')).toBeGreaterThan(0);
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('fieldcast_');
  });
});
