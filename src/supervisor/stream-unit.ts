/**
 * One live stream: everything between a picture source and a destination,
 * wired in one place (`send`, `demo`, the benchmarks and `run` all use it).
 *
 *   pipeline process (capture, encode, mux) ──TS pipe──> TsSplicer
 *   (a UDP passthrough: read in this process, pipeline-inline.ts)
 *     ──> for each destination (one or two): StartGate ──> SrtOutput
 *           ──> the destination, or the local BondSender
 *                 ──> one socket per uplink ──> receiver
 *   AbrController <── the leading destination's SRT statistics + the bonding
 *                     sender's capacity ──> the pipeline's bit rate
 *
 * Two destinations (a flow's two sources, or two flows) get the same chunks
 * in the same turns, each through its own DestinationOutput
 * (src/destination): one that is down or slow drops its own packets and
 * reconnects by itself; the other is not touched. The bit rate follows the
 * leading destination: the first in config order that is connected, so a
 * second destination that struggles never lowers the picture for the first
 * (it drops what comes too late, as SRT live mode does).
 *
 * The SRT session and the bonding sender live here, in the supervisor's
 * process, where no driver or encoder runs: when the pipeline process dies or
 * hangs, it is restarted and its new TS is spliced on (continuity counters
 * and the clock carried on, PAT/PMT and PCR filled meanwhile), so the
 * destination keeps its session and sees one stream. With `recording`, the
 * splicer's output (what is handed towards SRT, connected or not) is also
 * recorded (src/record), with what SRT's acknowledgements say reached the
 * destination; the recorder never holds the stream back. When the destination
 * (re)connects, the stream starts at a random access point: the encoder is
 * asked for a keyframe; a passthrough's last keyframe is kept for it.
 *
 * A UDP passthrough input has no driver or encoder to fear: it is read here
 * (pipeline-inline.ts), behind the same handle, which saves the process and
 * the pipe hop; every other input has a pipeline process of its own. When an
 * input changes between the two kinds, the new one takes over from the old
 * on the same session, as a restarted process does.
 */

import { type BondLinkOptions, BondSender, type BondSenderStats } from '../bond/index.js';
import type { DestinationConfigT, EncoderSettingsT, MuxConfigT } from '../config/schema.js';
import { DestinationOutput, type DestinationSrtStats, type LeadSrtStats, leadSrtStats } from '../destination/index.js';
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { AbrController } from '../media/abr.js';
import { isFileInput, type PipelineEvent, type PipelineSpec, type PipelineStats } from '../media/channel.js';
import { type SplicerStats, type StartGateStats, type StartMode, TsSplicer } from '../mux/index.js';
import { type DeliverySample, type RecorderStats, type RecordingSettings, StreamRecorder } from '../record/index.js';
import type { SrtStats } from '../srt/index.js';
import { PipelineChild, type PipelineCrashedError, type PipelineHandle } from './pipeline-child.js';
import { InlinePipeline, runsInProcess } from './pipeline-inline.js';

const log = createLogger('supervisor.stream');

const STATS_INTERVAL_MS = 1000;
/** A passthrough's last keyframe is kept this long for a destination that has not connected yet. */
const PASSTHROUGH_KEEP_MS = 3000;

export type StreamSource = { kind: 'encode'; settings: EncoderSettingsT } | { kind: 'passthrough'; input: string; loop: boolean };

/** What a stream unit runs: all of it already checked where it entered (config, operator, flags). */
export interface StreamSpec {
  source: StreamSource;
  mux: MuxConfigT;
  destination: DestinationConfigT;
  /** A second destination, sent the same bytes (a flow's second source, or another flow); never bonded (see src/config/schema.ts). */
  secondDestination?: DestinationConfigT;
  /** Bonded: the receiver (host:port; the destination's address is where it forwards) and the uplinks. */
  /** Bonded: the receiver, the uplinks, and whether metered links carry only what the free ones cannot (default true). */
  bond?: { receiver: string; links: BondLinkOptions[]; meteredWhenNeeded?: boolean };
  /** Stop after this many seconds (0: until stopped). */
  seconds?: number;
  /** Report each video access unit's capture time ('unit' events: the latency benchmark). */
  reportUnits?: boolean;
}

/** How the stream unit serves its supervisor, beside the stream it runs (not part of the spec the planner compares). */
export interface StreamUnitOptions {
  /** Have the pipeline make a small JPEG of the picture on air once a second (the status page's); encode only. */
  thumbnails?: boolean;
  /** Record the stream into this folder (the state directory's recordings/), with these settings. */
  recording?: { dir: string; settings: RecordingSettings };
}

