/**
 * What the sender knows about one uplink: RTT (smoothed and minimum), a
 * capacity estimate driving a virtual queue, in-flight data, loss, and
 * meters for the statistics. No I/O; every method takes the time (ms).
 *
 * The capacity estimate is delay-based. Each packet is stamped with the
 * queueing delay the estimate predicts for it (the virtual queue); an RTT
 * sample minus that prediction is the link's own delay. When that corrected
 * delay rises above its 10 s minimum, the link queues more than the estimate
 * believes: the estimate is too high and is cut toward the delivery rate
 * measured from SRTLA ACKs. While it stays flat and the link is loaded, the
 * estimate grows. Loss only cuts when the link is also queueing (tail drop);
 * random cellular loss does not shrink a link.
 */

/** Tuning of the per-link estimators; ms and bit/s. */
export const LINK_TUNING = {
  /** Capacity estimate of a new link (irlserver starts at 1 Mbit/s; 2 converges faster at these rates). */
  INITIAL_RATE_BPS: 2_000_000,
  MIN_RATE_BPS: 100_000,
  MAX_RATE_BPS: 1_000_000_000,
  /** Growth while loaded and not queueing, per second (multiplicative). */
  GROWTH_PER_S: 0.3,
  /** How long a link's ceiling (the rate at which it last queued) is remembered. */
  CEILING_MEMORY_MS: 30_000,
  /** Below this share of the ceiling the estimate grows fast again. */
  CEILING_SHARE: 0.85,
  /** Cut factor when queueing beyond the prediction and the delivery rate is unknown. */
  CUT_FACTOR: 0.85,
  /** Share of the measured delivery rate to settle at when a link queues: drains its queue. */
  DRAIN_FACTOR: 0.92,
  /** Queueing beyond prediction that stops growth: max(ms, share of the base RTT). */
  HOLD_MS: 12,
  HOLD_SHARE: 0.15,
  /** Queueing beyond prediction that cuts. */
  CUT_MS: 30,
  CUT_SHARE: 0.4,
  /** …and at least these multiples of the link's own delay variation (its radio jitter, not queueing). */
  HOLD_JITTER_K: 1.5,
  CUT_JITTER_K: 2.5,
  /**
   * Growth stops at this multiple of the delivery rate measured from SRTLA ACKs. Small:
   * when a modem drops out, the others are flooded and look loaded, and while their delay
   * signal comes an RTT and a queue late the estimate would otherwise double each RTT up
   * to this multiple (failover: cell-b's 5 Mbit/s estimated at 8.6 while its queue
   * tail-dropped 146 packets; at 1.25, none).
   */
  DELIVERY_GROWTH_CAP: 1.25,
  /** RTT smoothing (RFC 6298 §2: alpha 1/8, beta 1/4). */
  RTT_ALPHA: 1 / 8,
  RTT_BETA: 1 / 4,
  /** Window of the minimum-RTT filter. */
  MIN_RTT_WINDOW_MS: 10_000,
  /** A link counts as loaded if a packet met a virtual queue this deep within LOADED_HOLD_MS. */
  LOADED_QUEUE_MS: 3,
  LOADED_HOLD_MS: 300,
  /** …and sending at least this share of the estimate over the last second. */
  LOADED_SHARE: 0.75,
  /** Meter bucket and window for throughput and delivery rate. */
  METER_BUCKET_MS: 100,
  METER_WINDOW_MS: 1000,
  /** Arrival bound = one-way delay + this many RTT deviations / 2. */
  ARRIVAL_JITTER_K: 2,
  /** Loss EWMA weight per packet outcome. */
  LOSS_ALPHA: 1 / 64,
} as const;

/** A sliding-window byte meter in fixed buckets. */
export class RateMeter {
  private readonly buckets: number[];
  private readonly times: number[];
  constructor(
    private readonly bucketMs: number = LINK_TUNING.METER_BUCKET_MS,
    private readonly windowMs: number = LINK_TUNING.METER_WINDOW_MS,
  ) {
    const n = Math.ceil(windowMs / bucketMs);
    this.buckets = new Array<number>(n).fill(0);
    this.times = new Array<number>(n).fill(-Infinity);
  }

