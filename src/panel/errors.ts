/** The panel renderer's errors. */
import { FieldcastError } from '../lib/errors.js';

/** A file given as a status snapshot is not one: the message names the file and what is wrong. */
export class PanelSnapshotError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PANEL_SNAPSHOT_INVALID', message, details);
  }
}