/** Programme levels of the last whole second of sound on air, one entry per channel (see PipelineStats). */
export interface StreamAudioLevels {
  peakDbfs: number[];
  rmsDbfs: number[];
}

/** The latest picture on air, as a small JPEG, and when it was captured (ISO 8601, wall clock). */
export interface StreamThumbnail {
  jpeg: Buffer;
  at: string;
  width: number;
  height: number;
}

export type StreamState = 'starting' | 'connecting' | 'live' | 'reconnecting' | 'stopping' | 'stopped';

export interface StreamStats {
  state: StreamState;
  uptimeS: number;
  /** The video bit rate the encoder is set to now (0 in passthrough), and why. */
  videoBitrate: number;
  abrReason?: string;
  tsBitrate: number;
  framesEncoded: number;
  framesDropped: number;
  picture: PipelineStats['picture'] | 'none';
  /** The H.264 encoder that opened in the pipeline. */
  codec?: string;
  /** The leading destination's SRT figures (zero while there is none). */
  srt: LeadSrtStats;
  pipeline: { pid?: number; restarts: number; lastError?: string };
  /** Each destination's own figures and state, in config order (`srt` above is the leading one's). */
  destinations: DestinationSrtStats[];
  splicer: SplicerStats;
  /** The leading destination's start gate. */
  gate: StartGateStats;
  bond?: BondSenderStats;
  recording?: RecorderStats;
}

export type StreamUnitEvents = {
  state: [StreamState, string | undefined];
  stats: [StreamStats];
  event: [PipelineEvent];
  /** The video bit rate was changed (by the controller or the operator), and why. */
  bitrate: [bps: number, reason: string];
  /** The pipeline process died or hung and is being restarted. */
  restarting: [PipelineCrashedError, number];
  /** A video access unit left the encoder, with `reportUnits`. */
  unit: [captureUs: number];
  /** The stream ended: stopped, its seconds ran out, its input ended, or a fatal error (code). */
  finished: [code: string | null];
};

export { destinationUrl } from '../destination/index.js';

/** A link change on a stream that is not bonded. */
export class StreamNotBondedError extends FieldcastError {
  constructor() {
    super('STREAM_NOT_BONDED', 'this stream is not bonded: links can only be added to a bonded stream');
  }
}

export class StreamUnit extends TypedEmitter<StreamUnitEvents> {
  /** What runs now: the spec it started with, as changed live since. */
  private current: StreamSpec;
  private child: PipelineHandle | undefined;
  /** One per destination, in config order (index 0 is `destination`, 1 is `secondDestination`). */
  private outputs: DestinationOutput[] = [];
  /** A file input waits for its destinations; once one is up the others get this long to join. */
  private readyTimer: NodeJS.Timeout | undefined;
  private bond: BondSender | undefined;
  private readonly splicer: TsSplicer;
  private readonly startMode: StartMode;
  private abr: AbrController | undefined;
  private capacityBps: number | undefined;
  private videoBitrate = 0;
  private abrReason: string | undefined;
  private stateValue: StreamState = 'starting';
  private childStats: PipelineStats | undefined;
  private lastError: string | undefined;
  private startedAt = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Why the stream ended by itself (a code), or null for a clean end. */
  private endCode: string | null = null;
  private fileReady = false;
  private recorder: StreamRecorder | undefined;
  /** Outputs made for each destination so far: with its connect count, names each connection for the recorder's timelines. */
  private readonly outputCounts = [0, 0];

  constructor(
    spec: StreamSpec,
    private readonly options: StreamUnitOptions = {},
  ) {
    super();
    this.current = structuredClone(spec);
    const source = spec.source;
    const mode: StartMode | 'all' = source.kind === 'encode' ? 'next' : isFileInput(source.input) ? 'all' : 'buffered';
    this.startMode = mode === 'all' ? 'buffered' : mode;
    this.passAll = mode === 'all';
    this.splicer = new TsSplicer({
      // A passthrough goes out as it came: only an encoded stream's gaps are filled.
      fill: source.kind === 'encode',
      // Every destination is handed the same chunk in the same turn: the same bytes, cut the same way.
      onChunk: (c, info) => {
        this.recorder?.write(c, info);
        for (const o of this.outputs) {
          if (this.passAll) o.sendIfConnected(c);
          else o.push(c, info);
        }
      },
    });
    if (source.kind === 'encode') {
      this.videoBitrate = source.settings.adaptive ? this.clampToRange(source.settings, source.settings.bitrate) : source.settings.bitrate;
      this.abr = this.makeAbr(source.settings, spec.destination.latencyMs, this.videoBitrate);
    }
  }

