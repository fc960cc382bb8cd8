import { describe, expect, it } from 'vitest';
import { type ConfigInput, validateConfig } from '../../../src/config/index.js';
import { streamSpecFromConfig } from '../../../src/media/spec.js';
import type { ExecutorFailure } from '../../../src/supervisor/executor.js';
import type { HealthSnapshot } from '../../../src/supervisor/snapshot.js';
import { buildSnapshot, type StatusInputs } from '../../../src/supervisor/status.js';
import { formatStatusLine } from '../../../src/supervisor/status-line.js';
import type { StreamStats } from '../../../src/supervisor/stream-unit.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const HEALTH: HealthSnapshot = {
  cpuLoad: 0.3,
  throttled: [],
  memoryUsedBytes: 1e9,
  memoryTotalBytes: 4e9,
  diskFreeBytes: 1e10,
  diskTotalBytes: 3e10,
  eventLoopLagMs: 2,
  alerts: [],
};
const CONFIG: ConfigInput = {
  deviceName: 'truck-2',
  input: { name: 'HDMI 1' },
  destinations: [{ name: 'ingest', url: 'srt://ingest.example.com:5000?passphrase=hidden-in-the-url', latencyMs: 1500 }],
};

function stats(over: Partial<StreamStats> = {}, srt: Partial<StreamStats['srt']> = {}): StreamStats {
  const state = over.state ?? 'live';
  const lead = {
    connected: true,
    rttMs: 40,
    sendRateBps: 4.3e6,
    sendBufferMs: 60,
    lossPackets: 0,
    retransPackets: 0,
    dropPackets: 0,
    bandwidthBps: 0,
    needsOperator: false,
    ...srt,
  };
  const destinations: StreamStats['destinations'] = [
    {
      ...lead,
      name: 'ingest',
      index: 0,
      state: lead.connected ? 'live' : state === 'reconnecting' ? 'reconnecting' : 'connecting',
      sentBytes: 0,
      droppedPackets: 0,
      connects: 1,
      gate: {} as StreamStats['gate'],
    },
  ];
  return {
    destinations,
    state: 'live',
    uptimeS: 10,
    videoBitrate: 4_000_000,
    tsBitrate: 4_300_000,
    framesEncoded: 300,
    framesDropped: 0,
    picture: 'input',
    srt: {
      connected: true,
      rttMs: 40,
      sendRateBps: 4.3e6,
      sendBufferMs: 60,
      lossPackets: 0,
      retransPackets: 0,
      dropPackets: 0,
      bandwidthBps: 0,
      needsOperator: false,
      ...srt,
    },
    pipeline: { pid: 1234, restarts: 0 },
    splicer: {} as StreamStats['splicer'],
    gate: {} as StreamStats['gate'],
    ...over,
  };
}

function inputs(over: Partial<StatusInputs> = {}, config: ConfigInput = CONFIG): StatusInputs {
  const c = validateConfig(config);
  return {
    now: NOW,
    device: { id: 'fc-00112233aabb', name: c.deviceName, version: '1.0.0', uptimeS: 60 },
    config: c,
    on: true,
    ...(c.destinations[0] ? { stream: { spec: streamSpecFromConfig(c, c.destinations[0]), stats: stats() } } : {}),
    health: HEALTH,
    ...over,
  };
}

const failure = (over: Partial<ExecutorFailure> = {}): ExecutorFailure => ({
  step: 'start',
  code: 'BOND_LINK_UNAVAILABLE',
  message: 'cannot bind link cell-a to 10.0.0.2',
  attempts: 2,
  retryAt: NOW + 4000,
  ...over,
});

