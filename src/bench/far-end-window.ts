/**
 * The far end of `fieldcast run`'s stream in a benchmark: the TS an
 * srt-live-transmit listener relays to a UDP socket here, read as it
 * arrives. Over a window of time, per picture, the transport latency as the
 * latency bench measures it (src/bench/latency.ts `transport_ms`): from the
 * capture time its PTS stands for (the encoder stamps each PTS from the
 * capture time on CLOCK_MONOTONIC, src/lib/clock.ts) to its first TS packet
 * out of the listener, read on the same clock — encoder, muxer, splicer, SRT
 * latency and the relay; and the continuity and TR 101 290 priority 1
 * errors of the window's packets (TsAnalyser).
 */
import { captureMicrosFromPts, monotonicMicros } from '../lib/clock.js';
import { percentile } from '../media/far-end.js';
import { TsAnalyser } from '../mux/analyser.js';
import { TsArrivals } from '../mux/arrivals.js';

/** CLOCK_MONOTONIC in ms, as the capture stamps. */
const nowMs = (): number => monotonicMicros() / 1000;

export interface WindowFigures {
  seconds: number;
  pictures: number;
  packets: number;
  /** Each picture's capture → listener output, ms, in arrival order. */
  latencyMs: number[];
  /** The median of each slice of the window (see FarEnd.close), ms. */
  sliceMedianMs: number[];
  ccErrors: number;
  priority1Errors: number;
  /** The longest time between two pictures in the window, ms. */
  longestGapMs: number;
}

interface Open {
  fromMs: number;
  analyser: TsAnalyser;
}

export class FarEnd {
  readonly arrivals = new TsArrivals(nowMs);
  readonly #open = new Set<Open>();

  push(data: Buffer): void {
    this.arrivals.push(data);
    for (const w of this.#open) w.analyser.push(data);
  }

  /** Starts a window now. */
  open(): Open {
    const w = { fromMs: nowMs(), analyser: new TsAnalyser() };
    this.#open.add(w);
    return w;
  }

  /** Ends a window: its figures, the latency's median taken per `sliceMs` too. */
  close(w: Open, sliceMs: number): WindowFigures {
    const toMs = nowMs();
    this.#open.delete(w);
    const report = w.analyser.report();
    const pictures = this.arrivals.pictures.filter((p) => p.atMs >= w.fromMs && p.atMs <= toMs);
    const latency = pictures
      .filter((p) => p.pts !== undefined)
      .map((p) => ({ at: p.atMs, ms: p.atMs - captureMicrosFromPts(p.pts!, p.atMs * 1000) / 1000 }));
    const sliceMedianMs: number[] = [];
    for (let from = w.fromMs; from + sliceMs <= toMs + 1; from += sliceMs) {
      const slice = latency.filter((l) => l.at >= from && l.at < from + sliceMs).map((l) => l.ms);
      if (slice.length > 0) sliceMedianMs.push(percentile(slice, 50));
    }
    let longestGapMs = 0;
    for (let i = 1; i < pictures.length; i++) longestGapMs = Math.max(longestGapMs, pictures[i]!.atMs - pictures[i - 1]!.atMs);
    return {
      seconds: (toMs - w.fromMs) / 1000,
      pictures: pictures.length,
      packets: report.packets,
      latencyMs: latency.map((l) => l.ms),
      sliceMedianMs,
      ccErrors: report.checks.Continuity_count_error ?? 0,
      priority1Errors: report.priority1Errors,
      longestGapMs,
    };
  }
}
