/**
 * Where recorded segments begin: on a chunk that carries a PAT and begins a
 * keyframe (the muxer writes PAT/PMT and SPS/PPS before every IDR,
 * CONVENTIONS.md item 9), so each segment plays by itself. When a segment is
 * due, a chunk with a PAT but no keyframe is held back (with up to
 * HOLD_CHUNKS after it): a keyframe among them starts the new segment at the
 * PAT; otherwise they go to the old one. A stream that never marks a
 * keyframe (a passthrough that sets no random_access_indicator and sends no
 * SPS) is cut at a PAT once the segment is a whole extra length overdue.
 *
 * The cut is made at the PAT packet itself (a segment's first packet is its
 * PAT), so the segments laid end to end are the stream byte for byte.
 *
 * Pure: chunks, their ChunkInfo (the splicer's) and the clock in; data and
 * cuts out, in order. Data passed to `onData` is valid only during the call.
 */
import { type ChunkInfo, PID, TS_PACKET_SIZE } from '../mux/index.js';

/** Chunks held after a PAT waiting for the keyframe (the muxer puts it within a chunk or two). */
const HOLD_CHUNKS = 8;

export interface SegmenterOptions {
  segmentMs: number;
  /** A new segment starts before the data that follows. */
  onCut: () => void;
  onData: (chunk: Buffer) => void;
}

export class Segmenter {
  private started = false;
  private dueAt = 0;
  private held: Buffer[] | undefined;
  private heldKey = false;
  /** When waiting for a first start point began (ms), or -1 before the first chunk. */
  private waitSince = -1;

  constructor(private readonly opts: SegmenterOptions) {}

  /** Whether a segment is open (data goes somewhere). */
  get open(): boolean {
    return this.started;
  }

  /** Start afresh: nothing is written until the next start point (after a pause or a dropped stretch). */
  restart(): void {
    this.started = false;
    this.held = undefined;
    this.heldKey = false;
    this.waitSince = -1;
  }

  push(chunk: Buffer, info: ChunkInfo, nowMs: number): void {
    if (!this.started && this.waitSince < 0) this.waitSince = nowMs;
    const due = !this.started || nowMs >= this.dueAt;
    if (!due) {
      this.opts.onData(chunk);
      return;
    }
    if (info.pat && info.keyframe) {
      this.flushHeld();
      this.cutAtPat(chunk, nowMs);
      return;
    }
    const held = this.held;
    if (held) {
      if (info.keyframe || this.heldKey) {
        this.cutAtPat(held[0]!, nowMs);
        for (const h of held.slice(1)) this.opts.onData(h);
        this.held = undefined;
        this.heldKey = false;
        this.opts.onData(chunk);
        return;
      }
      if (info.pat) {
        this.flushHeld();
        if (this.overdue(nowMs)) this.cutAtPat(chunk, nowMs);
        else this.hold(chunk, info);
        return;
      }
      held.push(Buffer.from(chunk));
      if (held.length > HOLD_CHUNKS) this.flushHeld();
      return;
    }
    if (info.pat) {
      if (this.overdue(nowMs)) {
        this.cutAtPat(chunk, nowMs);
        return;
      }
      this.hold(chunk, info);
      return;
    }
    if (this.started) this.opts.onData(chunk);
  }

  /** Overdue by a whole segment (or waited one for a first) with no keyframe seen: a PAT alone starts the next. */
  private overdue(nowMs: number): boolean {
    return nowMs >= (this.started ? this.dueAt : this.waitSince) + this.opts.segmentMs;
  }

  private hold(chunk: Buffer, info: ChunkInfo): void {
    this.held = [Buffer.from(chunk)];
    this.heldKey = info.keyframe;
  }

  /** Held chunks that did not start a segment belong to the open one (or to none yet). */
  private flushHeld(): void {
    const held = this.held;
    this.held = undefined;
    this.heldKey = false;
    if (held && this.started) for (const h of held) this.opts.onData(h);
  }

  /** Cuts at the PAT packet inside `chunk`: the packets before it end the old segment. */
  private cutAtPat(chunk: Buffer, nowMs: number): void {
    const at = patOffset(chunk);
    if (at > 0 && this.started) this.opts.onData(chunk.subarray(0, at));
    this.cut(nowMs);
    this.opts.onData(at > 0 ? chunk.subarray(at) : chunk);
  }

  private cut(nowMs: number): void {
    this.started = true;
    this.dueAt = nowMs + this.opts.segmentMs;
    this.opts.onCut();
  }
}

/** Where the first packet of PID 0 starting a section lies in a chunk of whole packets (0 when none: cut before it). */
function patOffset(chunk: Buffer): number {
  for (let off = 0; off + TS_PACKET_SIZE <= chunk.length; off += TS_PACKET_SIZE) {
    if (chunk[off] === 0x47 && (chunk[off + 1]! & 0x40) !== 0 && (((chunk[off + 1]! & 0x1f) << 8) | chunk[off + 2]!) === PID.PAT)
      return off;
  }
  return 0;
}
