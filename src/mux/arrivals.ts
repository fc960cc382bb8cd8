/**
 * What a viewer at the far end gets, and when: a received TS is fed in as it
 * arrives, and each PAT, PMT and picture is logged with its arrival time —
 * whether the picture is a keyframe (an IDR slice) and whether SPS and PPS
 * came with it. From that log: the gaps in the pictures (a pipeline restart,
 * a reconnection) and, for each gap, whether the stream resumed as a decoder
 * needs it — PAT, then PMT, then SPS/PPS and a keyframe as its first picture
 * (ISO/IEC 13818-1 §2.4.4; ITU-T H.264 §7.4.1.2.3). The benchmarks and the
 * end-to-end tests read the stream where the user would, through this.
 *
 * The program is found from the PAT and PMT (any muxer's PIDs); the first
 * H.264 stream of the first program is the picture.
 */
import { PID, STREAM_TYPE, TS_PACKET_SIZE } from './constants.js';
import { PacketSync } from './packet-sync.js';
import { readTimestamp } from './pes.js';
import { parsePat, parsePmt } from './psi-parse.js';
import { SectionAssembler } from './section-assembler.js';

/** NAL unit types (ITU-T H.264 Table 7-1). */
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
/** Bytes of a picture's PES scanned for its parameter sets and first slice. */
const SCAN_BYTES = 4096;

export interface PictureArrival {
  atMs: number;
  /** The picture holds an IDR slice: a decoder can start here. */
  key: boolean;
  /** SPS and PPS arrived in this picture's access unit. */
  parameterSets: boolean;
  pts: number | undefined;
  /** Bytes of the picture's PES payload (its coded size, PES header excluded). */
  bytes: number;
}

export interface Resumption {
  /** Arrival of the first picture after the gap, ms. */
  atMs: number;
  /** Length of the gap in pictures that ended here, ms. */
  gapMs: number;
  /** A PAT and a PMT arrived after the gap began and before this picture. */
  patFirst: boolean;
  pmtFirst: boolean;
  /** The first picture after the gap is a keyframe carrying SPS and PPS. */
  keyFirst: boolean;
  /** Pictures that arrived after the gap before the first keyframe (a decoder drops them). */
  picturesBeforeKey: number;
}

export class TsArrivals {
  readonly pictures: PictureArrival[] = [];
  readonly pats: number[] = [];
  readonly pmts: number[] = [];
  private readonly sync = new PacketSync(
    (b, o) => this.packet(b, o),
    () => undefined,
    () => undefined,
  );
  private pmtPid = -1;
  private videoPid = -1;
  private readonly patAsm = new SectionAssembler((s) => this.onPat(s));
  private pmtAsm: SectionAssembler | undefined;
  private current: { atMs: number; pts: number | undefined; scan: Buffer[]; scanned: number; bytes: number } | undefined;
  private packets = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get packetsSeen(): number {
    return this.packets;
  }

  push(data: Buffer): void {
    this.sync.push(data);
  }

  /** Ends the picture being assembled (call when the stream ends). */
  flush(): void {
    this.endPicture();
  }

  /** Pictures after `fromMs` (inclusive). */
  picturesAfter(fromMs: number): PictureArrival[] {
    return this.pictures.filter((p) => p.atMs >= fromMs);
  }

  /** The longest time between two pictures arriving, ms, from `fromMs` on (0 with fewer than two). */
  longestGap(fromMs = Number.NEGATIVE_INFINITY): number {
    let worst = 0;
    let last: number | undefined;
    for (const p of this.pictures) {
      if (p.atMs < fromMs) continue;
      if (last !== undefined) worst = Math.max(worst, p.atMs - last);
      last = p.atMs;
    }
    return worst;
  }

  /**
   * How the pictures resumed after the first gap of at least `minGapMs` that
   * ends after `atMs` (say, the moment a process was killed: what was in
   * flight still arrives for a while after it). Undefined when no such gap
   * has ended yet.
   */
  resumptionAfter(atMs: number, minGapMs = 200): Resumption | undefined {
    this.endPicture();
    const ps = this.pictures;
    const i = ps.findIndex((p, k) => k > 0 && p.atMs >= atMs && p.atMs - ps[k - 1]!.atMs >= minGapMs);
    return i < 0 ? undefined : this.resumptionAt(i);
  }

