/**
 * The link emulator: several emulated uplinks sharing one delivery timer.
 * Usable in-process (tests, benchmarks, `fieldcast demo`) and from
 * `fieldcast linksim`.
 *
 *   const sim = new LinkSim({ target: '127.0.0.1:5000', links: VENUE_LINKS });
 *   await sim.start();
 *   sim.link('cell-a').address   // give this to the sender as the link's `via`
 *   sim.link('cell-a').set({ outage: 15 });
 *   sim.stats(); sim.close();
 */
import { performance } from 'node:perf_hooks';
import { parseHostPort } from '../lib/hostport.js';
import { type DirectionParams, type LinkSimConfig, type LinkSimConfigInput, parseDirectionPatch, parseLinkSimConfig } from './config.js';
import { LinkSimUsageError } from './errors.js';
import { type LinkChange, type LinkStats, SimLink } from './link.js';
import { TimerHeap } from './timer-heap.js';

export interface LinkChangeInput {
  up?: unknown;
  down?: unknown;
  outage?: number;
}

/** A running link as the API hands it out. */
export interface LinkHandle {
  readonly name: string;
  /** host:port the sender's link sends to. */
  readonly address: string;
  /** Validated live change; throws LinkSimConfigError and changes nothing if any part is wrong. */
  set(change: LinkChangeInput): void;
  stats(): LinkStats;
  /** The link's settings now, each direction whole (rate in bit/s, 0 = unlimited). */
  params(): { up: Readonly<DirectionParams>; down: Readonly<DirectionParams> };
}

export class LinkSim {
  readonly config: LinkSimConfig;
  private readonly heap: TimerHeap;
  private readonly links = new Map<string, SimLink>();
  private readonly clock = (): number => performance.now();
  private started = false;
  private closed = false;

  /** Validates at once: a bad config throws LinkSimConfigError before anything opens. */
  constructor(config: LinkSimConfigInput, source?: string) {
    this.config = parseLinkSimConfig(config, source);
    this.heap = new TimerHeap(this.clock);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      for (const spec of this.config.links) {
        const target = parseHostPort((spec.target ?? this.config.target)!, 'target');
        const link = new SimLink(spec, { heap: this.heap, now: this.clock, seed: this.config.seed, target });
        this.links.set(spec.name, link);
        await link.start(parseHostPort(spec.listen, 'listen', true));
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get names(): string[] {
    return [...this.links.keys()];
  }

  link(name: string): LinkHandle {
    const l = this.links.get(name);
    if (!l) throw new LinkSimUsageError(`no emulated link named "${name}" (links: ${this.names.join(', ')})`, { name });
    return {
      name,
      address: l.address,
      set: (change) => l.set(validateChange(change, name)),
      stats: () => l.stats(),
      params: () => l.params,
    };
  }

  stats(): LinkStats[] {
    return [...this.links.values()].map((l) => l.stats());
  }

  /** Idempotent: stops the timer, closes every relay socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heap.close();
    for (const l of this.links.values()) l.close();
  }
}

function validateChange(change: LinkChangeInput, name: string): LinkChange {
  const out: LinkChange = {};
  if (change.up !== undefined) out.up = parseDirectionPatch(change.up, `change to ${name}.up`);
  if (change.down !== undefined) out.down = parseDirectionPatch(change.down, `change to ${name}.down`);
  if (change.outage !== undefined) {
    if (!Number.isFinite(change.outage) || change.outage < 0 || change.outage > 86_400) {
      throw new LinkSimUsageError(`outage for ${name} must be 0 to 86400 seconds (got ${change.outage})`);
    }
    out.outage = change.outage;
  }
  return out;
}
