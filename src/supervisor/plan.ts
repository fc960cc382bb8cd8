/**
 * The supervisor's planner: what to do to turn what runs into what is wanted.
 *
 * Desired state is the config plus the operator's word (stream on or off);
 * actual state is the stream unit that runs, with the spec it runs. `plan`
 * is a pure function of the two and returns typed steps, each the smallest
 * change that gets there without stopping what does not need it:
 *
 *   nothing wanted, something runs      → stop
 *   wanted, nothing runs                → start
 *   bonding switched, or a new receiver → restart the stream (new bonding sender)
 *   the encoder's size, codec, input; the mux → restart the pipeline (same SRT session)
 *   the bit rate, its range, adaptive   → set the video range (live, same encoder)
 *   latency, passphrase, stream id, URL → set the destination (a new SRT call)
 *   a link added, removed or changed    → add / remove the link (live)
 *   metered links when needed or always → set the metered policy (live)
 *
 * The executor (executor.ts) applies the steps one run at a time; the
 * supervisor plans again whenever either side changes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BondLinkOptions } from '../bond/index.js';
import type { DestinationConfigT, EncoderSettingsT, MuxConfigT } from '../config/schema.js';
import type { StreamSource, StreamSpec } from './stream-unit.js';

export interface DesiredState {
  /** The operator's word: stream or not (autostart at power-on, then ctl start/stop). */
  on: boolean;
  /** The stream the config describes; undefined when it has no destination. */
  spec: StreamSpec | undefined;
}

export interface ActualState {
  /** The stream unit that runs (starting, live or reconnecting), with its spec; undefined when none. */
  stream: { spec: StreamSpec } | undefined;
}

export type VideoRange = Pick<EncoderSettingsT, 'bitrate' | 'minBitrate' | 'maxBitrate' | 'adaptive'>;

export type Step =
  | { kind: 'start'; spec: StreamSpec }
  | { kind: 'stop'; reason: string }
  | { kind: 'restartStream'; spec: StreamSpec; reason: string }
  | { kind: 'restartPipeline'; source: StreamSource; mux: MuxConfigT; reason: string }
  | { kind: 'setVideoRange'; range: VideoRange }
  | { kind: 'setDestination'; index: 0 | 1; destination: DestinationConfigT }
  | { kind: 'removeDestination'; index: 1 }
  | { kind: 'addLink'; link: BondLinkOptions }
  | { kind: 'removeLink'; name: string }
  | { kind: 'setMeteredPolicy'; whenNeeded: boolean };

export type StepKind = Step['kind'];

const RANGE_KEYS = ['bitrate', 'minBitrate', 'maxBitrate', 'adaptive'] as const;

/** The steps that make `actual` into `desired`, in the order they are to be applied; none when they agree. */
export function plan(actual: ActualState, desired: DesiredState): Step[] {
  const running = actual.stream?.spec;
  const wanted = desired.on ? desired.spec : undefined;
  if (!wanted) {
    if (!running) return [];
    return [{ kind: 'stop', reason: desired.on ? 'no destination is configured' : 'the operator stopped the stream' }];
  }
  if (!running) return [{ kind: 'start', spec: wanted }];

  // What only a new stream unit can change: whether it is bonded, and to which receiver.
  if (Boolean(running.bond) !== Boolean(wanted.bond)) {
    return [{ kind: 'restartStream', spec: wanted, reason: wanted.bond ? 'bonding was switched on' : 'bonding was switched off' }];
  }
  if (running.bond && wanted.bond && running.bond.receiver !== wanted.bond.receiver) {
    return [{ kind: 'restartStream', spec: wanted, reason: `the bonding receiver is now ${wanted.bond.receiver}` }];
  }
  if (running.source.kind !== wanted.source.kind) {
    return [{ kind: 'restartStream', spec: wanted, reason: 'the source changed between encoding and passthrough' }];
  }

  const steps: Step[] = [];
  const pipelineWhy = pipelineChange(running, wanted);
  if (pipelineWhy) steps.push({ kind: 'restartPipeline', source: wanted.source, mux: wanted.mux, reason: pipelineWhy });
  else if (running.source.kind === 'encode' && wanted.source.kind === 'encode') {
    const range = pickRange(wanted.source.settings);
    if (!isDeepStrictEqual(pickRange(running.source.settings), range)) steps.push({ kind: 'setVideoRange', range });
  }
  // Each destination is changed by itself: the other keeps its session.
  if (!isDeepStrictEqual(running.destination, wanted.destination)) {
    steps.push({ kind: 'setDestination', index: 0, destination: wanted.destination });
  }
  if (!isDeepStrictEqual(running.secondDestination, wanted.secondDestination)) {
    steps.push(
      wanted.secondDestination
        ? { kind: 'setDestination', index: 1, destination: wanted.secondDestination }
        : { kind: 'removeDestination', index: 1 },
    );
  }
  if (running.bond && wanted.bond) {
    const whenNeeded = wanted.bond.meteredWhenNeeded ?? true;
    if ((running.bond.meteredWhenNeeded ?? true) !== whenNeeded) steps.push({ kind: 'setMeteredPolicy', whenNeeded });
    steps.push(...linkSteps(running.bond.links, wanted.bond.links));
  }
  return steps;
}

/** Why the pipeline process must be replaced, or undefined when a live change does. */
function pipelineChange(running: StreamSpec, wanted: StreamSpec): string | undefined {
  if (!isDeepStrictEqual(running.mux, wanted.mux)) return 'the mux settings changed';
  const a = running.source;
  const b = wanted.source;
  if (a.kind === 'encode' && b.kind === 'encode') {
    const changed = (Object.keys(b.settings) as (keyof EncoderSettingsT)[]).filter(
      (k) => !(RANGE_KEYS as readonly string[]).includes(k) && !isDeepStrictEqual(a.settings[k], b.settings[k]),
    );
    const gone = (Object.keys(a.settings) as (keyof EncoderSettingsT)[]).filter((k) => !(k in b.settings));
    const keys = [...changed, ...gone];
    return keys.length > 0 ? `the encoder settings changed (${keys.join(', ')})` : undefined;
  }
  return isDeepStrictEqual(a, b) ? undefined : 'the passthrough input changed';
}

function pickRange(s: EncoderSettingsT): VideoRange {
  return { bitrate: s.bitrate, minBitrate: s.minBitrate, maxBitrate: s.maxBitrate, adaptive: s.adaptive };
}

/** Links taken out (or changed: out, then in again as they are now), then links added, each by name. */
function linkSteps(running: readonly BondLinkOptions[], wanted: readonly BondLinkOptions[]): Step[] {
  const now = new Map(running.map((l) => [l.name, l]));
  const next = new Map(wanted.map((l) => [l.name, l]));
  const steps: Step[] = [];
  for (const [name, l] of now) {
    const w = next.get(name);
    if (!w || !isDeepStrictEqual(normalLink(l), normalLink(w))) steps.push({ kind: 'removeLink', name });
  }
  for (const [name, w] of next) {
    const l = now.get(name);
    if (!l || !isDeepStrictEqual(normalLink(l), normalLink(w))) steps.push({ kind: 'addLink', link: w });
  }
  return steps;
}

/** A link's options with absent fields and their defaults read alike. */
function normalLink(l: BondLinkOptions): Required<Pick<BondLinkOptions, 'priority' | 'backupOnly' | 'metered'>> & BondLinkOptions {
  return { ...l, priority: l.priority ?? 5, backupOnly: l.backupOnly ?? false, metered: l.metered ?? false };
}
