import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LogRecord, setLogLevel, setLogSink } from '../../../src/lib/logger.js';
import {
  HEALTH_THRESHOLDS,
  HealthMonitor,
  type HealthMonitorOptions,
  type LoopLagMeter,
  type StatFs,
} from '../../../src/supervisor/health.js';
import {
  cpuLoadBetween,
  describeThrottled,
  parseMeminfo,
  parseProcStat,
  parseThrottled,
  parseZoneTemp,
  readDisk,
  THROTTLED_SYSFS,
} from '../../../src/supervisor/health-sources.js';
import type { Alert } from '../../../src/supervisor/snapshot.js';

const DATA = fileURLToPath(new URL('../../data/health/', import.meta.url));
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const T0 = Date.parse('2025-06-01T10:00:00.000Z');

let work: string;
let logs: LogRecord[];
let clock: number;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fieldcast-health-'));
  logs = [];
  setLogSink((r) => logs.push(r));
  setLogLevel('warn,supervisor.health=debug');
  clock = T0;
});

afterEach(async () => {
  setLogSink(undefined);
  setLogLevel('info');
  await rm(work, { recursive: true, force: true });
});

/** A writable copy of a fake board under test/data/health. */
async function board(name: 'pi4' | 'x86'): Promise<{ sys: string; proc: string }> {
  const root = join(work, name);
  await cp(join(DATA, name), root, { recursive: true });
  return { sys: join(root, 'sys'), proc: join(root, 'proc') };
}

/** A file system of `total` bytes with `free` left, as statfs(2) would put it. */
function fakeDisk(disk: { total: number; free: number }): StatFs {
  return async () => ({ bsize: 4096, blocks: Math.floor(disk.total / 4096), bavail: Math.floor(disk.free / 4096) });
}

function fakeLag(lag: { ms: number }): LoopLagMeter & { starts: number; stops: number } {
  const m = {
    starts: 0,
    stops: 0,
    start: () => void m.starts++,
    stop: () => void m.stops++,
    takeP99Ms: () => lag.ms,
  };
  return m;
}

/** A monitor on a fake board: no vcgencmd, a roomy disk, the test's clock; anything overridable. */
function monitor(dirs: { sys: string; proc: string }, extra: Partial<HealthMonitorOptions> = {}): HealthMonitor {
  return new HealthMonitor({
    stateDir: join(work, 'state'),
    sysRoot: dirs.sys,
    procRoot: dirs.proc,
    vcgencmd: false,
    now: () => clock,
    statfs: fakeDisk({ total: 32 * GiB, free: 20 * GiB }),
    intervalMs: 3_600_000,
    ...extra,
  });
}

