/** Builds a stream's spec from the appliance config (and command-line overrides), and the test pattern's. */
import {
  type Config,
  type DestinationConfigT,
  EncoderSettings,
  type EncoderSettingsInput,
  encoderSettingsFrom,
  MuxConfig,
  type MuxConfigT,
} from '../config/schema.js';
import type { StreamSource, StreamSpec } from '../supervisor/stream-unit.js';
import { MediaOptionsError } from './errors.js';

export interface SourceChoice {
  /** A TS passthrough input instead of capture + encode. */
  passthrough?: { input: string; loop: boolean };
  seconds?: number;
}

/**
 * The stream a checked config describes, to its destination; bonded when
 * `bond.enabled`: over `bond.links`, to the bonding receiver the destination
 * URL names.
 */
export function streamSpecFromConfig(config: Config, destination: DestinationConfigT, choice: SourceChoice = {}): StreamSpec {
  const source: StreamSource = choice.passthrough
    ? { kind: 'passthrough', input: choice.passthrough.input, loop: choice.passthrough.loop }
    : { kind: 'encode', settings: encoderSettingsFrom(config) };
  return {
    source,
    mux: config.mux,
    destination,
    ...(config.bond.enabled
      ? {
          bond: {
            receiver: hostPortOf(destination.url),
            links: config.bond.links,
            meteredWhenNeeded: config.bond.meteredLinks === 'when-needed',
          },
        }
      : {}),
    seconds: choice.seconds ?? 0,
  };
}

/**
 * The test pattern with the test tone, encoded with libx264 at 720p30: the
 * source of benchmarks and tests. The overrides are checked here, as a
 * tool's options are where they enter.
 */
export function testPatternSource(overrides: EncoderSettingsInput = {}): Extract<StreamSource, { kind: 'encode' }> {
  const bitrate = overrides.bitrate ?? 4_000_000;
  const r = EncoderSettings.safeParse({
    inputName: 'Test pattern',
    video: 'testpattern',
    audio: 'testtone',
    width: 1280,
    height: 720,
    fps: '30',
    codec: 'libx264',
    bitrate,
    minBitrate: Math.min(bitrate, overrides.maxBitrate ?? bitrate),
    maxBitrate: bitrate,
    adaptive: false,
    ...overrides,
  });
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new MediaOptionsError(`test pattern setting ${i.path.join('.')}: ${i.message}`, { key: i.path.join('.') });
  }
  return { kind: 'encode', settings: r.data };
}

/** host:port of an SRT URL (an IPv6 host in brackets), as the bonding sender takes a receiver. */
export function hostPortOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
}

/** The muxer's settings as the config defaults them. */
export function defaultMux(): MuxConfigT {
  return MuxConfig.parse({});
}
