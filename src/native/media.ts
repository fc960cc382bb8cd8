/**
 * Exports of the media features (native/src/): the test pattern and tone,
 * H.264/AAC encoders, ALSA capture, the threaded encode session, the probe.
 * Options are checked in src/media/session.ts before they cross.
 */

/** Flat session options, as native/src/encode_session_binding.cc reads them. */
export interface NativeSessionOptions {
  /** "testpattern" or a V4L2 device path. */
  videoSource: string;
  /** VIDIOC_S_INPUT index; -1 keeps the device's current input. */
  v4l2Input: number;
  /** "testtone", "none" (a silent track), or an ALSA device ("hw:1,0"). */
  audioSource: string;
  /** Name on the NO SIGNAL slate; empty: the device's own. */
  inputName: string;
  /** Test pattern only: false encodes as fast as the encoder goes, timestamps still at the nominal cadence. */
  paced: boolean;
  /** Stop after this many pictures (0: until closed). */
  maxFrames: number;
  codec: string;
  /** Output size; 0 x 0 follows the input (V4L2 only). */
  width: number;
  height: number;
  /** Output rate num/den; 0 follows the input (V4L2 only). */
  fpsNum: number;
  fpsDen: number;
  bitrate: number;
  maxrate: number;
  bufsize: number;
  rateControl: 'cbr' | 'vbr';
  keyintSeconds: number;
  profile: 'baseline' | 'main' | 'high';
  level: string;
  bframes: number;
  preset: string;
  tune: string;
  audioBitrate: number;
  audioChannels: number;
  queueUnits: number;
  queueBytes: number;
  /** Thumbnail width in pixels (even), one JPEG a second; 0: none. */
  thumbnailWidth: number;
}

export interface NativeUnitMessage {
  type: 'unit';
  stream: 'video' | 'audio';
  data: Buffer;
  pts: number;
  dts: number;
  key: boolean;
  captureUs: number;
}

export interface NativeStartedMessage {
  type: 'started';
  videoCodec: string;
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  audio: { sampleRate: number; channels: number } | null;
}

export interface NativeEventMessage {
  type: 'event' | 'error';
  code: string;
  message: string;
}

export type NativeSessionMessage = NativeUnitMessage | NativeStartedMessage | NativeEventMessage | { type: 'ended' };

export interface NativeSessionStats {
  videoFrames: number;
  videoBytes: number;
  keyframes: number;
  audioFrames: number;
  audioBytes: number;
  /** Pictures dropped because their time did not move forward. */
  lateFrames: number;
  slateFrames: number;
  signalLosses: number;
  videoBitrate: number;
  onSlate: boolean;
  audioSilence: boolean;
  /** Access units the bounded queue to JS dropped (native/src/unit_queue.h policy). */
  droppedVideo: number;
  droppedAudio: number;
  queueDepth: number;
  /**
   * Programme levels of the last whole second of sound encoded, one entry per
   * channel, dBFS (full scale 1.0: a full-scale sine peaks at 0 and has an
   * RMS of -3.01); digital silence reads -100. Empty until a first second
   * has been encoded (native/src/audio_meter.h).
   */
  audioPeakDbfs: number[];
  audioRmsDbfs: number[];
}

/** The latest thumbnail of the picture on air (native/src/thumbnail.h). */
export interface NativeThumbnail {
  /** A baseline JPEG (a copy). */
  jpeg: Buffer;
  /** The picture's capture time, µs of the media clock. */
  captureUs: number;
  width: number;
  height: number;
}

export interface NativeEncodeSession {
  /** Spawns the capture/encode threads; a "started" or "error" message follows, then "ended" at the end. */
  start(): void;
  setVideoBitrate(bps: number): void;
  forceKeyframe(): void;
  stats(): NativeSessionStats;
  /** The latest thumbnail (kept after close); undefined when off, unavailable, or none made yet. */
  thumbnail(): NativeThumbnail | undefined;
  /** Stops and joins the threads off the JS thread, delivers what is queued, then resolves. Idempotent. */
  close(): Promise<void>;
}

export interface NativeEncoderProbe {
  name: string;
  present: boolean;
  opens: boolean;
  error?: string;
}

export interface NativeMediaProbe {
  videoEncoders: NativeEncoderProbe[];
  audioEncoder: NativeEncoderProbe;
  audioInputs: { device: string; card: string; name: string }[];
}

export interface MediaExports {
  EncodeSession: new (options: NativeSessionOptions, onMessage: (m: NativeSessionMessage) => void) => NativeEncodeSession;
  probeMedia(): Promise<NativeMediaProbe>;
}
