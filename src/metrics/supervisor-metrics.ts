/**
 * `fieldcast run`'s metrics: the box as the status snapshot shows it (state,
 * encoder, SRT, bonded links, health, alerts), read from one snapshot per
 * scrape, plus Node's own process figures.
 *
 * Labels carry names only (a destination's configured name, a link's name,
 * an alert's code): never a URL, a passphrase or an operator's words, so a
 * dashboard can be shared and the series stay few.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { LinkStateName } from '../bond/scheduler.js';
import type { DestinationStatus, OperatorState, StatusSnapshot, StreamStatus } from '../supervisor/snapshot.js';
import { counter, counterVec, enumGauge, type FamilyVec, gauge, gaugeVec, perScrape } from './scrape.js';

// Written as records so the compiler fails here when a state is added to the snapshot's types.
const OPERATOR_STATES = Object.keys({
  idle: 0,
  starting: 0,
  live: 0,
  degraded: 0,
  'no-signal': 0,
  error: 0,
} satisfies Record<OperatorState, 0>);
const PICTURES = Object.keys({ input: 0, slate: 0, passthrough: 0, none: 0 } satisfies Record<StreamStatus['picture'], 0>);
const DESTINATION_STATES = Object.keys({
  stopped: 0,
  connecting: 0,
  live: 0,
  reconnecting: 0,
  failed: 0,
} satisfies Record<DestinationStatus['state'], 0>);
const LINK_STATES = Object.keys({ registering: 0, live: 0, 'backup-idle': 0, stalled: 0, dead: 0 } satisfies Record<LinkStateName, 0>);
/** A link that works: carrying traffic, or a backup held idle by choice. */
const LINK_UP = new Set<string>(['live', 'backup-idle'] satisfies LinkStateName[]);

export interface SupervisorMetricsOptions {
  /** Where the families go (a new registry by default). */
  registry?: Registry;
  /**
   * Node's process figures (CPU, RSS, heap, event loop, GC) as
   * `fieldcast_process_…`/`fieldcast_nodejs_…` (default true). They start
   * an event-loop monitor and a GC observer that last as long as the process.
   */
  processMetrics?: boolean;
}

