/**
 * What the pages say, worked out once from the snapshot for every display:
 * the state word, the figures as short strings, the line that matters most,
 * one row per uplink, the input and its sound. The layouts (pages-pixel.ts,
 * pages-text.ts) only place these. Every figure may be missing or NaN in a
 * snapshot from an older box or a hand-written file, so each reader falls
 * back to a dash rather than printing "NaN".
 */
import type { Alert, LinkStatus, OperatorState, StatusSnapshot, UplinkStatus } from '../supervisor/snapshot.js';
import { toPanelText } from './text-fit.js';

export type StateWord = 'LIVE' | 'IDLE' | 'STARTING' | 'DEGRADED' | 'NO SIGNAL' | 'ERROR';

const STATE_WORDS: Record<OperatorState, StateWord> = {
  live: 'LIVE',
  idle: 'IDLE',
  starting: 'STARTING',
  degraded: 'DEGRADED',
  'no-signal': 'NO SIGNAL',
  error: 'ERROR',
};

export function stateWord(state: OperatorState | undefined): StateWord {
  return (state && STATE_WORDS[state]) ?? 'ERROR';
}

function finite(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** "8.2M", "12M", "850k": a bit rate in four cells or so; "--" when unknown. */
export function shortRate(bps: unknown): string {
  if (!finite(bps) || bps < 0) return '--';
  if (bps >= 1e9) return `${Math.min(999, Math.round(bps / 1e9))}G`;
  if (bps >= 9.95e6) return `${Math.round(bps / 1e6)}M`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)}M`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)}k`;
  return `${Math.round(bps)}`;
}

