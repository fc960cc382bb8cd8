/** What can go wrong with recording and uploading, as named errors an operator can act on. */
import { FieldcastError } from '../lib/errors.js';

/** The recordings folder cannot be made, written or read. */
export class RecordingUnavailableError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('RECORDING_UNAVAILABLE', message, details, { cause });
  }
}

/** A flag or time given to `fieldcast record` that does not fit. Nothing was uploaded. */
export class RecordInputError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RECORD_INPUT_INVALID', message, details);
  }
}

/** The S3 endpoint refused or failed an upload request; what was done so far is kept and resumes. */
export class UploadFailedError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('UPLOAD_FAILED', message, details, { cause });
  }
}
