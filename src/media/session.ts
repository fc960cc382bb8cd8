/**
 * The encoder session: a picture source and a sound source encoded to H.264 +
 * AAC (ADTS) on native threads; access units arrive here as events. The
 * settings are the config's one shape (EncoderSettings), checked once where
 * they enter — the config's load, or `start()` for a tool's options — and
 * mapped as they are into the flat struct C++ reads; native failures come
 * back as the named errors of ./errors.ts.
 *
 *   const s = await EncoderSession.start({ video: 'testpattern', audio: 'testtone', bitrate: 4e6 });
 *   // or, with settings from a checked config: EncoderSession.startWith(encoderSettingsFrom(config))
 *   s.on('accessUnit', (au) => au.stream === 'video' ? mux.writeVideo(au) : mux.writeAudio(au));
 *   s.setVideoBitrate(2e6);
 *   await s.close();
 */
import { z } from 'zod';
import { EncoderSettings, type EncoderSettingsInput, type EncoderSettingsT } from '../config/schema.js';
import { type FrameRate, parseFrameRate } from '../lib/clock.js';
import type { FieldcastError } from '../lib/errors.js';
import { TypedEmitter } from '../lib/events.js';
import { createLogger } from '../lib/logger.js';
import type { AccessUnit } from '../mux/types.js';
import { loadNative } from '../native/binding.js';
import type {
  NativeEncodeSession,
  NativeSessionMessage,
  NativeSessionOptions,
  NativeSessionStats,
  NativeThumbnail,
} from '../native/media.js';
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
/** The latest thumbnail: a small JPEG of the picture on air, its capture time (µs of the media clock) and size. */
export type SessionThumbnail = NativeThumbnail;

/** Test-pattern sizes and rates (issue 3); other even sizes work too, these are the ones checked. */
export const TEST_PATTERN_SIZES = ['1280x720', '1920x1080'] as const;
export const TEST_PATTERN_RATES = ['25', '29.97', '30', '50', '59.94', '60'] as const;

/**
 * How a session runs, beside what it encodes: knobs for tools, benchmarks
 * and tests, never operator settings (those are the config's, in
 * EncoderSettings).
 */
export const SessionRun = z
  .object({
    /** Test pattern only: false encodes as fast as the encoder goes (benchmarks, fast tests). */
    paced: z.boolean().default(true),
    /** Stop after this many pictures (0: until closed). */
    maxFrames: z.number().int().min(0).default(0),
    tune: z.enum(['zerolatency', 'film', 'animation', 'grain', 'stillimage', 'fastdecode', '']).default('zerolatency'),
    level: z.enum(['3.0', '3.1', '3.2', '4.0', '4.1', '4.2', '5.0', '5.1', '5.2']).optional(),
    maxrate: z.number().int().min(100_000).max(240_000_000).optional(),
    bufsize: z.number().int().min(10_000).max(480_000_000).optional(),
    queueUnits: z.number().int().min(16).max(100_000).default(512),
    queueBytes: z
      .number()
      .int()
      .min(1 << 20)
      .max(1 << 30)
      .default(32 << 20),
    statsIntervalMs: z.number().int().min(0).max(60_000).default(1000),
    /** A JPEG of the picture once a second, this wide (even; its height keeps the aspect); 0: none, so benchmarks pay nothing. */
    thumbnailWidth: z
      .number()
      .int()
      .min(0)
      .max(1920)
      .refine((w) => w === 0 || (w >= 64 && w % 2 === 0), 'must be 0 (none) or an even width of at least 64')
      .default(0),
  })
  .strict();
export type SessionRunT = z.output<typeof SessionRun>;

/** What a tool or test gives: the encoder's settings and the run's knobs, flat, each part with its defaults. */
export type EncoderSessionOptions = EncoderSettingsInput & z.input<typeof SessionRun>;

const RUN_KEYS = new Set(Object.keys(SessionRun.shape));

function optionsError(issue: z.core.$ZodIssue, what: string): MediaOptionsError {
  const key = issue.path.join('.') || 'options';
  return new MediaOptionsError(`${what} ${key}: ${issue.message}`, { key });
}

/**
 * The one check of options a tool or test gives (the config's are checked
 * when it loads: the pipeline passes them on as they are). Throws
 * MediaOptionsError naming the key.
 */
export function parseSessionOptions(input: EncoderSessionOptions): { settings: EncoderSettingsT; run: SessionRunT } {
  const settingsIn: Record<string, unknown> = {};
  const runIn: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) (RUN_KEYS.has(k) ? runIn : settingsIn)[k] = v;
  const s = EncoderSettings.safeParse(settingsIn);
  if (!s.success) throw optionsError(s.error.issues[0]!, 'encoder option');
  const r = SessionRun.safeParse(runIn);
  if (!r.success) throw optionsError(r.error.issues[0]!, 'encoder option');
  return { settings: s.data, run: r.data };
}

