import { FieldcastError } from '../lib/errors.js';

/** The metrics port cannot be opened (in use, or the address is not on this machine). */
export class MetricsListenError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('METRICS_LISTEN_FAILED', message, details, { cause });
  }
}
