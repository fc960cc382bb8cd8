/** What can go wrong with board profiles, each with a stable code and words an operator can act on. */
import { FieldcastError } from '../lib/errors.js';

/** A profile in hardware/boards that is not JSON, does not fit the schema, or is missing. */
export class BoardProfileError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BOARD_PROFILE_INVALID', message, details);
  }
}
