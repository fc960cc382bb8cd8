/** Errors of the front panel's display drivers, with stable codes (CONVENTIONS.md §4) and words an operator understands. */
import { FieldcastError } from '../../lib/errors.js';

/** A display that does not answer: not connected, unplugged, wrong address, bus not enabled. */
export class DisplayGoneError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('PANEL_DISPLAY_GONE', message, details, { cause });
  }
}
