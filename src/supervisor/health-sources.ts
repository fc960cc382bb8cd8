/**
 * Where the health monitor's figures come from: small parsers (pure, tested
 * on captured files), async readers of /proc, /sys, statfs and the Raspberry
 * Pi's `vcgencmd`, and the event-loop lag meter. Every read is async; none
 * spawns a process except `vcgencmd`, and only where the board has no sysfs
 * file for the same fact.
 *
 * systeminformation is not used here: on Linux its `currentLoad` reads
 * /proc/stat through a synchronous shell (`execSync('cat /proc/stat | grep
 * cpu')`) and `cpuTemperature` runs two shells, one of them synchronous —
 * each stalls the event loop for several milliseconds and costs more than the
 * whole of a direct sample.
 *
 * A board without a source (an x86 VM without thermal zones, a board that is
 * not a Pi) gives no reading; a source that is there but cannot be read
 * throws HealthSourceError.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, statfs as fsStatfs, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FieldcastError } from '../lib/errors.js';

/** A source that is there but could not be read; logged once at debug, never thrown out of the monitor. */
export class HealthSourceError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('HEALTH_SOURCE_FAILED', message, details, options);
  }
}

function errno(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function failed(source: string, path: string, err: unknown): HealthSourceError {
  const why = err instanceof Error ? err.message : String(err);
  return new HealthSourceError(`cannot read ${source} (${path}): ${why}`, { source, path }, { cause: err });
}

// ---- CPU: /proc/stat (proc(5)) ---------------------------------------------

/** Cumulative CPU time of all cores, in clock ticks. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * The aggregate `cpu` line: user nice system idle iowait irq softirq steal
 * guest guest_nice. guest and guest_nice are already counted in user and nice
 * (proc(5)), so they are left out; iowait is time with nothing to run, so idle.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Load of all cores between two readings, 0..1 (0 when no tick passed). */
export function cpuLoadBetween(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, (after.busy - before.busy) / total));
}

export async function readCpuTimes(procRoot: string): Promise<CpuTimes> {
  const path = join(procRoot, 'stat');
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (err) {
    throw failed('the processor load', path, err);
  }
  const times = parseProcStat(text);
  if (!times) throw failed('the processor load', path, new Error('no cpu line'));
  return times;
}

// ---- Memory: /proc/meminfo -------------------------------------------------

export interface MemoryReading {
  totalBytes: number;
  /** What can be given to programs without swapping (MemAvailable). */
  availableBytes: number;
}

export function parseMeminfo(text: string): MemoryReading | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return undefined;
  // Kernels before 3.14 have no MemAvailable: free plus page cache is the old estimate.
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: Math.min(total, available) * 1024 };
}

export async function readMemory(procRoot: string): Promise<MemoryReading> {
  const path = join(procRoot, 'meminfo');
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (err) {
    throw failed('the memory', path, err);
  }
  const mem = parseMeminfo(text);
  if (!mem) throw failed('the memory', path, new Error('no MemTotal line'));
  return mem;
}

// ---- Temperature: /sys/class/thermal (Documentation/driver-api/thermal) -----

export interface ThermalReading {
  celsius: number;
  /** The hottest zone, e.g. `thermal_zone0`. */
  zone: string;
  /** Its type, e.g. `cpu-thermal` (Pi), `x86_pkg_temp`. */
  type: string;
}

/** A zone that is there but does not answer (an x86 Wi-Fi zone with its interface down reads ENODATA). */
export interface ZoneFailure {
  zone: string;
  error: HealthSourceError;
}

/** Outside this a driver is reporting a sentinel (an unplugged sensor), not a temperature. */
const PLAUSIBLE_C = { min: -40, max: 150 } as const;

/** `temp` is in millidegrees Celsius. */
export function parseZoneTemp(text: string): number | undefined {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  const c = Number(t) / 1000;
  return c >= PLAUSIBLE_C.min && c <= PLAUSIBLE_C.max ? c : undefined;
}

/**
 * The hottest readable zone — of the zone types `types` names (a board
 * profile's), when any of them is there — or `undefined` when the board has
 * none or none answers. Zones that fail are skipped and listed, each to be reported once.
 */
export interface ZonesReading {
  hottest: ThermalReading | undefined;
  /** Every zone that answered. */
  readable: string[];
  failures: ZoneFailure[];
}

export async function readHottestZone(sysRoot: string, types: readonly string[] = []): Promise<ZonesReading> {
  const dir = join(sysRoot, 'class', 'thermal');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^thermal_zone\d+$/.test(n));
  } catch (err) {
    if (errno(err) === 'ENOENT') return { hottest: undefined, readable: [], failures: [] };
    throw failed('the temperature', dir, err);
  }
  const results = await Promise.all(
    names.map(async (zone): Promise<ThermalReading | ZoneFailure> => {
      const path = join(dir, zone, 'temp');
      try {
        const [temp, type] = await Promise.all([readFile(path, 'latin1'), readFile(join(dir, zone, 'type'), 'latin1').catch(() => '')]);
        const celsius = parseZoneTemp(temp);
        if (celsius === undefined) return { zone, error: failed('the temperature', path, new Error(`implausible value ${temp.trim()}`)) };
        return { celsius, zone, type: type.trim() };
      } catch (err) {
        return { zone, error: failed('the temperature', path, err) };
      }
    }),
  );
  let hottest: ThermalReading | undefined;
  const readable: string[] = [];
  const failures: ZoneFailure[] = [];
  // A board profile names the zones that tell its temperature; where none of them is there, every zone counts.
  const wanted = types.length > 0 && results.some((r) => !('error' in r) && types.includes(r.type));
  for (const r of results) {
    if ('error' in r) failures.push(r);
    else if (!wanted || types.includes(r.type)) {
      readable.push(r.zone);
      if (!hottest || r.celsius > hottest.celsius) hottest = r;
    }
  }
  return { hottest, readable, failures };
}

