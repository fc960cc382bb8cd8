/** What a TsMuxer is asked to build, checked before anything is built. */
import { MuxInputError, MuxOptionsError } from './errors.js';
import type { AccessUnit } from './types.js';

export interface TsMuxerOptions {
  /** Carry an H.264 stream (default true). */
  video?: boolean;
  /** Carry an AAC (ADTS) stream; its format is checked against the frames. */
  audio?: { sampleRate: number; channels: number } | false;
  /** Carry an asynchronous KLV metadata stream (SMPTE RP 217). */
  klv?: boolean;
  /** How far the PCR leads the decode time, ms (default 100). */
  delayMs?: number;
  /** Longest gap between PCRs, ms (default 20; 10–40). */
  pcrIntervalMs?: number;
  /** Longest gap between PAT/PMT, ms (default 100; 20–100). */
  psiIntervalMs?: number;
  /** Constant mux rate in bit/s with null stuffing; 0 (default) for VBR. */
  cbrRate?: number;
  serviceName?: string;
  providerName?: string;
  /**
   * Receives each 1316-byte chunk (7 packets); the last may be shorter only
   * on flush. The muxer reuses the chunk's memory as soon as this returns:
   * copy it to keep it.
   */
  onChunk: (chunk: Buffer) => void;
}

export interface ResolvedMuxerOptions {
  video: boolean;
  audio: { sampleRate: number; channels: number } | undefined;
  klv: boolean;
  delayMs: number;
  pcrIntervalMs: number;
  psiIntervalMs: number;
  cbrRate: number;
  serviceName: string;
  providerName: string;
}

function checkRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new MuxOptionsError(`${name} must be from ${min} to ${max} (got ${v})`, { [name]: v });
  return v;
}

/** Defaults and ranges as in the config schema (src/config/schema.ts MuxConfig); throws MuxOptionsError. */
export function resolveOptions(opts: TsMuxerOptions): ResolvedMuxerOptions {
  const video = opts.video ?? true;
  const audio = opts.audio ? opts.audio : undefined;
  if (!video && !audio) throw new MuxOptionsError('a TS needs a video or an audio stream');
  if (audio) {
    checkRange('audio.sampleRate', audio.sampleRate, 7350, 96000);
    checkRange('audio.channels', audio.channels, 1, 8);
  }
  const cbrRate = opts.cbrRate ?? 0;
  if (cbrRate !== 0) checkRange('cbrRate', cbrRate, 100_000, 120_000_000);
  if (typeof opts.onChunk !== 'function') throw new MuxOptionsError('onChunk must be a function');
  return {
    video,
    audio,
    klv: opts.klv ?? false,
    delayMs: checkRange('delayMs', opts.delayMs ?? 100, 0, 1000),
    pcrIntervalMs: checkRange('pcrIntervalMs', opts.pcrIntervalMs ?? 20, 10, 40),
    psiIntervalMs: checkRange('psiIntervalMs', opts.psiIntervalMs ?? 100, 20, 100),
    cbrRate: Math.round(cbrRate),
    serviceName: opts.serviceName ?? 'Fieldcast',
    providerName: opts.providerName ?? 'Fieldcast',
  };
}

/** Checked, rounded timestamps of an access unit; throws before anything changes. */
export function checkTimes(au: AccessUnit): { pts: number; dts: number } {
  if (!au || !Buffer.isBuffer(au.data)) throw new MuxInputError('access unit has no data buffer');
  if (!Number.isFinite(au.pts) || !Number.isFinite(au.dts))
    throw new MuxInputError('access unit has no valid PTS/DTS', { pts: au.pts, dts: au.dts });
  const pts = Math.round(au.pts);
  const dts = Math.round(au.dts);
  if (pts < dts) throw new MuxInputError('access unit is presented before it is decoded (PTS < DTS)', { pts, dts });
  return { pts, dts };
}
