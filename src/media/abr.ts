/**
 * The adaptive bitrate controller: sets the video encoder's bit rate from what
 * the network is carrying, between the configured minimum and maximum.
 *
 * Inputs, sampled every ~100 ms: SRT's own statistics (RTT, the send buffer
 * in ms, the rate it is sending, what the receiver acknowledged, loss and
 * retransmissions) and, when
 * bonded, the bonding sender's estimate of the summed link capacity.
 *
 * How it differs from belacoder's controller (the open reference: a 20 ms
 * loop on RTT and send-buffer packets; "emergency" drops straight to the
 * minimum; otherwise steps of -(100 kbit/s + 10%) per 250 ms and
 * +(30 kbit/s + 3.3%) per 500 ms):
 *
 * - It measures what got through: the goodput, from the receiver's
 *   acknowledgements (SRT's send rate is only what was offered; while a queue
 *   stands, the goodput is the path's capacity). On congestion it cuts to a
 *   fraction of the goodput (and of the bonded capacity) instead of walking
 *   down 10% at a time (which takes seconds from 8 to 4 Mbit/s while the send
 *   buffer fills) or falling to the minimum (which wastes the link and makes
 *   the picture pump). Reaction is one sample (≤ 100 ms) for a severe
 *   signal, two for a mild one: well inside the 500 ms the issue asks.
 * - A cut shows only once the encoder follows it (its rate control spans a
 *   second of video) and the queue drains; the signal outlives the cut that
 *   cures it. So, as delay-gradient controllers do, a further cut in one
 *   episode needs the queue still growing, and is made on the goodput, not
 *   compounded on the last cut; a draining queue is left to drain.
 * - A severe signal is a drain, not a measurement: the latency budget is at
 *   risk and what is queued (tail-dropped packets waiting for their repairs
 *   among it) must clear, so the first one of an episode cuts at once, far
 *   below the link if the goodput reads low (SRT's cumulative ACK stalls
 *   behind every hole, so it does). It leaves the ceiling where the
 *   rate-finding cuts put it, so once the queue is gone the climb back to a
 *   rate the link sustains takes a few steps, not a probe up from the floor.
 *   (A sudden halving of a lone link under a stream near its rate can still
 *   cost a few packets: the encoder takes about a second to follow, and a
 *   repair dropped by a full queue is asked for again only a NAK period
 *   later. See test/integration/abr.test.ts.)
 * - The send buffer is judged in milliseconds against the SRT latency budget,
 *   not in packets: a packet still queued when its latency budget runs out is
 *   dropped by SRT (too-late drop), so the buffer must never approach it.
 *   Severe: the buffer holds more than 35% of the latency, or RTT above a
 *   third of the latency. Mild: the buffer or the queueing delay (RTT above
 *   its 10 s minimum) grows past what jitter explains, or retransmissions
 *   exceed 12% of what was sent in the last second (bonded: 25%, and RTT
 *   counts only past 150 ms of queueing — the blend of links' RTTs moves
 *   when traffic spreads to a slower modem, which is not congestion).
 * - It climbs without oscillating: it remembers the rate at which congestion
 *   last began (the ceiling). Below the ceiling it closes 40% of the gap
 *   per step (fast recovery to a rate known to work); at and above it, it
 *   probes (+5% a step: every 500 ms with no ceiling, every second or more
 *   above one, so each probe's effect shows before the next); each probe
 *   that meets congestion again at the ceiling doubles the wait before the
 *   next (up to 16 s), and a cut made because the queue grew despite the
 *   last one lowers the ceiling below that one's rate. So a steady
 *   link sees a rare probe rather than a sawtooth. The ceiling is forgotten
 *   after 30 s without congestion, so a link that got better is found again.
 * - Bonded: when the bonding sender's capacity estimate falls well below its
 *   recent peak (a modem dropped out), the bit rate follows it down to 85% of
 *   what is left at once, before SRT's buffer ever sees the loss. (The
 *   estimate is not a ceiling otherwise: links that carry little report
 *   little, and the controller must still be free to climb.)
 *
 * The controller is pure: it does no I/O and takes the time as a parameter,
 * so tests drive it through synthetic statistics traces.
 */

