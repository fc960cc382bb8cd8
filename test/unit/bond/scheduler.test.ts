/**
 * The scheduler driven through simulated links, deterministically: each link
 * is a bottleneck queue (rate, tail drop at 200 ms), a one-way delay with
 * jitter that never reorders, and random loss; the simulated receiver sends
 * an SRTLA ACK every 10 packets per link, echoes keepalives, and an SRT ACK
 * every 10 ms; a packet missing 400 ms after a later one arrived is NAKed.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/bond/scheduler.js';
import { SEQ_MAX, seqAdd, seqDiff } from '../../../src/bond/sequence.js';

class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

interface SimLinkSpec {
  id: string;
  rateBps: number;
  rttMs: number;
  jitterMs?: number;
  loss?: number;
  priority?: number;
  backupOnly?: boolean;
  metered?: boolean;
}

type Ev = () => void;

/** What the simulation drives: Fieldcast's Scheduler, or the common sender's rule below. */
type Sched = Pick<
  Scheduler,
  'addLink' | 'onRegistered' | 'send' | 'onReceive' | 'onKeepaliveRtt' | 'onSrtlaAck' | 'onSrtAck' | 'onNak' | 'tick'
>;

/**
 * The common sender's rule (SRTLA.md "Sending"), as a baseline: the live link
 * with the highest window / (in_flight + 1); SRTLA ACK grows the window, a NAK
 * shrinks it; SRT ACK clears in-flight.
 */
class CommonScheduler implements Sched {
  private readonly links = new Map<string, { window: number; inFlight: Set<number> }>();
  addLink(id: string): void {
    this.links.set(id, { window: 20_000, inFlight: new Set() });
  }
  onRegistered(): void {}
  onReceive(): void {}
  onKeepaliveRtt(): void {}
  tick(): string[] {
    return [];
  }
  send(seq: number): string | undefined {
    let best: string | undefined;
    let score = -1;
    for (const [id, l] of this.links) {
      const sc = l.window / (l.inFlight.size + 1);
      if (sc > score) {
        score = sc;
        best = id;
      }
    }
    if (best) this.links.get(best)!.inFlight.add(seq);
    return best;
  }
  onSrtlaAck(id: string, seqs: readonly number[]): void {
    const l = this.links.get(id)!;
    for (const s of seqs) if (l.inFlight.delete(s)) l.window = Math.min(60_000, l.window + 30);
  }
  onSrtAck(ack: number): void {
    for (const l of this.links.values()) for (const s of l.inFlight) if (seqDiff(s, ack) < 0) l.inFlight.delete(s);
  }
  onNak(ranges: readonly { from: number; to: number }[]): void {
    for (const r of ranges) for (const l of this.links.values()) if (l.inFlight.delete(r.from)) l.window = Math.max(1000, l.window - 100);
  }
}

/** Registration as the scheduler reads it, for tests whose links the receiver has accepted. */
const EVERY_LINK_REGISTERED = { isRegistered: () => true };

class Sim {
  now = 0;
  private readonly events = new Map<number, Ev[]>();
  readonly sched: Sched;
  readonly links = new Map<string, SimLink>();
  readonly arrivals: number[] = [];
  readonly arrivedAt = new Map<number, number>();
  /** Every data packet that arrived, by link. */
  readonly delivered = new Map<string, number>();
  readonly sentBy = new Map<string, number>();
  private readonly received = new Set<number>();
  private nextExpected: number;
  private highest: number | undefined;
  private readonly missingSince = new Map<number, number>();
  nextSeq: number;
  /** Packets the scheduler gave no link. */
  unrouted = 0;
  private loadAcc = 0;

  constructor(specs: SimLinkSpec[], firstSeq = 1000, sched: Sched = new Scheduler(EVERY_LINK_REGISTERED)) {
    this.sched = sched;
    this.nextSeq = firstSeq;
    this.nextExpected = firstSeq;
    for (const s of specs) this.addLink(s);
  }

  addLink(s: SimLinkSpec): void {
    const l = new SimLink(s, this, new Rng(s.id.charCodeAt(s.id.length - 1) * 7919 + s.rttMs));
    this.links.set(s.id, l);
    this.sched.addLink(s.id, { priority: s.priority ?? 5, backupOnly: s.backupOnly ?? false, metered: s.metered ?? false }, this.now);
    this.sched.onRegistered(s.id, this.now);
  }

