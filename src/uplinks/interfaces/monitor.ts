/**
 * The uplink monitor: which uplinks the box has, kept current.
 *
 * It runs `ip -json monitor link address route` and rescans on every event
 * it reads (a burst of netlink messages, as one veth or modem coming up
 * produces, becomes one scan), so a change is reported well within a second.
 * Where `ip monitor` cannot run, or stops, it rescans every second instead.
 * Scans never overlap; one that fails is logged and the last good list
 * stands. Listeners should be attached before start(): it reports the
 * uplinks already there as `added`.
 */
import { TypedEmitter } from '../../lib/events.js';
import { createLogger } from '../../lib/logger.js';
import { type DiscoveryOptions, discoverInterfaces } from './discovery.js';
import { UplinkStateError } from './errors.js';
import { createIpCommand, type IpCommand, type IpProcess } from './ip-command.js';
import { LineSplitter, parseMonitorLine } from './monitor-lines.js';
import { checkSelection, selectUplinks, type UplinkSelection, unusableReason } from './selection.js';
import type { DiscoveredInterface, Uplink } from './types.js';
import { diffUplinks, isEmptyDiff, type UplinkChange, type UplinkRemovedReason } from './uplink-diff.js';

const log = createLogger('uplinks.monitor');

/** The fallback's scan period. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Netlink events of one change arrive within a few ms; waiting this long first folds them into one scan. */
export const DEFAULT_SETTLE_MS = 50;

export const MONITOR_ARGS: readonly string[] = ['-json', 'monitor', 'link', 'address', 'route'];

export type UplinkMonitorEvents = {
  added: [uplink: Uplink];
  removed: [uplink: Uplink, reason: UplinkRemovedReason];
  changed: [uplink: Uplink, previous: Uplink, changes: UplinkChange[]];
  /** After a scan that changed anything, the whole list (after the single events). */
  uplinks: [uplinks: readonly Uplink[]];
};

/** How the monitor learns of changes now. */
export type MonitorMode = 'idle' | 'ip-monitor' | 'poll' | 'closed';

export interface UplinkMonitorOptions extends UplinkSelection, DiscoveryOptions {
  /** `auto` (default): `ip monitor`, polling if it cannot run; `poll`: poll only. */
  watch?: 'auto' | 'poll';
  /** Default 1000 ms. */
  pollIntervalMs?: number;
  /** Default 50 ms. */
  settleMs?: number;
}

export class UplinkMonitor extends TypedEmitter<UplinkMonitorEvents> {
  private readonly ip: IpCommand;
  private readonly discovery: DiscoveryOptions;
  private readonly selection: UplinkSelection;
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private current: Uplink[] = [];
  private lastInterfaces: DiscoveredInterface[] = [];
  private state: MonitorMode = 'idle';
  private child: IpProcess | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private again = false;
  private lastError: string | undefined;

  constructor(private readonly opts: UplinkMonitorOptions = {}) {
    super();
    checkSelection(opts);
    this.ip = opts.ip ?? createIpCommand();
    this.discovery = { ip: this.ip, ...(opts.sysRoot !== undefined ? { sysRoot: opts.sysRoot } : {}) };
    this.selection = {
      ...(opts.interfaces !== undefined ? { interfaces: [...opts.interfaces] } : {}),
      ...(opts.ignoreInterfaces !== undefined ? { ignoreInterfaces: [...opts.ignoreInterfaces] } : {}),
    };
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  }

  get mode(): MonitorMode {
    return this.state;
  }

  /** The usable uplinks as of the last scan. */
  uplinks(): readonly Uplink[] {
    return this.current;
  }

  /** Every interface the last scan found, usable or not (for `fieldcast probe` and the status page). */
  interfaces(): readonly DiscoveredInterface[] {
    return this.lastInterfaces;
  }