/** One sample of what the transport reports. Counters are cumulative. */
export interface AbrSample {
  /** Monotonic time of the sample, ms. */
  nowMs: number;
  /** SRT round-trip time, ms. */
  rttMs: number;
  /** Data waiting in SRT's send buffer, in ms of stream (msSndBuf). */
  sendBufferMs: number;
  /** What SRT is actually sending, bit/s (mbpsSendRate × 1e6), retransmissions included. */
  sendRateBps: number;
  /** Packets sent so far (pktSentTotal), retransmissions included. */
  sentPackets: number;
  /** Packets retransmitted so far (pktRetransTotal). */
  retransPackets: number;
  /**
   * Packets the receiver has acknowledged so far (pktSentUniqueTotal less
   * what is still in the send buffer and what SRT dropped). Its growth is
   * the goodput: what the path really delivers, where SRT's send rate is only
   * what was offered to it.
   */
  ackedPackets?: number;
  /** The bonding sender's summed capacity estimate, bit/s; absent when not bonded. */
  capacityBps?: number;
}

export interface AbrOptions {
  minBps: number;
  maxBps: number;
  /** The SRT latency in ms: the send buffer's budget. */
  latencyMs: number;
  /** Where to start; default the midpoint between min and max. */
  startBps?: number;
  /** Audio bit rate in bit/s, to convert a measured total rate into a video rate. */
  audioBps?: number;
}

export type AbrReason = 'start' | 'severe-congestion' | 'congestion' | 'capacity' | 'recover' | 'probe';

export interface AbrDecision {
  bitrate: number;
  reason: AbrReason;
  /** What was seen, in words for the status page: "send buffer 420 ms", "queueing 80 ms", … */
  signal?: string;
}

/** MPEG-TS + PES + SRT header overhead on top of the elementary streams (≈ 188/184 and 1316 + 44 per datagram). */
const TRANSPORT_OVERHEAD = 1.07;
const SEVERE_BUFFER_SHARE = 0.35;
const SEVERE_RTT_SHARE = 1 / 3;
const MILD_BUFFER_MIN_MS = 60;
const MILD_BUFFER_SHARE = 0.12;
const QUEUE_DELAY_MIN_MS = 40;
/** Loss alone is not congestion on a cellular link; this much retransmission is. */
const RETRANS_MILD = 0.12;
const RETRANS_MILD_BONDED = 0.25;
const BONDED_QUEUE_DELAY_MIN_MS = 150;
const SEVERE_CUT = 0.5;
const MILD_CUT = 0.85;
const DELIVERED_SEVERE = 0.8;
const DELIVERED_MILD = 0.95;
/** A queue that grew despite a cut: the link carries less than was sent, by more than the first guess. */
const DELIVERED_AGAIN = 0.9;
const CAPACITY_SHARE = 0.85;
/** A capacity estimate this far below its recent peak is a lost link, not noise. */
const CAPACITY_DROP = 0.6;
const CAPACITY_PEAK_WINDOW_MS = 10_000;
const DECREASE_HOLD_MS = 300;
/** A further cut in one episode needs the queue growing over this window, by more than jitter. */
const TREND_WINDOW_MS = 300;
const TREND_MOVE_MS = 5;

