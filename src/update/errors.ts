/** What can stop an update, with the codes `fieldcast update` reports. */
import { FieldcastError } from '../lib/errors.js';

export type UpdateErrorCode =
  /** The bundle file is not there or cannot be read. */
  | 'UPDATE_NO_FILE'
  /** Not signed by a key this box's keyring trusts (or altered since it was signed). */
  | 'UPDATE_BAD_SIGNATURE'
  /** Made for another kind of box (its compatible string is not this one's). */
  | 'UPDATE_WRONG_COMPATIBLE'
  /** The bundle or its image does not fit: the slot, or the place it is unpacked. */
  | 'UPDATE_NO_SPACE'
  /** This system is not the appliance image (no RAUC, or its service does not answer). */
  | 'UPDATE_NOT_RAUC_SYSTEM'
  /** Another install is running. */
  | 'UPDATE_BUSY'
  /** Anything else RAUC refused or failed at; its own words are in the message. */
  | 'UPDATE_FAILED';

export class UpdateError extends FieldcastError {
  declare readonly code: UpdateErrorCode;
  constructor(code: UpdateErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}
