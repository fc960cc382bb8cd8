/** Builds the pipeline's spec from the appliance config (and command-line overrides). */
import { type Config, type DestinationConfigT, MuxConfig } from '../config/schema.js';
import type { PipelineSpecInput } from './channel.js';

export interface SourceChoice {
  /** A TS passthrough input instead of capture + encode. */
  passthrough?: { input: string; loop: boolean };
}

export function pipelineSpecFromConfig(
  config: Config,
  destination: DestinationConfigT,
  seconds = 0,
  choice: SourceChoice = {},
): PipelineSpecInput {
  const v = config.video;
  const source: PipelineSpecInput['source'] = choice.passthrough
    ? { kind: 'passthrough', input: choice.passthrough.input, loop: choice.passthrough.loop }
    : {
        kind: 'encode',
        inputName: config.input.name,
        video: config.input.video,
        audio: config.input.audio,
        width: v.width,
        height: v.height,
        fps: v.fps,
        codec: v.codec,
        bitrate: v.bitrate,
        minBitrate: v.minBitrate,
        maxBitrate: v.maxBitrate,
        adaptive: v.adaptive,
        rateControl: v.rateControl,
        keyframeSeconds: v.keyframeSeconds,
        profile: v.profile,
        bframes: v.bframes,
        audioBitrate: config.audio.bitrate,
        channels: config.audio.channels,
      };
  return {
    source,
    mux: config.mux,
    output: {
      url: destination.url,
      latencyMs: destination.latencyMs,
      pbkeylen: destination.pbkeylen,
      ...(destination.passphrase ? { passphrase: destination.passphrase } : {}),
      ...(destination.streamId ? { streamId: destination.streamId } : {}),
    },
    seconds,
  };
}

type EncodeSource = Extract<PipelineSpecInput['source'], { kind: 'encode' }>;

/** The test pattern with the test tone, encoded with libx264 at 720p30: the source of benchmarks and tests. */
export function testPatternSource(overrides: Partial<Omit<EncodeSource, 'kind'>> = {}): EncodeSource {
  const bitrate = overrides.bitrate ?? 4_000_000;
  return {
    kind: 'encode',
    inputName: 'Test pattern',
    video: 'testpattern',
    audio: 'testtone',
    width: 1280,
    height: 720,
    fps: '30',
    codec: 'libx264',
    bitrate,
    minBitrate: bitrate,
    maxBitrate: bitrate,
    adaptive: false,
    rateControl: 'cbr',
    keyframeSeconds: 2,
    profile: 'high',
    bframes: 0,
    audioBitrate: 128_000,
    channels: 2,
    ...overrides,
  };
}

/** The muxer's settings as the config defaults them. */
export function defaultMux(): PipelineSpecInput['mux'] {
  return MuxConfig.parse({});
}