  /** A passthrough file waits for the destination and is sent whole from its first byte. */
  private readonly passAll: boolean;

  get state(): StreamState {
    return this.stateValue;
  }

  /** The spec running now (a copy): the supervisor's planner compares it with what is wanted. */
  get spec(): StreamSpec {
    return structuredClone(this.current);
  }

  /** The bonding sender, when bonded: links are added and removed on it live. */
  get bondSender(): BondSender | undefined {
    return this.bond;
  }

  get pipelinePid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * The sound's levels (dBFS, one entry per channel; -100 is silence) over the
   * last whole second, as the pipeline last reported them; undefined until a
   * first second has been measured, and for a passthrough (its TS is not decoded).
   */
  audioLevels(): StreamAudioLevels | undefined {
    const c = this.childStats;
    if (!c?.audioPeakDbfs?.length || !c.audioRmsDbfs?.length) return undefined;
    return { peakDbfs: [...c.audioPeakDbfs], rmsDbfs: [...c.audioRmsDbfs] };
  }

  /** The latest thumbnail of the picture on air, with the `thumbnails` option; undefined before the first (or without it). */
  thumbnail(): StreamThumbnail | undefined {
    const t = this.child?.thumbnail;
    return t ? { jpeg: t.jpeg, at: t.at, width: t.width, height: t.height } : undefined;
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    if (this.current.bond) {
      const bond = new BondSender({
        receiver: this.current.bond.receiver,
        links: this.current.bond.links,
        meteredWhenNeeded: this.current.bond.meteredWhenNeeded ?? true,
      });
      this.bond = bond;
      // The capacity hand-off: the controller reads the latest estimate with each SRT sample.
      bond.on('capacity', (bps) => {
        this.capacityBps = bps > 0 ? bps : undefined;
      });
      try {
        await bond.start();
      } catch (err) {
        this.bond = undefined;
        await bond.close();
        throw err;
      }
    }
    if (this.options.recording) await this.openRecorder(this.options.recording);
    this.connect(this.current.destination, 0);
    if (this.current.secondDestination) this.connect(this.current.secondDestination, 1);

    this.splicer.start();
    this.openPipeline(false);
    this.statsTimer = setInterval(() => this.emit('stats', this.stats()), STATS_INTERVAL_MS);
  }

  /**
   * Starts the pipeline for the current spec: a UDP passthrough in this
   * process (pipeline-inline.ts: there is no driver or encoder to guard
   * against, and the process and pipe hop cost more than the rest of its
   * path), anything else in a process of its own (pipeline-child.ts).
   * `another` when it takes over from one of the other kind: its TS is a new
   * source from the first byte.
   */
  private openPipeline(another: boolean): void {
    const spec = this.pipelineSpec();
    const child: PipelineHandle = runsInProcess(spec) ? new InlinePipeline({ spec }) : new PipelineChild({ spec });
    this.child = child;
    const mine = (): boolean => this.child === child;
    child.on('ts', (d) => {
      if (mine()) this.splicer.push(d);
    });
    child.on('spawned', () => {
      if (!mine()) return;
      // A new process's stream: spliced on, at the rate the controller had reached.
      if (child.spawnCount > 1 || another) this.splicer.newSource();
      if (this.current.source.kind === 'encode') child.send({ type: 'setBitrate', bps: this.videoBitrate });
      if (this.fileReady) child.send({ type: 'outputReady' });
    });
    child.on('stats', (s) => {
      if (mine()) this.childStats = s;
    });
    // What the process said went wrong before it died is the likelier cause: kept with the death, one deep.
    let saidBefore: string | undefined;
    child.on('event', (e) => {
      if (!mine()) return;
      if (e.level === 'error') {
        saidBefore = `${e.code}: ${e.message}`;
        this.lastError = saidBefore;
      }
      this.emit('event', e);
    });
    child.on('unit', (us) => {
      if (mine()) this.emit('unit', us);
    });
    child.on('restarting', (e, ms) => {
      if (!mine()) return;
      this.lastError = saidBefore ? `${e.message} (before that: ${saidBefore})` : e.message;
      saidBefore = undefined;
      this.emit('restarting', e, ms);
    });
    child.on('stopped', (code) => {
      if (mine()) void this.finish(code);
    });
    child.start();
  }

