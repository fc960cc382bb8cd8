import { describe, expect, it } from 'vitest';
import { AbrController, type AbrDecision, type AbrSample } from '../../../src/media/abr.js';

/**
 * A bottleneck link fed by an SRT sender, stepped every 100 ms: what the
 * encoder produces beyond the link's capacity queues in SRT's send buffer
 * and adds to the RTT; what the link carries is the send rate.
 */
class BottleneckSim {
  queueBits = 0;
  sent = 0;
  retrans = 0;
  /** What the encoder produced over the last few steps: its output follows a new bit rate only after `lagSteps`. */
  private readonly recent: number[] = [];
  constructor(
    public capacityBps: number,
    readonly baseRttMs = 60,
    readonly lossRate = 0,
    readonly lagSteps = 0,
  ) {}

  step(nowMs: number, setBps: number, capacityHint?: number): AbrSample {
    const dt = 0.1;
    this.recent.push(setBps);
    const videoBps = this.recent.length > this.lagSteps ? this.recent.shift()! : this.recent[0]!;
    const offered = (videoBps + 128_000) * 1.07;
    this.queueBits = Math.max(0, this.queueBits + (offered - this.capacityBps) * dt);
    const sendRate = this.queueBits > 0 ? this.capacityBps : offered;
    const packets = (sendRate * dt) / (1316 * 8);
    this.sent += packets;
    this.retrans += packets * this.lossRate;
    const queueMs = (this.queueBits / Math.max(1, this.capacityBps)) * 1000;
    return {
      nowMs,
      rttMs: this.baseRttMs + Math.min(queueMs, 400) * 0.5,
      sendBufferMs: queueMs,
      sendRateBps: sendRate,
      sentPackets: this.sent,
      retransPackets: this.retrans,
      ackedPackets: this.sent - this.retrans,
      ...(capacityHint !== undefined ? { capacityBps: capacityHint } : {}),
    };
  }
}

function run(
  ctl: AbrController,
  sim: BottleneckSim,
  fromMs: number,
  toMs: number,
  hint?: () => number | undefined,
): { decisions: (AbrDecision & { t: number })[]; maxBufferMs: number } {
  const decisions: (AbrDecision & { t: number })[] = [];
  let maxBufferMs = 0;
  for (let t = fromMs; t < toMs; t += 100) {
    const s = sim.step(t, ctl.bitrate, hint?.());
    maxBufferMs = Math.max(maxBufferMs, s.sendBufferMs);
    const d = ctl.update(s);
    if (d) decisions.push({ ...d, t });
  }
  return { decisions, maxBufferMs };
}