type QueueTrend = 'growing' | 'steady' | 'draining';
const INCREASE_AFTER_DECREASE_MS = 1500;
const RECOVER_STEP_MS = 500;
const PROBE_STEP_MS = 500;
/** Above a ceiling a probe waits at least this long, so its effect shows (encoder lag, then the queue) before the next. */
const PROBE_AT_CEILING_MS = 1000;
const EPISODE_MS = 2000;
const SEND_RATE_EMA = 0.3;
/** Goodput is measured over this window: long enough to span ACK jitter, short enough to see a link change at once. */
const GOODPUT_WINDOW_MS = 500;
/** Bits one SRT packet puts on the wire: 1316 bytes of TS, the SRT header and UDP/IP. */
const PACKET_WIRE_BITS = (1316 + 44) * 8;
const PROBE_BACKOFF_MAX_MS = 16_000;
const PROBE_GAIN = 0.05;
const RECOVER_GAIN = 0.4;
const CEILING_MEMORY_MS = 30_000;
const RTT_MIN_WINDOW_MS = 10_000;
const ROUND_BPS = 10_000;
const MIN_CHANGE = 0.015;

export class AbrController {
  private readonly opts: Required<AbrOptions>;
  private current: number;
  private ceiling: number | undefined;
  private ceilingAt = 0;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private lastIncrease = Number.NEGATIVE_INFINITY;
  private mildStreak = 0;
  /** The queue's size in ms (data queued beyond one RTT, or RTT above its minimum) over the last moments. */
  private readonly queueWindow: { t: number; ms: number }[] = [];
  private increasedSinceDecrease = false;
  /** A severe (drain) cut was made in the current episode. */
  private drainedInEpisode = false;
  private sendRateEma: number | undefined;
  private readonly acked: { t: number; n: number }[] = [];
  /** How long to sit at the ceiling before probing above it; doubles each time a probe fails there. */
  private probeHoldMs = PROBE_AT_CEILING_MS;
  private readonly rttWindow: { t: number; rtt: number }[] = [];
  private readonly counters: { t: number; sent: number; retrans: number }[] = [];
  private readonly capacityWindow: { t: number; bps: number }[] = [];

  constructor(opts: AbrOptions) {
    if (!(opts.minBps > 0 && opts.maxBps >= opts.minBps)) throw new RangeError('AbrController: need 0 < min <= max');
    this.opts = {
      startBps: Math.round((opts.minBps + opts.maxBps) / 2),
      audioBps: 128_000,
      ...opts,
    };
    this.current = this.clamp(this.opts.startBps);
  }

  get bitrate(): number {
    return this.current;
  }

  /** The rate at which congestion last set in, while remembered. */
  get knownCeiling(): number | undefined {
    return this.ceiling;
  }

