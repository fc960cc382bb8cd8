/**
 * Builds the status snapshot (snapshot.ts) from what the supervisor's parts
 * own: the config and the operator's word, the stream unit's statistics, the
 * executor's last failure, the health monitor. A pure function: the same
 * inputs give the same snapshot, so each rule below is unit-tested.
 *
 * The operator state, the first rule that holds:
 *   idle       the operator stopped it, or no destination is set
 *   error      not going out: a change could not be applied, the destination
 *              refuses or does not answer, the connection was lost, the
 *              pipeline is between processes
 *   starting   on its way: starting, calling the destination
 *   no-signal  going out with the slate on air
 *   degraded   going out, but a link is down, the bit rate is held at its
 *              floor, or the box is unwell
 *   live       going out
 * Each with a reason in plain words and, where the operator can act, what to do.
 */
import type { Config } from '../config/schema.js';
import { formatBitrate } from '../lib/units.js';
import type { DataUsage } from '../uplinks/ledger.js';
import type { ModemStatus } from '../uplinks/modems/index.js';
import type { ExecutorFailure } from './executor.js';
import { orderAlerts } from './health-alerts.js';
import type {
  Alert,
  BondStatus,
  DestinationStatus,
  DeviceInfo,
  HealthSnapshot,
  OperatorState,
  StatusSnapshot,
  StreamStatus,
  UplinkStatus,
} from './snapshot.js';
import type { StreamAudioLevels, StreamSpec, StreamStats } from './stream-unit.js';

export interface StatusInputs {
  /** Wall clock, ms since the epoch. */
  now: number;
  device: DeviceInfo;
  /** The config as it stands (what is wanted). */
  config: Config;
  /** The operator's word: stream or not. */
  on: boolean;
  /** The stream unit that runs, with its spec and latest statistics, the sound's levels and the latest thumbnail's date and size. */
  stream?: {
    spec: StreamSpec;
    stats: StreamStats;
    audio?: StreamAudioLevels | undefined;
    thumbnail?: { at: string; width: number; height: number } | undefined;
  };
  /** A change the executor could not apply, or a stream that ended by itself, while not overcome. */
  failure?: ExecutorFailure;
  health: HealthSnapshot;
  /** The modems found (masked). */
  modems?: ModemStatus[];
  /** Each link the stream may use, as the uplink side knows it (bonding on). */
  uplinks?: UplinkInfo[];
  /** The data plans' usage this period, and what they raise (80%, used up). */
  data?: { usage: DataUsage[]; alerts: AlertBody[] };
  /** The snapshot before: states and alerts keep their `since`. */
  previous?: StatusSnapshot;
}

/** An uplink card before the stream's figures: what the uplink side knows of it. */
export type UplinkInfo = Omit<UplinkStatus, 'link' | 'modem'>;

type Verdict = { state: OperatorState; reason: string; action?: string };
type AlertBody = Omit<Alert, 'since'>;

const LOOK_AT_LOGS = 'if it keeps happening, look at the log: journalctl -u fieldcast';

export function buildSnapshot(i: StatusInputs): StatusSnapshot {
  const at = new Date(i.now).toISOString();
  const alerts = streamAlerts(i);
  const verdict = judge(i, alerts);
  const prev = i.previous;
  const since = prev && prev.state === verdict.state ? prev.since : at;
  const prevSince = new Map((prev?.alerts ?? []).map((a) => [a.code, a.since]));
  const bond = i.stream?.stats.bond ? bondStatus(i) : undefined;
  const all = orderAlerts([
    ...alerts.map((a) => ({ ...a, since: prevSince.get(a.code) ?? at })),
    ...(i.data?.alerts ?? []).map((a) => ({ ...a, since: prevSince.get(a.code) ?? at })),
    ...i.health.alerts.filter((h) => !alerts.some((a) => a.code === h.code)),
  ]);
  return {
    version: 1,
    at,
    device: i.device,
    state: verdict.state,
    reason: verdict.reason,
    ...(verdict.action ? { action: verdict.action } : {}),
    since,
    stream: streamStatus(i),
    destinations: destinationStatus(i),
    ...(bond ? { bond } : {}),
    ...(i.uplinks ? { uplinks: uplinkStatus(i.uplinks, bond, i.modems) } : {}),
    health: i.health,
    ...(i.modems && i.modems.length > 0 ? { modems: i.modems } : {}),
    ...(i.data && i.data.usage.length > 0 ? { data: i.data.usage } : {}),
    alerts: all,
  };
}