  /** The pipeline with the current spec in place of the running one: the same kind is replaced, the other kind taken over from. */
  private replacePipeline(): void {
    const old = this.child;
    if (!old) return;
    const spec = this.pipelineSpec();
    if (runsInProcess(spec) === old instanceof InlinePipeline) {
      old.replace(spec);
      return;
    }
    // Not `mine()` any more: its end is not the stream's.
    this.child = undefined;
    void old.stop().then(() => {
      if (!this.stopping) this.openPipeline(true);
    });
  }

  /** A recorder that cannot open (a read-only or missing partition) is reported; the stream goes on without it. */
  private async openRecorder(r: { dir: string; settings: RecordingSettings }): Promise<void> {
    try {
      this.recorder = await StreamRecorder.open({ dir: r.dir, settings: r.settings, probe: () => this.deliverySamples() });
    } catch (e) {
      const err = e instanceof FieldcastError ? e : new FieldcastError('RECORDING_UNAVAILABLE', String(e));
      log.error(err.message, { code: err.code });
      this.raise({ code: err.code, message: err.message, level: 'error' });
    }
  }

  /** Each destination's SRT state as the recorder's timelines read it (each is of what reached that destination). */
  private deliverySamples(): DeliverySample[] {
    return this.outputs.map((out, n) => {
      const s = out.srtStats;
      const c = out.stats();
      return {
        connection: (this.outputCounts[n] ?? 0) * 1_000_000 + c.connects,
        connected: out.connected,
        sentBytes: c.sentBytes,
        ...(s ? { srt: { sentUnique: s.pktSentUniqueTotal, sndBuf: s.pktSndBuf, dropped: s.pktSndDropTotal } } : {}),
      };
    });
  }

  /** Calls a destination (the bonding sender's port when bonded) with a new output of its own. */
  private connect(d: DestinationConfigT, index: number): void {
    const out = new DestinationOutput(d, index, {
      startMode: this.startMode,
      bufferMs: PASSTHROUGH_KEEP_MS,
      ...(this.bond ? { bondPort: this.bond.port } : {}),
    });
    this.outputs[index]?.close();
    this.outputs[index] = out;
    this.outputCounts[index] = (this.outputCounts[index] ?? 0) + 1;
    const mine = (): boolean => this.outputs[index] === out;
    // With two destinations, what one says is prefixed with its name.
    const label = (): string => (this.current.secondDestination ? `${d.name}: ` : '');
    out.on('connecting', (attempt) => {
      if (mine() && attempt === 1) this.updateState();
    });
    out.on('connected', (peer) => {
      if (mine()) this.onConnected(out, peer);
    });
    out.on('disconnected', (e) => {
      if (!mine()) return;
      this.updateState(e.message);
      this.raise({ code: e.code, message: `${label()}${e.message}`, level: 'warn' });
    });
    out.on('failed', (e, retryInMs) => {
      if (!mine()) return;
      this.raise({ code: e.code, message: `${label()}${e.message}`, level: out.needsOperator ? 'error' : 'warn' });
      log.debug('cannot reach the destination', { destination: d.name, code: e.code, retryInMs });
    });
    out.on('stats', (s) => {
      if (!mine()) return;
      // Each destination's acknowledgements settle its own timeline (deliverySamples).
      this.recorder?.srtSample();
      if (this.lead() === out) this.onSrtStats(s);
    });
    out.start();
  }

  /** The destination the bit rate follows and `stats().srt` shows: the first connected one in config order, else the first. */
  private lead(): DestinationOutput | undefined {
    return this.outputs.find((o) => o.connected) ?? this.outputs[0];
  }

  /**
   * A destination changed (its URL, latency, passphrase, stream id), or the
   * second one was added: hang that one up and call it anew. The pipeline and
   * the other destination run on.
   */
  setDestination(d: DestinationConfigT, index = 0): void {
    if (this.stopping) return;
    if (index === 0) this.current.destination = structuredClone(d);
    else this.current.secondDestination = structuredClone(d);
    this.connect(d, index);
    this.updateState('the destination changed');
    const s = this.current.source;
    if (index === 0 && s.kind === 'encode') this.abr = this.makeAbr(s.settings, d.latencyMs, this.videoBitrate);
  }

