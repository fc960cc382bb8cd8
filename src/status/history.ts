/**
 * The last ten minutes of each bonded link's bit rate and RTT, one sample a
 * second, for the status page's graphs: a page opened mid-show draws the
 * recent past at once and then extends it from the live feed. Fed from the
 * supervisor's snapshot each tick; bounded whatever links come and go.
 */
import type { StatusSnapshot } from '../supervisor/snapshot.js';

/** Ten minutes at one sample a second. */
export const HISTORY_SAMPLES = 600;

export interface LinkSeries {
  name: string;
  /** bit/s, null where the link was not there. */
  bps: (number | null)[];
  rttMs: (number | null)[];
}

export interface History {
  /** ms since the epoch, one per sample, oldest first. */
  at: number[];
  links: LinkSeries[];
}

export class LinkHistory {
  readonly #capacity: number;
  #at: number[] = [];
  #links = new Map<string, { bps: (number | null)[]; rttMs: (number | null)[] }>();

  constructor(capacity = HISTORY_SAMPLES) {
    this.#capacity = capacity;
  }

  push(s: StatusSnapshot): void {
    const now = Date.parse(s.at);
    const n = this.#at.length;
    const seen = new Set<string>();
    for (const l of s.bond?.links ?? []) {
      let series = this.#links.get(l.name);
      if (!series) {
        series = { bps: new Array<number | null>(n).fill(null), rttMs: new Array<number | null>(n).fill(null) };
        this.#links.set(l.name, series);
      }
      series.bps.push(Math.round(l.throughputBps));
      series.rttMs.push(l.rttMs === undefined ? null : Math.round(l.rttMs * 10) / 10);
      seen.add(l.name);
    }
    for (const [name, series] of this.#links) {
      if (seen.has(name)) continue;
      series.bps.push(null);
      series.rttMs.push(null);
    }
    this.#at.push(now);
    if (this.#at.length > this.#capacity) {
      const drop = this.#at.length - this.#capacity;
      this.#at.splice(0, drop);
      for (const [name, series] of this.#links) {
        series.bps.splice(0, drop);
        series.rttMs.splice(0, drop);
        // A link gone for the whole window leaves the graph.
        if (series.bps.every((v) => v === null)) this.#links.delete(name);
      }
    }
  }

  toJSON(): History {
    return {
      at: [...this.#at],
      links: [...this.#links].map(([name, s]) => ({ name, bps: [...s.bps], rttMs: [...s.rttMs] })),
    };
  }
}