/** The first rule that holds, in the order of the file's comment. */
function judge(i: StatusInputs, alerts: AlertBody[]): Verdict {
  const dest = i.config.destinations[0];
  if (!dest) {
    return {
      state: 'idle',
      reason: 'no destination is set',
      action: 'set one: fieldcast ctl set destinations.0.url=srt://HOST:PORT',
    };
  }
  const where = `${dest.name} (${hostPort(dest.url)})`;
  if (!i.on) return { state: 'idle', reason: 'stopped by the operator', action: 'start it: fieldcast ctl start' };

  const f = i.failure;
  const s = i.stream?.stats;
  if (!s) {
    if (f) return { state: 'error', reason: `${f.message}; trying again in ${retryIn(f, i.now)}`, action: actionFor(f.code) };
    return { state: 'starting', reason: `starting the stream to ${where}` };
  }
  if (s.state === 'stopping' || s.state === 'stopped') return { state: 'idle', reason: 'stopping the stream' };
  if (f && f.step !== 'stream') {
    return { state: 'error', reason: `${f.message}; trying again in ${retryIn(f, i.now)}`, action: actionFor(f.code) };
  }
  if (s.state !== 'live') {
    const e = s.srt.lastError;
    if (e) {
      const again = s.srt.needsOperator ? '' : '; calling again';
      const lost = s.state === 'reconnecting' ? `lost the connection to ${where}: ` : '';
      return { state: 'error', reason: `${lost}${e.message}${again}`, action: actionFor(e.code) };
    }
    if (s.state === 'reconnecting') return { state: 'error', reason: `lost the connection to ${where}; calling again` };
    return {
      state: 'starting',
      reason: i.stream?.spec.bond ? `calling ${where} over ${i.stream.spec.bond.links.length} links` : `calling ${where}`,
    };
  }
  if (s.pipeline.pid === undefined) {
    return {
      state: 'error',
      reason: s.pipeline.lastError ?? 'the media pipeline is restarting',
      action: LOOK_AT_LOGS,
    };
  }
  const noSignal = alerts.find((a) => a.code === 'INPUT_NO_SIGNAL');
  if (noSignal) return { state: 'no-signal', reason: noSignal.message, ...(noSignal.action ? { action: noSignal.action } : {}) };
  const limits = [
    ...alerts.filter((a) => a.level !== 'info'),
    ...(i.data?.alerts ?? []).filter((a) => a.level !== 'info'),
    ...i.health.alerts.filter((a) => a.level !== 'info'),
  ];
  const first = limits[0];
  if (first) {
    const more = limits.length > 1 ? ` (and ${limits.length - 1} more)` : '';
    return {
      state: 'degraded',
      reason: `live to ${where}, but ${first.message}${more}`,
      ...(first.action ? { action: first.action } : {}),
    };
  }
  const over = s.bond ? ` over ${s.bond.links.filter((l) => l.state === 'live').length} links` : '';
  return { state: 'live', reason: `live to ${where}${over}${s.picture === 'passthrough' ? ' (passthrough)' : ''}` };
}

