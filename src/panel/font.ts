/**
 * The panel's bitmap font: 5x7 glyphs in 6x8 cells (font-data.ts), drawn at
 * any whole scale. Large type (the state word, the setup code) is the same
 * glyphs enlarged with Scale2x/Scale3x (EPX), which rounds the staircase off
 * the diagonals instead of printing big square pixels, so a 4x LIVE reads
 * as letters across a room rather than as blocks.
 */
import { ELLIPSIS_5X7, FIRST_CODE, GLYPHS_5X7, LAST_CODE } from './font-data.js';

export const GLYPH_WIDTH = 5;
/** The height of capitals and digits, which layouts fit to. */
export const GLYPH_HEIGHT = 7;
/** Rows in a glyph's bitmap: descenders use the eighth. */
export const GLYPH_ROWS = 8;
/** A cell: the glyph and one column (row) of space to its right (below it). */
export const CELL_WIDTH = 6;
export const CELL_HEIGHT = 8;
/** The pixel displays' truncation marker (drawn as three dots in one cell). */
export const ELLIPSIS = '\u2026';

/** A glyph's pixels at one scale: 5 x 8 times the scale. */
export interface GlyphBitmap {
  width: number;
  height: number;
  /** Row-major, 1 where the glyph is drawn. */
  bits: Uint8Array;
}

/** The five column bytes of a character; anything outside the font draws as `?`. */
export function glyphColumns(ch: string): readonly number[] {
  if (ch === ELLIPSIS) return ELLIPSIS_5X7;
  const code = ch.charCodeAt(0);
  const at = (code >= FIRST_CODE && code <= LAST_CODE ? code : 0x3f) - FIRST_CODE;
  return GLYPHS_5X7.slice(at * GLYPH_WIDTH, at * GLYPH_WIDTH + GLYPH_WIDTH);
}

/** The glyph as eight rows (bit 4 the leftmost column), for a character display's 5x8 cell. */
export function glyphRows(ch: string): number[] {
  const cols = glyphColumns(ch);
  const rows: number[] = [];
  for (let y = 0; y < GLYPH_ROWS; y++) {
    let row = 0;
    for (let x = 0; x < GLYPH_WIDTH; x++) if (((cols[x] ?? 0) >> y) & 1) row |= 1 << (GLYPH_WIDTH - 1 - x);
    rows.push(row);
  }
  return rows;
}

function baseBitmap(ch: string): GlyphBitmap {
  const cols = glyphColumns(ch);
  const bits = new Uint8Array(GLYPH_WIDTH * GLYPH_ROWS);
  for (let x = 0; x < GLYPH_WIDTH; x++) for (let y = 0; y < GLYPH_ROWS; y++) bits[y * GLYPH_WIDTH + x] = ((cols[x] ?? 0) >> y) & 1;
  return { width: GLYPH_WIDTH, height: GLYPH_ROWS, bits };
}

function at(b: GlyphBitmap, x: number, y: number): number {
  return x < 0 || y < 0 || x >= b.width || y >= b.height ? 0 : (b.bits[y * b.width + x] ?? 0);
}

/** Scale2x (EPX): each pixel becomes 2x2, a corner taking the neighbours' value where two of them agree. */
function scale2x(b: GlyphBitmap): GlyphBitmap {
  const w = b.width * 2;
  const bits = new Uint8Array(w * b.height * 2);
  for (let y = 0; y < b.height; y++)
    for (let x = 0; x < b.width; x++) {
      const e = at(b, x, y);
      const [up, left, right, down] = [at(b, x, y - 1), at(b, x - 1, y), at(b, x + 1, y), at(b, x, y + 1)];
      const o = up !== down && left !== right;
      bits[2 * y * w + 2 * x] = o && left === up ? left : e;
      bits[2 * y * w + 2 * x + 1] = o && up === right ? right : e;
      bits[(2 * y + 1) * w + 2 * x] = o && left === down ? left : e;
      bits[(2 * y + 1) * w + 2 * x + 1] = o && down === right ? right : e;
    }
  return { width: w, height: b.height * 2, bits };
}

/** Scale3x (AdvMAME3x): each pixel becomes 3x3 by the same neighbour rule. */
function scale3x(b: GlyphBitmap): GlyphBitmap {
  const w = b.width * 3;
  const bits = new Uint8Array(w * b.height * 3);
  for (let y = 0; y < b.height; y++)
    for (let x = 0; x < b.width; x++) {
      const A = at(b, x - 1, y - 1);
      const B = at(b, x, y - 1);
      const C = at(b, x + 1, y - 1);
      const D = at(b, x - 1, y);
      const E = at(b, x, y);
      const F = at(b, x + 1, y);
      const G = at(b, x - 1, y + 1);
      const H = at(b, x, y + 1);
      const I = at(b, x + 1, y + 1);
      let out = [E, E, E, E, E, E, E, E, E];
      if (B !== H && D !== F) {
        out = [
          D === B ? D : E,
          (D === B && E !== C) || (B === F && E !== A) ? B : E,
          B === F ? F : E,
          (D === B && E !== G) || (D === H && E !== A) ? D : E,
          E,
          (B === F && E !== I) || (H === F && E !== C) ? F : E,
          D === H ? D : E,
          (D === H && E !== I) || (H === F && E !== G) ? H : E,
          H === F ? F : E,
        ];
      }
      for (let j = 0; j < 9; j++) bits[(3 * y + Math.floor(j / 3)) * w + 3 * x + (j % 3)] = out[j] ?? 0;
    }
  return { width: w, height: b.height * 3, bits };
}

function nearest(b: GlyphBitmap, s: number): GlyphBitmap {
  const w = b.width * s;
  const bits = new Uint8Array(w * b.height * s);
  for (let y = 0; y < b.height * s; y++) for (let x = 0; x < w; x++) bits[y * w + x] = at(b, Math.floor(x / s), Math.floor(y / s));
  return { width: w, height: b.height * s, bits };
}

function build(ch: string, scale: number): GlyphBitmap {
  if (scale <= 1) return baseBitmap(ch);
  if (scale % 2 === 0) return scale2x(glyph(ch, scale / 2));
  if (scale % 3 === 0) return scale3x(glyph(ch, scale / 3));
  return nearest(baseBitmap(ch), scale);
}

const cache = new Map<string, GlyphBitmap>();

/** The glyph of `ch` at a whole `scale` (1 = 5x7), smoothed when enlarged. */
export function glyph(ch: string, scale: number): GlyphBitmap {
  const s = Math.max(1, Math.floor(scale));
  const key = `${s}:${ch}`;
  let g = cache.get(key);
  if (!g) {
    g = build(ch, s);
    cache.set(key, g);
  }
  return g;
}

/** Width in pixels of `text` at `scale` (no space after the last glyph). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : text.length * CELL_WIDTH * scale - scale;
}

/** How many characters fit in `width` pixels at `scale`. */
export function charsIn(width: number, scale = 1): number {
  return Math.max(0, Math.floor((width + scale) / (CELL_WIDTH * scale)));
}

/** The largest scale, up to `max`, at which `text` fits in `width` pixels and `height` pixels of glyph. */
export function largestScale(text: string, width: number, height: number, max: number): number {
  for (let s = Math.max(1, Math.floor(max)); s > 1; s--) if (textWidth(text, s) <= width && GLYPH_HEIGHT * s <= height) return s;
  return 1;
}
