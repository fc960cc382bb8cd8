/**
 * The renderer: a page of the front panel drawn from the status snapshot
 * into a frame of the display's kind and size. Pure and deterministic: the
 * same input gives the same frame, nothing is read from the clock, the
 * network or the glass, and a snapshot missing its optional parts (no bond,
 * no uplinks, no audio, no alerts) draws with dashes rather than throwing.
 */
import { Canvas } from './canvas.js';
import { DISPLAY_GEOMETRY, type DisplayKind, type Frame, type PageName, type PanelInput } from './frame.js';
import { COLOUR_LOOK, MONO_LOOK } from './look.js';
import { drawPixelPage } from './pages-pixel.js';
import { drawTextPage } from './pages-text.js';

/** The input with anything a hand-made caller may leave out filled in, so the pages need not check. */
function normalised(input: PanelInput): PanelInput {
  const urls = Array.isArray(input.urls) ? input.urls.filter((u): u is string => typeof u === 'string' && u !== '') : [];
  const code = typeof input.setupCode === 'string' && input.setupCode.trim() !== '' ? input.setupCode : undefined;
  return { snapshot: input.snapshot, urls, ...(code ? { setupCode: code } : {}) };
}

/** Draws `page` for `display` from `input`. */
export function renderPage(display: DisplayKind, page: PageName, input: PanelInput): Frame {
  const geometry = DISPLAY_GEOMETRY[display];
  const i = normalised(input);
  switch (geometry.frame) {
    case 'text':
      return drawTextPage(page, i);
    case 'mono':
      return drawPixelPage(Canvas.mono(geometry.width, geometry.height), MONO_LOOK, page, i);
    case 'rgb565':
      return drawPixelPage(Canvas.rgb565(geometry.width, geometry.height), COLOUR_LOOK, page, i);
  }
}