  add(bytes: number, now: number): void {
    const slot = Math.floor(now / this.bucketMs);
    const i = slot % this.buckets.length;
    if (this.times[i] !== slot) {
      this.times[i] = slot;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += bytes;
  }

  /** Bytes within the window ending now. */
  bytes(now: number): number {
    const slot = Math.floor(now / this.bucketMs);
    const oldest = slot - this.buckets.length + 1;
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (this.times[i]! >= oldest) sum += this.buckets[i]!;
    return sum;
  }

  /** Bit/s over the window. */
  bps(now: number): number {
    // The current bucket is partly filled: divide by the span actually covered.
    const span = this.windowMs - this.bucketMs + (now % this.bucketMs) + 1;
    return (this.bytes(now) * 8 * 1000) / span;
  }
}

/** A windowed minimum: a monotonic deque of (value, time), O(1) amortised per sample. */
export class WindowedMin {
  private q: { v: number; t: number }[] = [];
  private head = 0;
  constructor(private readonly windowMs: number) {}

  update(v: number, now: number): number {
    while (this.q.length > this.head && this.q[this.q.length - 1]!.v >= v) this.q.pop();
    this.q.push({ v, t: now });
    while (this.q[this.head]!.t < now - this.windowMs) this.head++;
    if (this.head > 256) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    return this.q[this.head]!.v;
  }

  get value(): number | undefined {
    return this.q[this.head]?.v;
  }

  reset(): void {
    this.q = [];
    this.head = 0;
  }
}

export class LinkState {
  /** Smoothed RTT and its variation, ms (undefined until the first sample). */
  srtt: number | undefined;
  rttvar = 0;
  lastRtt: number | undefined;
  private readonly minRttFilter = new WindowedMin(LINK_TUNING.MIN_RTT_WINDOW_MS);
  /** Smoothed queue-corrected delay and its windowed minimum. */
  private corrected: number | undefined;
  private readonly minCorrected = new WindowedMin(LINK_TUNING.MIN_RTT_WINDOW_MS);
  /** Mean deviation of the queue-corrected delay samples, ms: the link's own jitter. */
  private jitter = 0;

  rateBps: number = LINK_TUNING.INITIAL_RATE_BPS;
  /** When the virtual queue empties (ms). */
  queueFreeAt = 0;
  private lastLoadedAt = -Infinity;
  private lastCutAt = -Infinity;
  private lastGrowAt: number | undefined;
  private underestimated = false;
  /**
   * The rate at which the link last queued (its ceiling), forgotten after
   * CEILING_MEMORY_MS. Below it, or with none known, the estimate doubles
   * per RTT (slow start, RFC 5681 §3.1): a link that idled while others
   * carried the stream must take over within a few RTTs when one dies. At the
   * ceiling it probes gently.
   */
  private ceilingBps: number | undefined;
  private ceilingAt = -Infinity;

  inFlight = 0;
  inFlightBytes = 0;

  lastRecvAt: number;
  lastSentAt = -Infinity;
  lastAckAt = -Infinity;
  readonly addedAt: number;

  sentPackets = 0;
  sentBytes = 0;
  /** Mean size of the packets sent (an SRTLA ACK names packets, not bytes); SRT live: 16 + 1316. */
  meanPacketBytes = 1332;
  ackedPackets = 0;
  lostPackets = 0;
  /** NAKs for packets this link had already delivered (reordering, not loss). */
  falseLosses = 0;
  lossRate = 0;
  readonly sent = new RateMeter();
  readonly delivered = new RateMeter();

  /** A data plan pays for what it carries (see Scheduler.meteredWhenNeeded). */
  metered = false;

  constructor(
    readonly id: string,
    public priority: number,
    public backupOnly: boolean,
    now: number,
  ) {
    this.addedAt = now;
    this.lastRecvAt = now;
  }

  get minRtt(): number | undefined {
    return this.minRttFilter.value;
  }

  /** Base RTT for arrival estimates: smoothed, or a guess before any sample. */
  rttOrGuess(): number {
    return this.srtt ?? 200;
  }

  /** Virtual queueing delay a packet sent now would meet, ms. */
  queueDelay(now: number): number {
    return Math.max(0, this.queueFreeAt - now);
  }

  /** Serialisation time of `bytes` at the estimated rate, ms. */
  serialiseMs(bytes: number): number {
    return (bytes * 8 * 1000) / this.rateBps;
  }