export function supervisorMetrics(getSnapshot: () => StatusSnapshot, options: SupervisorMetricsOptions = {}): Registry {
  const registry = options.registry ?? new Registry();
  const snap = perScrape(getSnapshot);
  const destinations = (name: string, help: string, f: (d: DestinationStatus) => number, make: FamilyVec = gaugeVec) =>
    make(registry, name, help, ['destination'], (emit) => {
      for (const d of snap().destinations) emit({ destination: d.name }, f(d));
    });
  const links = (name: string, help: string, f: (l: NonNullable<StatusSnapshot['bond']>['links'][number]) => number | undefined) =>
    gaugeVec(registry, name, help, ['link'], (emit) => {
      for (const l of snap().bond?.links ?? []) {
        const v = f(l);
        if (v !== undefined) emit({ link: l.name }, v);
      }
    });
  const bool = (v: boolean) => (v ? 1 : 0);

  enumGauge(registry, 'fieldcast_state', 'Operator state: 1 for the current one', 'state', OPERATOR_STATES, () => snap().state);
  gauge(registry, 'fieldcast_uptime_seconds', 'Uptime of the unit, seconds', () => snap().device.uptimeS);
  gaugeVec(registry, 'fieldcast_info', "Firmware version and the box's id (always 1)", ['version', 'device_id'], (emit) =>
    emit({ version: snap().device.version, device_id: snap().device.id }, 1),
  );

  gauge(registry, 'fieldcast_input_signal', 'Input has a signal (1) or not (0)', () => bool(snap().stream.input.signal));
  enumGauge(registry, 'fieldcast_picture', 'What is on air: 1 for the current one', 'picture', PICTURES, () => snap().stream.picture);
  gauge(registry, 'fieldcast_video_bitrate_bps', 'Video encoder bit rate now, bit/s', () => snap().stream.video.bitrateBps);
  gauge(registry, 'fieldcast_video_bitrate_min_bps', 'Lowest video bit rate the ABR may set, bit/s', () => snap().stream.video.minBps);
  gauge(registry, 'fieldcast_video_bitrate_max_bps', 'Highest video bit rate the ABR may set, bit/s', () => snap().stream.video.maxBps);
  gaugeVec(registry, 'fieldcast_abr_info', 'Why the video bit rate is what it is (always 1)', ['adaptive', 'reason'], (emit) => {
    const v = snap().stream.video;
    emit({ adaptive: String(v.adaptive), reason: v.reason ?? '' }, 1);
  });
  gauge(
    registry,
    'fieldcast_ts_bitrate_bps',
    'MPEG-TS bit rate out of the muxer over the last second, bit/s',
    () => snap().stream.tsBitrateBps,
  );
  counter(registry, 'fieldcast_frames_encoded_total', 'Video frames encoded', () => snap().stream.framesEncoded);
  counter(registry, 'fieldcast_frames_dropped_total', 'Video frames dropped before the encoder', () => snap().stream.framesDropped);
  counter(
    registry,
    'fieldcast_pipeline_restarts_total',
    'Media pipeline restarts after a crash or hang',
    () => snap().stream.pipeline.restarts,
  );

  destinations('fieldcast_srt_connected', 'SRT connection to the destination is up (1) or not (0)', (d) => bool(d.state === 'live'));
  gaugeVec(registry, 'fieldcast_srt_state', 'SRT destination state: 1 for the current one', ['destination', 'state'], (emit) => {
    for (const d of snap().destinations) for (const s of DESTINATION_STATES) emit({ destination: d.name, state: s }, bool(d.state === s));
  });
  destinations('fieldcast_srt_rtt_ms', 'SRT round-trip time, ms', (d) => d.rttMs);
  destinations('fieldcast_srt_send_buffer_ms', 'SRT send buffer, ms of media', (d) => d.sendBufferMs);
  destinations('fieldcast_srt_send_rate_bps', 'SRT send rate, bit/s', (d) => d.sendRateBps);
  destinations('fieldcast_srt_loss_packets_total', 'Packets SRT reported lost', (d) => d.lossPackets, counterVec);
  destinations('fieldcast_srt_retrans_packets_total', 'Packets SRT sent again', (d) => d.retransPackets, counterVec);
  destinations('fieldcast_srt_drop_packets_total', 'Packets SRT dropped as too late to play', (d) => d.dropPackets, counterVec);

  gauge(registry, 'fieldcast_bond_capacity_bps', 'What the bonded links can carry together, bit/s', () => snap().bond?.capacityBps);
  links('fieldcast_link_up', 'Link works (1: carrying traffic or a backup held idle) or not (0)', (l) => bool(LINK_UP.has(l.state)));
  gaugeVec(registry, 'fieldcast_link_state', 'Bonded link state: 1 for the current one', ['link', 'state'], (emit) => {
    for (const l of snap().bond?.links ?? []) {
      for (const s of LINK_STATES) emit({ link: l.name, state: s }, bool(l.state === s));
      // A state these names do not know still shows, rather than a link in none.
      if (!LINK_STATES.includes(l.state)) emit({ link: l.name, state: l.state }, 1);
    }
  });
  links('fieldcast_link_throughput_bps', 'Throughput of the link now, bit/s', (l) => l.throughputBps);
  links('fieldcast_link_share_ratio', 'Share of the traffic the link carries now, 0..1', (l) => l.share);
  links('fieldcast_link_loss_ratio', 'Loss the link sees now, 0..1', (l) => l.loss);
  links('fieldcast_link_rtt_ms', 'Round-trip time of the link, ms', (l) => l.rttMs);
  counterVec(registry, 'fieldcast_link_sent_packets_total', 'Packets sent over the link', ['link'], (emit) => {
    for (const l of snap().bond?.links ?? []) emit({ link: l.name }, l.sentPackets);
  });

  gauge(registry, 'fieldcast_cpu_load', 'Load of all cores over the last sample period, 0..1', () => snap().health.cpuLoad);
  gauge(registry, 'fieldcast_temperature_celsius', 'Hottest thermal zone, °C', () => snap().health.temperatureC);
  gauge(registry, 'fieldcast_memory_used_bytes', 'Memory in use', () => snap().health.memoryUsedBytes);
  gauge(registry, 'fieldcast_memory_total_bytes', 'Memory installed', () => snap().health.memoryTotalBytes);
  gauge(registry, 'fieldcast_disk_free_bytes', 'Free space on the state directory file system', () => snap().health.diskFreeBytes);
  gauge(registry, 'fieldcast_disk_total_bytes', 'Size of the state directory file system', () => snap().health.diskTotalBytes);
  gauge(
    registry,
    'fieldcast_event_loop_lag_ms',
    'Event-loop lag of the supervisor, p99 over the last period, ms',
    () => snap().health.eventLoopLagMs,
  );
  gaugeVec(registry, 'fieldcast_throttled', 'Throttling the board reports now (1 per flag raised)', ['flag'], (emit) => {
    for (const flag of snap().health.throttled) emit({ flag }, 1);
  });
  gaugeVec(registry, 'fieldcast_alert', 'Alerts raised now (1 each)', ['code', 'level'], (emit) => {
    for (const a of snap().alerts) emit({ code: a.code, level: a.level }, 1);
  });

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'fieldcast_' });
  return registry;
}