  at(t: number, fn: Ev): void {
    const k = Math.max(Math.ceil(t), this.now + 1);
    const list = this.events.get(k);
    if (list) list.push(fn);
    else this.events.set(k, [fn]);
  }

  /** Runs for `ms` with the source sending `loadBps` of 1316-byte payloads (1360 bytes with headers). */
  run(ms: number, loadBps: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now++;
      const due = this.events.get(this.now);
      if (due) {
        this.events.delete(this.now);
        for (const fn of due) fn();
      }
      this.loadAcc += loadBps / 8 / 1000;
      while (this.loadAcc >= 1360) {
        this.loadAcc -= 1360;
        const seq = this.nextSeq;
        this.nextSeq = seqAdd(seq, 1);
        const id = this.sched.send(seq, 1360, this.now);
        if (id) {
          this.sentBy.set(id, (this.sentBy.get(id) ?? 0) + 1);
          this.links.get(id)!.sendData(seq, 1360);
        } else this.unrouted++;
      }
      if (this.now % 100 === 0) for (const l of this.links.values()) l.sendKeepalive();
      if (this.now % 10 === 0) this.srtAck();
      if (this.now % 5 === 0) this.naks();
      this.sched.tick(this.now);
    }
  }

  get fc(): Scheduler {
    return this.sched as Scheduler;
  }

  onData(link: SimLink, seq: number): void {
    this.arrivals.push(seq);
    this.arrivedAt.set(seq, this.now);
    this.delivered.set(link.spec.id, (this.delivered.get(link.spec.id) ?? 0) + 1);
    this.received.add(seq);
    this.missingSince.delete(seq);
    if (this.highest === undefined || seqDiff(seq, this.highest) > 0) {
      if (this.highest !== undefined) {
        for (let s = seqAdd(this.highest, 1); s !== seq; s = seqAdd(s, 1)) if (!this.received.has(s)) this.missingSince.set(s, this.now);
      }
      this.highest = seq;
    }
    while (this.received.has(this.nextExpected)) {
      this.received.delete(this.nextExpected);
      this.nextExpected = seqAdd(this.nextExpected, 1);
    }
  }

  private srtAck(): void {
    const ack = this.nextExpected;
    const fastest = [...this.links.values()].filter((l) => !l.dark).sort((a, b) => a.spec.rttMs - b.spec.rttMs)[0];
    if (fastest) this.at(this.now + fastest.spec.rttMs / 2, () => this.sched.onSrtAck(ack, this.now));
  }

  private naks(): void {
    const lost: number[] = [];
    for (const [seq, t] of this.missingSince) {
      if (this.now - t > 400) {
        lost.push(seq);
        this.missingSince.delete(seq);
        this.received.add(seq); // SRT would retransmit it; count it as recovered
      }
    }
    if (lost.length === 0) return;
    while (this.received.has(this.nextExpected)) {
      this.received.delete(this.nextExpected);
      this.nextExpected = seqAdd(this.nextExpected, 1);
    }
    const ranges = lost.map((s) => ({ from: s, to: s }));
    this.at(this.now + 20, () => this.sched.onNak(ranges, this.now));
  }

  /**
   * Fraction of packets that arrived more than `ms` after some higher
   * sequence number: what a receiver's reorder stage of that depth cannot put
   * back in order, and what an SRT listener then reports lost.
   */
  lateFraction(ms: number, fromSeq: number): number {
    const seqs = [...this.arrivedAt.keys()].filter((s) => seqDiff(s, fromSeq) >= 0).sort((a, b) => seqDiff(a, b));
    let minLater = Infinity;
    let late = 0;
    for (let i = seqs.length - 1; i >= 0; i--) {
      const t = this.arrivedAt.get(seqs[i]!)!;
      if (t - minLater > ms) late++;
      minLater = Math.min(minLater, t);
    }
    return seqs.length ? late / seqs.length : 0;
  }

  /** Fraction of arrivals that came after a higher sequence number (what an SRT listener would NAK at once). */
  reorderFraction(): number {
    let hi: number | undefined;
    let late = 0;
    for (const s of this.arrivals) {
      if (hi !== undefined && seqDiff(s, hi) < 0) late++;
      else hi = s;
    }
    return this.arrivals.length ? late / this.arrivals.length : 0;
  }
}

