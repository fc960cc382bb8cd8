/**
 * The encoder session: a picture source and a sound source encoded to H.264 +
 * AAC (ADTS) on native threads; access units arrive here as events. Options
 * are checked with zod before they cross into C++; native failures come back
 * as the named errors of ./errors.ts.
 *
 *   const s = await EncoderSession.start({ video: 'testpattern', audio: 'testtone', bitrate: 4e6 });
 *   s.on('accessUnit', (au) => au.stream === 'video' ? mux.writeVideo(au) : mux.writeAudio(au));
 *   s.setVideoBitrate(2e6);
 *   await s.close();
 */
import { z } from 'zod';
import { type FrameRate, parseFrameRate } from '../lib/clock.js';
import type { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import type { AccessUnit } from '../mux/types.js';
import { loadNative } from '../native/binding.js';
import type { NativeEncodeSession, NativeSessionMessage, NativeSessionOptions, NativeSessionStats } from '../native/media.js';
import { MediaOptionsError, mediaErrorFromNative, SessionStateError } from './errors.js';

const log = createLogger('media.session');

/** An encoded access unit on the media clock (90 kHz pts/dts, unbounded; captureUs of CLOCK_MONOTONIC). */
export interface EncodedUnit extends AccessUnit {
  stream: 'video' | 'audio';
  captureUs: number;
}

export interface SessionEvent {
  code: string;
  message: string;
}

export interface SessionInfo {
  videoCodec: string;
  width: number;
  height: number;
  fps: FrameRate;
  audio: { sampleRate: number; channels: number };
}

export type SessionStats = NativeSessionStats;

/** Test-pattern sizes and rates (issue 3); other even sizes work too, these are the ones checked. */
export const TEST_PATTERN_SIZES = ['1280x720', '1920x1080'] as const;
export const TEST_PATTERN_RATES = ['25', '29.97', '30', '50', '59.94', '60'] as const;

const VIDEO_SOURCE = /^(testpattern|\/dev\/video\d+(:\d+)?)$/;
const AUDIO_SOURCE = /^(testtone|none|default|(plug)?hw:[A-Za-z0-9_]+(,\d+){0,2}|(plug)?hw:CARD=[A-Za-z0-9_]+(,DEV=\d+)?)$/;

export const EncoderSessionOptionsSchema = z
  .object({
    video: z.string().regex(VIDEO_SOURCE, '"testpattern" or a V4L2 device such as /dev/video0 or /dev/video0:3').default('testpattern'),
    audio: z.string().regex(AUDIO_SOURCE, '"testtone", "none" or an ALSA device such as hw:1,0').default('testtone'),
    inputName: z.string().max(48).default(''),
    width: z.number().int().min(160).max(3840).multipleOf(2).optional(),
    height: z.number().int().min(120).max(2160).multipleOf(2).optional(),
    /** "30", "29.97", "30000/1001"; absent: the input's rate (the test pattern: 30). */
    fps: z.string().optional(),
    codec: z
      .string()
      .regex(/^(auto|libx264|h264_[a-z0-9_]+)$/, 'auto or an H.264 encoder name such as libx264')
      .default('auto'),
    bitrate: z.number().int().min(100_000).max(120_000_000).default(4_000_000),
    maxrate: z.number().int().min(100_000).max(240_000_000).optional(),
    bufsize: z.number().int().min(10_000).max(480_000_000).optional(),
    rateControl: z.enum(['cbr', 'vbr']).default('cbr'),
    keyframeSeconds: z.number().min(0.25).max(10).default(2),
    profile: z.enum(['baseline', 'main', 'high']).default('high'),
    level: z.enum(['3.0', '3.1', '3.2', '4.0', '4.1', '4.2', '5.0', '5.1', '5.2']).optional(),
    bframes: z.number().int().min(0).max(3).default(0),
    /**
     * libx264 preset. superfast: on 2 cores it keeps 1080p30 real time with room
     * for mux, SRT and bonding (see `fieldcast bench encode`), and it keeps
     * CABAC, which ultrafast drops at a large cost in quality per bit.
     */
    preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('superfast'),
    tune: z.enum(['zerolatency', 'film', 'animation', 'grain', 'stillimage', 'fastdecode', '']).default('zerolatency'),
    audioBitrate: z.number().int().min(32_000).max(320_000).default(128_000),
    channels: z.number().int().min(1).max(2).default(2),
    /** Test pattern only: false encodes as fast as the encoder goes (benchmarks, fast tests). */
    paced: z.boolean().default(true),
    /** Stop after this many pictures (0: until closed). */
    maxFrames: z.number().int().min(0).default(0),
    queueUnits: z.number().int().min(16).max(100_000).default(512),
    queueBytes: z
      .number()
      .int()
      .min(1 << 20)
      .max(1 << 30)
      .default(32 << 20),
    statsIntervalMs: z.number().int().min(0).max(60_000).default(1000),
  })
  .strict();

export type EncoderSessionOptions = z.input<typeof EncoderSessionOptionsSchema>;

/** Checks options and turns them into the flat shape native code reads. Throws MediaOptionsError. */
export function toNativeOptions(input: EncoderSessionOptions): NativeSessionOptions {
  const r = EncoderSessionOptionsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.join('.') || 'options';
    throw new MediaOptionsError(`encoder option ${key}: ${issue.message}`, { key });
  }
  const o = r.data;
  const isPattern = o.video === 'testpattern';
  if ((o.width === undefined) !== (o.height === undefined)) throw new MediaOptionsError('encoder options width and height go together');
  if (o.paced === false && !isPattern)
    throw new MediaOptionsError('unpaced encoding needs the test pattern (a capture input runs in real time)');
  if (o.paced === false && o.audio !== 'testtone' && o.audio !== 'none') {
    throw new MediaOptionsError('unpaced encoding needs the test tone or no audio (a sound card runs in real time)');
  }
  let fps: FrameRate = { num: 0, den: 1 };
  if (o.fps !== undefined) {
    const parsed = parseFrameRate(o.fps);
    if (!parsed || parsed.num / parsed.den > 240)
      throw new MediaOptionsError(`encoder option fps: "${o.fps}" is not a frame rate (examples: 30, 29.97, 59.94)`);
    fps = parsed;
  } else if (isPattern) {
    fps = { num: 30, den: 1 };
  }
  const [device, inputIndex] = o.video.split(':');
  return {
    videoSource: isPattern ? 'testpattern' : device!,
    v4l2Input: inputIndex === undefined ? -1 : Number(inputIndex),
    audioSource: o.audio,
    inputName: o.inputName,
    paced: o.paced,
    maxFrames: o.maxFrames,
    codec: o.codec,
    width: o.width ?? (isPattern ? 1280 : 0),
    height: o.height ?? (isPattern ? 720 : 0),
    fpsNum: fps.num,
    fpsDen: fps.den,
    bitrate: o.bitrate,
    maxrate: o.maxrate ?? 0,
    bufsize: o.bufsize ?? 0,
    rateControl: o.rateControl,
    keyintSeconds: o.keyframeSeconds,
    profile: o.profile,
    level: o.level ?? '',
    bframes: o.bframes,
    preset: o.preset,
    tune: o.tune,
    audioBitrate: o.audioBitrate,
    audioChannels: o.channels,
    queueUnits: o.queueUnits,
    queueBytes: o.queueBytes,
  };
}