describe('the status snapshot', () => {
  const table: { name: string; in: StatusInputs; state: string; reason: RegExp; action?: RegExp }[] = [
    {
      name: 'no destination: idle, and how to set one',
      in: inputs({}, { deviceName: 'x' }),
      state: 'idle',
      reason: /no destination/,
      action: /ctl set destinations\.0\.url/,
    },
    {
      name: 'stopped by the operator: idle',
      in: inputs({ on: false }),
      state: 'idle',
      reason: /stopped by the operator/,
      action: /ctl start/,
    },
    {
      name: 'wanted, nothing yet: starting',
      in: inputs({ stream: undefined }),
      state: 'starting',
      reason: /starting the stream to ingest/,
    },
    {
      name: 'a start that failed: error, the reason and when it tries again',
      in: inputs({ stream: undefined, failure: failure() }),
      state: 'error',
      reason: /cannot bind link cell-a.*trying again in 4 s/,
      action: /bond\.links/,
    },
    {
      name: 'calling, no answer yet: starting',
      in: inputs({ stream: { ...inputs().stream!, stats: stats({ state: 'connecting' }, { connected: false }) } }),
      state: 'starting',
      reason: /calling ingest \(ingest\.example\.com:5000\)/,
    },
    {
      name: 'no answer: error, calling again',
      in: inputs({
        stream: {
          ...inputs().stream!,
          stats: stats(
            { state: 'connecting' },
            { connected: false, lastError: { code: 'SRT_CONNECT_TIMEOUT', message: 'no answer from ingest' } },
          ),
        },
      }),
      state: 'error',
      reason: /no answer from ingest; calling again/,
      action: /destination is running/,
    },
    {
      name: 'a wrong passphrase: error, only the operator can fix it',
      in: inputs({
        stream: {
          ...inputs().stream!,
          stats: stats(
            { state: 'connecting' },
            {
              connected: false,
              needsOperator: true,
              lastError: { code: 'SRT_AUTH_FAILED', message: 'the destination rejected the passphrase' },
            },
          ),
        },
      }),
      state: 'error',
      reason: /^the destination rejected the passphrase$/,
      action: /same passphrase/,
    },
    {
      name: 'lost mid-stream: error, calling again',
      in: inputs({
        stream: {
          ...inputs().stream!,
          stats: stats(
            { state: 'reconnecting' },
            { connected: false, lastError: { code: 'SRT_CONNECTION_LOST', message: 'no answer for 1.0 s' } },
          ),
        },
      }),
      state: 'error',
      reason: /lost the connection to ingest.*no answer for 1\.0 s; calling again/,
    },
    {
      name: 'the pipeline between processes: error, with its last words',
      in: inputs({
        stream: {
          ...inputs().stream!,
          stats: stats({ pipeline: { restarts: 3, lastError: 'the media pipeline killed by SIGKILL; restarting it' } }),
        },
      }),
      state: 'error',
      reason: /killed by SIGKILL/,
      action: /journalctl/,
    },
    {
      name: 'the slate on air: no-signal, and what to check',
      in: inputs({ stream: { ...inputs().stream!, stats: stats({ picture: 'slate' }) } }),
      state: 'no-signal',
      reason: /no signal on HDMI 1/,
      action: /camera/,
    },
    {
      name: 'hot: degraded, with the health alert',
      in: inputs({
        health: {
          ...HEALTH,
          alerts: [
            { code: 'HEALTH_HOT', level: 'warn', message: 'the box is hot and slowing down', action: 'give it air or shade', since: '' },
          ],
        },
      }),
      state: 'degraded',
      reason: /live to ingest.*but the box is hot/,
      action: /air or shade/,
    },
    {
      name: 'the bit rate held at its floor by congestion: degraded',
      in: inputs({
        stream: { ...inputs().stream!, stats: stats({ videoBitrate: 1_000_000, abrReason: 'congestion: send buffer 900 ms' }) },
      }),
      state: 'degraded',
      reason: /held at its minimum/,
      action: /uplink/,
    },
    { name: 'going out: live', in: inputs(), state: 'live', reason: /^live to ingest \(ingest\.example\.com:5000\)$/ },
    {
      name: 'stopping: idle',
      in: inputs({ stream: { ...inputs().stream!, stats: stats({ state: 'stopping' }) } }),
      state: 'idle',
      reason: /stopping/,
    },
  ];

  for (const t of table) {
    it(t.name, () => {
      const s = buildSnapshot(t.in);
      expect(s.state).toBe(t.state);
      expect(s.reason).toMatch(t.reason);
      if (t.action) expect(s.action).toMatch(t.action);
      expect(s.reason.length).toBeGreaterThan(5);
    });
  }

  it('a bonded stream: one link down degrades it and raises an alert for that link', () => {
    const bonded: ConfigInput = { ...CONFIG, bond: { enabled: true, links: [{ name: 'cell-a' }, { name: 'cell-b' }] } };
    const base = inputs({}, bonded);
    const link = (name: string, state: 'live' | 'dead', share: number) => ({
      id: name,
      name,
      state,
      ...(state === 'dead' ? { why: 'no answer for 3 s' } : {}),
      priority: 5,
      backupOnly: false,
      metered: false,
      throughputBps: share * 4e6,
      share,
      loss: 0,
      lostPackets: 0,
      sentPackets: 100,
      ackedPackets: 100,
      inFlight: 0,
      capacityBps: 5e6,
      deliveredBps: 4e6,
    });
    const bond = {
      group: 'registered' as const,
      capacityBps: 5e6,
      links: [link('cell-a', 'live', 1), link('cell-b', 'dead', 0)],
      packetsFromCaller: 0,
      packetsToCaller: 0,
      unroutedPackets: 0,
      duplicatesDropped: 0,
      redundantRetransmissions: 0,
      heldPackets: 0,
      heldTotal: 0,
      overflowPackets: 0,
      malformedPackets: 0,
    };
    const s = buildSnapshot({ ...base, stream: { ...base.stream!, stats: stats({ bond }) } });
    expect(s.state).toBe('degraded');
    expect(s.reason).toMatch(/link cell-b is down: no answer for 3 s/);
    expect(s.alerts.map((a) => a.code)).toContain('UPLINK_DOWN:cell-b');
    expect(s.bond).toMatchObject({
      receiver: 'ingest.example.com:5000',
      links: [
        { name: 'cell-a', state: 'live' },
        { name: 'cell-b', state: 'dead' },
      ],
    });
    expect(formatStatusLine(s)).toMatch(/links cell-a:100% cell-b:dead/);
  });

  it('keeps since for a state and an alert that hold, hides secrets, and carries the figures', () => {
    const first = buildSnapshot(inputs({ stream: { ...inputs().stream!, stats: stats({ picture: 'slate' }) } }));
    const later = buildSnapshot({
      ...inputs({ stream: { ...inputs().stream!, stats: stats({ picture: 'slate' }) } }),
      now: NOW + 5000,
      previous: first,
    });
    expect(later.since).toBe(first.since);
    expect(later.alerts.find((a) => a.code === 'INPUT_NO_SIGNAL')?.since).toBe(first.since);
    const live = buildSnapshot({ ...inputs(), now: NOW + 6000, previous: later });
    expect(live.since).toBe(new Date(NOW + 6000).toISOString());
    expect(JSON.stringify(live)).not.toContain('hidden-in-the-url');
    expect(live.destinations[0]).toMatchObject({ name: 'ingest', state: 'live', rttMs: 40, sendBufferMs: 60 });
    expect(live.stream).toMatchObject({ desired: 'on', picture: 'input', video: { bitrateBps: 4_000_000, width: 1280, height: 720 } });
    expect(live.device).toEqual({ id: 'fc-00112233aabb', name: 'truck-2', version: '1.0.0', uptimeS: 60 });
  });
});

