/**
 * One direction of an emulated link as a pure model: no I/O, the clock is a
 * parameter (ms), the randomness a seeded Prng. For each packet offered it
 * says when it is delivered or why it is dropped.
 *
 * Order of the stages, as on a real cellular uplink: an outage drops
 * everything; the bottleneck queue (token bucket shaping, tail drop beyond
 * the queue limit); radio loss (the packet used its slot, then is lost);
 * propagation delay and jitter.
 *
 * Rate: GCRA, the virtual-scheduling form of a token bucket (ITU-T I.371):
 * a packet leaves at max(now, TAT - tau) and TAT advances by its
 * serialisation time, tau being the bucket depth in time.
 *
 * Loss: Gilbert-Elliott with loss 1 in Bad and 0 in Good. With mean burst
 * length b and long-run loss rate p: P(Bad->Good) = r = 1/b, and the
 * stationary Bad share p = q/(q+r) gives P(Good->Bad) = q = p*r/(1-p).
 * b = 1 means independent (Bernoulli) loss instead, whose runs average
 * 1/(1-p).
 */
import { applyPatch, DIRECTION_DEFAULTS, type DirectionParams, type DirectionPatch } from './config.js';
import type { Prng } from './prng.js';

export type DropReason = 'loss' | 'queue' | 'outage';

export type Verdict = { deliverAt: number; drop?: undefined } | { deliverAt?: undefined; drop: DropReason };

export interface DirectionStats {
  packetsIn: number;
  bytesIn: number;
  delivered: number;
  bytesDelivered: number;
  droppedLoss: number;
  droppedQueue: number;
  droppedOutage: number;
  /** Packets waiting in the bottleneck queue now. */
  queuePackets: number;
  /** Queueing delay a packet arriving now would see, ms. */
  queueMs: number;
}

export class Impairment {
  private p: DirectionParams;
  private tat = 0;
  /** Departure times of the packets in the bottleneck queue, oldest first (a ring would do; the queue is short). */
  private departures: number[] = [];
  private depHead = 0;
  private bad = false;
  private lastDelivery = Number.NEGATIVE_INFINITY;
  private outageFrom = Number.POSITIVE_INFINITY;
  private outageUntil = Number.NEGATIVE_INFINITY;
  private readonly counts = {
    packetsIn: 0,
    bytesIn: 0,
    delivered: 0,
    bytesDelivered: 0,
    droppedLoss: 0,
    droppedQueue: 0,
    droppedOutage: 0,
  };

  constructor(
    params: Partial<DirectionParams>,
    private readonly rng: Prng,
  ) {
    this.p = { ...DIRECTION_DEFAULTS, ...params };
  }

  get params(): Readonly<DirectionParams> {
    return this.p;
  }

  set(patch: DirectionPatch): void {
    this.p = applyPatch(this.p, patch);
  }

  /** Dark from `now` for `ms` (0 ends an outage). */
  outage(now: number, ms: number): void {
    this.outageFrom = now;
    this.outageUntil = now + ms;
  }

  inOutage(now: number): boolean {
    return now >= this.outageFrom && now < this.outageUntil;
  }

  /** Decides the fate of a packet of `size` bytes offered at `now`. */
  offer(now: number, size: number): Verdict {
    this.counts.packetsIn++;
    this.counts.bytesIn += size;
    if (this.inOutage(now)) {
      this.counts.droppedOutage++;
      return { drop: 'outage' };
    }
    this.expire(now);
    let departure = now;
    const { rate } = this.p;
    if (rate > 0) {
      const tau = (this.p.burstBytes * 8000) / rate;
      departure = Math.max(now, this.tat - tau);
      if (this.queued() >= this.p.queuePackets || departure - now > this.p.queueMs) {
        this.counts.droppedQueue++;
        return { drop: 'queue' };
      }
      this.tat = Math.max(this.tat, now) + (size * 8000) / rate;
      if (departure > now) this.departures.push(departure);
    }
    if (this.lose()) {
      this.counts.droppedLoss++;
      return { drop: 'loss' };
    }
    let at = departure + this.p.delayMs;
    if (this.p.jitterMs > 0) at = Math.max(departure, at + this.rng.uniform(-this.p.jitterMs, this.p.jitterMs));
    if (!this.p.reorder) at = Math.max(at, this.lastDelivery);
    this.lastDelivery = Math.max(this.lastDelivery, at);
    return { deliverAt: at };
  }

  /** Called when a delivery happens (or is cancelled by an outage that began meanwhile). */
  delivered(size: number): void {
    this.counts.delivered++;
    this.counts.bytesDelivered += size;
  }

  lostInOutage(): void {
    this.counts.droppedOutage++;
  }

  stats(now: number): DirectionStats {
    this.expire(now);
    const rate = this.p.rate;
    const queueMs = rate > 0 ? Math.max(0, this.tat - (this.p.burstBytes * 8000) / rate - now) : 0;
    return { ...this.counts, queuePackets: this.queued(), queueMs };
  }

  private queued(): number {
    return this.departures.length - this.depHead;
  }

  private expire(now: number): void {
    const d = this.departures;
    while (this.depHead < d.length && d[this.depHead]! <= now) this.depHead++;
    if (this.depHead > 1024 && this.depHead * 2 > d.length) {
      this.departures = d.slice(this.depHead);
      this.depHead = 0;
    }
  }

  private lose(): boolean {
    const { loss, burst } = this.p;
    if (loss <= 0) {
      this.bad = false;
      return false;
    }
    if (loss >= 1) return true;
    if (burst <= 1) return this.rng.next() < loss;
    const r = 1 / burst;
    const q = Math.min(1, (loss * r) / (1 - loss));
    // Transition, then the state decides this packet (loss 1 in Bad, 0 in Good).
    this.bad = this.bad ? this.rng.next() >= r : this.rng.next() < q;
    return this.bad;
  }
}