  /**
   * Latest likely arrival at the receiver of `bytes` sent now: queue +
   * serialisation + one-way delay, with the link's jitter on top. Comparing
   * late bounds, a jittery link only takes a packet that will not arrive
   * after the next ones sent on steadier links.
   */
  expectedArrival(bytes: number, now: number): number {
    // The RTT net of the predicted queue (which queueDelay already counts), so queueing is not counted twice.
    const rtt = this.corrected ?? this.rttOrGuess();
    return now + this.queueDelay(now) + this.serialiseMs(bytes) + (rtt + LINK_TUNING.ARRIVAL_JITTER_K * this.rttvar) / 2;
  }

  /** Records a send; returns the virtual queueing delay the packet met. */
  recordSend(bytes: number, now: number, maxQueueMs = Infinity): number {
    const q = this.queueDelay(now);
    if (q >= LINK_TUNING.LOADED_QUEUE_MS) this.lastLoadedAt = now;
    this.queueFreeAt = Math.min(now + maxQueueMs, Math.max(now, this.queueFreeAt) + this.serialiseMs(bytes));
    this.sentPackets++;
    this.sentBytes += bytes;
    this.meanPacketBytes += (bytes - this.meanPacketBytes) / 64;
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.lastSentAt = now;
    this.sent.add(bytes, now);
    return q;
  }

  /** Carrying close to its estimate, with a queue in front of it: growth and delivery rates mean something. */
  loaded(now: number): boolean {
    return now - this.lastLoadedAt <= LINK_TUNING.LOADED_HOLD_MS && this.sent.bps(now) >= LINK_TUNING.LOADED_SHARE * this.rateBps;
  }

  /** Any packet from the receiver on this link. */
  recordReceive(now: number): void {
    this.lastRecvAt = now;
  }

  /** A packet left flight (acknowledged, lost or moved): adjusts the counters. */
  leaveFlight(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.inFlightBytes = Math.max(0, this.inFlightBytes - bytes);
  }

  /** One packet delivered over this link (an SRTLA ACK entry), counted at the link's mean packet size. */
  recordDelivered(now: number): void {
    this.ackedPackets++;
    this.lastAckAt = now;
    this.delivered.add(this.meanPacketBytes, now);
    this.lossRate += (0 - this.lossRate) * LINK_TUNING.LOSS_ALPHA;
  }

  /** An RTT sample, with the virtual queueing delay the sampled packet was predicted to meet. */
  recordRtt(rtt: number, predictedQueueMs: number, now: number): void {
    if (!(rtt >= 0) || rtt > 60_000) return;
    this.lastRtt = rtt;
    if (this.srtt === undefined) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar += (Math.abs(this.srtt - rtt) - this.rttvar) * LINK_TUNING.RTT_BETA;
      this.srtt += (rtt - this.srtt) * LINK_TUNING.RTT_ALPHA;
    }
    const minRtt = this.minRttFilter.update(rtt, now);
    // The link queued less than the estimate predicted: the estimate is low.
    // Bring the virtual queue back to what was measured, and grow faster.
    const measuredQueue = rtt - minRtt;
    const th = this.thresholds();
    if (predictedQueueMs > measuredQueue + th.hold) {
      this.queueFreeAt = Math.min(this.queueFreeAt, now + measuredQueue);
      // A full real queue (tail drop caps it) is not an underestimate.
      if (measuredQueue < th.cut) this.underestimated = true;
    }
    const c = Math.max(minRtt, rtt - predictedQueueMs);
    if (this.corrected !== undefined) this.jitter += (Math.abs(c - this.corrected) - this.jitter) * LINK_TUNING.RTT_BETA;
    this.corrected = this.corrected === undefined ? c : this.corrected + (c - this.corrected) * LINK_TUNING.RTT_ALPHA;
    this.minCorrected.update(this.corrected, now);
    this.adaptRate(now);
  }

  /** Queueing the estimate did not predict, ms (0 until measured). */
  excessDelay(): number {
    const m = this.minCorrected.value;
    return this.corrected === undefined || m === undefined ? 0 : this.corrected - m;
  }