class SimLink {
  dark = false;
  /** Data packets lost to the bottleneck queue's tail drop, and to the link being dark. */
  tailDrops = 0;
  darkDrops = 0;
  private busyUntil = 0;
  private lastArrival = 0;
  private sinceAck: number[] = [];

  constructor(
    readonly spec: SimLinkSpec,
    private readonly sim: Sim,
    private readonly rng: Rng,
  ) {}

  /** Through the bottleneck queue and the path; undefined if dropped. */
  private transit(bytes: number, data = false): number | undefined {
    const now = this.sim.now;
    const start = Math.max(now, this.busyUntil);
    if (start - now > 200) {
      if (data) this.tailDrops++;
      return undefined;
    }
    this.busyUntil = start + (bytes * 8 * 1000) / this.spec.rateBps;
    if (this.dark) {
      if (data) this.darkDrops++;
      return undefined;
    }
    if (this.rng.next() < (this.spec.loss ?? 0)) return undefined;
    const j = this.spec.jitterMs ?? 0;
    const arrival = Math.max(this.lastArrival, this.busyUntil + this.spec.rttMs / 2 + (this.rng.next() * 2 - 1) * j);
    this.lastArrival = arrival;
    return arrival;
  }

  sendData(seq: number, bytes: number): void {
    const t = this.transit(bytes, true);
    if (t === undefined) return;
    this.sim.at(t, () => {
      this.sim.onData(this, seq);
      this.sinceAck.push(seq);
      if (this.sinceAck.length >= 10) {
        const seqs = this.sinceAck;
        this.sinceAck = [];
        this.back(() => this.sim.sched.onSrtlaAck(this.spec.id, seqs, this.sim.now));
      }
    });
  }

  sendKeepalive(): void {
    const sentAt = this.sim.now;
    const t = this.transit(38);
    if (t === undefined) return;
    this.sim.at(t, () => this.back(() => this.sim.sched.onKeepaliveRtt(this.spec.id, this.sim.now - sentAt, sentAt, this.sim.now)));
  }

  private back(fn: () => void): void {
    if (this.dark) return;
    this.sim.at(this.sim.now + this.spec.rttMs / 2, () => {
      if (this.dark) return;
      this.sim.sched.onReceive(this.spec.id, this.sim.now);
      fn();
    });
  }
}

const VENUE: SimLinkSpec[] = [
  { id: 'cell-a', rateBps: 8e6, rttMs: 40, jitterMs: 10, loss: 0.005 },
  { id: 'cell-b', rateBps: 5e6, rttMs: 70, jitterMs: 20, loss: 0.01 },
  { id: 'cell-c', rateBps: 3e6, rttMs: 120, jitterMs: 40, loss: 0.03 },
];

function share(sim: Sim, id: string): number {
  const total = [...sim.sentBy.values()].reduce((a, b) => a + b, 0);
  return (sim.sentBy.get(id) ?? 0) / total;
}

