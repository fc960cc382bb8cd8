/** Errors of the front panel's buttons and LEDs. Each names the pin and the fix. */
import { FieldcastError } from '../lib/errors.js';

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
