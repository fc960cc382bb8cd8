/** Figures as an operator reads them on a phone: short, with their unit. */
import type { OperatorState } from './types.ts';

/** The operator state as the page writes it, large. */
export const STATE_WORDS: Record<OperatorState, string> = {
  live: 'LIVE',
  idle: 'IDLE',
  degraded: 'DEGRADED',
  'no-signal': 'NO SIGNAL',
  error: 'ERROR',
  starting: 'STARTING',
};

export function bitrate(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps)) return '—';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}

/** A bit rate as the settings fields take it back: 2M, 2.5M, 800k, or the number. */
export function bitrateSetting(bps: number | undefined): string {
  if (bps === undefined) return '';
  if (bps % 1e5 === 0 && bps >= 1e6) return `${bps / 1e6}M`;
  if (bps % 1e3 === 0) return `${bps / 1e3}k`;
  return String(bps);
}

export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} TB`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

export function ms(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : `${Math.round(v)} ms`;
}

/** A 0..1 share as a percentage. */
export function percent(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)}%`;
}

/** Seconds as "3 d 4 h", "2 h 05 min", "4 min 12 s", "12 s". */
export function duration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '—';
  const t = Math.max(0, Math.floor(s));
  const d = Math.floor(t / 86400);
  const h = Math.floor((t % 86400) / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

/** dBFS as a meter's figure; -100 is what the audio path reports for silence. */
export function dbfs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v) || v <= -99) return 'silence';
  return `${v.toFixed(1)} dBFS`;
}

/** An ISO time as the wall clock of this phone (hh:mm:ss). */
export function clock(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** An ISO time as date and clock, for the event log. */
export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${d.toLocaleTimeString([], { hour12: false })}`;
}
