/**
 * What the destination gets first when it (re)connects: a decoder can start
 * only at a random access point — PAT, PMT, then a keyframe (ISO/IEC
 * 13818-1 §2.4.4; H.264 IDR with its SPS/PPS). While the destination is not
 * connected the gate holds the stream back; when it opens, the stream goes
 * out from a random access point:
 *
 * - 'next': from the next one. For an encoder Fieldcast drives, which is
 *   asked for a keyframe at once: nothing old is sent, so no delay is added.
 * - 'buffered': from the last one, if it arrived within `bufferMs`, sending
 *   what was kept from it on. For a TS passthrough, where the keyframe cannot
 *   be asked for and may be many seconds apart: the first keyframe that came
 *   before the connection is not lost (the far end would otherwise decode
 *   nothing until the next one).
 */
import type { ChunkInfo } from './splicer.js';

export type StartMode = 'next' | 'buffered';

export interface StartGateOptions {
  mode: StartMode;
  onChunk: (chunk: Buffer) => void;
  /** 'buffered': the oldest random access point kept (ms). */
  bufferMs?: number;
  /** 'buffered': the most kept, whatever its age. */
  bufferBytes?: number;
  now?: () => number;
}

export interface StartGateStats {
  open: boolean;
  /** Chunks never sent: while closed, or waiting for a random access point. */
  heldBack: number;
  /** Chunks sent from the buffer when the gate opened (mode 'buffered'). */
  sentFromBuffer: number;
  /** Chunks kept now. */
  buffered: number;
}

const DEFAULT_BUFFER_MS = 3000;
const DEFAULT_BUFFER_BYTES = 8 << 20;

export class StartGate {
  private readonly opts: Required<Omit<StartGateOptions, 'onChunk'>> & Pick<StartGateOptions, 'onChunk'>;
  /** Closed: nothing passes. Open and `flowing`: everything passes. */
  private isOpen = false;
  private flowing = false;
  /** Chunks kept while not flowing, with their arrival times: from `rap` (or `candidate`) on. */
  private kept: { chunk: Buffer; at: number }[] = [];
  private keptBytes = 0;
  /** Index in `kept` of the PAT that starts the last complete random access point, -1 while none. */
  private rap = -1;
  /** Index of the latest PAT, which a PMT and then a keyframe will make a random access point. */
  private candidate = -1;
  private candidatePmt = false;
  private counters = { heldBack: 0, sentFromBuffer: 0 };

  constructor(opts: StartGateOptions) {
    this.opts = {
      bufferMs: DEFAULT_BUFFER_MS,
      bufferBytes: DEFAULT_BUFFER_BYTES,
      now: () => performance.now(),
      ...opts,
    };
  }

  get stats(): StartGateStats {
    return { open: this.isOpen && this.flowing, ...this.counters, buffered: this.kept.length };
  }

  /** The destination is connected: let the stream through from a random access point. */
  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.flowing = false;
    if (this.opts.mode === 'next') {
      // Only a random access point from now on (the encoder has been asked for one).
      this.drop();
      return;
    }
    this.expire();
    if (this.rap >= 0) {
      const from = this.kept.slice(this.rap);
      this.counters.sentFromBuffer += from.length;
      this.startFlowing(from);
    }
  }

  /**
   * The destination went away (or an attempt to reach it failed): hold the
   * stream back until it is connected again. In 'buffered' mode what is kept
   * stays kept — a call that fails before the first connection must not
   * cost the keyframe that came before it — and ages out as usual; closing
   * a closed gate changes nothing.
   */
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.flowing = false;
    if (this.opts.mode === 'next') this.drop();
  }

  push(chunk: Buffer, info: ChunkInfo): void {
    if (this.isOpen && this.flowing) {
      this.opts.onChunk(chunk);
      return;
    }
    this.counters.heldBack++;
    const i = this.kept.length;
    if (info.pat) {
      this.candidate = i;
      this.candidatePmt = false;
    }
    if (this.candidate < 0 && this.rap < 0) return; // nothing to start from yet
    this.kept.push({ chunk: Buffer.from(chunk), at: this.opts.now() });
    this.keptBytes += chunk.length;
    if (info.pmt && this.candidate >= 0) this.candidatePmt = true;
    if (info.keyframe && this.candidate >= 0 && this.candidatePmt) {
      // A random access point: what came before it is no longer needed.
      this.rap = this.candidate;
      this.candidate = -1;
      this.trim(this.rap);
    } else if (this.rap < 0 && this.candidate > 0) this.trim(this.candidate);
    this.expire();
    if (this.isOpen && this.rap >= 0) this.startFlowing(this.kept.slice(this.rap));
  }

  private startFlowing(from: { chunk: Buffer }[]): void {
    this.counters.heldBack -= from.length;
    for (const k of from) this.opts.onChunk(k.chunk);
    this.flowing = true;
    this.drop();
  }

  /** Drops what is before index `i` (a new start point). */
  private trim(i: number): void {
    if (i <= 0) return;
    for (const k of this.kept.slice(0, i)) this.keptBytes -= k.chunk.length;
    this.kept = this.kept.slice(i);
    if (this.rap >= 0) this.rap -= i;
    if (this.candidate >= 0) this.candidate -= i;
  }

  /** A random access point older than the buffer allows is no use: fall back to the candidate. */
  private expire(): void {
    const now = this.opts.now();
    while (this.kept.length > 0 && (now - this.kept[0]!.at > this.opts.bufferMs || this.keptBytes > this.opts.bufferBytes)) {
      if (this.rap >= 0 && this.candidate > 0) {
        this.rap = -1;
        this.trim(this.candidate);
      } else this.drop();
    }
  }

  private drop(): void {
    this.kept = [];
    this.keptBytes = 0;
    this.rap = -1;
    this.candidate = -1;
    this.candidatePmt = false;
  }
}
