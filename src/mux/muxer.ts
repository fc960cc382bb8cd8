/**
 * The MPEG-TS muxer (ISO/IEC 13818-1): H.264, AAC (ADTS) and asynchronous KLV
 * into one program, live, one access unit at a time.
 *
 * Time comes only from the access units (the media clock): the PCR is the
 * decode time minus the mux delay, so it always leads every DTS by that
 * delay. In VBR the clock steps with the access units and PCRs fill the steps
 * at most `pcrIntervalMs` apart; in CBR every packet has a slot on a byte
 * clock at the mux rate, null packets fill the idle slots, and each PCR is
 * exact to its byte position.
 */
import { createLogger } from '../lib/logger.js';
import { parseAdtsHeader } from './adts.js';
import { ByteClock } from './cbr-clock.js';
import { KLVA, PID, PROGRAM_NUMBER, STREAM_ID, STREAM_TYPE, TRANSPORT_STREAM_ID } from './constants.js';
import { copyBytes, releaseCopySource } from './copy-bytes.js';
import { MuxInputError, MuxOptionsError } from './errors.js';
import { klvPacketSize } from './klv.js';
import { checkTimes, resolveOptions, type TsMuxerOptions } from './options.js';
import { type MuxStats, TsOutput } from './output.js';
import { type AdaptationFlags, adaptationSize, writePacketHeader } from './packet.js';
import { MAX_PES_HEADER, MAX_PES_PACKET_LENGTH, pesHeaderSize, writePesHeader } from './pes.js';
import { SectionPackets } from './section.js';
import { buildPat, buildPmt, buildSdt, type PmtStream, registrationDescriptor } from './tables.js';
import type { AccessUnit } from './types.js';
import { VideoAuPreparer } from './video-au.js';

const log = createLogger('mux');

const TICKS_PER_MS = 27_000;
const PCR_PER_PTS = 300;
/** SDT at least every 2 s (EN 300 468 §5.1.4; TR 101 290 SDT_error); twice a second here. */
const SDT_INTERVAL_MS = 500;
/** A clock step larger than these is a time-base discontinuity, not a gap to fill. */
const MAX_FORWARD_JUMP_MS = 5000;
const MAX_BACKWARD_JUMP_MS = 1000;

export type { TsMuxerOptions } from './options.js';

export class TsMuxer {
  private readonly out: TsOutput;
  private readonly video: boolean;
  private readonly audio: { sampleRate: number; channels: number } | undefined;
  private readonly klv: boolean;
  private readonly delayTicks: number;
  private readonly pcrTicks: number;
  private readonly psiTicks: number;
  private readonly pcrPid: number;
  private readonly pat: SectionPackets;
  private readonly pmt: SectionPackets;
  private readonly sdt: SectionPackets;
  private readonly cbr: ByteClock | undefined;
  private readonly pictures = new VideoAuPreparer();
  private readonly pesHeader = Buffer.alloc(MAX_PES_HEADER);
  private readonly parts: Buffer[] = [];
  private readonly flags: AdaptationFlags = { pcr: -1, randomAccess: false, discontinuity: false };

  private started = false;
  /** VBR media clock (27 MHz, unbounded): the latest DTS minus the delay. */
  private now = 0;
  private lastPcr = Number.NEGATIVE_INFINITY;
  private lastPsi = Number.NEGATIVE_INFINITY;
  private lastSdt = Number.NEGATIVE_INFINITY;
  /** VBR: a PCR chosen but not yet sent; it rides in the next packet of the PCR PID if that comes first. */
  private pendingPcr = -1;
  private restartPending = false;
  /** The next PCR sent carries discontinuity_indicator (§2.4.3.5). */
  private discontinuityFlag = false;
  private pcrs = 0;
  private psiRepeats = 0;
  private lateUnits = 0;
  private discontinuities = 0;
  private warnedAudioFormat = false;