  /** The second destination was taken out of the config: it is hung up; the first runs on. */
  removeSecondDestination(): void {
    if (this.stopping) return;
    delete this.current.secondDestination;
    this.outputs[1]?.close();
    this.outputs.length = Math.min(this.outputs.length, 1);
    this.updateState();
  }

  /**
   * The bit rate settings changed (the fixed rate, the adaptive range, adaptive
   * on or off): applied to the running encoder, no restart.
   */
  setVideoRange(r: Pick<EncoderSettingsT, 'bitrate' | 'minBitrate' | 'maxBitrate' | 'adaptive'>): void {
    const s = this.current.source;
    if (s.kind !== 'encode') return;
    s.settings = { ...s.settings, ...r };
    const target = r.adaptive ? this.clampToRange(s.settings, this.videoBitrate || r.bitrate) : r.bitrate;
    this.abr = this.makeAbr(s.settings, this.current.destination.latencyMs, target);
    this.applyBitrate(target, r.adaptive ? 'the operator changed the range' : 'the operator set it');
  }

  /**
   * Settings the encoder or muxer cannot change while running (picture size,
   * codec, input, mux): a new pipeline process takes over, spliced onto the
   * same TS and SRT session.
   */
  setPipeline(source: StreamSource, mux: MuxConfigT): void {
    if (this.stopping) return;
    this.current.source = structuredClone(source);
    this.current.mux = structuredClone(mux);
    if (source.kind === 'encode') {
      const target = source.settings.adaptive ? this.clampToRange(source.settings, this.videoBitrate) : source.settings.bitrate;
      this.abr = this.makeAbr(source.settings, this.current.destination.latencyMs, target);
      this.videoBitrate = target;
    }
    this.replacePipeline();
  }

  /** A new pipeline process with the same settings (the operator's restart); the SRT session and links stay up. */
  restartPipeline(): boolean {
    if (this.stopping || !this.child) return false;
    this.replacePipeline();
    return true;
  }

  /** Whether metered links carry only what the free ones cannot, live. */
  setMeteredWhenNeeded(on: boolean): void {
    if (!this.bond || !this.current.bond) throw new StreamNotBondedError();
    this.bond.setMeteredWhenNeeded(on);
    this.current.bond.meteredWhenNeeded = on;
  }

  /** Adds an uplink to the bonded stream, live. */
  async addLink(link: BondLinkOptions): Promise<void> {
    if (!this.bond || !this.current.bond) throw new StreamNotBondedError();
    await this.bond.addLink(link);
    this.current.bond.links = [...this.current.bond.links.filter((l) => l.name !== link.name), structuredClone(link)];
  }

  /** Takes an uplink out of the bonded stream, live; false when there was none of that name. */
  removeLink(name: string): boolean {
    if (!this.bond || !this.current.bond) throw new StreamNotBondedError();
    this.current.bond.links = this.current.bond.links.filter((l) => l.name !== name);
    return this.bond.removeLink(name);
  }

  /** The operator's fixed bit rate: the controller (if any) stops adapting. */
  setBitrate(bps: number): void {
    this.abr = undefined;
    this.applyBitrate(bps, 'operator');
  }

  private makeAbr(settings: EncoderSettingsT, latencyMs: number, startBps: number): AbrController | undefined {
    if (!settings.adaptive) return undefined;
    return new AbrController({
      minBps: settings.minBitrate,
      maxBps: settings.maxBitrate,
      latencyMs,
      startBps: this.clampToRange(settings, startBps),
      audioBps: settings.audioBitrate,
    });
  }

  private clampToRange(s: EncoderSettingsT, bps: number): number {
    return Math.min(s.maxBitrate, Math.max(s.minBitrate, bps));
  }