  /** Feeds one sample; returns a decision when the bit rate should change. */
  update(s: AbrSample): AbrDecision | undefined {
    const rttMin = this.trackRtt(s);
    const retransRatio = this.trackRetrans(s);
    if (this.ceiling !== undefined && s.nowMs - this.ceilingAt > CEILING_MEMORY_MS) {
      // No congestion for a long while: the path may have improved; probe freely again.
      this.ceiling = undefined;
      this.probeHoldMs = PROBE_AT_CEILING_MS;
    }

    const latency = this.opts.latencyMs;
    // SRT's send rate over one 100 ms sample is noisy (bursts, pauses): smooth it over about a second.
    this.sendRateEma =
      this.sendRateEma === undefined ? s.sendRateBps : this.sendRateEma + SEND_RATE_EMA * (s.sendRateBps - this.sendRateEma);
    // What got through: the goodput when the receiver's acknowledgements are
    // counted (while a queue stands, that is the path's capacity); otherwise
    // the rate SRT sent at.
    const goodput = this.trackGoodput(s);
    const measured = goodput !== undefined;
    const deliveredVideo = this.videoShare(goodput ?? this.sendRateEma);
    const queueDelay = Math.max(0, s.rttMs - rttMin);

    const bonded = s.capacityBps !== undefined;
    const bufferLimit = Math.max(MILD_BUFFER_MIN_MS, latency * MILD_BUFFER_SHARE);
    const queueLimit = bonded ? Math.max(BONDED_QUEUE_DELAY_MIN_MS, latency * 0.1) : Math.max(QUEUE_DELAY_MIN_MS, rttMin * 0.5);
    const retransLimit = bonded ? RETRANS_MILD_BONDED : RETRANS_MILD;
    const queued = s.sendBufferMs - s.rttMs;
    const trend = this.trackQueue(s.nowMs, Math.max(queued, queueDelay));

    // 1. Severe: the latency budget is at risk now. The send buffer spans
    // everything unacknowledged, so its age is what SRT's too-late drop judges.
    if (s.sendBufferMs > latency * SEVERE_BUFFER_SHARE || s.rttMs > latency * SEVERE_RTT_SHARE) {
      this.mildStreak = 0;
      // The first drain of an episode goes at once: waiting for the queue to be
      // seen growing again costs the latency budget it is there to save.
      const firstDrain = !this.drainedInEpisode || !this.inEpisode(s.nowMs);
      if (!(firstDrain && s.nowMs - this.lastDecrease >= DECREASE_HOLD_MS / 2) && !this.mayCutAgain(s.nowMs, DECREASE_HOLD_MS / 2, trend))
        return undefined;
      // Goodput measures the link, so cuts on it do not compound while the
      // encoder and the queue catch up; a blind cut halves.
      const onDelivered = deliveredVideo * DELIVERED_SEVERE;
      const blind = this.current * SEVERE_CUT;
      const target = measured ? onDelivered : deliveredVideo > 0 ? Math.min(blind, onDelivered) : blind;
      const signal =
        s.rttMs > latency * SEVERE_RTT_SHARE ? `RTT ${Math.round(s.rttMs)} ms` : `send buffer ${Math.round(s.sendBufferMs)} ms`;
      return this.decrease(target, 'severe-congestion', s.nowMs, signal);
    }

    // 2. The bonded capacity fell away (a modem dropped out): follow it down at once.
    if (s.capacityBps !== undefined && s.capacityBps < this.trackCapacity(s) * CAPACITY_DROP) {
      const cap = this.videoShare(s.capacityBps * CAPACITY_SHARE);
      if (this.current > cap * 1.02)
        return this.decrease(cap, 'capacity', s.nowMs, `bonded capacity ${(s.capacityBps / 1e6).toFixed(1)} Mbit/s`);
    }

    // 3. Mild: data queues beyond what is in flight (the buffer minus one RTT),
    // the RTT grows beyond what jitter explains, or many retransmissions.
    // Bonded, SRT's RTT is a blend of the links' (it rises when traffic
    // spreads to a slower modem, which is not congestion) and the listener's
    // reorder losses inflate retransmissions: both need far more to count.
    let signal: string | undefined;
    if (queued > bufferLimit) signal = `send buffer ${Math.round(s.sendBufferMs)} ms`;
    else if (queueDelay > queueLimit) signal = `RTT ${Math.round(s.rttMs)} ms (${Math.round(queueDelay)} ms queueing)`;
    else if (retransRatio > retransLimit) signal = `retransmissions ${(retransRatio * 100).toFixed(0)}%`;
    this.mildStreak = signal ? this.mildStreak + 1 : 0;
    if (signal !== undefined && this.mildStreak >= 2) {
      if (!this.mayCutAgain(s.nowMs, DECREASE_HOLD_MS, trend)) return undefined;
      const again = this.inEpisode(s.nowMs);
      const onDelivered = Math.max(deliveredVideo * (again ? DELIVERED_AGAIN : DELIVERED_MILD), this.current * SEVERE_CUT);
      const blind = this.current * MILD_CUT;
      // Once in an episode a cut may be blind (15%); after that only what got through decides.
      const target = again && measured ? onDelivered : deliveredVideo > 0 ? Math.min(blind, onDelivered) : blind;
      return this.decrease(target, 'congestion', s.nowMs, signal);
    }
    if (signal !== undefined) return undefined;

    // 4. Clear: climb.
    if (s.nowMs - this.lastDecrease < INCREASE_AFTER_DECREASE_MS) return undefined;
    const limit = this.opts.maxBps;
    if (this.current >= limit) return undefined;
    const below = this.ceiling !== undefined && this.current < this.ceiling * 0.97;
    if (below) {
      if (s.nowMs - this.lastIncrease < RECOVER_STEP_MS) return undefined;
      const next = this.current + Math.max(ROUND_BPS * 5, (this.ceiling! - this.current) * RECOVER_GAIN);
      return this.increase(Math.min(next, limit), 'recover', s.nowMs);
    }
    // At or above the ceiling every probe risks congestion: wait the backed-off hold.
    const atCeiling = this.ceiling !== undefined;
    const hold = atCeiling ? this.probeHoldMs : PROBE_STEP_MS;
    if (s.nowMs - Math.max(this.lastIncrease, this.lastDecrease) < hold) return undefined;
    return this.increase(Math.min(this.current * (1 + PROBE_GAIN) + ROUND_BPS * 3, limit), 'probe', s.nowMs);
  }