/** /proc/stat whose aggregate line has `busy` and `idle` ticks so far. */
async function writeStat(proc: string, busy: number, idle: number): Promise<void> {
  await writeFile(join(proc, 'stat'), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
}

async function writeZone(sys: string, zone: string, celsius: number): Promise<void> {
  await writeFile(join(sys, 'class/thermal', zone, 'temp'), `${Math.round(celsius * 1000)}\n`);
}

function codes(alerts: Alert[]): string[] {
  return alerts.map((a) => a.code);
}

function debugOf(source: string): LogRecord[] {
  return logs.filter((r) => r.level === 'debug' && r.message === 'health source failed' && r.fields['source'] === source);
}

describe('health sources: parsing', () => {
  it('reads the aggregate cpu line, leaving guest time out (already in user) and counting iowait as idle', async () => {
    const pi = parseProcStat(await readFile(join(DATA, 'pi4/proc/stat'), 'latin1'));
    // user nice system irq softirq steal | idle iowait
    expect(pi).toEqual({ busy: 1013215 + 29069 + 308471 + 25195, total: 1013215 + 29069 + 308471 + 25195 + 46828483 + 16683 });
    const x86 = parseProcStat(await readFile(join(DATA, 'x86/proc/stat'), 'latin1'));
    expect(x86?.busy).toBe(2255340 + 3412 + 229045 + 4560);
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
    expect(cpuLoadBetween({ busy: 100, total: 1000 }, { busy: 190, total: 1100 })).toBeCloseTo(0.9);
    expect(cpuLoadBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBe(0);
  });

  it('takes MemAvailable from /proc/meminfo, and free plus cache on kernels without it', async () => {
    expect(parseMeminfo(await readFile(join(DATA, 'pi4/proc/meminfo'), 'latin1'))).toEqual({
      totalBytes: 3884360 * 1024,
      availableBytes: 3424900 * 1024,
    });
    expect(parseMeminfo(await readFile(join(DATA, 'proc-samples/meminfo-3.10'), 'latin1'))).toEqual({
      totalBytes: 1017800 * 1024,
      availableBytes: (611420 + 40116 + 190208) * 1024,
    });
    expect(parseMeminfo('garbage\n')).toBeUndefined();
  });

  it('reads zone temperatures in millidegrees and refuses a sensor sentinel', () => {
    expect(parseZoneTemp('54530\n')).toBeCloseTo(54.53);
    expect(parseZoneTemp('-5000')).toBe(-5);
    expect(parseZoneTemp('4294967295')).toBeUndefined();
    expect(parseZoneTemp('')).toBeUndefined();
  });

  it('decodes the Pi throttled word from vcgencmd and from the sysfs file', () => {
    expect(parseThrottled('throttled=0x50005\n')).toBe(0x50005);
    expect(parseThrottled('50005\n')).toBe(0x50005);
    expect(parseThrottled('throttled=0x0')).toBe(0);
    expect(parseThrottled('VCHI initialization failed')).toBeUndefined();
    expect(describeThrottled(0x50005)).toEqual({
      raw: 0x50005,
      now: ['under-voltage', 'throttled'],
      occurred: ['under-voltage', 'throttled'],
    });
    expect(describeThrottled(0x80008)).toMatchObject({ now: ['soft temperature limit'], occurred: ['soft temperature limit'] });
    expect(describeThrottled(0xf0000)).toMatchObject({
      now: [],
      occurred: ['under-voltage', 'frequency capped', 'throttled', 'soft temperature limit'],
    });
  });

  it('measures the file system of a state directory not created yet on its nearest parent', async () => {
    const here = await readDisk(work);
    const later = await readDisk(join(work, 'not', 'yet'));
    expect(later.totalBytes).toBe(here.totalBytes);
    expect(here.totalBytes).toBeGreaterThan(0);
  });
});

describe('HealthMonitor on fake boards', () => {
  it('Pi 4: its one thermal zone, the firmware throttled file (not vcgencmd), memory and disk', async () => {
    const dirs = await board('pi4');
    const m = monitor(dirs, { vcgencmd: join(DATA, 'bin/vcgencmd-broken') });
    const s = await m.sample();
    expect(s.temperatureC).toBe(54.5);
    expect(m.readings()).toMatchObject({ temperatureZone: 'thermal_zone0', temperatureZoneType: 'cpu-thermal', throttledVia: 'sysfs' });
    expect(s.throttled).toEqual(['under-voltage', 'throttled']);
    expect(s.memoryTotalBytes).toBe(3884360 * 1024);
    expect(s.memoryUsedBytes).toBe((3884360 - 3424900) * 1024);
    expect(s.diskTotalBytes).toBe(32 * GiB);
    expect(s.diskFreeBytes).toBe(20 * GiB);
    expect(s.cpuLoad).toBe(0);
    expect(s.alerts).toEqual([
      {
        code: 'HEALTH_THROTTLED',
        level: 'error',
        message: 'the board is throttling: under-voltage, throttled',
        action: 'use the supplied power adapter and cable',
        since: new Date(T0).toISOString(),
      },
    ]);
  });

  it('x86 with several zones: the hottest one; a zone that does not answer is skipped and logged once', async () => {
    const dirs = await board('x86');
    // A Wi-Fi zone with its interface down fails to read (ENODATA on a real box); a directory fails the same way here.
    await rm(join(dirs.sys, 'class/thermal/thermal_zone5/temp'));
    await mkdir(join(dirs.sys, 'class/thermal/thermal_zone5/temp'));
    const m = monitor(dirs);
    for (let i = 0; i < 3; i++) {
      const s = await m.sample();
      expect(s.temperatureC).toBe(63);
    }
    expect(m.readings()).toMatchObject({ temperatureZone: 'thermal_zone4', temperatureZoneType: 'x86_pkg_temp' });
    expect(debugOf('temperature:thermal_zone5')).toHaveLength(1);
    // No Pi here: no flags, no throttling alert.
    expect(m.snapshot().throttled).toEqual([]);
    expect(m.readings().throttledVia).toBeUndefined();
  });

  it('no thermal zone at all: no temperature, no alert, nothing thrown', async () => {
    const dirs = await board('x86');
    await rm(join(dirs.sys, 'class/thermal'), { recursive: true });
    const none = await monitor(dirs).sample();
    expect(none.temperatureC).toBeUndefined();
    expect(none.alerts).toEqual([]);
    await mkdir(join(dirs.sys, 'class/thermal'));
    const empty = await monitor(dirs).sample();
    expect(empty.temperatureC).toBeUndefined();
    expect(empty.alerts).toEqual([]);
    expect(logs.filter((r) => r.message === 'health source failed')).toEqual([]);
  });
});

describe('HealthMonitor thresholds', () => {
  it('HEALTH_HOT raises at 80 °C, keeps its since while above 75 °C, clears below', async () => {
    const dirs = await board('pi4');
    await writeFile(join(dirs.sys, THROTTLED_SYSFS), '0\n');
    const m = monitor(dirs);
    const events: string[] = [];
    m.on('alert', (change, a) => events.push(`${change} ${a.code}`));

    await writeZone(dirs.sys, 'thermal_zone0', 79.9);
    expect(codes((await m.sample()).alerts)).toEqual([]);

    clock = T0 + 5000;
    await writeZone(dirs.sys, 'thermal_zone0', 82);
    const hot = (await m.sample()).alerts;
    expect(hot).toEqual([
      {
        code: 'HEALTH_HOT',
        level: 'warn',
        message: 'the box is hot (82 °C) and may slow down',
        action: 'give it air or shade',
        since: new Date(T0 + 5000).toISOString(),
      },
    ]);

    clock = T0 + 10_000;
    await writeZone(dirs.sys, 'thermal_zone0', 76);
    const still = (await m.sample()).alerts;
    expect(still[0]).toMatchObject({ code: 'HEALTH_HOT', message: 'the box is hot (76 °C) and may slow down', since: hot[0]!.since });

    await writeZone(dirs.sys, 'thermal_zone0', 79);
    expect((await m.sample()).alerts[0]?.since).toBe(hot[0]!.since);

    await writeZone(dirs.sys, 'thermal_zone0', 74.9);
    expect((await m.sample()).alerts).toEqual([]);
    expect(events).toEqual(['raised HEALTH_HOT', 'cleared HEALTH_HOT']);
  });

  it('HEALTH_CPU: nothing on the first sample, raises at 90%, holds above 80%, clears below', async () => {
    const dirs = await board('x86');
    const m = monitor(dirs);
    await writeStat(dirs.proc, 0, 0);
    expect((await m.sample()).cpuLoad).toBe(0);
    // Each step: 1000 ticks, `busy` of them busy.
    let busy = 0;
    let total = 0;
    const step = async (share: number): Promise<Alert[]> => {
      busy += share * 1000;
      total += 1000;
      await writeStat(dirs.proc, busy, total - busy);
      return (await m.sample()).alerts;
    };
    expect(await step(0.89)).toEqual([]);
    expect(m.snapshot().cpuLoad).toBeCloseTo(0.89);
    const high = await step(0.95);
    expect(high).toMatchObject([
      { code: 'HEALTH_CPU', message: 'the processor is at 95%: the picture may stutter', action: 'lower the resolution or frame rate' },
    ]);
    // Asked again moments later (50 ticks, all busy): too short to say anything new.
    await writeStat(dirs.proc, busy + 50, total - busy);
    expect(await m.sample()).toMatchObject({ cpuLoad: 0.95, alerts: [{ code: 'HEALTH_CPU', message: expect.stringContaining('95%') }] });
    busy += 50;
    total += 50;
    // Those 50 ticks count in the next period: (50 + 810) / 1050.
    expect(await step(0.81)).toMatchObject([{ code: 'HEALTH_CPU', since: high[0]!.since, message: expect.stringContaining('82%') }]);
    expect(await step(0.79)).toEqual([]);
  });

  it('HEALTH_MEMORY_LOW under 10% available, cleared only from 15%', async () => {
    const dirs = await board('pi4');
    await writeFile(join(dirs.sys, THROTTLED_SYSFS), '0\n');
    const m = monitor(dirs);
    await cp(join(DATA, 'proc-samples/meminfo-low'), join(dirs.proc, 'meminfo'));
    expect((await m.sample()).alerts).toMatchObject([
      { code: 'HEALTH_MEMORY_LOW', level: 'warn', message: 'the memory is nearly full (75 MB free): the stream may stop' },
    ]);
    const meminfo = (availKb: number): string => `MemTotal: 1000000 kB\nMemFree: 1000 kB\nMemAvailable: ${availKb} kB\n`;
    await writeFile(join(dirs.proc, 'meminfo'), meminfo(140_000));
    expect(codes((await m.sample()).alerts)).toEqual(['HEALTH_MEMORY_LOW']);
    await writeFile(join(dirs.proc, 'meminfo'), meminfo(150_000));
    expect((await m.sample()).alerts).toEqual([]);
  });

  it('HEALTH_DISK_LOW under 512 MiB free (or 10% of a small partition), cleared from half as much again', async () => {
    const dirs = await board('x86');
    const disk = { total: 32 * GiB, free: 400 * MiB };
    const m = monitor(dirs, { statfs: fakeDisk(disk) });
    expect((await m.sample()).alerts).toEqual([
      {
        code: 'HEALTH_DISK_LOW',
        level: 'warn',
        message: 'the storage is nearly full (419 MB free): recordings and the event log will stop',
        action: 'delete old recordings, or fit a bigger card',
        since: new Date(T0).toISOString(),
      },
    ]);
    disk.free = 700 * MiB;
    expect(codes((await m.sample()).alerts)).toEqual(['HEALTH_DISK_LOW']);
    disk.free = 800 * MiB;
    expect((await m.sample()).alerts).toEqual([]);

    // A 1 GiB state partition: the line is 10% of it, not 512 MiB.
    const small = { total: GiB, free: 150 * MiB };
    const s = monitor(dirs, { statfs: fakeDisk(small) });
    expect((await s.sample()).alerts).toEqual([]);
    small.free = 90 * MiB;
    expect(codes((await s.sample()).alerts)).toEqual(['HEALTH_DISK_LOW']);
  });

  it('HEALTH_EVENT_LOOP from a p99 of 200 ms while running, held above 100 ms', async () => {
    const dirs = await board('x86');
    const lag = { ms: 250 };
    const meter = fakeLag(lag);
    const m = monitor(dirs, { loopLag: meter });
    // Not started: the lag is not measured, so it says nothing.
    expect((await m.sample()).alerts).toEqual([]);
    m.start();
    const [first] = await m.next('sample');
    expect(first.eventLoopLagMs).toBe(250);
    expect(first.alerts).toMatchObject([
      { code: 'HEALTH_EVENT_LOOP', message: 'the box is slow to respond (250 ms): the page and buttons may lag' },
    ]);
    lag.ms = 150;
    expect(codes((await m.sample()).alerts)).toEqual(['HEALTH_EVENT_LOOP']);
    lag.ms = 50;
    expect((await m.sample()).alerts).toEqual([]);
    m.stop();
  });

  it('HEALTH_THROTTLED holds 30 s after the flags go quiet, then leaves a word that it happened', async () => {
    const dirs = await board('pi4');
    const file = join(dirs.sys, THROTTLED_SYSFS);
    const m = monitor(dirs);
    const first = await m.sample();
    expect(first.alerts).toMatchObject([{ code: 'HEALTH_THROTTLED', level: 'error' }]);

    // The supply recovers: bits 0 and 2 clear, 16 and 18 stay (sticky until reboot).
    await writeFile(file, '50000\n');
    clock = T0 + HEALTH_THRESHOLDS.THROTTLED_CLEAR_MS - 1000;
    const held = await m.sample();
    expect(held.throttled).toEqual([]);
    expect(held.alerts).toMatchObject([{ code: 'HEALTH_THROTTLED', since: new Date(T0).toISOString() }]);

    clock = T0 + HEALTH_THRESHOLDS.THROTTLED_CLEAR_MS;
    expect((await m.sample()).alerts).toEqual([
      {
        code: 'HEALTH_THROTTLED_EARLIER',
        level: 'info',
        message: 'the board has throttled since it started: under-voltage, throttled',
        action: 'use the supplied power adapter and cable',
        since: new Date(clock).toISOString(),
      },
    ]);

    // Heat, not power: the soft temperature limit.
    await writeFile(file, '80008\n');
    expect((await m.sample()).alerts).toMatchObject([
      {
        code: 'HEALTH_THROTTLED',
        level: 'warn',
        message: 'the board is throttling: soft temperature limit',
        action: 'give it air or shade',
      },
    ]);
  });

  it('lists alerts error first, then by importance', async () => {
    const dirs = await board('pi4');
    await writeZone(dirs.sys, 'thermal_zone0', 84);
    const m = monitor(dirs, { statfs: fakeDisk({ total: 32 * GiB, free: 100 * MiB }) });
    expect(codes((await m.sample()).alerts)).toEqual(['HEALTH_THROTTLED', 'HEALTH_HOT', 'HEALTH_DISK_LOW']);
  });
});

describe('HealthMonitor: vcgencmd and broken sources', () => {
  it('runs vcgencmd get_throttled where the board has no sysfs file', async () => {
    const dirs = await board('pi4');
    await rm(join(dirs.sys, THROTTLED_SYSFS));
    const m = monitor(dirs, { vcgencmd: join(DATA, 'bin/vcgencmd') });
    const s = await m.sample();
    expect(s.throttled).toEqual(['under-voltage', 'throttled']);
    expect(m.readings()).toMatchObject({ throttledVia: 'vcgencmd', throttledRaw: 0x50005 });
  });

  it('a vcgencmd that fails is logged once at debug, and the samples go on', async () => {
    const dirs = await board('pi4');
    await rm(join(dirs.sys, THROTTLED_SYSFS));
    const m = monitor(dirs, { vcgencmd: join(DATA, 'bin/vcgencmd-broken') });
    for (let i = 0; i < 3; i++) {
      const s = await m.sample();
      expect(s.throttled).toEqual([]);
      expect(s.temperatureC).toBe(54.5);
    }
    const failed = debugOf('throttled');
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.fields['err'])).toContain('VCHI initialization failed');
  });

  it('no vcgencmd on the board: no flags, no failure logged', async () => {
    const dirs = await board('pi4');
    await rm(join(dirs.sys, THROTTLED_SYSFS));
    const s = await monitor(dirs, { vcgencmd: join(work, 'no-such-vcgencmd') }).sample();
    expect(s.throttled).toEqual([]);
    expect(s.alerts).toEqual([]);
    expect(debugOf('throttled')).toEqual([]);
  });

  it('an unreadable source keeps its last figure and its alert, is logged once, and is logged again when it works', async () => {
    const dirs = await board('pi4');
    await writeFile(join(dirs.sys, THROTTLED_SYSFS), '0\n');
    await cp(join(DATA, 'proc-samples/meminfo-low'), join(dirs.proc, 'meminfo'));
    const m = monitor(dirs);
    const before = await m.sample();
    expect(codes(before.alerts)).toEqual(['HEALTH_MEMORY_LOW']);

    await rm(join(dirs.proc, 'meminfo'));
    await rm(join(dirs.proc, 'stat'));
    await writeFile(join(dirs.sys, THROTTLED_SYSFS), 'garbage\n');
    for (let i = 0; i < 3; i++) {
      const s = await m.sample();
      expect(s.memoryTotalBytes).toBe(before.memoryTotalBytes);
      expect(s.alerts).toEqual(before.alerts);
    }
    expect(debugOf('memory')).toHaveLength(1);
    expect(debugOf('cpu')).toHaveLength(1);
    expect(debugOf('throttled')).toHaveLength(1);
    expect(String(debugOf('throttled')[0]?.fields['err'])).toContain('unexpected answer "garbage"');

    await cp(join(DATA, 'pi4/proc/meminfo'), join(dirs.proc, 'meminfo'));
    expect((await m.sample()).alerts).toEqual([]);
    expect(logs.filter((r) => r.message === 'health source works again').map((r) => r.fields['source'])).toEqual(['memory']);
  });

  it('missing /proc and /sys altogether: the sample still resolves', async () => {
    const nowhere = { sys: join(work, 'no-sys'), proc: join(work, 'no-proc') };
    const s = await monitor(nowhere, { statfs: async () => Promise.reject(new Error('EIO')) }).sample();
    expect(s).toMatchObject({ cpuLoad: 0, memoryTotalBytes: 0, diskTotalBytes: 0, alerts: [] });
    expect(s.temperatureC).toBeUndefined();
  });
});