  constructor(opts: TsMuxerOptions) {
    const o = resolveOptions(opts);
    this.video = o.video;
    this.audio = o.audio;
    this.klv = o.klv;
    this.delayTicks = o.delayMs * TICKS_PER_MS;
    this.pcrTicks = o.pcrIntervalMs * TICKS_PER_MS;
    this.psiTicks = o.psiIntervalMs * TICKS_PER_MS;
    if (o.cbrRate !== 0) this.cbr = new ByteClock(o.cbrRate);

    this.pcrPid = this.video ? PID.VIDEO : PID.AUDIO;
    const streams: PmtStream[] = [];
    if (this.video) streams.push({ streamType: STREAM_TYPE.H264, pid: PID.VIDEO });
    if (this.audio) streams.push({ streamType: STREAM_TYPE.AAC_ADTS, pid: PID.AUDIO });
    if (this.klv) streams.push({ streamType: STREAM_TYPE.PRIVATE_PES, pid: PID.KLV, descriptors: [registrationDescriptor(KLVA)] });
    let sdtSection: Buffer;
    try {
      sdtSection = buildSdt(TRANSPORT_STREAM_ID, [{ serviceId: PROGRAM_NUMBER, providerName: o.providerName, serviceName: o.serviceName }]);
    } catch (e) {
      throw new MuxOptionsError(`service or provider name does not fit the SDT: ${(e as Error).message}`);
    }
    this.pat = new SectionPackets(PID.PAT, buildPat(TRANSPORT_STREAM_ID, [{ programNumber: PROGRAM_NUMBER, pmtPid: PID.PMT }]));
    this.pmt = new SectionPackets(PID.PMT, buildPmt(PROGRAM_NUMBER, this.pcrPid, streams));
    this.sdt = new SectionPackets(PID.SDT, sdtSection);
    this.out = new TsOutput(opts.onChunk);
  }

  /** One H.264 picture in Annex B; an AUD and, before an IDR, SPS/PPS are added when missing. */
  writeVideo(au: AccessUnit): void {
    if (!this.video) throw new MuxInputError('this muxer carries no video stream');
    const { pts, dts } = checkTimes(au);
    const pic = this.pictures.prepare(au.data, au.key);
    let total = 0;
    for (let i = 0; i < pic.count; i++) {
      this.parts[i] = pic.parts[i]!;
      total += pic.parts[i]!.length;
    }
    this.advance(dts);
    // PAT/PMT before every IDR, so a receiver joining here can start at once (unless they just went out).
    if (pic.idr && this.lastPsi !== this.time) this.sendPsi();
    this.writePes(PID.VIDEO, STREAM_ID.VIDEO, pts, dts, pic.count, total, true, pic.idr);
    this.checkLate(dts);
  }

  /** One or more ADTS frames; the PES gets the first frame's PTS. */
  writeAudio(au: AccessUnit): void {
    if (!this.audio) throw new MuxInputError('this muxer carries no audio stream');
    const { pts, dts } = checkTimes(au);
    let off = 0;
    while (off < au.data.length) {
      const h = parseAdtsHeader(au.data, off);
      if (!h || off + h.frameLength > au.data.length)
        throw new MuxInputError(`audio access unit is not ADTS (bad frame header at byte ${off})`, { bytes: au.data.length });
      if (!this.warnedAudioFormat && (h.sampleRate !== this.audio.sampleRate || h.channels !== this.audio.channels)) {
        this.warnedAudioFormat = true;
        log.warn('audio frames differ from the configured format', {
          sampleRate: h.sampleRate,
          channels: h.channels,
          expected: this.audio,
        });
      }
      off += h.frameLength;
    }
    if (off === 0) throw new MuxInputError('audio access unit is empty');
    if (pesHeaderSize(pts, undefined) - 6 + off > MAX_PES_PACKET_LENGTH)
      throw new MuxInputError(`audio access unit of ${off} bytes does not fit one PES packet`);
    this.parts[0] = au.data;
    this.advance(dts);
    this.writePes(PID.AUDIO, STREAM_ID.AUDIO, pts, undefined, 1, off, false, false);
    this.checkLate(dts);
  }

  /** One KLV packet, sent at once as asynchronous metadata (SMPTE RP 217: private_stream_1, no PTS). */
  writeKlv(au: AccessUnit): void {
    if (!this.klv) throw new MuxInputError('this muxer carries no KLV stream');
    const { dts } = checkTimes(au);
    if (klvPacketSize(au.data, 0) === undefined)
      throw new MuxInputError('metadata is not a KLV packet (no SMPTE Universal Label key, or truncated)', { bytes: au.data.length });
    if (3 + au.data.length > MAX_PES_PACKET_LENGTH)
      throw new MuxInputError(`KLV packet of ${au.data.length} bytes does not fit one PES packet`);
    this.parts[0] = au.data;
    if (!this.started) this.advance(dts);
    this.writePes(PID.KLV, STREAM_ID.PRIVATE_STREAM_1, undefined, undefined, 1, au.data.length, false, false);
  }

  /** Next PCR/PTS carry the discontinuity indicator (a source change/clock jump). */
  markDiscontinuity(): void {
    if (this.started) this.restartPending = true;
  }