/** "8.2 Mbit/s": for the pixel displays' main page. */
export function longRate(bps: unknown): string {
  if (!finite(bps) || bps < 0) return '-- Mbit/s';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 99.5e6 ? 0 : 1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/** The video bit rate while pictures go out; undefined when nothing is on air or the encoder does not say. */
export function videoRate(s: StatusSnapshot): number | undefined {
  const st = s.stream;
  if (!st || st.picture === 'none' || s.state === 'idle' || s.state === 'error') return undefined;
  const bps = st.picture === 'passthrough' ? st.tsBitrateBps : st.video?.bitrateBps;
  return finite(bps) ? bps : undefined;
}

export type Tone = 'good' | 'warn' | 'bad' | 'off';
export type UplinkKind = 'ETH' | 'WIFI' | 'CELL' | 'LINK';

export interface UplinkRow {
  kind: UplinkKind;
  name: string;
  /** Carried now, bit/s. */
  throughputBps?: number;
  /** 0-4 from the modem's latest reading; undefined when there is no modem or no reading. */
  bars?: number;
  /** One word: live, down, off, backup, joining, stalled, dead. */
  state: string;
  tone: Tone;
  addresses: string[];
  /** Its name, with the mobile network or why it is not carrying traffic. */
  detail: string;
}

function detailOf(name: string, operator: string | undefined, why: string | undefined): string {
  const n = toPanelText(name);
  if (why) return `${n}: ${toPanelText(why)}`;
  return operator ? `${n} ${toPanelText(operator)}` : n;
}

const KINDS: Record<UplinkStatus['kind'], UplinkKind> = { ethernet: 'ETH', wifi: 'WIFI', cellular: 'CELL', other: 'LINK' };

/** A bonded link known only by its name: the usual interface names say what it is. */
function kindFromName(name: string): UplinkKind {
  if (/^(eth|en|lan)/i.test(name)) return 'ETH';
  if (/^(wl|wifi)/i.test(name)) return 'WIFI';
  if (/^(wwan|usb|cell|lte|ppp|modem|sim)/i.test(name)) return 'CELL';
  return 'LINK';
}

const LINK_WORDS: Record<string, [string, Tone]> = {
  live: ['live', 'good'],
  'backup-idle': ['backup', 'good'],
  registering: ['joining', 'warn'],
  stalled: ['stalled', 'warn'],
  dead: ['dead', 'bad'],
};

function linkWord(link: LinkStatus | undefined): [string, Tone] {
  if (!link) return ['ready', 'off'];
  const st = typeof link.state === 'string' ? link.state : '';
  return LINK_WORDS[st] ?? [toPanelText(st).toLowerCase() || '?', 'warn'];
}

/**
 * Four bars from RSRP on LTE/NR, else from the CSQ RSSI, on the same
 * thresholds as the status page's SignalBars (3GPP TS 36.133 §9.1.4 ranges).
 */
export function signalBars(uplink: UplinkStatus): number | undefined {
  const sig = uplink.modem?.reading?.signal;
  const rsrp = sig?.extended?.cells?.find((c) => finite(c.rsrpDbm))?.rsrpDbm;
  if (finite(rsrp)) return rsrp >= -85 ? 4 : rsrp >= -95 ? 3 : rsrp >= -105 ? 2 : rsrp >= -115 ? 1 : 0;
  const rssi = sig?.csq?.rssiDbm;
  if (finite(rssi)) return rssi >= -73 ? 4 : rssi >= -83 ? 3 : rssi >= -93 ? 2 : rssi >= -103 ? 1 : 0;
  return undefined;
}

function isObject<T>(v: T | null | undefined): v is T {
  return typeof v === 'object' && v !== null;
}

/** One row per uplink: from snapshot.uplinks when the box lists them, else from the bond's links. */
export function uplinkRows(s: StatusSnapshot): UplinkRow[] {
  const uplinks = Array.isArray(s.uplinks) ? s.uplinks.filter(isObject) : [];
  if (uplinks.length > 0)
    return uplinks.map((u) => {
      const [word, tone] = !u.enabled ? (['off', 'off'] as const) : !u.up ? (['down', 'bad'] as const) : linkWord(u.link);
      const bars = u.kind === 'cellular' || u.modem ? signalBars(u) : undefined;
      return {
        kind: KINDS[u.kind] ?? 'LINK',
        name: toPanelText(u.name),
        ...(finite(u.link?.throughputBps) ? { throughputBps: u.link.throughputBps } : {}),
        ...(bars !== undefined ? { bars } : {}),
        state: word,
        tone,
        addresses: Array.isArray(u.addresses) ? u.addresses.map(toPanelText) : [],
        detail: detailOf(
          u.name,
          u.modem?.reading?.operator?.name,
          tone === 'good' ? undefined : (u.link?.why ?? (u.up ? undefined : 'no connection')),
        ),
      };
    });
  const links = Array.isArray(s.bond?.links) ? s.bond.links.filter(isObject) : [];
  return links.map((l) => {
    const [word, tone] = linkWord(l);
    return {
      kind: kindFromName(String(l.name)),
      name: toPanelText(l.name),
      ...(finite(l.throughputBps) ? { throughputBps: l.throughputBps } : {}),
      state: word,
      tone,
      addresses: [],
      detail: detailOf(String(l.name), undefined, tone === 'good' ? undefined : l.why),
    };
  });
}

/** Links carrying or ready to carry the stream, of all there are; undefined without any. */
export function linksUp(rows: readonly UplinkRow[]): { up: number; total: number } | undefined {
  if (rows.length === 0) return undefined;
  return { up: rows.filter((r) => r.tone === 'good').length, total: rows.length };
}

export interface Headline {
  /** The most important alert's message, or the state's reason. */
  text: string;
  /** What to do about it, when there is something. */
  action?: string;
  level: Alert['level'];
}

/** The line that matters most: the first alert (they come most important first), else the reason. */
export function headline(s: StatusSnapshot): Headline {
  const first: unknown = Array.isArray(s.alerts) ? s.alerts[0] : undefined;
  const a = isObject(first) ? (first as Alert) : undefined;
  if (a) {
    const action = a.action ?? s.action;
    return { text: toPanelText(a.message), ...(action ? { action: toPanelText(action) } : {}), level: a.level ?? 'warn' };
  }
  const level = s.state === 'error' ? 'error' : s.state === 'degraded' || s.state === 'no-signal' ? 'warn' : 'info';
  return { text: toPanelText(s.reason), ...(s.action ? { action: toPanelText(s.action) } : {}), level };
}

export interface AudioChannel {
  label: string;
  /** Peak dBFS; NaN when the channel's figure is missing. */
  peakDbfs: number;
}

export interface InputFacts {
  name: string;
  signal: boolean;
  /** "1920x1080 @ 50", when the encoder says. */
  format?: string;
  /** Absent when the stream carries no measured sound (passthrough, an older box). */
  audio?: AudioChannel[];
}

function fpsText(fps: unknown): string | undefined {
  if (typeof fps === 'number' && Number.isFinite(fps)) return String(Math.round(fps * 100) / 100);
  if (typeof fps !== 'string' || fps === '') return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(fps);
  if (m) return String(Math.round((Number(m[1]) / Number(m[2])) * 100) / 100);
  return toPanelText(fps);
}

/** The bottom of the meter: quieter than this shows as an empty bar. */
export const METER_FLOOR_DBFS = -60;

/** "-12", "-3", "0"; "-inf" for silence (-100 dBFS or below), "--" when unknown. */
export function dbText(db: number): string {
  if (!Number.isFinite(db)) return '--';
  if (db <= -99.5) return '-inf';
  return String(Math.min(0, Math.round(db)));
}

/** How much of a meter a peak fills, from METER_FLOOR_DBFS (empty) to 0 dBFS (full). */
export function meterFraction(db: number): number {
  if (!Number.isFinite(db)) return 0;
  return Math.min(1, Math.max(0, (db - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS));
}

export function inputFacts(s: StatusSnapshot): InputFacts {
  const st = s.stream;
  const v = st?.video;
  const w = v?.width;
  const h = v?.height;
  const fps = fpsText(v?.fps);
  const format = finite(w) && finite(h) && w > 0 && h > 0 ? `${w}x${h}${fps ? ` @ ${fps}` : ''}` : undefined;
  const peaks = st?.audio?.peakDbfs;
  const audio = Array.isArray(peaks)
    ? peaks.map((p, i) => ({
        label: peaks.length === 2 ? (i === 0 ? 'L' : 'R') : String(i + 1),
        peakDbfs: finite(p) ? p : Number.NaN,
      }))
    : undefined;
  return {
    name: toPanelText(st?.input?.name ?? ''),
    signal: st?.input?.signal === true,
    ...(format ? { format } : {}),
    ...(audio ? { audio } : {}),
  };
}

/** "192.168.1.20" from "http://192.168.1.20/", "192.168.1.20:8080" with a port; for cramped lines. */
export function hostOf(url: string): string {
  return toPanelText(url)
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/$/, '');
}

/** Addresses to show: IPv4 first, then IPv6 other than link-local. */
export function shownAddresses(addresses: readonly string[]): string[] {
  const v4 = addresses.filter((a) => /^\d+\.\d+\.\d+\.\d+/.test(a));
  const v6 = addresses.filter((a) => a.includes(':') && !/^fe80:/i.test(a));
  return [...v4, ...v6];
}
