/**
 * Errors and event codes of the capture and encode path. Codes are stable
 * (status page, LCD, tests key on them); messages speak to a camera operator.
 * Native code reports `{code, message}`; `mediaErrorFromNative` rebuilds the
 * named class with the caller's stack.
 */
import { FieldcastError, fromNative } from '../lib/errors.js';

/** Session options that do not fit (a typo in a flag or config). Changes nothing. */
export class MediaOptionsError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MEDIA_BAD_OPTIONS', message, details);
  }
}

/** The named encoder is not in this system's libavcodec (see `fieldcast probe`). */
export class EncoderUnavailableError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ENCODER_UNAVAILABLE', message, details);
  }
}

/** The encoder exists but would not open with these settings (or its hardware is absent). */
export class EncoderOpenFailedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ENCODER_OPEN_FAILED', message, details);
  }
}

/** The encoder failed mid-stream. */
export class EncoderFailedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ENCODER_FAILED', message, details);
  }
}

/** The capture input failed (not the same as "no signal", which is an event and keeps the stream up). */
export class CaptureFailedError extends FieldcastError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** The session was used after close(), or started twice. */
export class SessionStateError extends FieldcastError {
  constructor(message: string) {
    super('MEDIA_SESSION_STATE', message);
  }
}

/**
 * Event codes a running session emits; none of them stops the stream.
 * INPUT_NO_SIGNAL: the slate is on air. INPUT_SIGNAL_RESTORED: pictures again.
 * INPUT_FORMAT_CHANGED: the input's size/rate changed; the output keeps its own.
 * AUDIO_SILENCE: no usable audio device; a silent track is sent instead (the
 * device is tried again every 5 s). AUDIO_RESTORED: the device is back.
 * THUMBNAIL_UNAVAILABLE: the status page's picture cannot be made (no JPEG
 * encoder in this libavcodec); said once, the stream goes on.
 */
export const MEDIA_EVENT_CODES = [
  'INPUT_NO_SIGNAL',
  'INPUT_SIGNAL_RESTORED',
  'INPUT_FORMAT_CHANGED',
  'AUDIO_SILENCE',
  'AUDIO_RESTORED',
  'THUMBNAIL_UNAVAILABLE',
] as const;
export type MediaEventCode = (typeof MEDIA_EVENT_CODES)[number];

/** Rebuilds a native `{code, message}` (or thrown Error) as the matching named class. */
export function mediaErrorFromNative(err: unknown): FieldcastError {
  const e = fromNative(err);
  switch (e.code) {
    case 'ENCODER_UNAVAILABLE':
      return new EncoderUnavailableError(e.message);
    case 'ENCODER_OPEN_FAILED':
      return new EncoderOpenFailedError(e.message);
    case 'ENCODER_FAILED':
      return new EncoderFailedError(e.message);
    case 'NATIVE_ERROR':
      return new MediaOptionsError(e.message);
    default:
      return e.code.startsWith('INPUT_') || e.code.startsWith('CAPTURE_') || e.code.startsWith('V4L2_')
        ? new CaptureFailedError(e.code, e.message)
        : e;
  }
}

/** The capture input would not take the EDID its board profile gives it. */
export class CaptureEdidError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INPUT_EDID_FAILED', message, details);
  }
}