  /** The video bit rate that a total transport rate carries, after audio and TS/SRT overhead. */
  private videoShare(totalBps: number): number {
    return totalBps / TRANSPORT_OVERHEAD - this.opts.audioBps;
  }

  private clamp(bps: number): number {
    const rounded = Math.round(bps / ROUND_BPS) * ROUND_BPS;
    return Math.min(this.opts.maxBps, Math.max(this.opts.minBps, rounded));
  }

  /**
   * Whether a congestion signal may cut again. A cut shows only once the
   * encoder follows it and the queue it left behind drains, and the signal
   * persists meanwhile: cutting on it again would drive the rate far below
   * the link (a 3 Mbit/s link cut to 0.7 Mbit/s, then a climb back through
   * it: the pump). So, as in delay-gradient controllers, a further cut in one
   * episode needs the queue still growing over a window that starts a hold
   * after the last cut; a draining queue is left to drain (however long it
   * signals), and one that stands still starts a new episode after EPISODE_MS.
   */
  private mayCutAgain(now: number, holdMs: number, trend: QueueTrend): boolean {
    const since = now - this.lastDecrease;
    if (since < holdMs) return false;
    if (!this.inEpisode(now)) return trend !== 'draining';
    return trend === 'growing' && since >= holdMs + TREND_WINDOW_MS;
  }

  /** Within a congestion episode: cut within EPISODE_MS and no climb since. */
  private inEpisode(now: number): boolean {
    return !this.increasedSinceDecrease && now - this.lastDecrease <= EPISODE_MS;
  }

  /** Records the queue's size in ms and says which way it moved over the trend window. */
  private trackQueue(now: number, ms: number): QueueTrend {
    this.queueWindow.push({ t: now, ms });
    while (this.queueWindow.length > 1 && now - this.queueWindow[0]!.t > TREND_WINDOW_MS) this.queueWindow.shift();
    const oldest = this.queueWindow[0]!;
    if (now - oldest.t < TREND_WINDOW_MS * 0.6) return 'steady';
    if (ms > oldest.ms + TREND_MOVE_MS) return 'growing';
    return ms < oldest.ms - TREND_MOVE_MS ? 'draining' : 'steady';
  }

