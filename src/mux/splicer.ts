/**
 * One continuous MPEG-TS across restarts of the process that makes it.
 *
 * The SRT session to the destination outlives the media pipeline process
 * (DESIGN.md "Process model"): when the pipeline dies and a new one starts,
 * the ingest must see neither the stream stop nor a broken transport stream.
 * The splicer sits between the pipeline's TS and the SRT output:
 *
 * - Continuity counters run on across a restart (ISO/IEC 13818-1
 *   §2.4.3.3): each PID's counter is offset so the new source's first packet
 *   follows the last one sent. Inside one source the offset is fixed, so a
 *   loss within the source still shows as the gap it is.
 * - While the source is silent (a crash, a hang, a restart), the splicer
 *   sends on its own: the last PAT and PMT every PSI interval and PCR-only
 *   packets on the PCR PID, the PCR carried on from the last one at the rate
 *   of the clock (§2.4.2.2), so PAT/PMT never lapse and the program clock
 *   never stops (TR 101 290 PAT_error, PMT_error). The silence must last
 *   70 ms before it is filled, so one PCR gap of that order (a
 *   PCR_repetition_error, priority 2) marks each restart.
 * - At the splice (or when a stalled source comes back after a fill) the source's first PCR is checked against where the
 *   clock had got to; a jump back, or forward by more than the 40 ms PCRs
 *   may lie apart, is flagged with the discontinuity_indicator (§2.4.3.5),
 *   as a decoder must be told (TR 101 290 2.3a/2.3b). The new source runs on
 *   the same monotonic media clock, so the jump is small (the two encoders'
 *   latencies differ) and a decoder re-locks at once.
 *
 * Output is whole 1316-byte chunks (7 packets), as SRT carries them.
 */
import { PCR_HZ, PCR_WRAP, wrapPcr } from '../lib/clock.js';
import { CHUNK_PACKETS, PID, STREAM_TYPE, TS_PACKET_SIZE } from './constants.js';
import { readPcr, writeNullPacket, writePcr } from './packet.js';
import { PacketSync } from './packet-sync.js';
import { parsePat, parsePmt } from './psi-parse.js';
import { SectionAssembler } from './section-assembler.js';

/** What a chunk holds that matters to a decoder starting on it. */
export interface ChunkInfo {
  pat: boolean;
  pmt: boolean;
  /** A video PES that starts a keyframe (random_access_indicator, or SPS at its start) begins in it. */
  keyframe: boolean;
}

export interface SplicerOptions {
  /** Whole 7-packet chunks, in order. The buffer is only valid during the call. */
  onChunk: (chunk: Buffer, info: ChunkInfo) => void;
  /** Monotonic ms (tests). */
  now?: () => number;
  /**
   * Silence from the source for this long starts the fill (ms): longer than
   * the gaps between a live source's bursts (a frame at 25 fps is 40 ms), short
   * enough that the first PCR filled is within 100 ms of the last one sent.
   */
  fillAfterMs?: number;
  /**
   * Fill the source's silences (default true). Off, the splicer only carries
   * the counters across a restart: a passthrough's bytes stay the input's.
   */
  fill?: boolean;
  /** PAT/PMT period while filling (ms; ≤ 100 as the muxer keeps them). */
  psiIntervalMs?: number;
  /** PCR period while filling (ms; with the timer's 10 ms, within DVB's 40). */
  pcrIntervalMs?: number;
}

export interface SplicerStats {
  packetsIn: number;
  packetsOut: number;
  /** Packets the splicer made itself (PSI, PCR, stuffing) while the source was silent. */
  fillPackets: number;
  /** Times a new source took over. */
  splices: number;
  /** PCR jumps at a splice that were flagged as discontinuities. */
  pcrDiscontinuities: number;
  /** The source is silent and the splicer is filling now. */
  filling: boolean;
}

/**
 * Longest forward PCR step at a splice that needs no flag: DVB's 40 ms
 * between PCRs (TR 101 290 2.3a); the standard's own limit is 100 ms (2.3b).
 */
const PCR_STEP_MAX = (PCR_HZ * 40) / 1000;
const PCR_PER_MS = PCR_HZ / 1000;

interface PidState {
  /** Last continuity counter sent, -1 before the first packet. */
  lastOut: number;
  /** Added to the source's counter (mod 16) in the current epoch. */
  offset: number;
  /** The epoch the offset belongs to. */
  epoch: number;
}

export class TsSplicer {
  private readonly onChunk: (chunk: Buffer, info: ChunkInfo) => void;
  private info: ChunkInfo = { pat: false, pmt: false, keyframe: false };
  private videoPid = -1;
  private readonly now: () => number;
  private readonly fillAfterMs: number;
  private readonly fill: boolean;
  private readonly psiIntervalMs: number;
  private readonly pcrIntervalMs: number;
  private sync = this.newSync();
  private readonly out = Buffer.alloc(CHUNK_PACKETS * TS_PACKET_SIZE);
  private outCount = 0;
  private readonly pids = new Map<number, PidState>();
  private epoch = 0;