describe('HealthMonitor lifecycle', () => {
  it('start() samples at once; start and stop are idempotent; concurrent sample() calls share one read', async () => {
    const dirs = await board('x86');
    const meter = fakeLag({ ms: 0 });
    const m = monitor(dirs, { loopLag: meter });
    expect(m.snapshot()).toMatchObject({ cpuLoad: 0, memoryTotalBytes: 0, alerts: [] });
    const got = m.next('sample');
    m.start();
    m.start();
    const [s] = await got;
    expect(s.memoryTotalBytes).toBe(16231008 * 1024);
    expect(m.snapshot()).toBe(s);
    expect(m.sample()).toBe(m.sample());
    m.stop();
    m.stop();
    expect(meter).toMatchObject({ starts: 1, stops: 1 });
  });

  it('samples every interval, and a stop and start while a sample is in flight keeps one timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const m = monitor(await board('x86'), { intervalMs: 5000, loopLag: fakeLag({ ms: 0 }) });
      let samples = 0;
      m.on('sample', () => samples++);
      const first = m.next('sample');
      m.start();
      m.stop();
      m.start();
      await first;
      await new Promise((r) => setImmediate(r));
      expect(samples).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      const second = m.next('sample');
      vi.advanceTimersByTime(5000);
      await second;
      await new Promise((r) => setImmediate(r));
      expect(samples).toBe(2);
      expect(vi.getTimerCount()).toBe(1);
      m.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an interval that would cost more than it tells', () => {
    expect(() => new HealthMonitor({ stateDir: work, intervalMs: 100 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('with its defaults reads this machine without throwing', async () => {
    const m = new HealthMonitor({ stateDir: work });
    const s = await m.sample();
    expect(s.memoryTotalBytes).toBeGreaterThan(0);
    expect(s.diskTotalBytes).toBeGreaterThan(0);
    expect(s.temperatureC === undefined || Number.isFinite(s.temperatureC)).toBe(true);
  });
});
