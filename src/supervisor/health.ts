/**
 * The health monitor: processor load, temperature, the board's throttling
 * flags, memory, free space of the state directory and the supervisor's own
 * event-loop lag, sampled every few seconds; the thresholds in
 * health-alerts.ts turn them into alerts in plain words ("the box is hot
 * (82 °C) and may slow down" / "give it air or shade").
 *
 * It owns the HealthSnapshot part of the status snapshot and which health
 * alerts are raised since when. A sample is a few file reads and one statfs
 * (1–2 ms of CPU); every read is async, and samples never overlap. A
 * source that breaks is logged once at debug and keeps its last good figure
 * and its alert as they were: a broken sensor neither raises nor clears
 * anything, and nothing throws out of here.
 */
import { InvalidInputError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { type HealthAlertCode, type HealthFacts, judgeHealth, orderAlerts } from './health-alerts.js';
import {
  type CpuTimes,
  cpuLoadBetween,
  defaultStatfs,
  eventLoopLagMeter,
  findThrottledSource,
  HealthSourceError,
  type LoopLagMeter,
  readCpuTimes,
  readDisk,
  readHottestZone,
  readMemory,
  readThrottled,
  type StatFs,
  type ThrottledVia,
  type ThrottleReason,
} from './health-sources.js';
import type { Alert, HealthSnapshot } from './snapshot.js';

export { HEALTH_ALERT_CODES, HEALTH_THRESHOLDS, type HealthAlertCode } from './health-alerts.js';
export { HealthSourceError, type LoopLagMeter, type StatFs } from './health-sources.js';

const log = createLogger('supervisor.health');

/** 5 s keeps the monitor far under 1% of a core; the CPU figure is the average over it. */
export const DEFAULT_INTERVAL_MS = 5000;
/** Sampling faster costs more than it tells. */
export const MIN_INTERVAL_MS = 1000;
/**
 * /proc/stat counts in 1/100 s per core: a sample asked for moments after the
 * last one would report the noise of a few ticks (0% or 100%), so the load is
 * only recomputed over at least 2 core-seconds.
 */
const MIN_CPU_TICKS = 200;

export type HealthAlertChange = 'raised' | 'cleared';

export type HealthMonitorEvents = {
  /** An alert was raised, or cleared (with the alert as it last stood). */
  alert: [change: HealthAlertChange, alert: Alert];
  /** A sample was taken. */
  sample: [HealthSnapshot];
};

export interface HealthMonitorOptions {
  /** The state directory: its file system's free space is watched. */
  stateDir: string;
  /** Default /sys. */
  sysRoot?: string;
  /** Default /proc. */
  procRoot?: string;
  /** Path of vcgencmd; default the first of /usr/bin/vcgencmd, /opt/vc/bin/vcgencmd that exists; false: never run it. */
  vcgencmd?: string | false;
  /** Wall clock, ms since the epoch (alerts' `since`, the throttling hold). */
  now?: () => number;
  /** Default 5000 ms; at least 1000. */
  intervalMs?: number;
  /** Default: perf_hooks.monitorEventLoopDelay, enabled between start() and stop(). */
  loopLag?: LoopLagMeter;
  /** Default fs.promises.statfs. */
  statfs?: StatFs;
  /** The thermal zone types that tell this board's temperature (its board profile); none or absent: every zone. */
  thermalZones?: readonly string[];
}

/** The raw facts behind the snapshot, for logs and diagnostics. */
export interface HealthReadings {
  /** The hottest thermal zone and its type (`thermal_zone0`, `cpu-thermal`). */
  temperatureZone?: string;
  temperatureZoneType?: string;
  /** Where the throttling flags come from, and the firmware's word (Raspberry Pi). */
  throttledVia?: ThrottledVia['kind'];
  throttledRaw?: number;
  /** Throttling seen since boot. */
  throttledOccurred: ThrottleReason[];
}

/** The health before the first sample: nothing measured, nothing alarming. */
export const EMPTY_HEALTH: HealthSnapshot = {
  cpuLoad: 0,
  throttled: [],
  memoryUsedBytes: 0,
  memoryTotalBytes: 0,
  diskFreeBytes: 0,
  diskTotalBytes: 0,
  eventLoopLagMs: 0,
  alerts: [],
};

export class HealthMonitor extends TypedEmitter<HealthMonitorEvents> {
  private readonly sysRoot: string;
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly loopLag: LoopLagMeter;
  private readonly statfs: StatFs;
  private running = false;
  /** Counts start() calls, so a tick left from before a stop() and start() does not schedule a second chain. */
  private run = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<HealthSnapshot> | undefined;
  private last: HealthSnapshot = EMPTY_HEALTH;
  private lastReadings: HealthReadings = { throttledOccurred: [] };
  private cpuBefore: CpuTimes | undefined;
  private throttledVia: Promise<ThrottledVia | undefined> | undefined;
  private lastThrottledAt: number | undefined;
  private readonly active = new Map<HealthAlertCode, Alert>();
  /** Sources failing now, each logged once when it broke. */
  private readonly broken = new Set<string>();
  /** Sources this board does not have, each logged once. */
  private readonly absent = new Set<string>();

  constructor(private readonly opts: HealthMonitorOptions) {
    super();
    if (typeof opts.stateDir !== 'string' || opts.stateDir === '') {
      throw new InvalidInputError('the health monitor needs the state directory', { stateDir: opts.stateDir });
    }
    const interval = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < MIN_INTERVAL_MS) {
      throw new InvalidInputError(`the health sample interval must be at least ${MIN_INTERVAL_MS} ms`, { intervalMs: interval });
    }
    this.intervalMs = interval;
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.procRoot = opts.procRoot ?? '/proc';
    this.now = opts.now ?? Date.now;
    this.loopLag = opts.loopLag ?? eventLoopLagMeter();
    this.statfs = opts.statfs ?? defaultStatfs;
  }

  /** Samples now, then every interval, until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopLag.start();
    void this.tick(++this.run);
  }

  /** Idempotent; a sample in flight finishes but schedules no other. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.loopLag.stop();
  }

  /** The last sample (all zero before the first); never blocks. */
  snapshot(): HealthSnapshot {
    return this.last;
  }

  readings(): HealthReadings {
    return this.lastReadings;
  }

  /**
   * Takes a sample now, or joins the one in flight; never rejects. The CPU
   * load is the average since the previous sample (at least 2 core-seconds
   * back), so the first reports 0 and raises nothing; the event-loop lag is
   * measured only between start() and stop().
   */
  sample(): Promise<HealthSnapshot> {
    this.inflight ??= this.takeSample().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async tick(run: number): Promise<void> {
    await this.sample();
    if (!this.running || run !== this.run) return;
    this.timer = setTimeout(() => void this.tick(run), this.intervalMs);
    // The supervisor stays up for its own reasons; the monitor alone must not hold the process.
    this.timer.unref();
  }

  private async takeSample(): Promise<HealthSnapshot> {
    try {
      this.apply(await this.read());
    } catch (err) {
      // Readers report their own failures: this is a bug, and it must not stop the monitor.
      log.error('health sample failed', { err });
    }
    return this.last;
  }

  private async read(): Promise<HealthFacts> {
    this.throttledVia ??= findThrottledSource(this.sysRoot, this.opts.vcgencmd);
    const [cpu, zones, throttled, memory, disk] = await Promise.all([
      this.guard('cpu', () => readCpuTimes(this.procRoot)),
      this.guard('temperature', () => readHottestZone(this.sysRoot, this.opts.thermalZones)),
      this.guard('throttled', async () => {
        const via = await this.throttledVia;
        return via ? { via, reading: await readThrottled(via) } : null;
      }),
      this.guard('memory', () => readMemory(this.procRoot)),
      this.guard('disk', () => readDisk(this.opts.stateDir, this.statfs)),
    ]);
    const facts: HealthFacts = { memory, disk };
    if (this.running) facts.lagMs = this.loopLag.takeP99Ms();
    if (cpu) {
      if (!this.cpuBefore) this.cpuBefore = cpu;
      else if (cpu.total - this.cpuBefore.total >= MIN_CPU_TICKS) {
        facts.cpuLoad = cpuLoadBetween(this.cpuBefore, cpu);
        this.cpuBefore = cpu;
      }
    }
    if (zones) {
      for (const f of zones.failures) this.fail(`temperature:${f.zone}`, f.error);
      for (const z of zones.readable) this.recover(`temperature:${z}`);
      facts.temperature = zones.hottest;
      if (zones.readable.length === 0 && zones.failures.length === 0) this.noteAbsent('temperature', 'no thermal zone');
    }
    if (throttled) facts.throttled = throttled.reading;
    else if (throttled === null) this.noteAbsent('throttled', 'no throttling flags on this board');
    const prev = this.lastReadings;
    this.lastReadings = {
      temperatureZone: facts.temperature?.zone ?? prev.temperatureZone,
      temperatureZoneType: facts.temperature?.type ?? prev.temperatureZoneType,
      throttledVia: throttled ? throttled.via.kind : prev.throttledVia,
      throttledRaw: facts.throttled?.raw ?? prev.throttledRaw,
      throttledOccurred: facts.throttled?.occurred ?? prev.throttledOccurred,
    };
    return facts;
  }

  /** Runs one reader; a failure is logged once and yields no reading. */
  private async guard<T>(source: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await fn();
      this.recover(source);
      return value;
    } catch (err) {
      this.fail(source, err);
      return undefined;
    }
  }

  private fail(source: string, err: unknown): void {
    if (this.broken.has(source)) return;
    this.broken.add(source);
    const message = err instanceof HealthSourceError ? err.message : String(err);
    log.debug('health source failed', { source, err: message });
  }

  private recover(source: string): void {
    if (this.broken.delete(source)) log.debug('health source works again', { source });
  }

  private noteAbsent(source: string, message: string): void {
    if (this.absent.has(source)) return;
    this.absent.add(source);
    log.debug(`${message}: not shown`, { source });
  }

  /** Raises, updates and clears alerts from this sample's facts, then publishes the snapshot. */
  private apply(f: HealthFacts): void {
    const now = this.now();
    if (f.throttled && f.throttled.now.length > 0) this.lastThrottledAt = now;
    const judgements = judgeHealth(f, {
      raised: (code) => this.active.has(code),
      msSinceThrottled: this.lastThrottledAt === undefined ? Number.POSITIVE_INFINITY : now - this.lastThrottledAt,
    });
    const changes: Array<[HealthAlertChange, Alert]> = [];
    for (const { code, verdict, fields } of judgements) {
      const cur = this.active.get(code);
      if (verdict === 'keep') continue;
      if (verdict === 'clear') {
        if (!cur) continue;
        this.active.delete(code);
        changes.push(['cleared', cur]);
        log.info('health alert cleared', { code, ...fields });
        continue;
      }
      // A raised alert keeps its `since`; its figure and words follow the readings.
      const alert: Alert = { code, level: verdict.level, message: verdict.message, since: cur?.since ?? new Date(now).toISOString() };
      if (verdict.action !== undefined) alert.action = verdict.action;
      this.active.set(code, alert);
      if (cur) continue;
      changes.push(['raised', alert]);
      const logFields = { code, message: alert.message, ...fields };
      if (alert.level === 'info') log.info('health alert raised', logFields);
      else log.warn('health alert raised', logFields);
    }

    const prev = this.last;
    const m = f.memory;
    const snap: HealthSnapshot = {
      cpuLoad: f.cpuLoad ?? prev.cpuLoad,
      throttled: f.throttled ? [...f.throttled.now] : prev.throttled,
      memoryUsedBytes: m ? m.totalBytes - m.availableBytes : prev.memoryUsedBytes,
      memoryTotalBytes: m ? m.totalBytes : prev.memoryTotalBytes,
      diskFreeBytes: f.disk ? f.disk.freeBytes : prev.diskFreeBytes,
      diskTotalBytes: f.disk ? f.disk.totalBytes : prev.diskTotalBytes,
      eventLoopLagMs: f.lagMs === undefined ? prev.eventLoopLagMs : Math.round(f.lagMs * 10) / 10,
      alerts: orderAlerts(this.active.values()),
    };
    const celsius = f.temperature?.celsius ?? prev.temperatureC;
    if (celsius !== undefined) snap.temperatureC = Math.round(celsius * 10) / 10;
    this.last = snap;
    // After the snapshot, so a listener reading it sees the state that goes with the change.
    for (const [change, alert] of changes) this.emit('alert', change, alert);
    this.emit('sample', snap);
  }
}