  /** Starts watching, scans once, and resolves with the uplinks found (each also reported as `added`). */
  async start(): Promise<readonly Uplink[]> {
    if (this.state === 'closed') throw new UplinkStateError('the uplink monitor was closed');
    if (this.state !== 'idle') return this.current;
    // Watch first, then scan: a change between the two is not lost.
    if (this.opts.watch === 'poll') this.startPolling();
    else this.startIpMonitor();
    await this.rescan();
    return this.current;
  }

  /** Scans now (coalesced with a scan already running); resolves when the list is current. */
  rescan(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    const run = this.scanOnce().finally(() => {
      this.inflight = undefined;
      if (this.again && this.state !== 'closed') {
        this.again = false;
        void this.rescan();
      }
    });
    this.inflight = run;
    return run;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.settleTimer);
    clearTimeout(this.pollTimer);
    this.settleTimer = undefined;
    this.pollTimer = undefined;
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.stdout?.removeAllListeners('data');
      child.kill('SIGTERM');
    }
  }

  private async scanOnce(): Promise<void> {
    let ifaces: DiscoveredInterface[];
    try {
      ifaces = await discoverInterfaces(this.discovery);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastError) log.warn('uplink scan failed; keeping the last list', { err });
      this.lastError = message;
      return;
    }
    this.lastError = undefined;
    if (this.state === 'closed') return;
    this.lastInterfaces = ifaces;
    const next = selectUplinks(ifaces, this.selection);
    const diff = diffUplinks(this.current, next);
    this.current = next;
    if (isEmptyDiff(diff)) return;
    const byName = new Map(ifaces.map((i) => [i.name, i]));
    for (const u of diff.removed) {
      const iface = byName.get(u.name);
      const reason: UplinkRemovedReason = iface === undefined ? 'gone' : (unusableReason(iface) ?? 'gone');
      log.info('uplink removed', { uplink: u.name, address: u.address, reason });
      this.emit('removed', u, reason);
    }
    for (const u of diff.added) {
      log.info('uplink added', { uplink: u.name, kind: u.kind, address: u.address, gateway: u.gateway ?? 'none' });
      this.emit('added', u);
    }
    for (const c of diff.changed) {
      log.info('uplink changed', { uplink: c.uplink.name, changes: c.changes.join(','), address: c.uplink.address });
      this.emit('changed', c.uplink, c.previous, c.changes);
    }
    this.emit('uplinks', this.current);
  }

  private scheduleScan(): void {
    if (this.state === 'closed' || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.rescan();
    }, this.settleMs);
  }

  private startIpMonitor(): void {
    let child: IpProcess;
    try {
      child = this.ip.spawn(MONITOR_ARGS);
    } catch (err) {
      this.fallBack('cannot start "ip monitor"', err);
      return;
    }
    this.child = child;
    this.state = 'ip-monitor';
    const lines = new LineSplitter();
    const stderr: string[] = [];
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) if (parseMonitorLine(line) !== undefined) this.scheduleScan();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.join('').length < 4096) stderr.push(chunk);
    });
    child.once('error', (err) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fallBack('cannot run "ip monitor"', err);
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const why = stderr.join('').trim();
      this.fallBack(`"ip monitor" stopped (${signal ?? `exit ${code}`})${why ? `: ${why}` : ''}`);
    });
  }

  private fallBack(message: string, err?: unknown): void {
    if (this.state === 'closed') return;
    log.warn(`${message}; polling the interfaces every ${this.pollIntervalMs} ms instead`, err !== undefined ? { err } : {});
    this.startPolling();
    this.scheduleScan(); // whatever happened while the monitor was going away
  }

  private startPolling(): void {
    this.state = 'poll';
    const tick = (): void => {
      if (this.state !== 'poll') return;
      this.rescan().finally(() => {
        if (this.state === 'poll') this.pollTimer = setTimeout(tick, this.pollIntervalMs);
      });
    };
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(tick, this.pollIntervalMs);
  }
}
