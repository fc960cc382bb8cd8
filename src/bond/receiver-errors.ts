import { FieldcastError } from '../lib/errors.js';

/** The receiver cannot listen (port in use, address not on this machine) or reach its forward target. */
export class ReceiverStartError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('RECEIVER_START_FAILED', message, details, { cause });
  }
}

/** Receiver options that do not fit. Nothing was started. */
export class ReceiverOptionsError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RECEIVER_OPTIONS_INVALID', message, details);
  }
}
