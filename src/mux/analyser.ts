/**
 * An incremental MPEG-TS analyser for the ETSI TR 101 290 checks that need no
 * decoding: sync, continuity, PAT/PMT presence and intervals, PID presence,
 * CRCs, PCR repetition/discontinuity/accuracy, PTS repetition, and bitrates.
 *
 * Time is the PCR timeline of the first PCR PID seen: a packet's time is the
 * last PCR before it; in a constant-rate stream, plus its distance in bytes
 * at the rate of the last PCR interval (exact). Intervals are thus exact for
 * CBR, and within one PCR spacing for VBR (exact for tables sent right after
 * a PCR, as Fieldcast's muxer does).
 */
import { PCR_HZ, pcrDiff, ptsDiff } from '../lib/clock.js';
import {
  type AnalyserReport,
  type CheckName,
  PRIORITY_1_CHECKS,
  PRIORITY_2_CHECKS,
  type ProgramReport,
  type StreamReport,
} from './analyser-report.js';
import { PID, streamTypeName, TABLE_ID, TS_PACKET_SIZE } from './constants.js';
import { readPcr } from './packet.js';
import { PacketSync } from './packet-sync.js';
import { parsePesHeader } from './pes.js';
import { parsePat, parsePmt, parseSdt, sectionCrcOk, sectionHeader } from './psi-parse.js';
import { SectionAssembler } from './section-assembler.js';

const MS = PCR_HZ / 1000;
/** TR 101 290 §5.2.1–5.2.2 limits. */
const PAT_PMT_LIMIT = 500 * MS;
const PCR_REPETITION_LIMIT = 40 * MS;
const PCR_DISCONTINUITY_LIMIT = 100 * MS;
const PCR_ACCURACY_NS = 500;
const PTS_LIMIT = 700 * MS;
/** A PCR further than this from its neighbours' line means a variable-rate stream. */
const CBR_MAX_DEVIATION_NS = 2_000_000;
/** A PCR step beyond this is a broken clock, not time passing. */
const MAX_TIMELINE_STEP = 10 * PCR_HZ;

export interface TsAnalyserOptions {
  /** TR 101 290 PID_error: a PID the PMT names that is silent this long (ms; default 2000). */
  pidTimeoutMs?: number;
}

interface PcrState {
  count: number;
  last: number;
  lastPos: number;
  /** The PCR before `last`, for accuracy; -1 after a discontinuity. */
  prev: number;
  prevPos: number;
  maxInterval: number;
  sumInterval: number;
  intervals: number;
}

const PID_COUNT = 0x2000;

export class TsAnalyser {
  private readonly pidTimeout: number;
  private readonly sync = new PacketSync(
    (b, o) => this.packet(b, o),
    () => this.counts.Sync_byte_error++,
    () => this.counts.TS_sync_loss++,
  );
  private packets = 0;
  private readonly counts: Record<CheckName, number> = Object.fromEntries(
    [...PRIORITY_1_CHECKS, ...PRIORITY_2_CHECKS].map((c) => [c, 0]),
  ) as Record<CheckName, number>;

  private readonly ccLast = new Int8Array(PID_COUNT).fill(-1);
  private readonly ccRepeats = new Uint8Array(PID_COUNT);
  private readonly pidPackets = new Uint32Array(PID_COUNT);
  private readonly ccErrors = new Uint32Array(PID_COUNT);
  private missing = 0;
  private readonly assemblers = new Map<number, SectionAssembler>();

  /** Timeline (27 MHz from the first PCR) and the PID that drives it. */
  private tl = 0;
  private tlPid = -1;
  private tlLastPcr = -1;
  private tlPcrPos = 0;
  /** The last PCR interval of the timeline PID: its length (27 MHz) and its bytes. */
  private tlInterval = 0;
  private tlIntervalBytes = 0;
  /** Time of the packet being analysed. */
  private t = 0;
  private readonly pcrs = new Map<number, PcrState>();
  private jitterMax = -1;
  private accuracyOver = 0;
  private windowTl = -1;
  private windowPos = 0;
  private rateMin = Number.POSITIVE_INFINITY;
  private rateMax = 0;

  private lastPat = Number.NaN;
  private patMax = -1;
  private readonly pmts = new Map<number, { programNumber: number; last: number; seen: boolean }>();
  private pmtMax = -1;
  private readonly programs = new Map<number, ProgramReport>();
  private services: AnalyserReport['services'] = [];
  /** Elementary PIDs the PMTs name → last time seen. */
  private readonly esLastSeen = new Map<number, number>();
  private readonly ptsLast = new Map<number, number>();
  private readonly ptsMax = new Map<number, number>();
  private readonly dtsLead = new Map<number, number>();