  /** Emits any partial chunk, padded with null packets to 7. */
  flush(): void {
    if (this.pendingPcr >= 0) this.sendPendingPcr();
    const n = this.out.packetsToChunkEnd;
    for (let i = 0; i < n; i++) {
      this.out.writeNull();
      this.cbr?.tick();
    }
  }

  get stats(): MuxStats {
    return {
      packets: this.out.packets,
      bytes: this.out.packets * 188,
      chunks: this.out.chunks,
      perPid: this.out.perPidRecord(),
      nullPackets: this.out.countFor(PID.NULL),
      pcrs: this.pcrs,
      psiRepeats: this.psiRepeats,
      lateUnits: this.lateUnits,
      discontinuities: this.discontinuities,
    };
  }

  // ---- the clock ----

  private get time(): number {
    return this.cbr ? this.cbr.packetStart : this.now;
  }

  /** Moves the media clock to an access unit's DTS minus the delay. */
  private advance(dts: number): void {
    const target = dts * PCR_PER_PTS - this.delayTicks;
    if (!this.started || this.restartPending) {
      this.restart(target);
      return;
    }
    const t = this.time;
    if (target > t + MAX_FORWARD_JUMP_MS * TICKS_PER_MS || target < t - MAX_BACKWARD_JUMP_MS * TICKS_PER_MS) {
      log.info('media clock jumped: marking a discontinuity', { jumpMs: Math.round((target - t) / TICKS_PER_MS) });
      this.restart(target);
      return;
    }
    if (this.cbr) {
      while (this.cbr.packetStart < target) this.fillSlot();
      return;
    }
    // VBR: step to the target at most one PCR interval at a time; PSI goes out
    // when waiting one more step would make its gap too long.
    while (this.now < target) {
      this.now = Math.min(target, this.lastPcr + this.pcrTicks);
      const psiDue = this.now - this.lastPsi > this.psiTicks - this.pcrTicks;
      if (psiDue || this.now - this.lastPcr >= this.pcrTicks) this.choosePcr(this.now);
      if (psiDue) this.sendPsi();
    }
  }

  /** Starts (or restarts after a discontinuity) the clock at `target`. */
  private restart(target: number): void {
    if (this.pendingPcr >= 0) this.sendPendingPcr();
    if (this.started) {
      this.discontinuityFlag = true;
      this.discontinuities++;
    }
    this.started = true;
    this.restartPending = false;
    this.lastPcr = Number.NEGATIVE_INFINITY;
    this.lastPsi = Number.NEGATIVE_INFINITY;
    this.lastSdt = Number.NEGATIVE_INFINITY;
    if (this.cbr) {
      this.cbr.reset(target);
      return; // the first slot sends PSI and a PCR
    }
    this.now = target;
    this.choosePcr(target);
    this.sendPsi();
  }

  /** VBR: picks the next PCR value; it waits for a packet of the PCR PID to ride in. */
  private choosePcr(pcr: number): void {
    if (this.pendingPcr >= 0) this.sendPendingPcr();
    this.pendingPcr = pcr;
    this.lastPcr = pcr;
  }

  private sendPendingPcr(): void {
    const pcr = this.pendingPcr;
    this.pendingPcr = -1;
    this.writePcrPacket(pcr);
  }

  /**
   * Called before every packet. Sends what is due first; returns the PCR the
   * packet must carry when it is on the PCR PID and one is due, else -1.
   */
  private beforePacket(pid: number): number {
    if (!this.cbr) {
      if (this.pendingPcr < 0) return -1;
      if (pid === this.pcrPid) {
        const pcr = this.pendingPcr;
        this.pendingPcr = -1;
        return pcr;
      }
      this.sendPendingPcr();
      return -1;
    }
    for (;;) {
      const pcr = this.cbr.pcrOfNextPacket();
      // Due one packet early so the gap never exceeds the interval.
      if (pcr + this.cbr.packetTicks - this.lastPcr <= this.pcrTicks) return -1;
      this.lastPcr = pcr;
      if (pid === this.pcrPid) return pcr;
      this.writePcrPacket(pcr);
    }
  }

  /**
   * CBR: PSI is due early by a PCR interval (at most a quarter of its own), so
   * that a receiver timing packets by the last PCR still sees it in time.
   */
  private psiDueCbr(): boolean {
    return this.cbr!.packetStart + Math.min(this.pcrTicks, this.psiTicks / 4) - this.lastPsi > this.psiTicks;
  }

