/**
 * The graphs' last 10 minutes, one sample a second per link: seeded from
 * GET /api/v1/history, then extended from the live feed (which comes twice a
 * second: the first snapshot of each new second is kept).
 */
import type { History, StatusSnapshot } from './types.ts';

export const WINDOW_S = 600;

export interface Series {
  /** Unix seconds (uPlot's x unit). */
  at: number[];
  names: string[];
  /** Per link, aligned with `at`. */
  bps: (number | null)[][];
  rttMs: (number | null)[][];
}

export class LinkHistory {
  #at: number[] = [];
  #names: string[] = [];
  #bps: (number | null)[][] = [];
  #rtt: (number | null)[][] = [];

  seed(h: History): void {
    this.#at = h.at.map((t) => Math.floor(t / 1000));
    this.#names = h.links.map((l) => l.name);
    this.#bps = h.links.map((l) => this.#fit(l.bps));
    this.#rtt = h.links.map((l) => this.#fit(l.rttMs));
    this.#trim();
  }

  /** Adds the snapshot's second, if it is a new one; true when something was added. */
  push(s: StatusSnapshot): boolean {
    const t = Math.floor(Date.parse(s.at) / 1000);
    if (!Number.isFinite(t) || (this.#at.length > 0 && t <= this.#at.at(-1)!)) return false;
    const links = linksOf(s);
    for (const l of links) {
      if (!this.#names.includes(l.name)) {
        this.#names.push(l.name);
        this.#bps.push(this.#at.map(() => null));
        this.#rtt.push(this.#at.map(() => null));
      }
    }
    this.#at.push(t);
    this.#names.forEach((name, i) => {
      const l = links.find((x) => x.name === name);
      this.#bps[i]!.push(l ? l.throughputBps : null);
      this.#rtt[i]!.push(l?.rttMs ?? null);
    });
    this.#trim();
    return true;
  }

  series(): Series {
    return { at: this.#at, names: this.#names, bps: this.#bps, rttMs: this.#rtt };
  }

  #fit(xs: (number | null)[]): (number | null)[] {
    const out = xs.slice(0, this.#at.length);
    while (out.length < this.#at.length) out.push(null);
    return out;
  }

  #trim(): void {
    const last = this.#at.at(-1);
    if (last === undefined) return;
    let drop = 0;
    while (drop < this.#at.length && this.#at[drop]! <= last - WINDOW_S) drop++;
    if (drop === 0) return;
    this.#at.splice(0, drop);
    for (const xs of this.#bps) xs.splice(0, drop);
    for (const xs of this.#rtt) xs.splice(0, drop);
  }
}

/** What each graph line is: the bonded links, or without bonding the destination itself. */
function linksOf(s: StatusSnapshot): { name: string; throughputBps: number; rttMs?: number }[] {
  if (s.bond) return s.bond.links;
  return s.destinations.filter((d) => d.state === 'live').map((d) => ({ name: d.name, throughputBps: d.sendRateBps, rttMs: d.rttMs }));
}
