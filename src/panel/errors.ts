/** The front panel's errors (the display drivers keep theirs in drivers/errors.ts), each with words naming what is wrong and the fix. */
import { FieldcastError } from '../lib/errors.js';

/** A file given as a status snapshot is not one: the message names the file and what is wrong. */
export class PanelSnapshotError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PANEL_SNAPSHOT_INVALID', message, details);
  }
}

/**
 * A button or LED line that cannot be used: its GPIO chip is not there, the
 * line is out of the chip's range, or the kernel refused to hand it over
 * (no GPIO sysfs, not root, the line taken by a driver).
 */
export class PanelGpioError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('PANEL_GPIO_UNAVAILABLE', message, details, options);
  }
}
