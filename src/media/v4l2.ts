/**
 * V4L2 capture devices from TypeScript: list and probe them, set an HDMI
 * input's DV timings, and run the real capture code on a native thread for a
 * while (`captureTest`) to see what it delivers — formats, capture times,
 * signal loss and return — without pictures ever entering JS.
 *
 * Options are checked here (zod) before they cross into C++; native failures
 * come back as the named classes of ./errors.ts (INPUT_UNAVAILABLE,
 * INPUT_UNSUPPORTED, INPUT_NO_SIGNAL, INPUT_FORMAT_CHANGED, ...).
 */
import { z } from 'zod';
import type { FieldcastError } from '../lib/errors.js';
import { loadNative } from '../native/binding.js';
import type {
  NativeCaptureDevice,
  NativeCaptureEvent,
  NativeCaptureProbe,
  NativeCaptureTestOptions,
  NativeDvTimings,
} from '../native/capture.js';
import { MediaOptionsError, mediaErrorFromNative } from './errors.js';

export type CaptureDevice = NativeCaptureDevice;
export type CaptureProbe = NativeCaptureProbe;
export type DvTimings = NativeDvTimings;

const DEVICE = /^\/dev\/[A-Za-z0-9._/-]+$/;
const deviceSchema = z.string().regex(DEVICE, 'a device path such as /dev/video0');

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue?.path.join('.') || what;
  throw new MediaOptionsError(`${what}: ${key}: ${issue?.message ?? 'invalid'}`, { key });
}

/** Every /dev/video* that answers as a V4L2 device (capture or not: see `capture`). */
export async function listCaptureDevices(): Promise<CaptureDevice[]> {
  return loadNative().listCaptureDevices();
}

/** Inputs (with signal), DV timings (current, detected, supported) and formats of one device. */
export async function probeCaptureDevice(device: string): Promise<CaptureProbe> {
  const path = check(deviceSchema, device, 'capture device');
  try {
    return await loadNative().probeCaptureDevice(path);
  } catch (err) {
    throw mediaErrorFromNative(err);
  }
}

export type CaptureDeviceReport = CaptureProbe | (CaptureDevice & { error: { code: string; message: string } });

/** Probes every capture-capable device; one that fails is reported with its error, not thrown. */
export async function probeCaptureDevices(): Promise<CaptureDeviceReport[]> {
  const devices = (await listCaptureDevices()).filter((d) => d.capture);
  const out: CaptureDeviceReport[] = [];
  for (const d of devices) {
    try {
      out.push(await probeCaptureDevice(d.path));
    } catch (err) {
      const e = mediaErrorFromNative(err);
      out.push({ ...d, error: { code: e.code, message: e.message } });
    }
  }
  return out;
}

const dvSelectionSchema = z.union([
  z.strictObject({ index: z.number().int().min(0).max(1023), input: z.number().int().min(0).max(63).optional() }),
  z.strictObject({
    width: z.number().int().min(64).max(8192),
    height: z.number().int().min(64).max(8192),
    fps: z.number().positive().max(240),
    interlaced: z.boolean().optional(),
    input: z.number().int().min(0).max(63).optional(),
  }),
]);
export type DvTimingsSelection = z.infer<typeof dvSelectionSchema>;

/**
 * Sets an HDMI input's DV timings: by index in the device's list, or by size
 * and rate (matched within 0.5%). Fails with INPUT_BUSY while something captures.
 */
export async function setDvTimings(device: string, selection: DvTimingsSelection): Promise<DvTimings> {
  const path = check(deviceSchema, device, 'capture device');
  const sel = check(dvSelectionSchema, selection, 'DV timings');
  try {
    return await loadNative().setCaptureDvTimings(path, sel);
  } catch (err) {
    throw mediaErrorFromNative(err);
  }
}

const runBounds = {
  /** Stop after this many pictures (0: no limit). */
  frames: z.number().int().min(0).max(1_000_000).default(0),
  /** Stop after this long (0: no limit). */
  durationMs: z.number().int().min(0).max(3_600_000).default(0),
  readTimeoutMs: z.number().int().min(1).max(10_000).default(200),
};

const captureTestSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('v4l2'),
    device: deviceSchema,
    input: z.number().int().min(-1).max(63).default(-1),
    buffers: z.number().int().min(2).max(32).default(4),
    pixelFormat: z.enum(['', 'NV12', 'YUYV', 'UYVY', 'MJPG']).default(''),
    width: z.number().int().min(0).max(8192).default(0),
    height: z.number().int().min(0).max(8192).default(0),
    fps: z.number().int().min(0).max(240).default(0),
    stallMs: z.number().int().min(200).max(60_000).default(2000),
    ...runBounds,
  }),
  z.strictObject({
    source: z.literal('slate'),
    width: z.number().int().min(16).max(8192).multipleOf(2),
    height: z.number().int().min(16).max(8192).multipleOf(2),
    fpsNum: z.number().int().min(1).max(240_000).default(30),
    fpsDen: z.number().int().min(1).max(1001).default(1),
    pixFmt: z.enum(['yuv420p', 'yuv422p', 'yuv444p', 'nv12']).default('yuv420p'),
    inputName: z.string().max(48).default(''),
    ...runBounds,
  }),
]);
export type CaptureTestOptions = z.input<typeof captureTestSchema>;