  constructor(opts: TsAnalyserOptions = {}) {
    this.pidTimeout = (opts.pidTimeoutMs ?? 2000) * MS;
    this.assembler(PID.PAT);
    this.assembler(PID.SDT);
  }

  /** Feeds bytes at any boundary. The bytes are not kept past the call. */
  push(data: Buffer): void {
    this.sync.push(data);
  }

  private assembler(pid: number): SectionAssembler {
    let a = this.assemblers.get(pid);
    if (!a) {
      a = new SectionAssembler((sec) => this.section(pid, sec));
      this.assemblers.set(pid, a);
    }
    return a;
  }

  private packet(b: Buffer, o: number): void {
    const pos = this.packets * TS_PACKET_SIZE;
    this.packets++;
    this.t = this.tl;
    if (this.tlIntervalBytes > 0 && this.constantRate())
      this.t += Math.min(this.tlInterval, ((pos - this.tlPcrPos) * this.tlInterval) / this.tlIntervalBytes);
    const pid = ((b[o + 1]! & 0x1f) << 8) | b[o + 2]!;
    this.pidPackets[pid]!++;
    if (b[o + 1]! & 0x80) {
      this.counts.Transport_error++;
      return;
    }
    if (pid === PID.NULL) return;
    const scrambled = b[o + 3]! >>> 6 !== 0;
    const control = (b[o + 3]! >>> 4) & 3;
    const cc = b[o + 3]! & 0x0f;
    const unitStart = (b[o + 1]! & 0x40) !== 0;
    const hasPayload = (control & 1) !== 0;
    let payload = o + 4;
    let discontinuity = false;
    if (control & 2) {
      const afLen = b[o + 4]!;
      payload = o + 5 + afLen;
      if (payload > o + TS_PACKET_SIZE) return; // malformed adaptation field
      if (afLen > 0) {
        const flags = b[o + 5]!;
        discontinuity = (flags & 0x80) !== 0;
        if (flags & 0x10 && afLen >= 7) this.pcr(pid, readPcr(b, o + 6), discontinuity, pos);
      }
    }
    this.continuity(pid, cc, hasPayload, discontinuity);

    const last = this.esLastSeen.get(pid);
    if (last !== undefined) {
      if (this.t - last > this.pidTimeout) this.counts.PID_error++;
      this.esLastSeen.set(pid, this.t);
    }
    if (scrambled && (pid === PID.PAT || this.pmts.has(pid))) {
      if (pid === PID.PAT) this.counts.PAT_error++;
      else this.counts.PMT_error++;
      return;
    }
    if (!hasPayload || payload >= o + TS_PACKET_SIZE) return;
    const asm = this.assemblers.get(pid);
    if (asm) asm.push(b.subarray(payload, o + TS_PACKET_SIZE), unitStart);
    else if (unitStart && last !== undefined) this.pes(pid, b, payload, o + TS_PACKET_SIZE);
  }

  /** §5.2.1 1.4: order, duplicates (one allowed), repeats on adaptation-only packets (legal). */
  private continuity(pid: number, cc: number, hasPayload: boolean, discontinuity: boolean): void {
    const last = this.ccLast[pid]!;
    this.ccLast[pid] = cc;
    if (last < 0 || discontinuity) {
      this.ccRepeats[pid] = 0;
      return;
    }
    let ok: boolean;
    if (!hasPayload) {
      // An adaptation-only packet repeats the counter of the last payload sent on its PID.
      ok = cc === last;
      if (!ok) this.missing += (cc - last) & 0x0f;
    } else if (cc === ((last + 1) & 0x0f)) {
      ok = true;
      this.ccRepeats[pid] = 0;
    } else if (cc === last) ok = ++this.ccRepeats[pid]! <= 1;
    else {
      ok = false;
      this.missing += (cc - last - 1) & 0x0f;
    }
    if (!ok) {
      this.counts.Continuity_count_error++;
      this.ccErrors[pid]!++;
      this.assemblers.get(pid)?.reset();
    }
  }