describe('the status snapshot with two destinations', () => {
  const two: ConfigInput = {
    ...CONFIG,
    destinations: [
      { name: 'flow-a', url: 'srt://flow-a.example.com:5000', latencyMs: 1500 },
      { name: 'flow-b', url: 'srt://flow-b.example.com:5000', latencyMs: 1500 },
    ],
  };
  const dest = (name: string, index: number, up: boolean, over: Partial<StreamStats['destinations'][number]> = {}) => ({
    name,
    index,
    state: up ? ('live' as const) : ('reconnecting' as const),
    connected: up,
    rttMs: up ? 40 : 0,
    sendRateBps: up ? 4.3e6 : 0,
    sendBufferMs: up ? 60 : 0,
    lossPackets: 0,
    retransPackets: 0,
    dropPackets: 0,
    bandwidthBps: 0,
    sentBytes: 0,
    droppedPackets: 0,
    connects: 1,
    needsOperator: false,
    gate: {} as StreamStats['gate'],
    ...over,
  });

  it('one down: its own card says so, the other stays live, and the alert names its own index', () => {
    const c = validateConfig(two);
    const spec = streamSpecFromConfig(c, c.destinations[0]!);
    const s = buildSnapshot({
      ...inputs({}, two),
      stream: {
        spec: { ...spec, secondDestination: c.destinations[1]! },
        stats: stats({
          destinations: [
            dest('flow-a', 0, true),
            dest('flow-b', 1, false, {
              needsOperator: true,
              lastError: { code: 'SRT_AUTH_FAILED', message: 'the destination refused the passphrase' },
            }),
          ],
        }),
      },
    });
    expect(s.destinations.map((d) => [d.name, d.state])).toEqual([
      ['flow-a', 'live'],
      ['flow-b', 'failed'],
    ]);
    expect(s.destinations[1]?.reason).toMatch(/refused the passphrase/);
    expect(s.destinations[0]).toMatchObject({ rttMs: 40, sendRateBps: 4.3e6 });
    expect(s.state).toBe('degraded');
    expect(s.reason).toMatch(/flow-b \(flow-b\.example\.com:5000\) is not connected: the destination refused the passphrase/);
    expect(s.action).toMatch(/destinations\.1\.passphrase/);
  });

  it('both live: live, no alert', () => {
    const c = validateConfig(two);
    const s = buildSnapshot({
      ...inputs({}, two),
      stream: {
        spec: { ...streamSpecFromConfig(c, c.destinations[0]!), secondDestination: c.destinations[1]! },
        stats: stats({ destinations: [dest('flow-a', 0, true), dest('flow-b', 1, true)] }),
      },
    });
    expect(s.state).toBe('live');
    expect(s.destinations.every((d) => d.state === 'live')).toBe(true);
  });
});