// ---- Raspberry Pi throttling ------------------------------------------------

/**
 * The bits of the firmware's throttled word (Raspberry Pi documentation,
 * "vcgencmd get_throttled"): 0..3 hold now, 16..19 the same since boot.
 */
const THROTTLE_BITS = ['under-voltage', 'frequency capped', 'throttled', 'soft temperature limit'] as const;
export type ThrottleReason = (typeof THROTTLE_BITS)[number];
const OCCURRED_SHIFT = 16;

export interface ThrottledReading {
  /** The raw word, for logs. */
  raw: number;
  now: ThrottleReason[];
  /** Seen since boot (sticky until reboot). */
  occurred: ThrottleReason[];
}

/** Parses `throttled=0x50005` (vcgencmd) or `50005` (the sysfs file prints hex without 0x). */
export function parseThrottled(text: string): number | undefined {
  const m = /^(?:throttled=)?(?:0x)?([0-9a-f]{1,8})$/i.exec(text.trim());
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

export function describeThrottled(raw: number): ThrottledReading {
  const pick = (shift: number): ThrottleReason[] => THROTTLE_BITS.filter((_, i) => (raw >>> (i + shift)) & 1);
  return { raw, now: pick(0), occurred: pick(OCCURRED_SHIFT) };
}

/** Written by the Pi firmware driver (drivers/firmware/raspberrypi.c); cheaper than spawning vcgencmd. */
export const THROTTLED_SYSFS = 'devices/platform/soc/soc:firmware/get_throttled';
/** Where Raspberry Pi OS (Bookworm) and older images install vcgencmd. */
export const VCGENCMD_PATHS = ['/usr/bin/vcgencmd', '/opt/vc/bin/vcgencmd'] as const;
/** vcgencmd answers in milliseconds; a firmware mailbox that hangs must not hold samples up. */
const VCGENCMD_TIMEOUT_MS = 2000;

export type ThrottledVia = { kind: 'sysfs'; path: string } | { kind: 'vcgencmd'; path: string };

/** Which source the board has, looked up once: the sysfs file, else an executable vcgencmd, else none. */
export async function findThrottledSource(sysRoot: string, vcgencmd: string | false | undefined): Promise<ThrottledVia | undefined> {
  const file = join(sysRoot, THROTTLED_SYSFS);
  if (await accessible(file, constants.R_OK)) return { kind: 'sysfs', path: file };
  if (vcgencmd === false) return undefined;
  for (const path of vcgencmd === undefined ? VCGENCMD_PATHS : [vcgencmd]) {
    if (await accessible(path, constants.X_OK)) return { kind: 'vcgencmd', path };
  }
  return undefined;
}

async function accessible(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

export async function readThrottled(via: ThrottledVia): Promise<ThrottledReading> {
  let text: string;
  try {
    text = via.kind === 'sysfs' ? await readFile(via.path, 'latin1') : await runVcgencmd(via.path);
  } catch (err) {
    throw failed('the throttling flags', via.path, err);
  }
  const raw = parseThrottled(text);
  if (raw === undefined) throw failed('the throttling flags', via.path, new Error(`unexpected answer ${JSON.stringify(text.trim())}`));
  return describeThrottled(raw);
}

function runVcgencmd(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['get_throttled'], { timeout: VCGENCMD_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message, { cause: err }));
      else resolve(stdout);
    });
  });
}

// ---- Disk: statfs(2) of the state directory ---------------------------------

export interface DiskReading {
  /** Bytes an unprivileged writer can still use (f_bavail), the conservative figure. */
  freeBytes: number;
  totalBytes: number;
}

/** The subset of fs.promises.statfs's result read here (injectable for tests). */
export interface StatFsLike {
  bsize: number;
  blocks: number;
  bavail: number;
}
export type StatFs = (path: string) => Promise<StatFsLike>;

export const defaultStatfs: StatFs = (path) => fsStatfs(path);

/** The file system that holds `dir`; one not created yet is on its nearest existing parent's. */
export async function readDisk(dir: string, statfs: StatFs = defaultStatfs): Promise<DiskReading> {
  let path = dir;
  for (;;) {
    try {
      const s = await statfs(path);
      return { freeBytes: Number(s.bavail) * Number(s.bsize), totalBytes: Number(s.blocks) * Number(s.bsize) };
    } catch (err) {
      const parent = dirname(path);
      if (errno(err) !== 'ENOENT' || parent === path) throw failed('the free space', dir, err);
      path = parent;
    }
  }
}

// ---- Event-loop lag: perf_hooks.monitorEventLoopDelay ------------------------

/** The supervisor's event-loop lag, measured between samples (injectable for tests). */
export interface LoopLagMeter {
  start(): void;
  stop(): void;
  /** p99 of the lag since the last call, ms; starts a new period. */
  takeP99Ms(): number;
}

/**
 * Each wake-up of the meter's timer costs about 0.1 ms of CPU (measured: 1.3%
 * of a core at Node's default 10 ms, 0.24% at 50 ms). At 50 ms a 5 s period
 * holds about 100 delays, so its p99 is a stall that happened twice, not a
 * single garbage collection.
 */
const LOOP_RESOLUTION_MS = 50;

export function eventLoopLagMeter(resolutionMs = LOOP_RESOLUTION_MS): LoopLagMeter {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  return {
    start: () => void h.enable(),
    stop: () => void h.disable(),
    takeP99Ms: () => {
      // Each recorded delay includes the timer's own period.
      const ms = h.count > 0 ? h.percentile(99) / 1e6 - resolutionMs : 0;
      h.reset();
      return Math.max(0, ms);
    },
  };
}
