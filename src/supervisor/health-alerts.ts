/**
 * The health thresholds and the rules that turn a sample's readings into
 * alerts in plain words. Pure: the monitor owns which alerts are raised and
 * since when; a rule only says, given that, what this sample means. Each
 * rule has a raise line and a lower clear line (hysteresis), so a value
 * hovering at the line does not flap.
 */
import type { DiskReading, MemoryReading, ThermalReading, ThrottledReading, ThrottleReason } from './health-sources.js';
import type { Alert } from './snapshot.js';

export const HEALTH_THRESHOLDS = {
  /**
   * Raspberry Pi 4 and 5 firmware starts capping the ARM clock at 80 °C (and
   * throttles hard at 85 °C); other ARM boards' first passive trip points lie
   * between 70 and 85 °C. Clear 5 °C lower.
   */
  HOT_RAISE_C: 80,
  HOT_CLEAR_C: 75,
  /** Above 90% of all cores the encoder and muxer start missing frame deadlines. */
  CPU_RAISE: 0.9,
  CPU_CLEAR: 0.8,
  /** MemAvailable under 10% of the total: the kernel is about to reclaim hard, then kill. */
  MEMORY_RAISE: 0.1,
  MEMORY_CLEAR: 0.15,
  /**
   * About 7 minutes of a 10 Mbit/s recording, or 10% of a small state
   * partition, whichever is less (so a 1 GB partition is not always "full").
   */
  DISK_RAISE_BYTES: 512 * 1024 * 1024,
  DISK_RAISE_FRACTION: 0.1,
  /** Clears once there is half as much again as the raise line. */
  DISK_CLEAR_FACTOR: 1.5,
  /** A stall this long shows on the status page and the buttons, and the watchdog is petted from this loop. */
  EVENT_LOOP_RAISE_MS: 200,
  EVENT_LOOP_CLEAR_MS: 100,
  /** Under-voltage on a marginal supply flickers with each modem burst: clear only after this long without it. */
  THROTTLED_CLEAR_MS: 30_000,
} as const;

/** In order of importance (the snapshot lists alerts by level, then in this order). */
export const HEALTH_ALERT_CODES = [
  'HEALTH_THROTTLED',
  'HEALTH_HOT',
  'HEALTH_CPU',
  'HEALTH_MEMORY_LOW',
  'HEALTH_DISK_LOW',
  'HEALTH_EVENT_LOOP',
  'HEALTH_THROTTLED_EARLIER',
] as const;
export type HealthAlertCode = (typeof HEALTH_ALERT_CODES)[number];

export type AlertBody = Pick<Alert, 'level' | 'message' | 'action'>;
/** What a rule says of this sample: raise (or update) the alert, clear it, or leave it as it is (no reading). */
export type Verdict = AlertBody | 'clear' | 'keep';

/** One sample's readings; undefined where the source is absent or failed this time. */
export interface HealthFacts {
  cpuLoad?: number;
  temperature?: ThermalReading;
  throttled?: ThrottledReading;
  memory?: MemoryReading;
  disk?: DiskReading;
  /** Only while the monitor runs (the lag is measured between samples). */
  lagMs?: number;
}

export interface RuleContext {
  raised(code: HealthAlertCode): boolean;
  /** How long the board has reported no throttling (Infinity when it never has). */
  msSinceThrottled: number;
}

export interface Judgement {
  code: HealthAlertCode;
  verdict: Verdict;
  /** Structured facts for the log line. */
  fields?: Record<string, unknown>;
}

const mb = (bytes: number): number => Math.round(bytes / 1e6);

/** Throttling with under-voltage is the power supply; without it, heat. */
const powerOrHeat = (reasons: ThrottleReason[]): string =>
  reasons.includes('under-voltage') ? 'use the supplied power adapter and cable' : 'give it air or shade';

/** `value` is over the line: the raise line, or the lower clear line while raised. */
function over(value: number, raiseAt: number, clearBelow: number, raised: boolean): boolean {
  return value >= (raised ? clearBelow : raiseAt);
}

/** `value` is under the line: the raise line, or the higher clear line while raised. */
function under(value: number, raiseBelow: number, clearAt: number, raised: boolean): boolean {
  return value < (raised ? clearAt : raiseBelow);
}

