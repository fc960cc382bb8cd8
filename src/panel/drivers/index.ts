/**
 * The front panel's display drivers: openDisplay(spec) gives a PanelDisplay
 * at once; opening and initialising happen in the background, and a display
 * that cannot be opened is reported 'gone' and retried like one that stops
 * answering later.
 */
import type { PanelDisplay } from '../frame.js';
import type { DisplayDriverOptions } from './display-driver.js';
import { Hd44780Display } from './hd44780.js';
import type { DisplaySpec } from './spec.js';
import { Ssd1306Display } from './ssd1306.js';
import { St7789Display } from './st7789.js';
import type { OpenI2cBus, OpenOutputPin, OpenSpiBus } from './transports.js';

export type { DisplayClock } from './clock.js';
export { systemClock } from './clock.js';
export type { DisplayDriverOptions } from './display-driver.js';
export { DisplayDriver } from './display-driver.js';
export { DisplayGoneError } from './errors.js';
export { HD44780, Hd44780Display, type Hd44780Options, PCF8574 } from './hd44780.js';
export { LatestFrameWriter } from './latest-frame.js';
export { RETRY_FIRST_MS, RETRY_MAX_MS } from './recovery.js';
export * from './spec.js';
export { SSD1306_INIT, Ssd1306Display, type Ssd1306Options } from './ssd1306.js';
export { ST7789, St7789Display, type St7789Options } from './st7789.js';
export type {
  I2cBlockBus,
  I2cBus,
  I2cByteBus,
  OpenI2cBus,
  OpenOutputPin,
  OpenSpiBus,
  OutputPin,
  SpiBus,
  SpiBusOptions,
} from './transports.js';
export { openI2cBus, openOutputPin, openSpiBus } from './transports.js';

export interface OpenDisplayOptions extends DisplayDriverOptions {
  /** Replacements for the real buses and pins (tests, a simulator). */
  openI2c?: OpenI2cBus;
  openSpi?: OpenSpiBus;
  openPin?: OpenOutputPin;
}

/** The driver for `spec` (already parsed with DisplaySpec), returned at once; it never throws. */
export function openDisplay(spec: DisplaySpec, opts: OpenDisplayOptions = {}): PanelDisplay {
  const { openI2c, openSpi, openPin, ...common } = opts;
  switch (spec.kind) {
    case 'ssd1306':
      return new Ssd1306Display(spec, { ...common, ...(openI2c ? { openBus: openI2c } : {}) });
    case 'st7789':
      return new St7789Display(spec, { ...common, ...(openSpi ? { openSpi } : {}), ...(openPin ? { openPin } : {}) });
    case 'hd44780':
      return new Hd44780Display(spec, { ...common, ...(openI2c ? { openBus: openI2c } : {}) });
  }
}
