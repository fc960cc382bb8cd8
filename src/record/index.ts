/**
 * Recording through outages: the stream as MPEG-TS segments on the state
 * partition with the timeline of what each destination acknowledged
 * (recorder.ts, wired into the stream unit by the supervisor), what the
 * ingest missed in plain words (gaps.ts), and the upload of recordings to
 * S3 (upload.ts).
 *
 * The upload is not handed on here: it loads the AWS SDK's S3 client (a
 * few hundred modules), which the box's supervisor, importing the recorder
 * from here, must not pay for at every start. `fieldcast record upload`
 * imports upload.ts itself.
 */
export { type DeliverySample, DeliveryTimeline, PENDING_LIMIT_S } from './delivery.js';
export { RecordInputError, RecordingUnavailableError, UploadFailedError } from './errors.js';
export { type DestinationGaps, findGaps, formatSummary, type Gap, missedSegments, type RecordingSummary, segmentsBetween } from './gaps.js';
export { type DeliveryT, INDEX_FILE, parseIndex, type RecordingIndex, readIndex } from './index-file.js';
export { RateLimiter } from './rate-limit.js';
export {
  describeRecording,
  MAX_QUEUED_BYTES,
  type RecorderOptions,
  type RecorderState,
  type RecorderStats,
  StreamRecorder,
} from './recorder.js';
export { SegmentStore, segmentName } from './segment-store.js';
export { Segmenter } from './segmenter.js';
export { RECORDINGS_DIR, type RecordingSettings } from './settings.js';