  private decrease(target: number, reason: AbrReason, now: number, signal: string): AbrDecision | undefined {
    const next = this.clamp(target);
    if (next >= this.current) return undefined;
    if (reason === 'severe-congestion') {
      this.drainedInEpisode = true;
      // A drain: the latency budget is at risk and what is queued (repairs
      // among it) must clear, so the rate goes far below the link for a
      // moment. It says nothing new of what the link sustains: the ceiling
      // stays where the rate-finding cuts put it (or just under the rate that
      // congested, if this is the first sign), and the climb back is quick.
      if (this.ceiling === undefined || !this.inEpisode(now))
        this.ceiling = Math.min(this.ceiling ?? Number.POSITIVE_INFINITY, this.clamp(this.current * MILD_CUT));
      this.ceilingAt = now;
    } else if (reason !== 'capacity') {
      if (!this.inEpisode(now)) this.drainedInEpisode = false;
      // Cuts close together are one congestion episode: only its first sets
      // the ceiling, so a burst of cuts does not drag the ceiling to the floor.
      if (!this.inEpisode(now)) {
        // Congestion again at or above the remembered ceiling: probe above it less often.
        if (this.ceiling !== undefined && this.current >= this.ceiling * 0.9) {
          this.probeHoldMs = Math.min(this.probeHoldMs * 2, PROBE_BACKOFF_MAX_MS);
        }
        // Remember the episode's first cut: the best guess of a sustainable
        // rate (SRT's send rate while congested counts retransmissions and
        // bursts, so it overstates what got through).
        this.ceiling = this.ceiling === undefined ? next : Math.min(this.ceiling, Math.max(next, this.ceiling * SEVERE_CUT));
      } else if (this.ceiling !== undefined) {
        // The queue grew despite the episode's last cut: its rate was still too much.
        this.ceiling = Math.min(this.ceiling, Math.max(this.clamp(this.current * MILD_CUT), this.ceiling * SEVERE_CUT));
      }
      this.ceilingAt = now;
    }
    this.lastDecrease = now;
    this.increasedSinceDecrease = false;
    this.mildStreak = 0;
    return { ...this.set(next, reason), signal };
  }

  private increase(target: number, reason: AbrReason, now: number): AbrDecision | undefined {
    const next = this.clamp(target);
    if (next <= this.current || (next < this.opts.maxBps && next <= this.current * (1 + MIN_CHANGE / 2))) return undefined;
    this.lastIncrease = now;
    this.increasedSinceDecrease = true;

    return this.set(next, reason);
  }

  private set(next: number, reason: AbrReason): AbrDecision {
    this.current = next;
    return { bitrate: next, reason };
  }

  private trackRtt(s: AbrSample): number {
    if (s.rttMs > 0) this.rttWindow.push({ t: s.nowMs, rtt: s.rttMs });
    while (this.rttWindow.length > 0 && s.nowMs - this.rttWindow[0]!.t > RTT_MIN_WINDOW_MS) this.rttWindow.shift();
    let min = Number.POSITIVE_INFINITY;
    for (const r of this.rttWindow) min = Math.min(min, r.rtt);
    return Number.isFinite(min) ? min : s.rttMs;
  }

  /** Peak of the bonded capacity estimate over the last 10 s (the current sample excluded). */
  private trackCapacity(s: AbrSample): number {
    while (this.capacityWindow.length > 0 && s.nowMs - this.capacityWindow[0]!.t > CAPACITY_PEAK_WINDOW_MS) this.capacityWindow.shift();
    let peak = 0;
    for (const c of this.capacityWindow) peak = Math.max(peak, c.bps);
    this.capacityWindow.push({ t: s.nowMs, bps: s.capacityBps ?? 0 });
    return peak;
  }

  /** Goodput over the last GOODPUT_WINDOW_MS in wire bit/s, or undefined when acknowledgements are not counted (yet). */
  private trackGoodput(s: AbrSample): number | undefined {
    if (s.ackedPackets === undefined) return undefined;
    this.acked.push({ t: s.nowMs, n: s.ackedPackets });
    while (this.acked.length > 1 && s.nowMs - this.acked[0]!.t > GOODPUT_WINDOW_MS) this.acked.shift();
    const first = this.acked[0]!;
    const span = s.nowMs - first.t;
    if (span < GOODPUT_WINDOW_MS * 0.6) return undefined;
    return (Math.max(0, s.ackedPackets - first.n) * PACKET_WIRE_BITS * 1000) / span;
  }

  /** Share of packets sent in the last second that were retransmissions. */
  private trackRetrans(s: AbrSample): number {
    this.counters.push({ t: s.nowMs, sent: s.sentPackets, retrans: s.retransPackets });
    while (this.counters.length > 1 && s.nowMs - this.counters[0]!.t > 1000) this.counters.shift();
    const first = this.counters[0]!;
    const sent = s.sentPackets - first.sent;
    return sent > 20 ? (s.retransPackets - first.retrans) / sent : 0;
  }
}
