/**
 * The media pipeline: source → encoder → muxer → TS, as one object that the
 * pipeline process (child.ts) drives. Capture and encoding stay on native
 * threads (EncoderSession); this class wires access units into the muxer and
 * hands the muxer's 1316-byte chunks to a sink (the pipe to the stream unit).
 *
 * It knows nothing of the network: the SRT session, the bit rate controller
 * and the bonding live in the stream unit, in the supervisor's process, so a
 * crash here never drops what the destination holds. The stream unit asks
 * for a keyframe when the destination (re)connects, and sets the bit rate.
 * The first access unit muxed is a keyframe (the muxer writes PAT, PMT and
 * SPS/PPS before it): a new pipeline's stream can be spliced on at once.
 * With the spec's `thumbnails`, the encoder makes a small JPEG of the picture
 * once a second (natively: raw video never enters JS) and each new one is
 * passed on with the statistics' tick.
 */
import { monotonicMicros } from '../lib/clock.js';
import { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import { TsMuxer } from '../mux/index.js';
import { SrtConnection } from '../srt/index.js';
import type { PipelineEvent, PipelineSpec, PipelineState, PipelineStats, PipelineThumbnail } from './channel.js';
import { TsPassthroughSource } from './passthrough.js';
import { type EncodedUnit, EncoderSession, SessionRun } from './session.js';

const log = createLogger('media.pipeline');

const STATS_INTERVAL_MS = 1000;
/** The status page's picture: 320 px wide (320x180 at 16:9), a few kB a second over the channel. */
const THUMBNAIL_WIDTH = 320;

export type PipelineEvents = {
  state: [PipelineState, string | undefined];
  stats: [PipelineStats];
  event: [PipelineEvent];
  /** A video access unit left the encoder (capture time, µs of the media clock): for latency measurement. */
  videoUnit: [captureUs: number];
  /** A new thumbnail of the picture on air (with the spec's `thumbnails`), about once a second. */
  thumbnail: [PipelineThumbnail];
  /** The pipeline ended by itself (seconds ran out, the input ended, a fatal error): code null when clean. */
  finished: [string | null, string | undefined];
};

/** Where the TS goes: false when it could not take the chunk (the reader stalled), and it was dropped. */
export type TsSink = (chunk: Buffer) => boolean;

export class Pipeline extends TypedEmitter<PipelineEvents> {
  private stateValue: PipelineState = 'starting';
  private session: EncoderSession | undefined;
  private muxer: TsMuxer | undefined;
  private passthrough: TsPassthroughSource | undefined;
  private srtInput: SrtConnection | undefined;
  private videoBitrate = 0;
  /** Nothing is muxed before the encoder's first keyframe. */
  private waitingForKey = true;
  private tsBytesWindow = 0;
  private tsBytes = 0;
  private tsDropped = 0;
  /** The capture time of the last thumbnail passed on: each is passed on once. */
  private thumbnailUs = -1;
  private startedAt = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private fileWaiting: (() => void) | undefined;

  constructor(
    readonly spec: PipelineSpec,
    private readonly sink: TsSink,
  ) {
    super();
  }

  get state(): PipelineState {
    return this.stateValue;
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    if (this.spec.source.kind === 'encode') await this.startEncoder(this.spec.source.settings);
    else await this.startPassthrough(this.spec.source.input, this.spec.source.loop);
    this.setState('running');
    this.statsTimer = setInterval(() => {
      this.emitStats();
      this.emitThumbnail();
    }, STATS_INTERVAL_MS);
    if (this.spec.seconds > 0) this.stopTimer = setTimeout(() => this.finish(null), this.spec.seconds * 1000);
  }

  /** The video bit rate, from the stream unit's controller or the operator. */
  setBitrate(bps: number): void {
    // A command that races the stop (the controller's last decision) has nothing left to change.
    if (!this.session || this.stopping || bps === this.videoBitrate) return;
    this.session.setVideoBitrate(bps);
    this.videoBitrate = bps;
  }

  forceKeyframe(): void {
    if (this.stopping) return;
    this.session?.forceKeyframe();
  }

  /** The destination is connected: a passthrough file that waits for it starts playing. */
  outputReady(): void {
    const go = this.fileWaiting;
    this.fileWaiting = undefined;
    go?.();
  }

  async stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async startEncoder(settings: Extract<PipelineSpec['source'], { kind: 'encode' }>['settings']): Promise<void> {
    this.muxer = new TsMuxer({
      // Audio is always carried: "none" sends silence, so the ingest never alarms on missing audio.
      audio: { sampleRate: 48_000, channels: settings.channels },
      klv: this.spec.mux.klv,
      delayMs: this.spec.mux.delayMs,
      pcrIntervalMs: this.spec.mux.pcrIntervalMs,
      psiIntervalMs: this.spec.mux.psiIntervalMs,
      cbrRate: this.spec.mux.cbrRate,
      serviceName: this.spec.mux.serviceName,
      providerName: this.spec.mux.providerName,
      onChunk: (c) => this.sendChunk(c),
    });
    const run = SessionRun.parse({ thumbnailWidth: this.spec.thumbnails ? THUMBNAIL_WIDTH : 0 });
    const session = await EncoderSession.startWith(settings, run);
    this.session = session;
    this.videoBitrate = settings.bitrate;
    session.on('accessUnit', (au) => this.onAccessUnit(au));
    session.on('event', (e) =>
      this.raise({
        code: e.code,
        message: e.message,
        level: e.code === 'INPUT_NO_SIGNAL' || e.code === 'THUMBNAIL_UNAVAILABLE' ? 'warn' : 'info',
      }),
    );
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
    this.fileWaiting = () => {
      src.start().catch((e: unknown) => {
        const err = e instanceof FieldcastError ? e : new FieldcastError('INPUT_UNAVAILABLE', String(e));
        this.raise({ code: err.code, message: err.message, level: 'error' });
        this.finish(err.code, err.message);
      });
    };
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
    this.tsBytes += chunk.length;
    if (!this.sink(chunk)) this.tsDropped++;
  }

  private emitStats(): void {
    const enc = this.session?.stats();
    const stats: PipelineStats = {
      state: this.stateValue,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      videoBitrate: this.videoBitrate,
      tsBitrate: (this.tsBytesWindow * 8 * 1000) / STATS_INTERVAL_MS,
      tsBytes: this.tsBytes,
      tsDropped: this.tsDropped,
      framesEncoded: enc?.videoFrames ?? 0,
      framesDropped: (enc?.droppedVideo ?? 0) + (enc?.lateFrames ?? 0),
      picture: this.session ? (enc?.onSlate ? 'slate' : 'input') : 'passthrough',
      ...(this.session ? { codec: this.session.info.videoCodec } : {}),
      ...(enc ? { audioPeakDbfs: enc.audioPeakDbfs, audioRmsDbfs: enc.audioRmsDbfs } : {}),
    };
    this.tsBytesWindow = 0;
    this.emit('stats', stats);
  }

  private emitThumbnail(): void {
    const t = this.session?.thumbnail();
    if (!t || t.captureUs === this.thumbnailUs) return;
    this.thumbnailUs = t.captureUs;
    // The media clock is CLOCK_MONOTONIC: its distance from now dates the picture on the wall clock.
    const at = new Date(Date.now() - (monotonicMicros() - t.captureUs) / 1000).toISOString();
    this.emit('thumbnail', { jpeg: t.jpeg, width: t.width, height: t.height, captureUs: t.captureUs, at });
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
    this.setState('stopped');
  }
}
