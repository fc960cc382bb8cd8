/**
 * The supervisor's side of systemd's notify protocol (sd_notify(3);
 * systemd.service(5): Type=notify, WatchdogSec=), for systemd/fieldcast.service:
 *
 * - `ready()`: READY=1 once the supervisor is up — not when the stream is
 *   live: a box with no signal or no uplink has still started, and its
 *   status page must be reachable;
 * - `status(text)`: STATUS= with the operator state, for `systemctl status`;
 * - `startWatchdog(isHealthy)`: WATCHDOG=1 at half of $WATCHDOG_USEC, but only
 *   while the supervisor's own health checks pass, so systemd restarts a
 *   supervisor that is stuck (no timer fires) or that knows it is unwell;
 * - `stopping()`: STOPPING=1 on the way down.
 *
 * Outside systemd ($NOTIFY_SOCKET unset: `fieldcast run` from a shell) every
 * call does nothing, and the addon is not even loaded.
 */
import { describeError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { loadSrtNative } from '../native/index.js';

const log = createLogger('systemd');

/** Sends one datagram to $NOTIFY_SOCKET; false when it was not delivered (or there is no socket). */
export type NotifySend = (message: string) => boolean;

/** Time and timers, injectable so tests drive them by hand. */
export interface NotifierClock {
  /** Milliseconds of a monotonic clock. */
  now(): number;
  /** Timers must not keep the process alive: the supervisor stays up for its own reasons. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SystemdNotifierOptions {
  /** Default: the SRT addon's sdNotify, loaded at the first message; nothing when NOTIFY_SOCKET is unset. */
  send?: NotifySend;
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** This process's pid, to compare with WATCHDOG_PID (default process.pid). */
  pid?: number;
  clock?: NotifierClock;
}

/** `systemctl status` shows only the latest STATUS=; a state that flaps would only keep PID 1 busy. */
export const STATUS_MIN_INTERVAL_MS = 250;
/** A status line is one line of `systemctl status`; a whole error report belongs in the journal. */
export const STATUS_MAX_CHARS = 256;

const realClock: NotifierClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class SystemdNotifier {
  /** True when messages go somewhere: under systemd, or to an injected sender. */
  readonly enabled: boolean;
  private readonly sendFn: NotifySend;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly pid: number;
  private readonly clock: NotifierClock;
  private closed = false;
  private readySent = false;
  private stoppingSent = false;
  private sendFailing = false;

  /** The status systemd has now, the one waiting for the rate limit, and when the last went. */
  private sentStatus: string | undefined;
  private pendingStatus: string | undefined;
  private lastStatusAt = Number.NEGATIVE_INFINITY;
  private statusTimer: unknown;

  private watchdogTimer: unknown;
  private watchdogHealthy = true;

  constructor(options: SystemdNotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.pid = options.pid ?? process.pid;
    this.clock = options.clock ?? realClock;
    this.enabled = options.send !== undefined || Boolean(this.env['NOTIFY_SOCKET']);
    this.sendFn = options.send ?? (this.enabled ? nativeSender() : () => false);
  }

  /** READY=1, once; a status waiting for the rate limit goes in the same message. */
  ready(): void {
    if (this.closed || this.readySent) return;
    this.readySent = true;
    this.sendWithStatus('READY=1');
  }

  /**
   * STATUS=text, when it differs from what systemd shows, at most every
   * STATUS_MIN_INTERVAL_MS: a change within that is held, and only the
   * latest is sent when the interval is up.
   */
  status(text: string): void {
    if (this.closed) return;
    const line = statusLine(text);
    this.pendingStatus = line === this.sentStatus ? undefined : line;
    if (this.pendingStatus === undefined) {
      this.cancelStatusTimer();
      return;
    }
    if (this.statusTimer !== undefined) return;
    const wait = this.lastStatusAt + STATUS_MIN_INTERVAL_MS - this.clock.now();
    if (wait <= 0) {
      this.flushStatus();
      return;
    }
    this.statusTimer = this.clock.setTimeout(() => {
      this.statusTimer = undefined;
      this.flushStatus();
    }, wait);
  }

  /**
   * STOPPING=1 (with any status waiting), once, and the watchdog ends:
   * systemd does not watch a service that is stopping, TimeoutStopSec= does.
   */
  stopping(): void {
    if (this.closed || this.stoppingSent) return;
    this.stoppingSent = true;
    this.stopWatchdog();
    this.sendWithStatus('STOPPING=1');
  }

  /**
   * Pets the watchdog at half of $WATCHDOG_USEC (sd_watchdog_enabled(3)) —
   * at once, then each period — whenever `isHealthy()` says so. Returns the
   * period in ms, or undefined when systemd asked for no watchdog (not under
   * systemd, no WATCHDOG_USEC, or a WATCHDOG_PID naming another process: the
   * pipeline child inherits the variables, and only the supervisor may answer).
   * Calling it again replaces the check.
   */
  startWatchdog(isHealthy: () => boolean): number | undefined {
    this.stopWatchdog();
    if (this.closed || this.stoppingSent || !this.enabled) return undefined;
    const usec = watchdogUsec(this.env, this.pid);
    if (usec === undefined) return undefined;
    const periodMs = Math.max(1, Math.floor(usec / 2000));
    this.watchdogHealthy = true;
    const tick = (): void => {
      this.watchdogTimer = undefined;
      this.petIfHealthy(isHealthy);
      if (!this.closed && !this.stoppingSent) this.watchdogTimer = this.clock.setTimeout(tick, periodMs);
    };
    tick();
    log.info('systemd watchdog armed', { periodMs, timeoutMs: usec / 1000 });
    return periodMs;
  }

  /** Ends the watchdog and drops any status waiting. Idempotent; nothing is sent after it. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatchdog();
    this.cancelStatusTimer();
    this.pendingStatus = undefined;
  }

  private petIfHealthy(isHealthy: () => boolean): void {
    let healthy: boolean;
    try {
      healthy = isHealthy() === true;
    } catch (err) {
      log.error('the health check threw; the systemd watchdog is not petted', { err });
      healthy = false;
    }
    if (healthy !== this.watchdogHealthy) {
      this.watchdogHealthy = healthy;
      if (healthy) log.info('health checks pass again: petting the systemd watchdog');
      else log.warn('health checks fail: the systemd watchdog is not petted, systemd restarts Fieldcast if this lasts');
    }
    if (healthy) this.send('WATCHDOG=1');
  }

  private stopWatchdog(): void {
    if (this.watchdogTimer === undefined) return;
    this.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }

  private flushStatus(): void {
    if (!this.closed) this.sendWithStatus(undefined);
  }

  /** Sends `first` (if any) and the waiting status as one datagram. */
  private sendWithStatus(first: string | undefined): void {
    const lines = first === undefined ? [] : [first];
    if (this.pendingStatus !== undefined) {
      lines.push(`STATUS=${this.pendingStatus}`);
      this.sentStatus = this.pendingStatus;
      this.pendingStatus = undefined;
      this.lastStatusAt = this.clock.now();
      this.cancelStatusTimer();
    }
    if (lines.length > 0) this.send(lines.join('\n'));
  }

  private cancelStatusTimer(): void {
    if (this.statusTimer === undefined) return;
    this.clock.clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
  }

  private send(message: string): void {
    let ok: boolean;
    try {
      ok = this.sendFn(message);
    } catch (err) {
      log.error('notifying systemd failed', { err });
      ok = false;
    }
    // Once per outage: a socket that went away would otherwise log every ping.
    if (!ok && this.enabled && !this.sendFailing) log.warn('systemd did not take a notify message', { message });
    this.sendFailing = !ok;
  }
}

/**
 * One line of text, since every line of a notify message is a KEY=VALUE of
 * its own: a reason quoting a peer's words must not be able to say READY=1
 * or WATCHDOG=1.
 */
function statusLine(text: string): string {
  const line = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return line.length <= STATUS_MAX_CHARS ? line : `${line.slice(0, STATUS_MAX_CHARS - 1)}…`;
}

/** $WATCHDOG_USEC when the watchdog is this process's (sd_watchdog_enabled(3)), else undefined. */
function watchdogUsec(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = env['WATCHDOG_USEC'];
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  const owner = env['WATCHDOG_PID'];
  if (owner !== undefined && owner !== '' && owner !== String(pid)) return undefined;
  return Number(usec);
}

/** The addon's sdNotify, loaded at the first message; a missing addon is reported once and notifies nothing. */
function nativeSender(): NotifySend {
  let native: NotifySend | undefined;
  let unavailable = false;
  return (message) => {
    if (native === undefined) {
      if (unavailable) return false;
      try {
        const addon = loadSrtNative();
        native = (m) => addon.sdNotify(m);
      } catch (err) {
        unavailable = true;
        log.error(`cannot notify systemd: ${describeError(err)}`, { err });
        return false;
      }
    }
    return native(message);
  };
}
