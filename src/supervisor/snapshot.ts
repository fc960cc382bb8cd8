/**
 * The status snapshot: the one typed picture of the box that the control
 * socket (`fieldcast ctl status`), the status page, the LCD, `/metrics` and
 * the one-line-a-second status print all read. The supervisor owns it and
 * rebuilds it from the state its parts own; nothing else keeps a copy.
 *
 * Every state comes with a reason in plain words and, when the operator can
 * do something about it, what to do.
 */

import type { RecorderStats } from '../record/index.js';
import type { DataUsage } from '../uplinks/ledger.js';
import type { ModemStatus } from '../uplinks/modems/index.js';

/** What the operator sees first, in order of what matters. */

export type OperatorState =
  /** Not streaming, by choice (stopped, or no destination configured). */
  | 'idle'
  /** Starting the pipeline or connecting to the destination. */
  | 'starting'
  /** Pictures and sound are going out. */
  | 'live'
  /** Going out, but something limits it (a link down, the bit rate cut, the box hot). */
  | 'degraded'
  /** Going out, but the input has no signal: the slate is on air. */
  | 'no-signal'
  /** Not going out, and it will not fix itself without the operator (or it keeps trying: see reason). */
  | 'error';

export interface Alert {
  /** Stable code (INPUT_NO_SIGNAL, UPLINK_DOWN, HEALTH_HOT, …). */
  code: string;
  level: 'info' | 'warn' | 'error';
  /** What is wrong, in words an operator understands. */
  message: string;
  /** What to do about it, when there is something to do. */
  action?: string;
  /** When it was first raised (ISO 8601). */
  since: string;
}

export interface HealthSnapshot {
  /** Load of all cores over the last sample period, 0..1. */
  cpuLoad: number;
  /** The hottest thermal zone, °C, where the board has one. */
  temperatureC?: number;
  /** Throttling the board reports now (Raspberry Pi: under-voltage, frequency capped, …). */
  throttled: string[];
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** Free and total bytes of the file system the state directory is on. */
  diskFreeBytes: number;
  diskTotalBytes: number;
  /** Event-loop lag of the supervisor, p99 over the last period, ms. */
  eventLoopLagMs: number;
  /** The thresholds crossed now, as alerts (HEALTH_HOT, HEALTH_THROTTLED, HEALTH_DISK_LOW, …). */
  alerts: Alert[];
}

export interface DestinationStatus {
  name: string;
  /** The SRT URL with any passphrase removed. */
  url: string;
  state: 'stopped' | 'connecting' | 'live' | 'reconnecting' | 'failed';
  /** Why it is not live, in words (the last error), when it is not. */
  reason?: string;
  rttMs: number;
  sendBufferMs: number;
  sendRateBps: number;
  lossPackets: number;
  retransPackets: number;
  dropPackets: number;
  /** Seconds since this connection came up, while live. */
  connectedForS?: number;
}

export interface LinkStatus {
  name: string;
  state: string;
  /** Why it is in that state, in words, when it is not carrying traffic. */
  why?: string;
  throughputBps: number;
  /** Share of the traffic it carries now, 0..1. */
  share: number;
  rttMs?: number;
  /** Loss it sees now, 0..1. */
  loss: number;
  sentPackets: number;
}

export interface StreamStatus {
  /** What the operator asked for: the stream on or off. */
  desired: 'on' | 'off';
  /** What is on air: the input, the slate (no signal), a TS passthrough, or nothing. */
  picture: 'input' | 'slate' | 'passthrough' | 'none';
  input: { name: string; source: string; signal: boolean };
  video: {
    bitrateBps: number;
    minBps: number;
    maxBps: number;
    adaptive: boolean;
    /** Why the bit rate is what it is (the ABR's last reason). */
    reason?: string;
    codec?: string;
    width?: number;
    height?: number;
    fps?: string;
  };
  /** The sound on air, per channel, over the last second (measured in the native audio path); absent in passthrough. */
  audio?: {
    source: string;
    /** Peak level in dBFS (0 = full scale; -100 = silence). */
    peakDbfs: number[];
    /** RMS level in dBFS (a full-scale sine is -3 dBFS). */
    rmsDbfs: number[];
  };
  /** The latest thumbnail of the picture (GET /api/v1/thumbnail.jpg), when there is one. */
  thumbnail?: { at: string; width: number; height: number };
  /** What the muxer produced over the last second, bit/s. */
  tsBitrateBps: number;
  framesEncoded: number;
  framesDropped: number;
  pipeline: {
    pid?: number;
    restarts: number;
    /** The last crash or hang, in words. */
    lastError?: string;
  };
  /** The recording of what is sent (config `recording`), while it is on: see src/record. */
  recording?: RecorderStats;
}

/** One uplink of the box as the status page's card shows it: what it is, and what it carries now. */
export interface UplinkStatus {
  /** The bonded link's name: a configured link's, or the discovered interface's (wwan0). */
  name: string;
  interface?: string;
  kind: 'ethernet' | 'wifi' | 'cellular' | 'other';
  addresses: string[];
  /** The interface is up with an address (a configured link without an interface: always). */
  up: boolean;
  /** The operator lets the stream use it. */
  enabled: boolean;
  /** 0-9, higher is preferred. */
  priority: number;
  /** A data plan pays for what it carries. */
  metered: boolean;
  /** The bonded link's figures, while the stream goes over it. */
  link?: LinkStatus;
  /** The modem behind it, with its latest reading. */
  modem?: ModemStatus;
  /** Its data plan's usage this billing period. */
  data?: DataUsage;
}

export interface BondStatus {
  receiver: string;
  capacityBps: number;
  links: LinkStatus[];
}

/** The box: its id (made at first start, identity.ts), the operator's name for it, the firmware, how long it has run. */
export interface DeviceInfo {
  id: string;
  name: string;
  version: string;
  uptimeS: number;
}

export interface StatusSnapshot {
  version: 1;
  /** When it was taken (ISO 8601). */
  at: string;
  device: DeviceInfo;
  state: OperatorState;
  /** Why, in plain words: "live to ingest over 3 links", "no answer from ingest.example.com:5000". */
  reason: string;
  /** What to do about it, when the operator can do something. */
  action?: string;
  /** Since when the state holds (ISO 8601). */
  since: string;
  stream: StreamStatus;
  destinations: DestinationStatus[];
  bond?: BondStatus;
  health: HealthSnapshot;
  /** Every uplink the stream may use, bonded or not (when bonding is on). */
  uplinks?: UplinkStatus[];
  /** The modems found, with their latest reading (IMEI and ICCID masked). */
  modems?: ModemStatus[];
  /** Each data plan's usage this billing period (when the config has any). */
  data?: DataUsage[];
  /** Everything raised now, the most important first. */
  alerts: Alert[];
}