  private thresholds(): { hold: number; cut: number } {
    const base = this.minCorrected.value ?? this.srtt ?? 100;
    // A jittery link's delay swings by itself: only queueing beyond those swings is the estimate's fault.
    return {
      hold: Math.max(LINK_TUNING.HOLD_MS, base * LINK_TUNING.HOLD_SHARE, LINK_TUNING.HOLD_JITTER_K * this.jitter),
      cut: Math.max(LINK_TUNING.CUT_MS, base * LINK_TUNING.CUT_SHARE, LINK_TUNING.CUT_JITTER_K * this.jitter),
    };
  }

  private adaptRate(now: number): void {
    const excess = this.excessDelay();
    const { hold, cut } = this.thresholds();
    const dt = this.lastGrowAt === undefined ? 0 : Math.min(now - this.lastGrowAt, 200);
    this.lastGrowAt = now;
    if (excess > cut) {
      // Only a link that carries close to its estimate can be queueing because of it.
      if (this.sent.bps(now) > 0.3 * this.rateBps) this.cut(now);
    } else if (excess > hold) {
      // Queueing beyond the prediction: the link is saturated, so what it
      // delivered is its capacity. Settle there (at most once per RTT).
      const delivered = this.delivered.bps(now);
      if (this.loaded(now) && delivered > 0 && now - this.lastCutAt >= this.rttOrGuess()) {
        this.lastCutAt = now;
        this.rateBps = Math.max(LINK_TUNING.MIN_RATE_BPS, delivered);
        this.setCeiling(now);
      }
    } else if (this.loaded(now)) {
      if (now - this.ceilingAt > LINK_TUNING.CEILING_MEMORY_MS) this.ceilingBps = undefined;
      const perRtt = (Math.LN2 * 1000) / Math.max(20, this.rttOrGuess());
      const fast = this.ceilingBps === undefined || this.rateBps < LINK_TUNING.CEILING_SHARE * this.ceilingBps;
      const growth = fast ? perRtt : this.underestimated ? LINK_TUNING.GROWTH_PER_S * 3 : LINK_TUNING.GROWTH_PER_S;
      // Never more than a multiple of what the link was measured to deliver: delay signals come
      // an RTT and a queue late, and a jittery link would otherwise overshoot far past its capacity.
      const bound = Math.max(this.rateBps, LINK_TUNING.INITIAL_RATE_BPS, LINK_TUNING.DELIVERY_GROWTH_CAP * this.delivered.bps(now));
      this.rateBps = Math.min(LINK_TUNING.MAX_RATE_BPS, bound, this.rateBps * Math.exp((growth * dt) / 1000));
    }
    this.underestimated = false;
  }

  /** At most one cut per RTT: below what the link delivered (to drain its queue), never below the floor. */
  cut(now: number): void {
    if (now - this.lastCutAt < this.rttOrGuess()) return;
    this.lastCutAt = now;
    const delivered = this.delivered.bps(now);
    // Saturated and queueing: it delivers its capacity; a little below that drains the queue.
    // (This may raise an estimate that had fallen below what the link carries.)
    const saturated = this.loaded(now) && delivered > 0.5 * this.rateBps && this.sent.bps(now) > delivered;
    const next = saturated ? delivered * LINK_TUNING.DRAIN_FACTOR : this.rateBps * LINK_TUNING.CUT_FACTOR;
    this.rateBps = Math.max(LINK_TUNING.MIN_RATE_BPS, next);
    this.setCeiling(now);
  }

  private setCeiling(now: number): void {
    this.ceilingBps = Math.max(this.rateBps, this.delivered.bps(now));
    this.ceilingAt = now;
  }

  /** A packet this link carried was reported lost. */
  recordLoss(now: number): void {
    this.lostPackets++;
    this.lossRate += (1 - this.lossRate) * LINK_TUNING.LOSS_ALPHA;
    // Tail drop comes with queueing; random loss does not shrink the link.
    if (this.excessDelay() > this.thresholds().hold && this.sent.bps(now) > 0.3 * this.rateBps) this.cut(now);
  }

  /** After a stall: start again cautiously from half the old estimate (a link that never carried keeps its first one). */
  restart(now: number): void {
    if (this.sentPackets > 0) this.rateBps = Math.max(LINK_TUNING.MIN_RATE_BPS, this.rateBps / 2);
    this.queueFreeAt = now;
    this.inFlight = 0;
    this.inFlightBytes = 0;
    this.corrected = undefined;
    this.minCorrected.reset();
    this.lastGrowAt = undefined;
  }
}