/** What the stream itself raises now: no signal, links down, the bit rate held at its floor, the pipeline crashing. */
function streamAlerts(i: StatusInputs): AlertBody[] {
  const s = i.stream?.stats;
  if (!s || !i.on) return [];
  const out: AlertBody[] = [];
  if (s.picture === 'slate') {
    out.push({
      code: 'INPUT_NO_SIGNAL',
      level: 'warn',
      message: `no signal on ${i.config.input.name}: the NO SIGNAL slate is on air`,
      action: 'check the camera is on, its output format, and the cable',
    });
  }
  for (const l of s.bond?.links ?? []) {
    if (l.state === 'dead' || l.state === 'stalled' || l.state === 'registering') {
      out.push({
        code: `UPLINK_DOWN:${l.name}`,
        level: 'warn',
        message: `link ${l.name} is ${l.state === 'registering' ? 'not up yet' : 'down'}${l.why ? `: ${l.why}` : ''}`,
        action: 'check its modem, SIM and signal, or its cable',
      });
    }
  }
  const settings = i.stream?.spec.source.kind === 'encode' ? i.stream.spec.source.settings : undefined;
  if (settings?.adaptive && s.state === 'live' && s.videoBitrate <= settings.minBitrate && /congestion|capacity/.test(s.abrReason ?? '')) {
    out.push({
      code: 'BITRATE_AT_FLOOR',
      level: 'warn',
      message: `the network carries too little: the video bit rate is held at its minimum (${formatBitrate(settings.minBitrate)})`,
      action: 'add an uplink, move to better coverage, or lower video.minBitrate',
    });
  }
  // While the stream is live to one destination, the other one down is a limit, named with its own index.
  if (s.state === 'live' && s.destinations.length > 1) {
    for (const o of s.destinations) {
      if (o.connected) continue;
      const d = i.config.destinations[o.index];
      const where = d ? `${d.name} (${hostPort(d.url)})` : o.name;
      const code = o.lastError?.code ?? 'DESTINATION_DOWN';
      out.push({
        code: `DESTINATION_DOWN:${o.name}`,
        level: o.needsOperator ? 'error' : 'warn',
        message: `${where} is not connected${o.lastError ? `: ${o.lastError.message}` : ''}; calling again${o.needsOperator ? ' every 30 s' : ''}`,
        action: actionFor(code, o.index),
      });
    }
  }
  if (s.pipeline.restarts > 0 && s.pipeline.lastError && s.pipeline.pid === undefined) {
    out.push({ code: 'PIPELINE_RESTARTING', level: 'error', message: s.pipeline.lastError, action: LOOK_AT_LOGS });
  }
  return out;
}

function streamStatus(i: StatusInputs): StreamStatus {
  const s = i.stream?.stats;
  const v = i.config.video;
  const settings = i.stream?.spec.source.kind === 'encode' ? i.stream.spec.source.settings : undefined;
  return {
    desired: i.on ? 'on' : 'off',
    picture: s && s.state !== 'stopped' ? s.picture : 'none',
    input: { name: i.config.input.name, source: i.config.input.video, signal: s ? s.picture !== 'slate' : false },
    video: {
      bitrateBps: s?.videoBitrate ?? 0,
      minBps: settings?.minBitrate ?? v.minBitrate,
      maxBps: settings?.maxBitrate ?? v.maxBitrate,
      adaptive: settings?.adaptive ?? v.adaptive,
      ...(s?.abrReason ? { reason: s.abrReason } : {}),
      // The encoder that opened, once the pipeline says; until then what the config asks for (auto).
      codec: s?.codec ?? settings?.codec ?? v.codec,
      width: settings?.width ?? v.width,
      height: settings?.height ?? v.height,
      fps: settings?.fps ?? v.fps,
    },
    ...(i.stream?.audio ? { audio: { source: i.config.input.audio, ...i.stream.audio } } : {}),
    ...(i.stream?.thumbnail ? { thumbnail: i.stream.thumbnail } : {}),
    tsBitrateBps: s?.tsBitrate ?? 0,
    framesEncoded: s?.framesEncoded ?? 0,
    framesDropped: s?.framesDropped ?? 0,
    pipeline: {
      ...(s?.pipeline.pid !== undefined ? { pid: s.pipeline.pid } : {}),
      restarts: s?.pipeline.restarts ?? 0,
      ...(s?.pipeline.lastError ? { lastError: s.pipeline.lastError } : {}),
    },
    ...(s?.recording ? { recording: s.recording } : {}),
  };
}

