/**
 * The typed channel between the supervisor (or `fieldcast send`) and the
 * media pipeline process. Messages travel over Node's fork IPC with the
 * structured-clone serializer. The pipeline validates every command it
 * receives against these schemas (a bad one is logged and ignored, never a
 * crash); the supervisor reads the pipeline's messages by their `type` and
 * ignores any it does not know.
 */
import { z } from 'zod';
import { AudioSource, MuxConfig, srtPassphrase, srtUrl, VideoSource } from '../config/schema.js';

export const EncodeSourceSpec = z.object({
  kind: z.literal('encode'),
  inputName: z.string().min(1).max(40),
  video: VideoSource,
  audio: AudioSource,
  width: z.number().int().min(160).max(3840),
  height: z.number().int().min(120).max(2160),
  fps: z.string().min(1),
  codec: z.string().min(1),
  bitrate: z.number().int().positive(),
  minBitrate: z.number().int().positive(),
  maxBitrate: z.number().int().positive(),
  adaptive: z.boolean(),
  rateControl: z.enum(['cbr', 'vbr']),
  keyframeSeconds: z.number().positive(),
  profile: z.enum(['baseline', 'main', 'high']),
  bframes: z.number().int().min(0).max(3),
  audioBitrate: z.number().int().positive(),
  channels: z.number().int().min(1).max(2),
});

export const PassthroughSourceSpec = z.object({
  kind: z.literal('passthrough'),
  /** udp://host:port, srt://…, a TS file path, or "-" for standard input. */
  input: z.string().min(1),
  /** Play a file again from the start when it ends (files only). */
  loop: z.boolean().default(false),
});

export const OutputSpec = z.object({
  /** SRT URL of the destination (a listener), or of the local bonding sender when bonded. */
  url: srtUrl,
  latencyMs: z.number().int().min(20).max(15_000),
  passphrase: srtPassphrase.optional(),
  pbkeylen: z.union([z.literal(16), z.literal(24), z.literal(32)]).default(32),
  streamId: z.string().max(512).optional(),
});

export const PipelineSpec = z.object({
  source: z.discriminatedUnion('kind', [EncodeSourceSpec, PassthroughSourceSpec]),
  mux: MuxConfig,
  output: OutputSpec,
  /** Stop after this many seconds (0 = run until stopped). */
  seconds: z.number().min(0).default(0),
});

export type PipelineSpecT = z.infer<typeof PipelineSpec>;
export type PipelineSpecInput = z.input<typeof PipelineSpec>;

export type PipelineState = 'starting' | 'connecting' | 'live' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';

/** What the pipeline reports about itself, about once a second (and on changes). */
export interface PipelineStats {
  state: PipelineState;
  uptimeS: number;
  /** The video bit rate the encoder is set to now, bit/s (0 in passthrough). */
  videoBitrate: number;
  /** What the muxer produced over the last second, bit/s. */
  tsBitrate: number;
  framesEncoded: number;
  framesDropped: number;
  /** Which picture is on air: the input, the slate, or a TS passthrough. */
  picture: 'input' | 'slate' | 'passthrough';
  srt: {
    connected: boolean;
    rttMs: number;
    sendRateBps: number;
    sendBufferMs: number;
    lossPackets: number;
    retransPackets: number;
    dropPackets: number;
    bandwidthBps: number;
  };
  /** Chunks dropped while the destination was unreachable. */
  droppedWhileDown: number;
  abrReason?: string;
}

/** A notable event with a stable code and an operator-readable message. */
export interface PipelineEvent {
  code: string;
  message: string;
  level: 'info' | 'warn' | 'error';
}

export const ParentMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), spec: PipelineSpec }),
  z.object({ type: z.literal('setBitrate'), bps: z.number().int().positive() }),
  z.object({ type: z.literal('setAdaptive'), on: z.boolean() }),
  z.object({ type: z.literal('forceKeyframe') }),
  /** From the bonding sender: summed capacity of the live links, bit/s. */
  z.object({ type: z.literal('capacity'), bps: z.number().nonnegative() }),
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessageT = z.infer<typeof ParentMessage>;

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'state'; state: PipelineState; reason?: string }
  | { type: 'stats'; stats: PipelineStats }
  | { type: 'event'; event: PipelineEvent }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; module: string; message: string; fields: Record<string, unknown> }
  | { type: 'stopped'; code: string | null; message?: string };