export interface CaptureFrameRecord {
  index: number;
  /** Media clock (CLOCK_MONOTONIC) microseconds. */
  captureUs: number;
  width: number;
  height: number;
  pixFmt: string;
  meanLuma: number;
}

/** A signal or format event, with the named error for its code. */
export interface CaptureSignalEvent {
  type: 'no-signal' | 'format-changed';
  /** Frames delivered before it. */
  atFrame: number;
  error: FieldcastError;
  width?: number;
  height?: number;
  fpsNum?: number;
  fpsDen?: number;
}

export interface CaptureTestReport {
  /** The format the source opened with. */
  opened: { width: number; height: number; pixFmt: string; fpsNum: number; fpsDen: number };
  frames: CaptureFrameRecord[];
  events: CaptureSignalEvent[];
}

export interface CaptureTestHooks {
  /** Every report as it arrives (frames included), e.g. to change the input mid-run. */
  onEvent?: (event: CaptureFrameRecord | CaptureSignalEvent) => void;
  /** Stops the run; the report so far is returned. */
  signal?: AbortSignal;
}

/**
 * Runs a capture source on a native thread until `frames`, `durationMs` or
 * the abort signal, and resolves with what it delivered. Rejects when the
 * source cannot open or fails (e.g. INPUT_UNAVAILABLE for a missing device).
 */
export async function captureTest(options: CaptureTestOptions, hooks: CaptureTestHooks = {}): Promise<CaptureTestReport> {
  const opts = check(captureTestSchema, options, 'capture test') as NativeCaptureTestOptions;
  if (opts.frames === 0 && opts.durationMs === 0 && !hooks.signal) {
    throw new MediaOptionsError('capture test: give frames, durationMs or an abort signal, or it never ends');
  }
  const native = loadNative();
  return await new Promise((resolve, reject) => {
    const report: CaptureTestReport = { opened: { width: 0, height: 0, pixFmt: 'none', fpsNum: 0, fpsDen: 1 }, frames: [], events: [] };
    let failure: FieldcastError | undefined;
    const notify = (e: CaptureFrameRecord | CaptureSignalEvent): void => {
      try {
        hooks.onEvent?.(e);
      } catch (err) {
        failure ??= mediaErrorFromNative(err);
        handle.stop();
      }
    };
    const onEvent = (ev: NativeCaptureEvent): void => {
      switch (ev.type) {
        case 'open':
          report.opened = {
            width: ev.width ?? 0,
            height: ev.height ?? 0,
            pixFmt: ev.pixFmt ?? 'none',
            fpsNum: ev.fpsNum ?? 0,
            fpsDen: ev.fpsDen ?? 1,
          };
          break;
        case 'frame': {
          const f: CaptureFrameRecord = {
            index: ev.index ?? report.frames.length,
            captureUs: ev.captureUs ?? 0,
            width: ev.width ?? 0,
            height: ev.height ?? 0,
            pixFmt: ev.pixFmt ?? 'none',
            meanLuma: ev.meanLuma ?? 0,
          };
          report.frames.push(f);
          notify(f);
          break;
        }
        case 'no-signal':
        case 'format-changed': {
          const s: CaptureSignalEvent = {
            type: ev.type,
            atFrame: ev.index ?? report.frames.length,
            error: mediaErrorFromNative({ code: ev.code ?? 'INPUT_NO_SIGNAL', message: ev.message ?? '' }),
          };
          if (ev.width !== undefined) Object.assign(s, { width: ev.width, height: ev.height, fpsNum: ev.fpsNum, fpsDen: ev.fpsDen });
          report.events.push(s);
          notify(s);
          break;
        }
        case 'error':
          failure ??= mediaErrorFromNative({ code: ev.code ?? 'INPUT_UNAVAILABLE', message: ev.message ?? 'capture failed' });
          break;
        case 'end':
          hooks.signal?.removeEventListener('abort', abort);
          if (failure) reject(failure);
          else resolve(report);
          break;
      }
    };
    const handle = native.startCaptureTest(opts, onEvent);
    const abort = (): void => handle.stop();
    if (hooks.signal?.aborted) handle.stop();
    else hooks.signal?.addEventListener('abort', abort, { once: true });
  });
}