  /**
   * How the pictures resumed after the longest gap that begins within
   * `windowMs` after `atMs`: for an interruption known to have happened then
   * (a process killed at `atMs`: what it had sent still arrives after that)
   * however short it was — a restart quicker than any fixed threshold is
   * still found, and a gap that began before `atMs` is not taken for it.
   * Undefined until a picture has arrived after the window, so the whole
   * window was seen.
   */
  resumptionWithin(atMs: number, windowMs: number): Resumption | undefined {
    this.endPicture();
    const ps = this.pictures;
    if (ps.length < 2 || ps[ps.length - 1]!.atMs <= atMs + windowMs) return undefined;
    let best = -1;
    for (let k = 1; k < ps.length; k++) {
      if (ps[k - 1]!.atMs < atMs || ps[k - 1]!.atMs > atMs + windowMs) continue;
      if (best < 0 || ps[k]!.atMs - ps[k - 1]!.atMs > ps[best]!.atMs - ps[best - 1]!.atMs) best = k;
    }
    return best < 0 ? undefined : this.resumptionAt(best);
  }

  private resumptionAt(i: number): Resumption {
    const ps = this.pictures;
    const before = ps[i - 1]!;
    const first = ps[i]!;
    // PSI counts for the new stream only if it came in the second half of the
    // gap: the old stream's last packets (a PAT among them) trail its last picture.
    const from = (before.atMs + first.atMs) / 2;
    const between = (list: number[]): boolean => list.some((t) => t > from && t <= first.atMs);
    let firstKey = 0;
    while (i + firstKey < ps.length && !ps[i + firstKey]!.key) firstKey++;
    return {
      atMs: first.atMs,
      gapMs: first.atMs - before.atMs,
      patFirst: between(this.pats),
      pmtFirst: between(this.pmts),
      keyFirst: first.key && first.parameterSets,
      picturesBeforeKey: firstKey,
    };
  }

  private packet(b: Buffer, o: number): void {
    this.packets++;
    if (b[o + 1]! & 0x80) return; // transport_error_indicator
    const pid = ((b[o + 1]! & 0x1f) << 8) | b[o + 2]!;
    const unitStart = (b[o + 1]! & 0x40) !== 0;
    const control = (b[o + 3]! >>> 4) & 3;
    if (!(control & 1)) return;
    let payload = o + 4;
    if (control & 2) payload += 1 + b[o + 4]!;
    if (payload >= o + TS_PACKET_SIZE) return;
    const data = b.subarray(payload, o + TS_PACKET_SIZE);
    if (pid === PID.PAT) this.patAsm.push(data, unitStart);
    else if (pid === this.pmtPid) this.pmtAsm?.push(data, unitStart);
    else if (pid === this.videoPid) this.video(data, unitStart);
  }

  private onPat(sec: Buffer): void {
    const pat = parsePat(sec);
    const prog = pat?.programs.find((p) => p.programNumber !== 0);
    if (!prog) return;
    this.pats.push(this.now());
    if (prog.pmtPid !== this.pmtPid) {
      this.pmtPid = prog.pmtPid;
      this.pmtAsm = new SectionAssembler((s) => this.onPmt(s));
    }
  }

  private onPmt(sec: Buffer): void {
    const pmt = parsePmt(sec);
    if (!pmt) return;
    this.pmts.push(this.now());
    const v = pmt.streams.find((s) => s.streamType === STREAM_TYPE.H264);
    if (v && v.pid !== this.videoPid) {
      this.endPicture();
      this.videoPid = v.pid;
    }
  }

  private video(data: Buffer, unitStart: boolean): void {
    if (unitStart) {
      this.endPicture();
      // PES header (§2.4.3.6): 00 00 01, stream id, length, flags, header length.
      if (data.length < 9 || data[0] !== 0 || data[1] !== 0 || data[2] !== 1) return;
      const headerLen = 9 + data[8]!;
      const pts = data[7]! & 0x80 && data.length >= 14 ? readTimestamp(data, 9) : undefined;
      this.current = { atMs: this.now(), pts, scan: [], scanned: 0, bytes: 0 };
      if (headerLen < data.length) this.addPayload(data.subarray(headerLen));
      return;
    }
    if (this.current) this.addPayload(data);
  }

  private addPayload(data: Buffer): void {
    const c = this.current!;
    c.bytes += data.length;
    if (c.scanned >= SCAN_BYTES) return;
    c.scan.push(Buffer.from(data));
    c.scanned += data.length;
  }

  private endPicture(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const es = Buffer.concat(c.scan);
    let key = false;
    let sps = false;
    let pps = false;
    for (let i = 0; i + 3 < es.length; i++) {
      if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
      const type = es[i + 3]! & 0x1f;
      if (type === NAL_SPS) sps = true;
      else if (type === NAL_PPS) pps = true;
      else if (type === NAL_IDR) key = true;
      if (type >= 1 && type <= 5) break; // the first slice decides
      i += 2;
    }
    this.pictures.push({ atMs: c.atMs, key, parameterSets: sps && pps, pts: c.pts, bytes: c.bytes });
  }
}