  /** Stops the stream; what is queued reaches the destination first (up to a second). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  stats(): StreamStats {
    const c = this.childStats;
    const destinations = this.outputs.map((o) => o.stats());
    const lead = this.lead();
    const l = lead ? destinations[lead.index] : undefined;
    return {
      state: this.stateValue,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      videoBitrate: this.videoBitrate,
      ...(this.abrReason ? { abrReason: this.abrReason } : {}),
      tsBitrate: c?.tsBitrate ?? 0,
      framesEncoded: c?.framesEncoded ?? 0,
      framesDropped: c?.framesDropped ?? 0,
      picture: c?.picture ?? 'none',
      ...(c?.codec ? { codec: c.codec } : {}),
      srt: leadSrtStats(l),
      destinations,
      pipeline: {
        ...(this.child?.pid !== undefined ? { pid: this.child.pid } : {}),
        restarts: this.child?.restartCount ?? 0,
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
      splicer: this.splicer.stats,
      gate: l?.gate ?? { open: false, heldBack: 0, sentFromBuffer: 0, buffered: 0 },
      ...(this.bond ? { bond: this.bond.stats() } : {}),
      ...(this.recorder ? { recording: this.recorder.stats() } : {}),
    };
  }

  private pipelineSpec(): PipelineSpec {
    const source = this.current.source;
    return {
      source:
        source.kind === 'encode'
          ? { kind: 'encode', settings: { ...source.settings, bitrate: this.videoBitrate || source.settings.bitrate } }
          : source,
      mux: this.current.mux,
      seconds: this.current.seconds ?? 0,
      ...(this.current.reportUnits ? { reportUnits: true } : {}),
      ...(this.options.thumbnails && source.kind === 'encode' ? { thumbnails: true } : {}),
    };
  }

  private onConnected(out: DestinationOutput, peer: string): void {
    log.info('connected to the destination', { destination: out.destination.name, peer });
    this.updateState();
    this.raise({ code: 'SRT_CONNECTED', message: `streaming to ${peer}`, level: 'info' });
    // The encoder's next picture is a keyframe: the gate of the destination that just came starts there
    // (the other destination gets that keyframe too, the same bytes as ever).
    if (this.current.source.kind === 'encode') this.child?.send({ type: 'forceKeyframe' });
    else if (this.passAll && !this.fileReady) {
      // A file is played once the destinations are all up, or a while after the first: one that stays down does not hold it.
      const ready = (): void => {
        clearTimeout(this.readyTimer);
        if (this.fileReady || this.stopping) return;
        this.fileReady = true;
        this.child?.send({ type: 'outputReady' });
      };
      if (this.outputs.every((o) => o.connected)) ready();
      else this.readyTimer ??= setTimeout(ready, PASSTHROUGH_KEEP_MS);
    }
  }

  /** The stream's state from its destinations': live while any is; else calling (again). */
  private updateState(reason?: string): void {
    if (this.stopping) return;
    if (this.outputs.some((o) => o.connected)) this.setState('live');
    else if (this.outputs.some((o) => o.state === 'reconnecting') || this.stateValue === 'live' || this.stateValue === 'reconnecting')
      this.setState('reconnecting', reason);
    else this.setState('connecting', reason);
  }

  private onSrtStats(s: SrtStats): void {
    const abr = this.abr;
    if (!abr || !this.lead()?.connected || this.stopping) return;
    const d = abr.update({
      nowMs: performance.now(),
      rttMs: s.msRTT,
      sendBufferMs: s.msSndBuf,
      sendRateBps: s.mbpsSendRate * 1e6,
      sentPackets: s.pktSentTotal,
      retransPackets: s.pktRetransTotal,
      ackedPackets: Math.max(0, s.pktSentUniqueTotal - s.pktSndBuf - s.pktSndDropTotal),
      ...(this.capacityBps !== undefined ? { capacityBps: this.capacityBps } : {}),
    });
    if (d) this.applyBitrate(d.bitrate, d.signal ? `${d.reason}: ${d.signal}` : d.reason);
  }

  private applyBitrate(bps: number, reason: string): void {
    if (this.current.source.kind !== 'encode' || bps === this.videoBitrate) return;
    this.videoBitrate = bps;
    this.abrReason = reason;
    this.child?.send({ type: 'setBitrate', bps });
    this.emit('bitrate', bps, reason);
  }

  private raise(e: PipelineEvent): void {
    this.emit('event', e);
  }

  private setState(s: StreamState, reason?: string): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.emit('state', s, reason);
  }

  private async finish(code: string | null): Promise<void> {
    this.endCode ??= code;
    await this.stop();
  }

  private async doStop(): Promise<void> {
    this.setState('stopping');
    clearInterval(this.statsTimer);
    await this.child?.stop();
    this.splicer.stop();
    this.recorder?.endStream();
    // Let the last pictures reach the destination whole before hanging up.
    clearTimeout(this.readyTimer);
    await Promise.all(this.outputs.map((o) => o.end()));
    await this.bond?.close();
    await this.recorder?.close();
    this.setState('stopped');
    this.emit('finished', this.endCode);
  }
}