  /** The program as the source last described it. */
  private pmtPid = -1;
  private pcrPid = -1;
  private lastPat: Buffer | undefined;
  private lastPmt: Buffer | undefined;
  private readonly patAsm = new SectionAssembler((s) => this.onPat(s));
  private pmtAsm: SectionAssembler | undefined;

  /** The last PCR sent (27 MHz, unbounded) and when. */
  private pcr: number | undefined;
  private pcrAt = 0;
  /** A new source's first PCR is still to come. */
  private pcrPending = false;

  private lastInputAt: number;
  /** When a PAT/PMT last went out (from the source or from here). */
  private psiAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { packetsIn: 0, packetsOut: 0, fillPackets: 0, splices: 0, pcrDiscontinuities: 0 };

  constructor(opts: SplicerOptions) {
    this.onChunk = opts.onChunk;
    this.now = opts.now ?? (() => performance.now());
    this.fillAfterMs = opts.fillAfterMs ?? 70;
    this.fill = opts.fill ?? true;
    this.psiIntervalMs = opts.psiIntervalMs ?? 100;
    this.pcrIntervalMs = opts.pcrIntervalMs ?? 25;
    this.lastInputAt = this.now();
  }

  get stats(): SplicerStats {
    return { ...this.counters, filling: this.filling() };
  }

  /**
   * Fills on a timer while the source is silent. While it flows, the timer
   * wakes only when a silence could have begun (fillAfterMs after the last
   * input), not every 10 ms: a live box spends no wakeups on a stream that
   * needs nothing.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private running = false;

  private schedule(): void {
    if (!this.running) return;
    const fillTickMs = Math.min(10, this.pcrIntervalMs / 2);
    const untilSilence = this.lastInputAt + this.fillAfterMs - this.now();
    this.timer = setTimeout(
      () => {
        this.tick();
        this.schedule();
      },
      Math.max(fillTickMs, untilSilence),
    );
    this.timer.unref?.();
  }

  /** TS from the current source, cut anywhere; the splicer may rewrite `data` in place (its counters, a PCR flag). */
  push(data: Buffer): void {
    this.lastInputAt = this.now();
    this.sync.push(data);
  }

  /** A new source takes over (the pipeline was restarted): its counters and clock start afresh. */
  newSource(): void {
    this.epoch++;
    this.counters.splices++;
    this.pcrPending = true;
    // A packet the old source left half-written must not swallow the new one's first bytes.
    this.sync = this.newSync();
  }