describe('bonding scheduler on simulated links', () => {
  it('carries 85% of the summed capacity of three unequal links, arriving in order far more than the common rule', () => {
    const sim = new Sim(VENUE);
    const common = new Sim(VENUE, 1000, new CommonScheduler());
    for (const s of [sim, common]) s.run(15_000, 13.6e6);
    const sent = [...sim.sentBy.values()].reduce((a, b) => a + b, 0);
    const delivered = [...sim.delivered.values()].reduce((a, b) => a + b, 0);
    // Only the links' own random loss (about 1.3% here) goes missing: nothing is tail-dropped.
    expect(delivered / sent).toBeGreaterThan(0.98);
    // A reorder stage of 50 ms puts nearly everything back in order; the common rule leaves 5x more late.
    const late = sim.lateFraction(50, 1000);
    expect(late).toBeLessThan(0.04);
    expect(late * 3).toBeLessThan(common.lateFraction(50, 1000));
    // Every link carries part of the stream, the fast one the most.
    expect(share(sim, 'cell-a')).toBeGreaterThan(0.45);
    expect(share(sim, 'cell-c')).toBeGreaterThan(0.02);
    // The capacity estimate is in the right range for the bitrate controller.
    const cap = sim.fc.capacityBps(sim.now);
    expect(cap).toBeGreaterThan(13e6);
    expect(cap).toBeLessThan(19e6);
    const a = sim.fc.stats(sim.now).find((s) => s.id === 'cell-a')!;
    expect(a.capacityBps).toBeGreaterThan(6.5e6);
    expect(a.capacityBps).toBeLessThan(9e6);
  });

  it('at half load keeps the slow jittery link nearly idle and arrivals in order', () => {
    const sim = new Sim(VENUE);
    const common = new Sim(VENUE, 1000, new CommonScheduler());
    for (const s of [sim, common]) s.run(12_000, 8e6);
    expect(sim.lateFraction(20, 1000)).toBeLessThan(0.05);
    expect(common.lateFraction(20, 1000)).toBeGreaterThan(0.15);
    expect(share(sim, 'cell-c')).toBeLessThan(0.1);
    expect(sim.fc.stats(sim.now).find((s) => s.id === 'cell-a')!.why).toBeUndefined();
  });

  it('moves traffic off a link that goes dark within 300 ms and loses nothing more to it', () => {
    const sim = new Sim(VENUE);
    sim.run(6000, 9e6);
    const a = sim.links.get('cell-a')!;
    a.dark = true;
    sim.run(300, 9e6);
    expect(sim.fc.stateOf('cell-a')).toBe('stalled');
    expect(a.darkDrops).toBeGreaterThan(0);
    const sentTotal = () => [...sim.sentBy.values()].reduce((x, y) => x + y, 0);
    const before = { a: sim.sentBy.get('cell-a') ?? 0, dark: a.darkDrops, unrouted: sim.unrouted, next: sim.nextSeq, sent: sentTotal() };
    sim.run(2000, 9e6);
    // From then on the dark link gets nothing, and every packet still gets a link. (The two left
    // carry 8 of the 9 Mbit/s offered: their queues overflow until the encoder follows, which
    // is the bit rate controller's part, not the scheduler's.)
    expect(sim.sentBy.get('cell-a') ?? 0).toBe(before.a);
    expect(a.darkDrops).toBe(before.dark);
    expect(sim.unrouted).toBe(before.unrouted);
    expect(sentTotal() - before.sent).toBe(seqDiff(sim.nextSeq, before.next));
    const stats = sim.fc.stats(sim.now).find((s) => s.id === 'cell-a')!;
    expect(stats.state).toBe('stalled');
    expect(stats.why).toMatch(/no answer/);
    // It comes back when it answers again.
    a.dark = false;
    sim.run(1500, 9e6);
    expect(sim.fc.stateOf('cell-a')).toBe('live');
    expect(sim.sentBy.get('cell-a')!).toBeGreaterThan(before.a);
  });

  it('keeps every link when the whole process pauses, and stalls only a link left behind', () => {
    const s = new Scheduler(EVERY_LINK_REGISTERED);
    for (const id of ['a', 'b']) {
      s.addLink(id, {}, 0);
      s.onRegistered(id, 0);
    }
    // A 450 ms pause (garbage collection, a busy machine): nothing was read on any link meanwhile.
    expect(s.tick(450)).toEqual([]);
    expect(s.stateOf('a')).toBe('live');
    expect(s.stateOf('b')).toBe('live');
    // Afterwards b answers and a stays silent: a is behind and its traffic moves.
    for (let t = 610; t <= 900; t += 10) {
      s.onReceive('b', t);
      s.tick(t);
    }
    expect(s.stateOf('a')).toBe('stalled');
    expect(s.stateOf('b')).toBe('live');
    expect(s.send(1, 1316, 900)).toBe('b');
    // Every link silent for over ALL_SILENT_STALL_MS (the receiver is gone): they all stall.
    s.tick(2000);
    expect(s.stateOf('b')).toBe('stalled');
  });

  it('holds back a retransmission while the first copy is still due, and lets it through once that copy is overdue or its link dark', () => {
    const s = new Scheduler(EVERY_LINK_REGISTERED);
    for (const id of ['a', 'b']) {
      s.addLink(id, {}, 0);
      s.onRegistered(id, 0);
    }
    for (let t = 0; t <= 1000; t += 10) {
      for (const id of ['a', 'b']) {
        s.onReceive(id, t);
        if (t % 100 === 0) s.onKeepaliveRtt(id, id === 'a' ? 40 : 120, t - (id === 'a' ? 40 : 120), t);
      }
    }
    expect(s.send(7, 1316, 1000)).toBe('a'); // the 40 ms link: it arrives first
    // SRT asks again 10 ms later (a premature NAK): the copy is still on its way.
    s.onNak([{ from: 7, to: 7 }], 1010);
    expect(s.redundantRetransmission(7, 1010)).toBe(true);
    // Long after the copy was due, it was really lost: the retransmission goes.
    expect(s.redundantRetransmission(7, 1600)).toBe(false);
    // A copy that its link reported delivered needs no repair at all.
    const link8 = s.send(8, 1316, 1600)!;
    s.onSrtlaAck(link8, [8], 1650);
    expect(s.redundantRetransmission(8, 1700)).toBe(true);
    // A copy on a link that went dark does not hold anything back.
    const link9 = s.send(9, 1316, 1700)!;
    expect(s.redundantRetransmission(9, 1700)).toBe(true);
    const other = link9 === 'a' ? 'b' : 'a';
    for (let t = 1700; t <= 2100; t += 10) {
      s.onReceive(other, t);
      s.tick(t);
    }
    expect(s.stateOf(link9)).toBe('stalled');
    expect(s.redundantRetransmission(9, 2100)).toBe(false);
  });

  it('fills higher-priority links first and uses a lower one only for what they cannot carry', () => {
    const sim = new Sim([
      { id: 'eth', rateBps: 10e6, rttMs: 30, priority: 9 },
      { id: 'cell', rateBps: 6e6, rttMs: 50, priority: 3 },
    ]);
    sim.run(8000, 5e6);
    const cellEarly = sim.sentBy.get('cell') ?? 0;
    expect(cellEarly / (sim.sentBy.get('eth') ?? 1)).toBeLessThan(0.02);
    expect(sim.fc.stats(sim.now).find((s) => s.id === 'cell')!.why).toMatch(/higher-priority/);
    sim.run(8000, 13e6);
    const cellLate = (sim.sentBy.get('cell') ?? 0) - cellEarly;
    expect(cellLate).toBeGreaterThan(1000);
  });

  it('keeps a backup-only link idle until the others cannot carry the stream', () => {
    const sim = new Sim([
      { id: 'cell-a', rateBps: 6e6, rttMs: 40 },
      { id: 'sat', rateBps: 6e6, rttMs: 30, backupOnly: true },
    ]);
    sim.run(6000, 3e6);
    expect(sim.sentBy.get('sat') ?? 0).toBe(0);
    expect(sim.fc.stats(sim.now).find((s) => s.id === 'sat')!.state).toBe('backup-idle');
    sim.links.get('cell-a')!.dark = true;
    sim.run(1000, 3e6);
    expect(sim.sentBy.get('sat') ?? 0).toBeGreaterThan(100);
  });

  it('metered links "when needed": the free link carries all it can, the metered ones only the rest, and take over when it fails', () => {
    const links = (): SimLinkSpec[] => [
      { id: 'eth', rateBps: 10e6, rttMs: 30 },
      { id: 'cell-a', rateBps: 8e6, rttMs: 20, metered: true, priority: 9 }, // faster and preferred: cost still comes first
      { id: 'cell-b', rateBps: 5e6, rttMs: 60, metered: true },
    ];
    const sim = new Sim(links());
    sim.run(8000, 6e6);
    const metered = (): number => (sim.sentBy.get('cell-a') ?? 0) + (sim.sentBy.get('cell-b') ?? 0);
    expect(metered() / (metered() + (sim.sentBy.get('eth') ?? 0))).toBeLessThan(0.01);
    expect(sim.fc.stats(sim.now).find((s) => s.id === 'cell-a')).toMatchObject({
      metered: true,
      why: 'metered: idle while the free links carry the stream',
    });
    // More than the free link carries: the metered links take only the excess.
    const before = metered();
    sim.run(4000, 14e6);
    const excess = metered() - before;
    expect(excess).toBeGreaterThan(0);
    expect(excess / ((14e6 * 4) / 8 / 1360)).toBeLessThan(0.5);
    // The free link fails: the metered links carry the stream.
    sim.links.get('eth')!.dark = true;
    const atFailure = metered();
    sim.run(2000, 6e6);
    expect(metered() - atFailure).toBeGreaterThan(((6e6 * 1.5) / 8 / 1360) * 0.8);
    // Bonded alike: the preferred metered link carries at once.
    const alike = new Sim(links());
    alike.fc.meteredWhenNeeded = false;
    alike.run(4000, 6e6);
    expect(alike.sentBy.get('cell-a') ?? 0).toBeGreaterThan(alike.sentBy.get('eth') ?? 0);
  });

  it('attributes losses to the link that carried them', () => {
    const sim = new Sim([
      { id: 'clean', rateBps: 6e6, rttMs: 40 },
      { id: 'lossy', rateBps: 6e6, rttMs: 40, loss: 0.05 },
    ]);
    sim.run(10_000, 8e6);
    const st = sim.fc.stats(sim.now);
    const clean = st.find((s) => s.id === 'clean')!;
    const lossy = st.find((s) => s.id === 'lossy')!;
    expect(lossy.lostPackets).toBeGreaterThan(50);
    expect(clean.lostPackets).toBe(0);
    expect(lossy.loss).toBeGreaterThan(clean.loss);
  });

  it('carries on across the 31-bit sequence wrap', () => {
    const sim = new Sim(VENUE, SEQ_MAX - 3000);
    sim.run(8000, 9e6);
    // The run crossed the wrap (the source numbers from 0 again)…
    expect(sim.nextSeq).toBeGreaterThan(3000);
    expect(sim.nextSeq).toBeLessThan(SEQ_MAX - 3000);
    // …and the packets numbered after it arrived like those before: all but the links' own
    // random loss (about 1.3%) and what is still on its way at the end.
    const after = [...sim.arrivedAt.keys()].filter((seq) => seq < sim.nextSeq).length;
    const beforeWrap = [...sim.arrivedAt.keys()].filter((seq) => seq > sim.nextSeq).length;
    expect(beforeWrap / 3001).toBeGreaterThan(0.97);
    expect(after / sim.nextSeq).toBeGreaterThan(0.95);
    // SRT ACKs numbered after the wrap still clear what is in flight.
    for (const s of sim.fc.stats(sim.now)) expect(s.inFlight).toBeLessThan(400);
    expect(sim.unrouted).toBe(0);
  });

  it('starts using a link added mid-stream', () => {
    const sim = new Sim([{ id: 'cell-a', rateBps: 5e6, rttMs: 40 }]);
    sim.run(4000, 7e6);
    sim.addLink({ id: 'cell-b', rateBps: 5e6, rttMs: 60 });
    sim.run(2000, 7e6);
    expect(sim.sentBy.get('cell-b') ?? 0).toBeGreaterThan(200);
    sim.fc.removeLink('cell-b');
    sim.links.delete('cell-b');
    const before = sim.sentBy.get('cell-b') ?? 0;
    sim.run(500, 3e6);
    expect(sim.sentBy.get('cell-b') ?? 0).toBe(before);
  });

  it('reports links that are not registered, and routes nothing without links', () => {
    const registered = new Set<string>();
    const s = new Scheduler({ isRegistered: (id) => registered.has(id) });
    expect(s.send(1, 1316, 0)).toBeUndefined();
    s.addLink('x', {}, 0);
    expect(s.send(1, 1316, 0)).toBeUndefined();
    expect(s.stats(0)[0]).toMatchObject({ state: 'registering', why: expect.stringMatching(/waiting/) });
    registered.add('x');
    s.onRegistered('x', 0);
    expect(s.send(1, 1316, 1)).toBe('x');
  });
});
