/**
 * The front panel: pages drawn from the status snapshot into the frame each
 * display takes (and as PNG pictures), the display drivers, the buttons and
 * LEDs, and the FrontPanel that joins them for the supervisor.
 */

export { type PixelFrame, rgb565 } from './canvas.js';
export { PanelControlPins, PanelControls } from './controls.js';
export { DisplaySpec, openDisplay } from './drivers/index.js';
export * from './errors.js';
export * from './frame.js';
export { FrontPanel, HOME_AFTER_MS, ledPatterns, type PanelButtons, type PanelLed } from './front-panel.js';
export { GpioPin, resolveGpioPin } from './gpio-pins.js';
export type { LedPattern } from './leds.js';
export { renderPage } from './pages.js';
export { frameToPng, type Pixels, PREVIEW_SCALE, pixelsToPng, pngToPixels } from './png.js';
export {
  degradedSample,
  errorSample,
  idleSample,
  liveSample,
  noSignalSample,
  SAMPLE_NAMES,
  SAMPLE_SETUP_CODE,
  SAMPLE_URLS,
  SAMPLES,
  type SampleName,
} from './sample.js';
export { readSnapshot, snapshotFromJson } from './snapshot-file.js';