  private newSync(): PacketSync {
    return new PacketSync(
      (b, o) => this.packet(b, o),
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Sends what the source is not sending; public for tests that drive the
   * clock. Only a real silence counts: a live source comes in bursts (a
   * picture's packets at once), and a PCR made up between two bursts would
   * run ahead of the source's own next one. Once filling, PSI and PCR are due
   * by the time since the last one went out, from the source or from here.
   */
  tick(): void {
    if (!this.fill || this.pcr === undefined || !this.filling()) return;
    const now = this.now();
    if (this.pcrPid >= 0 && now - this.pcrAt >= this.pcrIntervalMs) {
      this.emitFill(this.pcrPacket(now));
      // The source's next PCR (a new source's, or this one's back from a stall) is checked against these.
      this.pcrPending = true;
    }
    if (now - this.psiAt >= this.psiIntervalMs) {
      this.psiAt = now;
      if (this.lastPat) this.emitFill(this.lastPat);
      if (this.lastPmt) this.emitFill(this.lastPmt);
    }
    // Whole chunks only: what is left of the last one is stuffing.
    while (this.outCount > 0) this.emitFill(nullPacket());
  }

  private filling(): boolean {
    return this.now() - this.lastInputAt >= this.fillAfterMs;
  }

  private packet(b: Buffer, o: number): void {
    this.counters.packetsIn++;
    // Rewritten in place (the input is the splicer's to change: see push) and copied out by emit.
    const p = b.subarray(o, o + TS_PACKET_SIZE);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    if (pid === PID.NULL) {
      this.emit(p);
      return;
    }
    const unitStart = (p[1]! & 0x40) !== 0;
    const control = (p[3]! >>> 4) & 3;
    if (control & 1) {
      const payloadAt = control & 2 ? 5 + p[4]! : 4;
      if (payloadAt < TS_PACKET_SIZE) {
        const payload = p.subarray(payloadAt);
        if (pid === PID.PAT) {
          this.patAsm.push(payload, unitStart);
          if (unitStart) {
            this.lastPat = Buffer.from(p);
            this.info.pat = true;
            this.psiAt = this.now();
          }
        } else if (pid === this.pmtPid) {
          this.pmtAsm?.push(payload, unitStart);
          if (unitStart) {
            this.lastPmt = Buffer.from(p);
            this.info.pmt = true;
          }
        } else if (pid === this.videoPid && unitStart && startsKeyframe(p, control, payload)) this.info.keyframe = true;
      }
    }
    if (pid === this.pcrPid && control & 2 && p[4]! >= 7 && p[5]! & 0x10) this.sourcePcr(p);
    this.continueCounter(p, pid, (control & 1) !== 0);
    this.emit(p);
  }

  /** Rewrites the packet's continuity counter so its PID runs on across sources. */
  private continueCounter(p: Buffer, pid: number, hasPayload: boolean): void {
    const cc = p[3]! & 0x0f;
    let st = this.pids.get(pid);
    if (!st) {
      st = { lastOut: -1, offset: 0, epoch: this.epoch };
      this.pids.set(pid, st);
    } else if (st.epoch !== this.epoch) {
      // The first packet of this PID from a new source: carry on from the last one sent.
      const next = hasPayload ? (st.lastOut + 1) & 0x0f : st.lastOut & 0x0f;
      st.offset = (next - cc) & 0x0f;
      st.epoch = this.epoch;
    }
    const out = (cc + st.offset) & 0x0f;
    p[3] = (p[3]! & 0xf0) | out;
    st.lastOut = out;
  }

  /** A PCR from the source: passed on, and flagged if a new source's first one jumps. */
  private sourcePcr(p: Buffer): void {
    const wire = readPcr(p, 6);
    const now = this.now();
    let pcr = wire;
    if (this.pcr !== undefined) {
      // Unwrap against where the clock should be now.
      const expected = this.pcr + (now - this.pcrAt) * PCR_PER_MS;
      const base = expected - wrapPcr(expected);
      pcr = base + wire;
      const wrap = PCR_WRAP;
      if (pcr - expected > wrap / 2) pcr -= wrap;
      else if (expected - pcr > wrap / 2) pcr += wrap;
      if (this.pcrPending) {
        const step = pcr - this.pcr;
        if (step < 0 || step > PCR_STEP_MAX) {
          p[5] = p[5]! | 0x80;
          this.counters.pcrDiscontinuities++;
        }
      }
    }
    this.pcrPending = false;
    this.pcr = pcr;
    this.pcrAt = now;
  }

  private onPat(sec: Buffer): void {
    const prog = parsePat(sec)?.programs.find((x) => x.programNumber !== 0);
    if (!prog || prog.pmtPid === this.pmtPid) return;
    this.pmtPid = prog.pmtPid;
    this.pmtAsm = new SectionAssembler((s) => this.onPmt(s));
  }

  private onPmt(sec: Buffer): void {
    const pmt = parsePmt(sec);
    if (!pmt) return;
    this.pcrPid = pmt.pcrPid;
    this.videoPid = pmt.streams.find((x) => x.streamType === STREAM_TYPE.H264)?.pid ?? -1;
  }

  /** A PCR-only packet on the PCR PID, the clock carried on to `now`. */
  private pcrPacket(now: number): Buffer {
    const pcr = this.pcr! + (now - this.pcrAt) * PCR_PER_MS;
    this.pcr = pcr;
    this.pcrAt = now;
    const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    p[0] = 0x47;
    p[1] = (this.pcrPid >>> 8) & 0x1f;
    p[2] = this.pcrPid & 0xff;
    p[3] = 0x20; // adaptation field only; its counter is the last one sent (§2.4.3.3)
    p[4] = 183;
    p[5] = 0x10; // PCR_flag
    writePcr(p, 6, pcr);
    return p;
  }

  private emitFill(p: Buffer): void {
    const copy = Buffer.from(p);
    const pid = ((copy[1]! & 0x1f) << 8) | copy[2]!;
    if (pid !== PID.NULL) {
      const st = this.pids.get(pid) ?? { lastOut: -1, offset: 0, epoch: this.epoch };
      const hasPayload = ((copy[3]! >>> 4) & 1) !== 0;
      const cc = hasPayload ? (st.lastOut + 1) & 0x0f : Math.max(0, st.lastOut);
      copy[3] = (copy[3]! & 0xf0) | cc;
      st.lastOut = cc;
      // The source's own next packet on this PID carries on from here, whether it is a new source's or not.
      if (hasPayload) st.epoch = -1;
      this.pids.set(pid, st);
    }
    this.counters.fillPackets++;
    this.emit(copy);
  }

  private emit(p: Buffer): void {
    p.copy(this.out, this.outCount * TS_PACKET_SIZE);
    this.outCount++;
    this.counters.packetsOut++;
    if (this.outCount === CHUNK_PACKETS) {
      this.outCount = 0;
      const info = this.info;
      this.info = { pat: false, pmt: false, keyframe: false };
      this.onChunk(this.out, info);
    }
  }
}

/**
 * A video PES start that is a keyframe: the adaptation field's
 * random_access_indicator (§2.4.3.5), or, where a muxer does not set it, an
 * SPS among the first NAL units (encoders send SPS/PPS with each IDR).
 */
function startsKeyframe(p: Buffer, control: number, payload: Buffer): boolean {
  if (control & 2 && p[4]! > 0 && p[5]! & 0x40) return true;
  if (payload.length < 9 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return false;
  const es = payload.subarray(9 + payload[8]!);
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
    const type = es[i + 3]! & 0x1f;
    if (type === 7 || type === 5) return true;
    if (type >= 1 && type <= 4) return false;
  }
  return false;
}

function nullPacket(): Buffer {
  const p = Buffer.alloc(TS_PACKET_SIZE);
  writeNullPacket(p, 0);
  return p;
}