/** Checks flat options and turns them into the flat shape native code reads. Throws MediaOptionsError. */
export function toNativeOptions(input: EncoderSessionOptions): NativeSessionOptions {
  const { settings, run } = parseSessionOptions(input);
  return nativeOptionsFor(settings, run);
}

/** The native session's options for checked settings: a mapping, and the run's own constraints. */
export function nativeOptionsFor(o: EncoderSettingsT, run: SessionRunT = SessionRun.parse({})): NativeSessionOptions {
  const isPattern = o.video === 'testpattern';
  if (run.paced === false && !isPattern)
    throw new MediaOptionsError('unpaced encoding needs the test pattern (a capture input runs in real time)');
  if (run.paced === false && o.audio !== 'testtone' && o.audio !== 'none') {
    throw new MediaOptionsError('unpaced encoding needs the test tone or no audio (a sound card runs in real time)');
  }
  const fps: FrameRate = o.fps !== undefined ? parseFrameRate(o.fps)! : isPattern ? { num: 30, den: 1 } : { num: 0, den: 1 };
  const [device, inputIndex] = o.video.split(':');
  return {
    videoSource: isPattern ? 'testpattern' : device!,
    v4l2Input: inputIndex === undefined ? -1 : Number(inputIndex),
    audioSource: o.audio,
    inputName: o.inputName,
    paced: run.paced,
    maxFrames: run.maxFrames,
    codec: o.codec,
    width: o.width ?? (isPattern ? 1280 : 0),
    height: o.height ?? (isPattern ? 720 : 0),
    fpsNum: fps.num,
    fpsDen: fps.den,
    bitrate: o.bitrate,
    maxrate: run.maxrate ?? 0,
    bufsize: run.bufsize ?? 0,
    rateControl: o.rateControl,
    keyintSeconds: o.keyframeSeconds,
    profile: o.profile,
    level: run.level ?? '',
    bframes: o.bframes,
    preset: o.preset,
    tune: run.tune,
    audioBitrate: o.audioBitrate,
    audioChannels: o.channels,
    queueUnits: run.queueUnits,
    queueBytes: run.queueBytes,
    thumbnailWidth: run.thumbnailWidth,
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
  /**
   * What the session said before its caller could listen: events raised while opening (e.g.
   * AUDIO_SILENCE), and whatever came in the same batch as `started` (under load the first
   * keyframe and more). start() resolves on `started`, but its caller attaches its listeners only
   * after that, in a later microtask; these are emitted in order once it has (setImmediate).
   */
  private held: (() => void)[] | undefined = [];
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

  /** Checks a tool's or test's options, then starts (see startWith). Rejects with a named error. */
  static async start(options: EncoderSessionOptions): Promise<EncoderSession> {
    const { settings, run } = parseSessionOptions(options);
    return EncoderSession.startWith(settings, run);
  }

  /** Opens sources and encoders for settings already checked (off the JS thread) and starts. */
  static async startWith(settings: EncoderSettingsT, run: SessionRunT = SessionRun.parse({})): Promise<EncoderSession> {
    const s = new EncoderSession(nativeOptionsFor(settings, run), run.statsIntervalMs);
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

  /** The latest thumbnail (with `thumbnailWidth`): undefined when off, before the first, or when the JPEG encoder is missing. */
  thumbnail(): SessionThumbnail | undefined {
    if (!this.native) throw new SessionStateError('the session has not started');
    return this.native.thumbnail();
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
      case 'unit': {
        const au: EncodedUnit = { stream: m.stream, data: m.data, pts: m.pts, dts: m.dts, key: m.key, captureUs: m.captureUs };
        this.emitWhenHeard(() => this.emit('accessUnit', au));
        return;
      }
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
        // After start() has resolved and its caller has attached listeners.
        setImmediate(() => {
          const held = this.held ?? [];
          this.held = undefined;
          for (const emit of held) emit();
        });
        return;
      case 'event':
        log.info(m.message, { code: m.code });
        this.emitWhenHeard(() => this.emit('event', { code: m.code, message: m.message }));
        return;
      case 'error': {
        const e = mediaErrorFromNative({ code: m.code, message: m.message });
        if (this.startWaiter) {
          this.startWaiter.reject(e);
          this.startWaiter = undefined;
          this.held = undefined; // start() failed: nobody is waiting to listen
        } else {
          log.error(m.message, { code: m.code });
          this.emitWhenHeard(() => this.emit('error', e));
        }
        return;
      }
      case 'ended':
        if (this.startWaiter) {
          this.startWaiter.reject(new SessionStateError('the session ended before it started'));
          this.startWaiter = undefined;
          this.held = undefined;
        }
        this.emitWhenHeard(() => {
          this.emit('ended');
          void this.close();
        });
        return;
    }
  }

  /** Emits now, or, before the caller of start() can listen, once it can (in order). */
  private emitWhenHeard(emit: () => void): void {
    if (this.held) this.held.push(emit);
    else emit();
  }
}
