/**
 * Exports of the V4L2 capture feature (native/src/v4l2_probe.cc,
 * capture_test.cc, slate_binding.cc). Options are validated in
 * src/media/v4l2.ts before they cross; these are the flat shapes C++ reads.
 */

export interface NativeCaptureDevice {
  path: string;
  driver: string;
  card: string;
  busInfo: string;
  /** e.g. "video-capture", "streaming", "video-m2m". */
  capabilities: string[];
  /** Can stream pictures in (single- or multi-planar capture + streaming). */
  capture: boolean;
}

export interface NativeDvTimings {
  width: number;
  height: number;
  interlaced: boolean;
  /** Exact rate: 60/1, 60000/1001, ... */
  fpsNum: number;
  fpsDen: number;
  pixelclock: number;
  /** "1280x720p60.00" */
  label: string;
}

export interface NativeCaptureInput {
  index: number;
  name: string;
  type: 'camera' | 'tuner' | 'other';
  dvTimings: boolean;
  /** V4L2_IN_ST_* flags set: "no-power", "no-signal", "no-sync", ... */
  status: string[];
  signal: boolean;
}

export interface NativeCaptureFrameSize {
  width?: number;
  height?: number;
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
}

export interface NativeCaptureFormat {
  fourcc: string;
  description: string;
  compressed: boolean;
  sizes: NativeCaptureFrameSize[];
}

export interface NativeCaptureProbe extends NativeCaptureDevice {
  currentInput: number;
  inputs: NativeCaptureInput[];
  /** DV timings of the current input; null when it is not an HDMI/DV input. */
  dv: {
    current: NativeDvTimings | null;
    detected: NativeDvTimings | null;
    detectError: string | null;
    supported: NativeDvTimings[];
  } | null;
  formats: NativeCaptureFormat[];
}

export interface NativeDvTimingsRequest {
  input?: number;
  index?: number;
  width?: number;
  height?: number;
  fps?: number;
  interlaced?: boolean;
}

export type NativeCaptureTestOptions =
  | {
      source: 'v4l2';
      device: string;
      input: number;
      buffers: number;
      /** V4L2 fourcc ("NV12", "YUYV", "UYVY", "MJPG"); "" picks one. */
      pixelFormat: string;
      width: number;
      height: number;
      fps: number;
      stallMs: number;
      frames: number;
      durationMs: number;
      readTimeoutMs: number;
    }
  | {
      source: 'slate';
      width: number;
      height: number;
      fpsNum: number;
      fpsDen: number;
      pixFmt: string;
      inputName: string;
      frames: number;
      durationMs: number;
      readTimeoutMs: number;
    };

export interface NativeCaptureEvent {
  type: 'open' | 'frame' | 'no-signal' | 'format-changed' | 'error' | 'end';
  index?: number;
  captureUs?: number;
  meanLuma?: number;
  width?: number;
  height?: number;
  pixFmt?: string;
  fpsNum?: number;
  fpsDen?: number;
  code?: string;
  message?: string;
  frames?: number;
}

export interface NativeLumaPicture {
  width: number;
  height: number;
  /** width x height bytes, rows packed. */
  luma: Buffer;
}

export interface CaptureExports {
  listCaptureDevices(): Promise<NativeCaptureDevice[]>;
  probeCaptureDevice(path: string): Promise<NativeCaptureProbe>;
  setCaptureDvTimings(path: string, request: NativeDvTimingsRequest): Promise<NativeDvTimings>;
  startCaptureTest(options: NativeCaptureTestOptions, onEvent: (event: NativeCaptureEvent) => void): { stop(): void };
  /** One slate picture (tests). */
  renderSlate(options: { width: number; height: number; pixFmt?: string; inputName?: string }): NativeLumaPicture & {
    pixFmt: string;
  };
  /** Text drawn with the built-in font on a black picture (tests). */
  renderText(options: {
    width: number;
    height: number;
    x: number;
    y: number;
    scale: number;
    text: string;
    luma: number;
  }): NativeLumaPicture & { textWidth: number; textHeight: number };
}
