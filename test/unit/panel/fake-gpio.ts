/**
 * Test doubles for the panel's controls: a FAKE in-memory GPIO backend (no
 * kernel, no sysfs: lines are numbers in a map) and a FAKE clock whose timers
 * run only when the test advances it.
 */
import type { PanelClock } from '../../../src/panel/controls-clock.js';
import type { GpioBackend, GpioEdge, GpioInput, GpioOutput, Level } from '../../../src/panel/gpio-backend.js';

export class FakeClock implements PanelClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Moves time to now+ms, running each timer due on the way at its own time. */
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

  /** A stuck event loop: time moves on by `ms`, then each timer overdue by then runs, late, at that time. */
  stall(ms: number): void {
    this.t += ms;
    const due = [...this.timers].filter(([, x]) => x.at <= this.t).sort((a, b) => a[1].at - b[1].at);
    for (const [id, x] of due) {
      this.timers.delete(id);
      x.fn();
    }
  }

  get pending(): number {
    return this.timers.size;
  }
}

interface FakeLine {
  direction: 'in' | 'out';
  activeLow: boolean;
  edge: GpioEdge;
  value: Level;
  watchers: Array<(v: Level) => void>;
  open: boolean;
}

/** A FAKE GPIO backend: `set` drives an input as a button would; `writes` records an output's history. */
export class FakeGpioBackend implements GpioBackend {
  readonly lines = new Map<number, FakeLine>();
  readonly writes = new Map<number, Array<{ value: Level; at: number }>>();
  /** Lines that refuse to open (as a busy line would). */
  readonly refuse = new Set<number>();

  constructor(private readonly clock?: FakeClock) {}

  input(line: number, opts: { activeLow: boolean; edge: GpioEdge }): GpioInput {
    if (this.refuse.has(line)) throw new Error(`fake: line ${line} is busy`);
    const l: FakeLine = { direction: 'in', activeLow: opts.activeLow, edge: opts.edge, value: 0, watchers: [], open: true };
    this.lines.set(line, l);
    return {
      read: () => l.value,
      watch: (cb) => {
        l.watchers.push(cb);
      },
      close: () => {
        l.open = false;
        l.watchers = [];
      },
    };
  }

  output(line: number, opts: { activeLow?: boolean } = {}): GpioOutput {
    if (this.refuse.has(line)) throw new Error(`fake: line ${line} is busy`);
    const l: FakeLine = { direction: 'out', activeLow: opts.activeLow ?? false, edge: 'none', value: 0, watchers: [], open: true };
    this.lines.set(line, l);
    this.writes.set(line, []);
    return {
      write: (value) => {
        if (!l.open) throw new Error('fake: write after close');
        l.value = value;
        this.writes.get(line)?.push({ value, at: this.clock?.now() ?? 0 });
      },
      read: () => l.value,
      close: () => {
        l.open = false;
      },
    };
  }

  /** Drives an input line (logical level) and tells its watchers, as an edge would. */
  set(line: number, value: Level): void {
    const l = this.lines.get(line);
    if (l?.direction !== 'in') throw new Error(`fake: line ${line} is not an open input`);
    if (l.value === value) return;
    l.value = value;
    for (const w of [...l.watchers]) w(value);
  }

  value(line: number): Level | undefined {
    return this.lines.get(line)?.value;
  }
}
