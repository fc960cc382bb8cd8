/**
 * The media pipeline: source → encoder → muxer → SRT, as one object that the
 * pipeline process (child.ts) drives. Capture and encoding stay on native
 * threads (EncoderSession); this class wires access units into the muxer and
 * the muxer's 1316-byte chunks into the SRT output, and runs the adaptive
 * bitrate controller on SRT's statistics.
 *
 * When SRT breaks, capture and encoding go on; chunks are dropped (and
 * counted) while the output reconnects with backoff. On reconnection the
 * encoder is asked for a keyframe and nothing is sent until it comes, so the
 * ingest's first packets are PAT, PMT and an IDR (the muxer writes PSI before
 * every IDR).
 */
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { TsMuxer } from '../mux/index.js';
import { SrtConnection, SrtOutput, type SrtStats } from '../srt/index.js';
import { AbrController } from './abr.js';
import {
  type PipelineEvent,
  PipelineSpec,
  type PipelineSpecInput,
  type PipelineSpecT,
  type PipelineState,
  type PipelineStats,
} from './channel.js';
import { TsPassthroughSource } from './passthrough.js';
import { type EncodedUnit, EncoderSession } from './session.js';

const log = createLogger('media.pipeline');

const STATS_INTERVAL_MS = 1000;
const SRT_STATS_INTERVAL_MS = 100;

export type PipelineEvents = {
  state: [PipelineState, string | undefined];
  stats: [PipelineStats];
  event: [PipelineEvent];
  /** A video access unit left the encoder (capture time, µs of the media clock): for latency measurement. */
  videoUnit: [captureUs: number];
  /** The video bit rate was changed (by the ABR controller or the operator), and why. */
  bitrate: [bps: number, reason: string];
  /** The pipeline ended by itself (seconds ran out, the input ended, a fatal error): code null when clean. */
  finished: [string | null, string | undefined];
};