/** Every rule's verdict, in HEALTH_ALERT_CODES order except that HEALTH_THROTTLED_EARLIER follows HEALTH_THROTTLED. */
export function judgeHealth(f: HealthFacts, ctx: RuleContext): Judgement[] {
  const T = HEALTH_THRESHOLDS;
  const out: Judgement[] = [];

  const t = f.throttled;
  let throttled: Verdict = 'keep';
  if (t && t.now.length > 0) {
    throttled = {
      level: t.now.includes('under-voltage') ? 'error' : 'warn',
      message: `the board is throttling: ${t.now.join(', ')}`,
      action: powerOrHeat(t.now),
    };
  } else if (t && !(ctx.raised('HEALTH_THROTTLED') && ctx.msSinceThrottled < T.THROTTLED_CLEAR_MS)) {
    throttled = 'clear';
  }
  out.push({ code: 'HEALTH_THROTTLED', verdict: throttled, fields: t && { raw: `0x${t.raw.toString(16)}` } });

  // The sticky "has occurred" bits: worth a word when it is not throttling now (a flaky supply between takes).
  const earlier = t ? t.occurred.filter((r) => !t.now.includes(r)) : [];
  const throttlingNow = throttled !== 'clear' && (throttled !== 'keep' || ctx.raised('HEALTH_THROTTLED'));
  out.push({
    code: 'HEALTH_THROTTLED_EARLIER',
    verdict: !t
      ? 'keep'
      : earlier.length > 0 && !throttlingNow
        ? { level: 'info', message: `the board has throttled since it started: ${earlier.join(', ')}`, action: powerOrHeat(earlier) }
        : 'clear',
  });

  const temp = f.temperature;
  out.push({
    code: 'HEALTH_HOT',
    verdict: !temp
      ? 'keep'
      : over(temp.celsius, T.HOT_RAISE_C, T.HOT_CLEAR_C, ctx.raised('HEALTH_HOT'))
        ? { level: 'warn', message: `the box is hot (${Math.round(temp.celsius)} °C) and may slow down`, action: 'give it air or shade' }
        : 'clear',
    fields: temp && { zone: temp.zone, type: temp.type, celsius: temp.celsius },
  });

  const load = f.cpuLoad;
  out.push({
    code: 'HEALTH_CPU',
    verdict:
      load === undefined
        ? 'keep'
        : over(load, T.CPU_RAISE, T.CPU_CLEAR, ctx.raised('HEALTH_CPU'))
          ? {
              level: 'warn',
              message: `the processor is at ${Math.round(load * 100)}%: the picture may stutter`,
              action: 'lower the resolution or frame rate',
            }
          : 'clear',
  });

  const m = f.memory;
  out.push({
    code: 'HEALTH_MEMORY_LOW',
    verdict:
      !m || m.totalBytes <= 0
        ? 'keep'
        : under(m.availableBytes / m.totalBytes, T.MEMORY_RAISE, T.MEMORY_CLEAR, ctx.raised('HEALTH_MEMORY_LOW'))
          ? {
              level: 'warn',
              message: `the memory is nearly full (${mb(m.availableBytes)} MB free): the stream may stop`,
              action: 'restart the box when you can; if it happens again, report it',
            }
          : 'clear',
  });

  const d = f.disk;
  const line = d ? Math.min(T.DISK_RAISE_BYTES, T.DISK_RAISE_FRACTION * d.totalBytes) : 0;
  out.push({
    code: 'HEALTH_DISK_LOW',
    verdict: !d
      ? 'keep'
      : under(d.freeBytes, line, line * T.DISK_CLEAR_FACTOR, ctx.raised('HEALTH_DISK_LOW'))
        ? {
            level: 'warn',
            message: `the storage is nearly full (${mb(d.freeBytes)} MB free): recordings and the event log will stop`,
            action: 'delete old recordings, or fit a bigger card',
          }
        : 'clear',
  });

  const lag = f.lagMs;
  out.push({
    code: 'HEALTH_EVENT_LOOP',
    verdict:
      lag === undefined
        ? 'keep'
        : over(lag, T.EVENT_LOOP_RAISE_MS, T.EVENT_LOOP_CLEAR_MS, ctx.raised('HEALTH_EVENT_LOOP'))
          ? {
              level: 'warn',
              message: `the box is slow to respond (${Math.round(lag)} ms): the page and buttons may lag`,
              action: 'lower the resolution or frame rate; restart the box if it stays slow',
            }
          : 'clear',
  });
  return out;
}

const LEVEL_ORDER: Record<Alert['level'], number> = { error: 0, warn: 1, info: 2 };
const rank = (code: string): number => HEALTH_ALERT_CODES.indexOf(code as HealthAlertCode);

/** The most important first: by level, then in HEALTH_ALERT_CODES order. */
export function orderAlerts(alerts: Iterable<Alert>): Alert[] {
  return [...alerts].sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || rank(a.code) - rank(b.code));
}
