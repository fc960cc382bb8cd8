import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogRecord, setLogSink } from '../../../src/lib/logger.js';
import {
  type NotifierClock,
  STATUS_MAX_CHARS,
  STATUS_MIN_INTERVAL_MS,
  SystemdNotifier,
  type SystemdNotifierOptions,
} from '../../../src/supervisor/systemd.js';

/** Timers that run only when the test moves time on. */
class ManualClock implements NotifierClock {
  private t = 1000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

interface Sent {
  at: number;
  message: string;
}

let clock: ManualClock;
let sent: Sent[];
let records: LogRecord[];
let notifiers: SystemdNotifier[];

function notifier(options: Partial<SystemdNotifierOptions> = {}): SystemdNotifier {
  const n = new SystemdNotifier({
    send: (message) => {
      sent.push({ at: clock.now(), message });
      return true;
    },
    env: { NOTIFY_SOCKET: '/run/systemd/notify' },
    pid: 4242,
    clock,
    ...options,
  });
  notifiers.push(n);
  return n;
}

const messages = (): string[] => sent.map((s) => s.message);
const pings = (): Sent[] => sent.filter((s) => s.message === 'WATCHDOG=1');

beforeEach(() => {
  clock = new ManualClock();
  sent = [];
  records = [];
  notifiers = [];
  setLogSink((r) => records.push(r));
});

afterEach(() => {
  for (const n of notifiers) n.stop();
  setLogSink(undefined);
});

describe('SystemdNotifier: ready, status, stopping', () => {
  it('sends READY=1 once, however often the supervisor says it is up', () => {
    const n = notifier();
    n.ready();
    n.ready();
    expect(messages()).toEqual(['READY=1']);
  });

  it('sends a status only when it changes', () => {
    const n = notifier();
    n.status('idle');
    clock.advance(1000);
    n.status('idle');
    clock.advance(1000);
    n.status('live');
    clock.advance(1000);
    n.status('live');
    expect(messages()).toEqual(['STATUS=idle', 'STATUS=live']);
  });

  it('sends at most one status per interval, and the latest when the interval is up', () => {
    const n = notifier();
    n.status('starting');
    n.status('live');
    n.status('degraded: cell-b down');
    expect(messages()).toEqual(['STATUS=starting']);
    clock.advance(STATUS_MIN_INTERVAL_MS - 1);
    expect(messages()).toEqual(['STATUS=starting']);
    clock.advance(1);
    expect(sent).toEqual([
      { at: 1000, message: 'STATUS=starting' },
      { at: 1000 + STATUS_MIN_INTERVAL_MS, message: 'STATUS=degraded: cell-b down' },
    ]);
    expect(clock.pending).toBe(0);
  });

  it('a state that flaps and comes back within the interval sends nothing more', () => {
    const n = notifier();
    n.status('live');
    n.status('degraded');
    n.status('live');
    clock.advance(5 * STATUS_MIN_INTERVAL_MS);
    expect(messages()).toEqual(['STATUS=live']);
  });

  it('a flapping state reaches systemd no more than a few times a second', () => {
    const n = notifier();
    for (let i = 0; i < 1000; i++) {
      n.status(i % 2 === 0 ? 'live' : 'degraded');
      clock.advance(1);
    }
    clock.advance(STATUS_MIN_INTERVAL_MS);
    expect(sent.length).toBeLessThanOrEqual(1 + Math.ceil(1000 / STATUS_MIN_INTERVAL_MS) + 1);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(STATUS_MIN_INTERVAL_MS);
  });

  it('a status waiting for the interval goes with READY=1 and STOPPING=1', () => {
    const n = notifier();
    n.status('starting');
    n.status('idle: no destination configured');
    n.ready();
    n.status('stopping');
    n.stopping();
    expect(messages()).toEqual(['STATUS=starting', 'READY=1\nSTATUS=idle: no destination configured', 'STOPPING=1\nSTATUS=stopping']);
    clock.advance(10 * STATUS_MIN_INTERVAL_MS);
    expect(sent).toHaveLength(3);
  });

  it('keeps a status to one line, so a reason cannot carry other notify keys', () => {
    const n = notifier();
    n.status('error: peer said "bye\nREADY=1\nWATCHDOG=1"\r\t ');
    expect(messages()).toEqual(['STATUS=error: peer said "bye READY=1 WATCHDOG=1"']);
  });

  it('shortens a long status to one line of systemctl status', () => {
    const n = notifier();
    n.status('x'.repeat(5000));
    const status = sent[0]!.message.slice('STATUS='.length);
    expect(status).toHaveLength(STATUS_MAX_CHARS);
    expect(status.endsWith('…')).toBe(true);
  });

  it('sends nothing after stop(), and drops a status that was waiting', () => {
    const n = notifier();
    n.status('live');
    n.status('degraded');
    n.stop();
    n.stop();
    clock.advance(1000);
    n.ready();
    n.status('idle');
    n.stopping();
    expect(n.startWatchdog(() => true)).toBeUndefined();
    expect(messages()).toEqual(['STATUS=live']);
    expect(clock.pending).toBe(0);
  });
});

describe('SystemdNotifier: watchdog', () => {
  const env = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '10000000' };

  it('pets at half of WATCHDOG_USEC, at once and then each period', () => {
    const n = notifier({ env });
    expect(n.startWatchdog(() => true)).toBe(5000);
    clock.advance(20_000);
    expect(pings().map((p) => p.at - 1000)).toEqual([0, 5000, 10_000, 15_000, 20_000]);
  });

  it('pets only while healthy, and again once health comes back', () => {
    let healthy = true;
    const n = notifier({ env });
    n.startWatchdog(() => healthy);
    clock.advance(5000);
    healthy = false;
    clock.advance(30_000);
    expect(pings().map((p) => p.at - 1000)).toEqual([0, 5000]);
    healthy = true;
    clock.advance(5000);
    expect(pings().map((p) => p.at - 1000)).toEqual([0, 5000, 40_000]);
    const warnings = records.filter((r) => r.level === 'warn' && r.message.includes('not petted'));
    expect(warnings).toHaveLength(1);
  });

  it('a health check that throws counts as unhealthy, and the watchdog goes on', () => {
    let throws = true;
    const n = notifier({ env });
    n.startWatchdog(() => {
      if (throws) throw new Error('snapshot broken');
      return true;
    });
    clock.advance(10_000);
    expect(pings()).toHaveLength(0);
    expect(records.some((r) => r.level === 'error' && r.message.includes('health check threw'))).toBe(true);
    throws = false;
    clock.advance(5000);
    expect(pings()).toHaveLength(1);
  });

  it('is off without WATCHDOG_USEC, with a nonsense value, or when WATCHDOG_PID names another process', () => {
    const cases: Record<string, string | undefined>[] = [
      { NOTIFY_SOCKET: '/run/systemd/notify' },
      { ...env, WATCHDOG_USEC: '0' },
      { ...env, WATCHDOG_USEC: 'ten' },
      { ...env, WATCHDOG_USEC: '-5' },
      { ...env, WATCHDOG_PID: '1' },
    ];
    for (const e of cases) expect(notifier({ env: e }).startWatchdog(() => true)).toBeUndefined();
    clock.advance(60_000);
    expect(sent).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });

  it('runs when WATCHDOG_PID names this process', () => {
    expect(notifier({ env: { ...env, WATCHDOG_PID: '4242' } }).startWatchdog(() => true)).toBe(5000);
    expect(pings()).toHaveLength(1);
  });

  it('starting it again replaces the check instead of adding a second timer', () => {
    const n = notifier({ env });
    n.startWatchdog(() => false);
    n.startWatchdog(() => true);
    expect(clock.pending).toBe(1);
    clock.advance(10_000);
    expect(pings()).toHaveLength(3);
  });

  it('ends with STOPPING=1 and with stop()', () => {
    const a = notifier({ env });
    a.startWatchdog(() => true);
    a.stopping();
    const b = notifier({ env });
    b.startWatchdog(() => true);
    b.stop();
    clock.advance(60_000);
    expect(messages()).toEqual(['WATCHDOG=1', 'STOPPING=1', 'WATCHDOG=1']);
    expect(clock.pending).toBe(0);
  });
});

describe('SystemdNotifier outside systemd', () => {
  it('does nothing, and loads nothing, when NOTIFY_SOCKET is unset', () => {
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '1000000' }, clock });
    notifiers.push(n);
    expect(n.enabled).toBe(false);
    n.ready();
    n.status('idle');
    expect(n.startWatchdog(() => true)).toBeUndefined();
    n.stopping();
    expect(clock.pending).toBe(0);
    expect(records.filter((r) => r.level === 'warn' || r.level === 'error')).toEqual([]);
  });

  it('warns once while systemd does not take the messages, and again after it did', () => {
    let up = false;
    const n = notifier({ send: () => up, env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' } });
    n.startWatchdog(() => true);
    clock.advance(10_000);
    up = true;
    clock.advance(1000);
    up = false;
    clock.advance(1000);
    const warnings = records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.message).toContain('did not take');
  });
});