describe('adaptive bitrate controller', () => {
  it('climbs to the maximum on a clean, wide link', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 8e6, latencyMs: 1500, startBps: 2e6 });
    run(ctl, new BottleneckSim(50e6), 0, 90_000);
    expect(ctl.bitrate).toBe(8e6);
  });

  it('reacts within 500 ms when the link rate halves, and keeps the send buffer inside the latency', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 8e6, latencyMs: 1500, startBps: 6e6 });
    const sim = new BottleneckSim(8e6);
    run(ctl, sim, 0, 20_000);
    const before = ctl.bitrate;
    expect(before).toBeGreaterThan(5e6);
    sim.capacityBps = 4e6;
    const { decisions, maxBufferMs } = run(ctl, sim, 20_000, 60_000);
    const firstCut = decisions.find((d) => d.bitrate < before);
    expect(firstCut).toBeDefined();
    expect(firstCut!.t - 20_000).toBeLessThanOrEqual(500);
    // Below the new capacity (video share of 4 Mbit/s) soon after.
    const settled = decisions.filter((d) => d.t < 21_000).at(-1)!;
    expect((settled.bitrate + 128_000) * 1.07).toBeLessThan(4e6);
    expect(maxBufferMs).toBeLessThan(1500);
  });

  it('settles near capacity without oscillating', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 12e6, latencyMs: 1500, startBps: 3e6 });
    const sim = new BottleneckSim(6e6);
    run(ctl, sim, 0, 30_000);
    const { decisions } = run(ctl, sim, 30_000, 120_000);
    // At most a gentle probe-and-back every few seconds, never a pump between extremes.
    const changesPerMinute = (decisions.length / 90) * 60;
    expect(changesPerMinute).toBeLessThan(30);
    const rates = decisions.map((d) => d.bitrate);
    const lo = Math.min(...rates, ctl.bitrate);
    const hi = Math.max(...rates, ctl.bitrate);
    // Probes may overshoot the link briefly (that is how they find out); never by much.
    expect(lo).toBeGreaterThan(3.5e6);
    expect(hi).toBeLessThan(6e6 * 1.1);
  });

  it('cuts once to below the link while the queue it left drains, not down to the floor', () => {
    // The encoder takes 300 ms to follow a new rate, and the queue (up to 1 s of
    // RTT) takes longer to drain: the signal outlives the cut that cures it.
    const ctl = new AbrController({ minBps: 0.5e6, maxBps: 5e6, latencyMs: 2000, startBps: 4.2e6 });
    const sim = new BottleneckSim(6e6, 40, 0, 3);
    run(ctl, sim, 0, 10_000);
    expect(ctl.bitrate).toBeGreaterThan(4e6);
    sim.capacityBps = 3e6;
    const linkVideo = 3e6 / 1.07 - 128_000;
    const { decisions } = run(ctl, sim, 10_000, 30_000);
    const rates = decisions.map((d) => d.bitrate);
    expect(Math.min(...rates)).toBeGreaterThan(linkVideo * 0.5);
    // Recovery and probes stay near the link, never back up to the old rate.
    expect(Math.max(...decisions.filter((d) => d.t > 12_000).map((d) => d.bitrate))).toBeLessThan(linkVideo * 1.15);
  });

  it('drains a queue of repairs far below the link, then climbs straight back to what the link sustains', () => {
    // A 6 Mbit/s link halves under 5 Mbit/s: the queue builds (RTT grows), then
    // tail drops stall SRT's cumulative ACK while the repairs queue, and the send
    // buffer runs towards the latency. Once drained, the 3 Mbit/s link is clean.
    const ctl = new AbrController({ minBps: 0.5e6, maxBps: 5e6, latencyMs: 2000, startBps: 5e6 });
    let acked = 0;
    let sent = 0;
    const decisions: (AbrDecision & { t: number })[] = [];
    const feed = (t: number, rttMs: number, sendBufferMs: number, ackedBps: number, sentBps: number): void => {
      acked += (ackedBps * 0.1) / (1316 * 8);
      sent += (sentBps * 0.1) / (1316 * 8);
      const d = ctl.update({
        nowMs: t,
        rttMs,
        sendBufferMs,
        sendRateBps: sentBps,
        sentPackets: sent,
        retransPackets: 0,
        ackedPackets: acked,
      });
      if (d) decisions.push({ ...d, t });
    };
    for (let t = 0; t < 10_000; t += 100) feed(t, 40, 45, 5.5e6, 5.5e6);
    expect(ctl.bitrate).toBe(5e6);
    // The queue builds over a second at the link's rate...
    for (let t = 10_000; t < 11_000; t += 100) feed(t, 40 + (t - 10_000) * 0.6, 45 + (t - 10_000) * 0.65, 3e6, 3e6);
    // ...then the repairs hold the ACK back while the send buffer passes a third of the latency.
    for (let t = 11_000; t < 12_000; t += 100) feed(t, 640, 700 + (t - 11_000) * 0.8, 0.3e6, 3e6);
    const drained = Math.min(...decisions.map((d) => d.bitrate));
    expect(decisions.some((d) => d.reason === 'severe-congestion')).toBe(true);
    expect(drained).toBeLessThan(1.5e6);
    // The queue has cleared: from here on a 3 Mbit/s bottleneck, answering the rate set.
    const sim = new BottleneckSim(3e6, 40);
    const after = run(ctl, sim, 12_000, 30_000);
    const linkVideo = 3e6 / 1.07 - 128_000;
    const at = (ms: number): number => after.decisions.filter((d) => d.t <= ms).at(-1)?.bitrate ?? drained;
    // Back to three quarters of what the link carries within 3 s, not probing up from the floor...
    expect(at(15_000)).toBeGreaterThan(linkVideo * 0.75);
    // ...and settled near the link, not above it.
    expect(Math.min(...after.decisions.filter((d) => d.t > 15_000).map((d) => d.bitrate))).toBeGreaterThan(linkVideo * 0.6);
    expect(Math.max(...after.decisions.map((d) => d.bitrate))).toBeLessThan(linkVideo * 1.15);
  });

  it('climbs back when the link recovers', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 8e6, latencyMs: 1500, startBps: 6e6 });
    const sim = new BottleneckSim(3e6);
    run(ctl, sim, 0, 20_000);
    expect(ctl.bitrate).toBeLessThan(3e6);
    sim.capacityBps = 20e6;
    run(ctl, sim, 20_000, 80_000);
    expect(ctl.bitrate).toBe(8e6);
  });

  it('follows the bonded capacity estimate before SRT sees congestion', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 12e6, latencyMs: 1500, startBps: 10e6 });
    const sim = new BottleneckSim(50e6);
    let hint = 14e6;
    run(ctl, sim, 0, 5_000, () => hint);
    hint = 6e6; // a modem dropped out
    const { decisions } = run(ctl, sim, 5_000, 6_000, () => hint);
    expect(decisions[0]?.reason).toBe('capacity');
    expect(decisions[0]!.t - 5_000).toBeLessThanOrEqual(100);
    expect((ctl.bitrate + 128_000) * 1.07).toBeLessThanOrEqual(6e6 * 0.86);
  });

  it('cuts on heavy retransmission even when RTT and buffer look fine', () => {
    const ctl = new AbrController({ minBps: 1e6, maxBps: 8e6, latencyMs: 1500, startBps: 6e6 });
    const { decisions } = run(ctl, new BottleneckSim(50e6, 60, 0.15), 0, 2_000);
    expect(decisions.some((d) => d.reason === 'congestion')).toBe(true);
  });

  it('never leaves [min, max]', () => {
    const ctl = new AbrController({ minBps: 2e6, maxBps: 4e6, latencyMs: 500, startBps: 3e6 });
    const sim = new BottleneckSim(0.5e6);
    run(ctl, sim, 0, 10_000);
    expect(ctl.bitrate).toBe(2e6);
    expect(() => new AbrController({ minBps: 5e6, maxBps: 4e6, latencyMs: 500 })).toThrow(RangeError);
  });
});
