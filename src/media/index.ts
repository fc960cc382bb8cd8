/** The media subsystem's public face: the encoder session, its errors, the test-pattern reader. */
export {
  CaptureFailedError,
  EncoderFailedError,
  EncoderOpenFailedError,
  EncoderUnavailableError,
  MEDIA_EVENT_CODES,
  type MediaEventCode,
  MediaOptionsError,
  mediaErrorFromNative,
  SessionStateError,
} from './errors.js';
export { type MediaProbe, probeMedia } from './probe.js';
export {
  type EncodedUnit,
  EncoderSession,
  type EncoderSessionOptions,
  nativeOptionsFor,
  parseSessionOptions,
  type SessionEvent,
  type SessionInfo,
  SessionRun,
  type SessionRunT,
  type SessionStats,
  type SessionThumbnail,
  TEST_PATTERN_RATES,
  TEST_PATTERN_SIZES,
  toNativeOptions,
} from './session.js';
export { isFlashFrame, patternLuma, readSecondCode, readTimecode, SECOND_CODES, type Timecode } from './timecode.js';