type SessionEvents = {
  accessUnit: [EncodedUnit];
  event: [SessionEvent];
  stats: [SessionStats];
  error: [FieldcastError];
  /** The session stopped by itself (maxFrames reached, or a fatal error); close() follows on its own. */
  ended: [];
  closed: [];
};

export class EncoderSession extends TypedEmitter<SessionEvents> {
  private native: NativeEncodeSession | undefined;
  private infoValue: SessionInfo | undefined;
  private closing: Promise<void> | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private startWaiter: { resolve: () => void; reject: (e: FieldcastError) => void } | undefined;
  /** Events raised while opening (e.g. AUDIO_SILENCE), re-emitted once the caller can listen. */
  private earlyEvents: SessionEvent[] = [];
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  private constructor(
    private readonly nativeOptions: NativeSessionOptions,
    private readonly statsIntervalMs: number,
  ) {
    super();
    this.closedPromise = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  /** Checks options, opens sources and encoders (off the JS thread) and starts. Rejects with a named error. */
  static async start(options: EncoderSessionOptions): Promise<EncoderSession> {
    const nativeOptions = toNativeOptions(options);
    const s = new EncoderSession(nativeOptions, EncoderSessionOptionsSchema.shape.statsIntervalMs.parse(options.statsIntervalMs));
    await s.begin();
    return s;
  }

  private begin(): Promise<void> {
    const addon = loadNative();
    try {
      this.native = new addon.EncodeSession(this.nativeOptions, (m) => this.onMessage(m));
    } catch (err) {
      throw mediaErrorFromNative(err);
    }
    const started = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    this.native.start();
    return started;
  }

  /** What was opened: the encoder's name, the output size and rate, the audio format. */
  get info(): SessionInfo {
    if (!this.infoValue) throw new SessionStateError('the session has not started');
    return this.infoValue;
  }

  /** Changes the video bitrate from the next picture on, without restarting the encoder. */
  setVideoBitrate(bps: number): void {
    if (!Number.isInteger(bps) || bps < 100_000 || bps > 120_000_000) {
      throw new MediaOptionsError(`video bitrate must be a whole number of bit/s from 100000 to 120000000 (got ${bps})`);
    }
    if (this.closing || !this.native) throw new SessionStateError('the session is closed');
    this.native.setVideoBitrate(bps);
  }

  /** Makes the next picture an IDR (a receiver that just joined, or recovery after loss). */
  forceKeyframe(): void {
    if (this.closing || !this.native) throw new SessionStateError('the session is closed');
    this.native.forceKeyframe();
  }

  stats(): SessionStats {
    if (!this.native) throw new SessionStateError('the session has not started');
    return this.native.stats();
  }

  /** Resolves once the session is closed (by close() or because it ended). */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Stops capture and encoding; what is already encoded is still delivered. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.statsTimer) clearInterval(this.statsTimer);
    const native = this.native;
    this.closing = (async () => {
      if (native) await native.close();
      this.emit('closed');
      this.resolveClosed();
    })();
    return this.closing;
  }

  private onMessage(m: NativeSessionMessage): void {
    switch (m.type) {
      case 'unit':
        this.emit('accessUnit', { stream: m.stream, data: m.data, pts: m.pts, dts: m.dts, key: m.key, captureUs: m.captureUs });
        return;
      case 'started':
        this.infoValue = {
          videoCodec: m.videoCodec,
          width: m.width,
          height: m.height,
          fps: { num: m.fpsNum, den: m.fpsDen },
          audio: m.audio ?? { sampleRate: 48_000, channels: 2 },
        };
        log.info('encoding', { codec: m.videoCodec, size: `${m.width}x${m.height}`, fps: `${m.fpsNum}/${m.fpsDen}` });
        if (this.statsIntervalMs > 0) {
          this.statsTimer = setInterval(() => this.emit('stats', this.stats()), this.statsIntervalMs);
          this.statsTimer.unref();
        }
        this.startWaiter?.resolve();
        this.startWaiter = undefined;
        if (this.earlyEvents.length) {
          const early = this.earlyEvents;
          this.earlyEvents = [];
          // After start() has resolved and its caller has attached listeners.
          setImmediate(() => {
            for (const e of early) this.emit('event', e);
          });
        }
        return;
      case 'event':
        log.info(m.message, { code: m.code });
        if (this.startWaiter) this.earlyEvents.push({ code: m.code, message: m.message });
        else this.emit('event', { code: m.code, message: m.message });
        return;
      case 'error': {
        const e = mediaErrorFromNative({ code: m.code, message: m.message });
        if (this.startWaiter) {
          this.startWaiter.reject(e);
          this.startWaiter = undefined;
        } else {
          log.error(m.message, { code: m.code });
          this.emit('error', e);
        }
        return;
      }
      case 'ended':
        if (this.startWaiter) {
          this.startWaiter.reject(new SessionStateError('the session ended before it started'));
          this.startWaiter = undefined;
        }
        this.emit('ended');
        void this.close();
        return;
    }
  }
}
