/**
 * The typed channel between the stream unit (in the supervisor, or `fieldcast
 * send`) and the media pipeline process. Messages travel over Node's fork IPC
 * with the structured-clone serializer (it carries the thumbnails' JPEG bytes
 * as they are); the TS itself goes the other way on its own pipe (the child's
 * fd 4), as bytes.
 *
 * The pipeline process captures, encodes and muxes; it holds no network
 * session, so its crash never drops the destination's (DESIGN.md "Process
 * model"). The settings inside the start message were checked where they
 * entered (the config's load, an operator's change, a tool's flags) and are
 * passed on as they are; the pipeline checks the shape of each command it
 * receives (a bad one is logged and ignored, never a crash). The parent reads
 * the pipeline's messages by their `type` and ignores any it does not know.
 */
import { z } from 'zod';
import type { EncoderSettingsT, MuxConfigT } from '../config/schema.js';

/** The child's file descriptor the TS leaves on (0-2 stdio, 3 the IPC channel). */
export const TS_FD = 4;

export interface EncodeSourceSpec {
  kind: 'encode';
  settings: EncoderSettingsT;
}

export interface PassthroughSourceSpec {
  kind: 'passthrough';
  /** udp://host:port, srt://…, a TS file path, or "-" for standard input. */
  input: string;
  /** Play a file again from the start when it ends (files only). */
  loop: boolean;
}

export interface PipelineSpec {
  source: EncodeSourceSpec | PassthroughSourceSpec;
  mux: MuxConfigT;
  /** Stop after this many seconds (0 = run until stopped). */
  seconds: number;
  /** Report each video access unit's capture time (the latency benchmark). */
  reportUnits?: boolean;
  /** Send a small JPEG of the picture on air once a second (the status page's); encode only. */
  thumbnails?: boolean;
}

/** A passthrough file waits for the destination before it plays: its start is not lost. */
export function isFileInput(input: string): boolean {
  return input !== '-' && !/^(udp|srt):\/\//i.test(input);
}

export type PipelineState = 'starting' | 'running' | 'stopping' | 'stopped';

/** What the pipeline reports about itself, about once a second (and on changes). */
export interface PipelineStats {
  state: PipelineState;
  uptimeS: number;
  /** The video bit rate the encoder is set to now, bit/s (0 in passthrough). */
  videoBitrate: number;
  /** What the muxer produced over the last second, bit/s. */
  tsBitrate: number;
  /** TS bytes written to the pipe since start. */
  tsBytes: number;
  /** TS chunks dropped because the stream unit did not read them (it stalled). */
  tsDropped: number;
  framesEncoded: number;
  framesDropped: number;
  /** Which picture is on air: the input, the slate, or a TS passthrough. */
  picture: 'input' | 'slate' | 'passthrough';
  /** The H.264 encoder that opened (libx264, h264_v4l2m2m, …); absent in passthrough. */
  codec?: string;
  /**
   * Programme levels of the last whole second of sound on air, one entry per
   * channel, in dBFS: a full-scale sine peaks at 0 and has an RMS of -3.01;
   * digital silence reads -100 (AUDIO_LEVEL_FLOOR_DBFS). Absent in passthrough
   * (the TS is not decoded); empty in the first second.
   */
  audioPeakDbfs?: number[];
  audioRmsDbfs?: number[];
}

/** What the audio meters read for digital silence (native/src/audio_meter.h): a number, so it survives JSON. */
export const AUDIO_LEVEL_FLOOR_DBFS = -100;

/** A small JPEG of the picture on air (with the spec's `thumbnails`), about once a second. */
export interface PipelineThumbnail {
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** The picture's capture time, µs of the media clock. */
  captureUs: number;
  /** The same moment on the wall clock, ISO 8601. */
  at: string;
}

/** A notable event with a stable code and an operator-readable message. */
export interface PipelineEvent {
  code: string;
  message: string;
  level: 'info' | 'warn' | 'error';
}

/** The start message's spec: its shape is the channel's; its values were checked where they entered. */
const SpecShape = z.custom<PipelineSpec>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as PipelineSpec).source === 'object' &&
    ((v as PipelineSpec).source?.kind === 'encode' || (v as PipelineSpec).source?.kind === 'passthrough') &&
    typeof (v as PipelineSpec).mux === 'object' &&
    typeof (v as PipelineSpec).seconds === 'number',
  'a pipeline spec ({ source, mux, seconds })',
);

export const ParentMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), spec: SpecShape }),
  z.object({ type: z.literal('setBitrate'), bps: z.number().int().min(100_000).max(120_000_000) }),
  z.object({ type: z.literal('forceKeyframe') }),
  /** The destination is connected: a passthrough file may start playing. */
  z.object({ type: z.literal('outputReady') }),
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessageT = z.infer<typeof ParentMessage>;

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'state'; state: PipelineState; reason?: string }
  | { type: 'stats'; stats: PipelineStats }
  | { type: 'event'; event: PipelineEvent }
  /** A video access unit left the encoder: its capture time (µs of the media clock). With `reportUnits` only. */
  | { type: 'unit'; captureUs: number }
  /** With `thumbnails` only: each new thumbnail, once a second. */
  | { type: 'thumbnail'; thumbnail: PipelineThumbnail }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; module: string; message: string; fields: Record<string, unknown> }
  | { type: 'stopped'; code: string | null; message?: string };
