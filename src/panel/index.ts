/**
 * The front panel's renderer: pages drawn from the status snapshot into the
 * frame each display takes, and those frames as PNG pictures.
 */

export { type PixelFrame, rgb565 } from './canvas.js';
export * from './errors.js';
export * from './frame.js';
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