  /** CBR: fills one or more idle slots: PSI or a PCR when due, else a null packet. */
  private fillSlot(): void {
    if (this.psiDueCbr()) {
      this.sendPsi();
      return;
    }
    const before = this.out.packets;
    const pcr = this.beforePacket(PID.NULL);
    if (pcr >= 0 || this.out.packets !== before) return;
    this.out.writeNull();
    this.cbr!.tick();
  }

  /**
   * An access unit whose DTS the PCR has already passed reaches the decoder
   * too late: in CBR the rate is too low; in VBR the streams arrive further
   * apart than the mux delay.
   */
  private checkLate(dts: number): void {
    if (dts * PCR_PER_PTS >= this.time) return;
    this.lateUnits++;
    if (this.lateUnits === 1 || this.lateUnits % 1000 === 0) {
      const fix = this.cbr
        ? 'the constant mux rate is too low for the stream; raise it'
        : 'audio and video arrive further apart than the mux delay; raise delayMs';
      log.warn(`access units reach the TS after their decode time: ${fix}`, {
        cbrRate: this.cbr?.bitsPerSecond ?? 0,
        lateUnits: this.lateUnits,
      });
    }
  }

  // ---- packets ----

  private commit(pid: number): void {
    this.out.commit(pid);
    this.cbr?.tick();
  }

  private writePcrPacket(pcr: number): void {
    const f = this.flags;
    f.pcr = pcr;
    f.randomAccess = false;
    f.discontinuity = this.discontinuityFlag;
    this.discontinuityFlag = false;
    writePacketHeader(this.out.buffer, this.out.at, this.pcrPid, false, this.out.nextCc(this.pcrPid, false), 0, f);
    this.pcrs++;
    this.commit(this.pcrPid);
  }

  /** PAT and PMT, and the SDT when its interval has passed. */
  private sendPsi(): void {
    const t = this.time;
    this.lastPsi = t;
    this.psiRepeats++;
    this.sendSection(this.pat);
    this.sendSection(this.pmt);
    if (t - this.lastSdt >= SDT_INTERVAL_MS * TICKS_PER_MS) {
      this.lastSdt = t;
      this.sendSection(this.sdt);
    }
  }

  private sendSection(s: SectionPackets): void {
    for (let i = 0; i < s.count; i++) {
      this.beforePacket(s.pid);
      s.copyPacket(i, this.out.buffer, this.out.at, this.out.nextCc(s.pid, true));
      this.commit(s.pid);
    }
  }

  /** Writes one PES packet: the header, then `this.parts[0..count)`, split into transport packets. */
  private writePes(
    pid: number,
    streamId: number,
    pts: number | undefined,
    dts: number | undefined,
    count: number,
    total: number,
    unbounded: boolean,
    randomAccess: boolean,
  ): void {
    const headerLength = writePesHeader(this.pesHeader, 0, { streamId, pts, dts, payloadLength: total, unbounded, aligned: true });
    let remaining = headerLength + total;
    let headerPos = 0;
    let part = 0;
    let partPos = 0;
    let first = true;
    const f = this.flags;
    while (remaining > 0) {
      if (this.cbr && this.psiDueCbr()) this.sendPsi();
      const pcr = this.beforePacket(pid);
      f.pcr = pcr;
      f.randomAccess = first && randomAccess;
      f.discontinuity = pcr >= 0 && this.discontinuityFlag;
      if (pcr >= 0) {
        this.discontinuityFlag = false;
        this.pcrs++;
      }
      const n = Math.min(remaining, 184 - adaptationSize(f));
      const buf = this.out.buffer;
      let p = writePacketHeader(buf, this.out.at, pid, first, this.out.nextCc(pid, true), n, f);
      let left = n;
      if (headerPos < headerLength) {
        const k = Math.min(left, headerLength - headerPos);
        this.pesHeader.copy(buf, p, headerPos, headerPos + k);
        headerPos += k;
        p += k;
        left -= k;
      }
      while (left > 0) {
        const src = this.parts[part]!;
        const k = Math.min(left, src.length - partPos);
        copyBytes(src, partPos, buf, p, k);
        p += k;
        left -= k;
        partPos += k;
        if (partPos === src.length) {
          part++;
          partPos = 0;
        }
      }
      this.commit(pid);
      remaining -= n;
      first = false;
    }
    for (let i = 0; i < count; i++) this.parts[i] = EMPTY; // drop references to the caller's buffers
    releaseCopySource();
  }
}

const EMPTY = Buffer.alloc(0);