  private pcr(pid: number, pcr: number, discontinuity: boolean, packetPos: number): void {
    let st = this.pcrs.get(pid);
    if (!st) {
      st = { count: 0, last: 0, lastPos: 0, prev: -1, prevPos: 0, maxInterval: 0, sumInterval: 0, intervals: 0 };
      this.pcrs.set(pid, st);
    }
    if (this.tlPid < 0) this.tlPid = pid;
    const pos = packetPos;
    let step = 0;
    if (st.count > 0 && !discontinuity) {
      const d = pcrDiff(pcr, st.last);
      if (d < 0 || d > PCR_DISCONTINUITY_LIMIT) this.counts.PCR_discontinuity_indicator_error++;
      if (d > PCR_REPETITION_LIMIT) this.counts.PCR_repetition_error++;
      if (d >= 0) {
        st.maxInterval = Math.max(st.maxInterval, d);
        st.sumInterval += d;
        st.intervals++;
        if (d <= MAX_TIMELINE_STEP) step = d;
      }
      if (st.prev >= 0 && pos > st.prevPos) {
        // Where `last` should be on the line from `prev` to this PCR, by byte position.
        const expected = (pcrDiff(pcr, st.prev) * (st.lastPos - st.prevPos)) / (pos - st.prevPos);
        const ns = (Math.abs(pcrDiff(st.last, st.prev) - expected) * 1e9) / PCR_HZ;
        this.jitterMax = Math.max(this.jitterMax, ns);
        if (ns > PCR_ACCURACY_NS) this.accuracyOver++;
      }
      st.prev = st.last;
      st.prevPos = st.lastPos;
    } else {
      st.prev = -1;
    }
    st.last = pcr;
    st.lastPos = pos;
    st.count++;
    if (pid !== this.tlPid) return;
    this.tl += step;
    this.t = this.tl;
    this.tlInterval = step;
    this.tlIntervalBytes = step > 0 && !discontinuity && this.tlLastPcr >= 0 ? pos - this.tlPcrPos : 0;
    this.tlPcrPos = pos;
    this.tlLastPcr = pcr;
    if (discontinuity || this.windowTl < 0) {
      this.windowTl = this.tl;
      this.windowPos = pos;
    } else if (this.tl - this.windowTl >= PCR_HZ) {
      const bps = ((pos - this.windowPos) * 8 * PCR_HZ) / (this.tl - this.windowTl);
      this.rateMin = Math.min(this.rateMin, bps);
      this.rateMax = Math.max(this.rateMax, bps);
      this.windowTl = this.tl;
      this.windowPos = pos;
    }
  }

  private pes(pid: number, b: Buffer, from: number, to: number): void {
    const h = parsePesHeader(b, from, to);
    if (!h || h.pts === undefined) return;
    const last = this.ptsLast.get(pid);
    if (last !== undefined) {
      const gap = this.t - last;
      this.ptsMax.set(pid, Math.max(this.ptsMax.get(pid) ?? 0, gap));
      if (gap > PTS_LIMIT) this.counts.PTS_error++;
    }
    this.ptsLast.set(pid, this.t);
    if (this.tlLastPcr >= 0) {
      const lead = ptsDiff(h.dts ?? h.pts, Math.floor((this.tlLastPcr + this.t - this.tl) / 300)) / 90;
      this.dtsLead.set(pid, Math.min(this.dtsLead.get(pid) ?? Number.POSITIVE_INFINITY, lead));
    }
  }

  private section(pid: number, sec: Buffer): void {
    const h = sectionHeader(sec);
    if (!h) return;
    if (h.syntax && !sectionCrcOk(sec)) {
      this.counts.CRC_error++;
      return;
    }
    if (pid === PID.PAT) {
      if (h.tableId !== TABLE_ID.PAT) {
        this.counts.PAT_error++;
        return;
      }
      this.patSeen(sec);
    } else if (pid === PID.SDT) {
      const sdt = parseSdt(sec);
      if (sdt) this.services = sdt.services.map(({ serviceId, providerName, serviceName }) => ({ serviceId, providerName, serviceName }));
    } else if (this.pmts.has(pid)) {
      if (h.tableId !== TABLE_ID.PMT) {
        this.counts.PMT_error++;
        return;
      }
      this.pmtSeen(pid, sec);
    }
  }

  private patSeen(sec: Buffer): void {
    if (!Number.isNaN(this.lastPat)) {
      const gap = this.t - this.lastPat;
      this.patMax = Math.max(this.patMax, gap);
      if (gap > PAT_PMT_LIMIT) this.counts.PAT_error++;
    }
    this.lastPat = this.t;
    const pat = parsePat(sec);
    if (!pat) return;
    for (const p of pat.programs) {
      if (p.programNumber === 0 || this.pmts.has(p.pmtPid)) continue; // program 0 points to the NIT
      this.pmts.set(p.pmtPid, { programNumber: p.programNumber, last: this.t, seen: false });
      this.programs.set(p.programNumber, { programNumber: p.programNumber, pmtPid: p.pmtPid, streams: [] });
      this.assembler(p.pmtPid);
    }
  }