export class Pipeline extends TypedEmitter<PipelineEvents> {
  readonly spec: PipelineSpecT;
  private stateValue: PipelineState = 'starting';
  private session: EncoderSession | undefined;
  private muxer: TsMuxer | undefined;
  private output: SrtOutput | undefined;
  private passthrough: TsPassthroughSource | undefined;
  private srtInput: SrtConnection | undefined;
  private abr: AbrController | undefined;
  private adaptive = false;
  private capacityBps: number | undefined;
  private videoBitrate = 0;
  private abrReason: string | undefined;
  /** After (re)connecting, nothing goes out until the encoder's next keyframe. */
  private waitingForKey = true;
  private tsBytesWindow = 0;
  private tsBitrate = 0;
  private droppedWhileDown = 0;
  /** Set while the muxer's stale partial chunk is flushed away on reconnection. */
  private discarding = false;
  private startedAt = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(spec: PipelineSpecInput) {
    super();
    const r = PipelineSpec.safeParse(spec);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new FieldcastError('PIPELINE_SPEC_INVALID', `pipeline setting ${i.path.join('.')}: ${i.message}`);
    }
    this.spec = r.data;
  }

  get state(): PipelineState {
    return this.stateValue;
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    const out = new SrtOutput(this.outputUrl(), { statsIntervalMs: SRT_STATS_INTERVAL_MS });
    this.output = out;
    out.on('connecting', (attempt) => {
      if (attempt === 1) this.setState(this.stateValue === 'live' ? 'reconnecting' : 'connecting');
    });
    out.on('connected', (info) => this.onConnected(info.peer));
    out.on('disconnected', (e) => this.onDown(e.code, e.message));
    out.on('failed', (e, retryInMs) => {
      this.raise({ code: e.code, message: e.message, level: out.needsOperator ? 'error' : 'warn' });
      log.debug('cannot reach the destination', { code: e.code, retryInMs });
    });
    out.on('stats', (s) => this.onSrtStats(s));

    if (this.spec.source.kind === 'encode') await this.startEncoder(this.spec.source);
    else await this.startPassthrough(this.spec.source.input, this.spec.source.loop);

    out.start();
    this.statsTimer = setInterval(() => this.emitStats(), STATS_INTERVAL_MS);
    if (this.spec.seconds > 0) this.stopTimer = setTimeout(() => this.finish(null), this.spec.seconds * 1000);
  }

  /** Operator override of the video bit rate (turns the adaptive controller's decision into a fixed one). */
  setBitrate(bps: number): void {
    if (!this.session) return;
    this.applyBitrate(bps, 'operator');
  }

  setAdaptive(on: boolean): void {
    this.adaptive = on && this.abr !== undefined;
  }

  forceKeyframe(): void {
    this.session?.forceKeyframe();
  }

  /** The bonded links' summed capacity, from the bonding sender (bit/s). */
  setCapacity(bps: number): void {
    this.capacityBps = bps > 0 ? bps : undefined;
  }

  async stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private outputUrl(): string {
    // The URL may carry its own options; the spec's fields win (they come from validated config).
    const o = this.spec.output;
    const u = new URL(o.url);
    u.searchParams.set('latency', String(o.latencyMs));
    if (o.passphrase) {
      u.searchParams.set('passphrase', o.passphrase);
      u.searchParams.set('pbkeylen', String(o.pbkeylen));
    }
    if (o.streamId) u.searchParams.set('streamid', o.streamId);
    return u.toString();
  }

  private async startEncoder(src: Extract<PipelineSpecT['source'], { kind: 'encode' }>): Promise<void> {
    const start = src.adaptive ? Math.min(src.maxBitrate, Math.max(src.minBitrate, src.bitrate)) : src.bitrate;
    this.muxer = new TsMuxer({
      // Audio is always carried: "none" sends silence, so the ingest never alarms on missing audio.
      audio: { sampleRate: 48_000, channels: src.channels },
      klv: this.spec.mux.klv,
      delayMs: this.spec.mux.delayMs,
      pcrIntervalMs: this.spec.mux.pcrIntervalMs,
      psiIntervalMs: this.spec.mux.psiIntervalMs,
      cbrRate: this.spec.mux.cbrRate,
      serviceName: this.spec.mux.serviceName,
      providerName: this.spec.mux.providerName,
      onChunk: (c) => this.sendChunk(c),
    });
    const session = await EncoderSession.start({
      video: src.video,
      audio: src.audio,
      inputName: src.inputName,
      ...(src.video === 'testpattern' ? { width: src.width, height: src.height, fps: src.fps } : {}),
      codec: src.codec,
      bitrate: start,
      rateControl: src.rateControl,
      keyframeSeconds: src.keyframeSeconds,
      profile: src.profile,
      bframes: src.bframes,
      audioBitrate: src.audioBitrate,
      channels: src.channels,
    });
    this.session = session;
    this.videoBitrate = start;
    if (src.adaptive) {
      this.abr = new AbrController({
        minBps: src.minBitrate,
        maxBps: src.maxBitrate,
        latencyMs: this.spec.output.latencyMs,
        startBps: start,
        audioBps: src.audioBitrate,
      });
      this.adaptive = true;
    }
    session.on('accessUnit', (au) => this.onAccessUnit(au));
    session.on('event', (e) => this.raise({ code: e.code, message: e.message, level: e.code === 'INPUT_NO_SIGNAL' ? 'warn' : 'info' }));
    session.on('error', (e) => this.raise({ code: e.code, message: e.message, level: 'error' }));
    session.on('ended', () => this.finish(null));
  }

  private async startPassthrough(input: string, loop: boolean): Promise<void> {
    this.waitingForKey = false;
    if (input.startsWith('srt://')) {
      const conn = new SrtConnection(input, { role: 'receive' });
      this.srtInput = conn;
      conn.on('data', (c) => this.sendChunk(c));
      conn.on('connected', (i) => this.raise({ code: 'INPUT_CONNECTED', message: `TS input connected from ${i.peer}`, level: 'info' }));
      conn.on('disconnected', (e) => this.raise({ code: e.code, message: `TS input: ${e.message}`, level: 'warn' }));
      conn.on('failed', (e) => this.raise({ code: e.code, message: `TS input: ${e.message}`, level: 'error' }));
      conn.start();
      return;
    }
    const src = new TsPassthroughSource(input, loop);
    this.passthrough = src;
    src.on('chunk', (c) => this.sendChunk(c));
    src.on('error', (e) => this.raise({ code: e.code, message: e.message, level: 'error' }));
    src.on('end', () => this.finish(null));
    if (src.isLive) {
      await src.start();
      return;
    }
    // A file waits for the destination: playing it into a closed connection loses its start.
    this.output?.once('connected', () => {
      src.start().catch((e: unknown) => {
        const err = e instanceof FieldcastError ? e : new FieldcastError('INPUT_UNAVAILABLE', String(e));
        this.raise({ code: err.code, message: err.message, level: 'error' });
        this.finish(err.code, err.message);
      });
    });
  }

  private onAccessUnit(au: EncodedUnit): void {
    const mux = this.muxer;
    if (!mux) return;
    if (this.waitingForKey) {
      if (au.stream !== 'video' || !au.key) return;
      this.waitingForKey = false;
    }
    if (au.stream === 'video') {
      mux.writeVideo(au);
      this.emit('videoUnit', au.captureUs);
    } else mux.writeAudio(au);
  }

  private sendChunk(chunk: Buffer): void {
    this.tsBytesWindow += chunk.length;
    const out = this.output;
    if (!out?.connected || this.discarding) {
      this.droppedWhileDown++;
      return;
    }
    out.send(chunk);
  }

  private onConnected(peer: string): void {
    log.info('connected to the destination', { peer });
    this.setState('live');
    this.raise({ code: 'SRT_CONNECTED', message: `streaming to ${peer}`, level: 'info' });
    if (this.session) {
      // Start clean on a keyframe: PAT/PMT and SPS/PPS come with it. The
      // muxer's partly filled chunk holds data from before: flush it away.
      this.discarding = true;
      this.muxer?.flush();
      this.discarding = false;
      this.waitingForKey = true;
      this.session.forceKeyframe();
    }
  }

  private onDown(code: string, message: string): void {
    this.setState('reconnecting', message);
    this.raise({ code, message, level: 'warn' });
  }

  private onSrtStats(s: SrtStats): void {
    const abr = this.abr;
    if (!abr || !this.adaptive || !this.output?.connected) return;
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
    if (!this.session || bps === this.videoBitrate) return;
    log.debug('video bit rate', { bps, reason });
    this.session.setVideoBitrate(bps);
    this.videoBitrate = bps;
    this.abrReason = reason;
    this.emit('bitrate', bps, reason);
  }

  private emitStats(): void {
    this.tsBitrate = (this.tsBytesWindow * 8 * 1000) / STATS_INTERVAL_MS;
    this.tsBytesWindow = 0;
    const s = this.output?.stats;
    const enc = this.session?.stats();
    const stats: PipelineStats = {
      state: this.stateValue,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      videoBitrate: this.videoBitrate,
      tsBitrate: this.tsBitrate,
      framesEncoded: enc?.videoFrames ?? 0,
      framesDropped: (enc?.droppedVideo ?? 0) + (enc?.lateFrames ?? 0),
      picture: this.session ? (enc?.onSlate ? 'slate' : 'input') : 'passthrough',
      srt: {
        connected: this.output?.connected ?? false,
        rttMs: s?.msRTT ?? 0,
        sendRateBps: (s?.mbpsSendRate ?? 0) * 1e6,
        sendBufferMs: s?.msSndBuf ?? 0,
        lossPackets: s?.pktSndLossTotal ?? 0,
        retransPackets: s?.pktRetransTotal ?? 0,
        dropPackets: s?.pktSndDropTotal ?? 0,
        bandwidthBps: (s?.mbpsBandwidth ?? 0) * 1e6,
      },
      droppedWhileDown: this.droppedWhileDown,
      ...(this.abrReason ? { abrReason: this.abrReason } : {}),
    };
    this.emit('stats', stats);
  }

  /** Events go to whoever drives the pipeline (status page, CLI); the log keeps a debug trace of them. */
  private raise(e: PipelineEvent): void {
    log.debug(e.message, { code: e.code, level: e.level });
    this.emit('event', e);
  }

  private setState(s: PipelineState, reason?: string): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.emit('state', s, reason);
  }

  private finish(code: string | null, message?: string): void {
    void this.stop().then(() => this.emit('finished', code, message));
  }

  private async doStop(): Promise<void> {
    this.setState('stopping');
    clearInterval(this.statsTimer);
    clearTimeout(this.stopTimer);
    this.passthrough?.close();
    this.srtInput?.close();
    if (this.session) await this.session.close();
    this.muxer?.flush();
    this.emitStats();
    // Let the last pictures reach the destination whole before hanging up.
    if (this.output) await this.output.end();
    this.setState('stopped');
  }
}