/** Each destination's own state and figures: one down never colours the other. */
function destinationStatus(i: StatusInputs): DestinationStatus[] {
  const s = i.stream?.stats;
  return i.config.destinations.map((d, index) => {
    const o = s?.destinations[index];
    let state: DestinationStatus['state'] = 'stopped';
    if (s && o && i.on && s.state !== 'stopped' && s.state !== 'stopping') {
      if (o.needsOperator && !o.connected) state = 'failed';
      else if (o.connected) state = 'live';
      else if (o.state === 'reconnecting') state = 'reconnecting';
      else state = 'connecting';
    }
    const reason = state !== 'live' && state !== 'stopped' ? o?.lastError?.message : undefined;
    return {
      name: d.name,
      url: withoutSecrets(d.url),
      state,
      ...(reason ? { reason } : {}),
      rttMs: o?.rttMs ?? 0,
      sendBufferMs: o?.sendBufferMs ?? 0,
      sendRateBps: o?.sendRateBps ?? 0,
      lossPackets: o?.lossPackets ?? 0,
      retransPackets: o?.retransPackets ?? 0,
      dropPackets: o?.dropPackets ?? 0,
      ...(o?.connectedForS !== undefined ? { connectedForS: o.connectedForS } : {}),
    };
  });
}

function bondStatus(i: StatusInputs): BondStatus {
  const b = i.stream!.stats.bond!;
  return {
    receiver: i.stream!.spec.bond?.receiver ?? '',
    capacityBps: b.capacityBps,
    links: b.links.map((l) => ({
      name: l.name,
      state: l.state,
      ...(l.why ? { why: l.why } : {}),
      throughputBps: l.throughputBps,
      share: l.share,
      ...(l.rttMs !== undefined ? { rttMs: l.rttMs } : {}),
      loss: l.loss,
      sentPackets: l.sentPackets,
    })),
  };
}

/** Each uplink's card: what it is, with the bonded link's figures and its modem joined on. */
function uplinkStatus(uplinks: UplinkInfo[], bond: BondStatus | undefined, modems: ModemStatus[] | undefined): UplinkStatus[] {
  return uplinks.map((u) => {
    const link = bond?.links.find((l) => l.name === u.name);
    const modem = u.interface ? modems?.find((m) => m.netInterface === u.interface) : undefined;
    return { ...u, ...(link ? { link } : {}), ...(modem ? { modem } : {}) };
  });
}

/** What the operator can do about an error, by its code; `index` is the destination's place in `destinations`. */
function actionFor(code: string, index = 0): string {
  const d = `destinations.${index}`;
  switch (code) {
    case 'SRT_AUTH_FAILED':
      return `set the same passphrase on both sides: fieldcast ctl set ${d}.passphrase=…`;
    case 'SRT_ENCRYPTION_MISMATCH':
      return `the destination and this box disagree on encryption: set or remove ${d}.passphrase to match`;
    case 'SRT_CONNECT_REJECTED':
    case 'SRT_STREAMID_REJECTED':
      return `check ${d}.streamId and the passphrase with the ingest operator`;
    case 'SRT_LISTENER_BUSY':
      return 'the destination already has a sender: stop the other one, or use another port';
    case 'SRT_CONNECT_TIMEOUT':
    case 'SRT_CONNECTION_LOST':
    case 'SRT_PEER_CLOSED':
      return 'check that the destination is running and that this box has an uplink';
    case 'BOND_RECEIVER_UNREACHABLE':
      return `check the host name in ${d}.url (the bonding receiver) and the uplinks`;
    case 'BOND_LINK_UNAVAILABLE':
    case 'BOND_CONFIG_INVALID':
      return 'check the address or interface of each link in bond.links';
    default:
      return LOOK_AT_LOGS;
  }
}

function retryIn(f: ExecutorFailure, now: number): string {
  const s = Math.max(0, Math.ceil((f.retryAt - now) / 1000));
  return s <= 0 ? 'a moment' : `${s} s`;
}

function hostPort(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port}`;
  } catch {
    return url;
  }
}

/** The URL as shown: a passphrase in its query is removed. */
function withoutSecrets(url: string): string {
  try {
    const u = new URL(url);
    if (u.searchParams.has('passphrase')) u.searchParams.set('passphrase', '[redacted]');
    return u.toString();
  } catch {
    return url;
  }
}