  private pmtSeen(pid: number, sec: Buffer): void {
    const st = this.pmts.get(pid)!;
    const gap = this.t - st.last;
    if (st.seen) this.pmtMax = Math.max(this.pmtMax, gap);
    if (gap > PAT_PMT_LIMIT) this.counts.PMT_error++;
    st.last = this.t;
    st.seen = true;
    const pmt = parsePmt(sec);
    if (!pmt) return;
    const streams: StreamReport[] = pmt.streams.map((s) => {
      const r: StreamReport = { pid: s.pid, streamType: s.streamType, kind: streamTypeName(s.streamType) };
      if (s.registration) r.registration = s.registration;
      if (!this.esLastSeen.has(s.pid)) this.esLastSeen.set(s.pid, this.t);
      return r;
    });
    this.programs.set(pmt.programNumber, { programNumber: pmt.programNumber, pmtPid: pid, pcrPid: pmt.pcrPid, streams });
  }

  /**
   * A CBR stream: every full second so far had the same rate within 1% and no
   * PCR strayed 2 ms from the line through its neighbours (before the first
   * second: it stuffs with null packets).
   */
  private constantRate(): boolean {
    if (this.jitterMax > CBR_MAX_DEVIATION_NS) return false;
    if (this.rateMax === 0) return this.pidPackets[PID.NULL]! > 0;
    return (this.rateMax - this.rateMin) / this.rateMax <= 0.01;
  }

  /** The checks so far. Gaps still open at the end count as errors once they pass their limit. */
  report(): AnalyserReport {
    const checks: Record<CheckName, number | null> = { ...this.counts };
    const end = this.t;
    const havePsi = this.packets > 0;
    if (havePsi && (Number.isNaN(this.lastPat) ? end : end - this.lastPat) > PAT_PMT_LIMIT) checks.PAT_error!++;
    for (const st of this.pmts.values()) if (end - st.last > PAT_PMT_LIMIT) checks.PMT_error!++;
    for (const last of this.esLastSeen.values()) if (end - last > this.pidTimeout) checks.PID_error!++;
    for (const last of this.ptsLast.values()) if (end - last > PTS_LIMIT) checks.PTS_error!++;
    const constantRate = this.rateMax > 0 && this.constantRate();
    checks.PCR_accuracy_error = constantRate ? this.accuracyOver : null;
    const sum = (names: readonly CheckName[]) => names.reduce((n, c) => n + (checks[c] ?? 0), 0);

    const tlPcr = this.pcrs.get(this.tlPid);
    const durationTicks = tlPcr && tlPcr.count > 1 ? end : 0;
    const perPid: Record<string, number> = {};
    const pids: AnalyserReport['pids'] = {};
    for (let pid = 0; pid < PID_COUNT; pid++) {
      const n = this.pidPackets[pid]!;
      if (n === 0) continue;
      pids[String(pid)] = { packets: n, continuityErrors: this.ccErrors[pid]! };
      if (durationTicks > 0) perPid[String(pid)] = (n * TS_PACKET_SIZE * 8 * PCR_HZ) / durationTicks;
    }
    const toMs = (t: number) => t / MS;
    const ptsMaxMs: Record<string, number> = {};
    for (const [pid, v] of this.ptsMax) ptsMaxMs[String(pid)] = toMs(v);
    const minDtsLeadMs: Record<string, number> = {};
    for (const [pid, v] of this.dtsLead) minDtsLeadMs[String(pid)] = v;
    return {
      packets: this.packets,
      bytes: this.packets * TS_PACKET_SIZE,
      durationMs: durationTicks > 0 ? toMs(durationTicks) : null,
      checks,
      priority1Errors: sum(PRIORITY_1_CHECKS),
      priority2Errors: sum(PRIORITY_2_CHECKS),
      intervals: {
        patMaxMs: this.patMax >= 0 ? toMs(this.patMax) : null,
        pmtMaxMs: this.pmtMax >= 0 ? toMs(this.pmtMax) : null,
        pcrMaxMs: tlPcr && tlPcr.intervals > 0 ? toMs(tlPcr.maxInterval) : null,
        pcrMeanMs: tlPcr && tlPcr.intervals > 0 ? toMs(tlPcr.sumInterval / tlPcr.intervals) : null,
        ptsMaxMs,
      },
      pcr: {
        pid: this.tlPid >= 0 ? this.tlPid : null,
        count: tlPcr?.count ?? 0,
        jitterMaxNs: this.jitterMax >= 0 ? this.jitterMax : null,
        constantRate,
      },
      bitrate: {
        totalBps: durationTicks > 0 ? (this.packets * TS_PACKET_SIZE * 8 * PCR_HZ) / durationTicks : null,
        perPid,
        perSecondMinBps: this.rateMax > 0 ? this.rateMin : null,
        perSecondMaxBps: this.rateMax > 0 ? this.rateMax : null,
      },
      minDtsLeadMs,
      programs: [...this.programs.values()],
      services: this.services,
      pids,
      missingPackets: this.missing,
      nullPackets: this.pidPackets[PID.NULL]!,
    };
  }
}
