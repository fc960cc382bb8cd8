/** Errors of the muxer and of the elementary-stream readers. Each changes nothing. */
import { FieldcastError } from '../lib/errors.js';

/** An access unit the muxer cannot carry (not Annex B, not ADTS, bad timestamps). */
export class MuxInputError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MUX_BAD_INPUT', message, details);
  }
}

/** Muxer options out of range. */
export class MuxOptionsError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MUX_BAD_OPTIONS', message, details);
  }
}

/** An elementary stream file (H.264, ADTS, KLV) that cannot be read. */
export class ElementaryStreamError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MUX_BAD_STREAM', message, details);
  }
}
