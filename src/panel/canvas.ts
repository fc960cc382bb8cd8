/**
 * Drawing into a pixel frame (1-bit or RGB565): rectangles, text in the
 * panel font, meters and signal bars. A colour is whatever the frame holds
 * per pixel: 0/1 on a MonoFrame, an RGB565 value on an Rgb565Frame.
 * Everything is clipped to the frame, so a layout that miscounts draws less,
 * never out of bounds.
 */
import { CELL_WIDTH, charsIn, ELLIPSIS, glyph, textWidth } from './font.js';
import type { MonoFrame, Rgb565Frame } from './frame.js';
import { fitChars, toPanelText } from './text-fit.js';

export type PixelFrame = MonoFrame | Rgb565Frame;
export type Colour = number;

/** RGB565 from 8-bit red, green and blue. */
export function rgb565(r: number, g: number, b: number): Colour {
  return ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
}

export interface TextStyle {
  colour: Colour;
  /** Whole-number scale of the 5x7 font (default 1). */
  scale?: number;
}

export class Canvas {
  readonly frame: PixelFrame;
  readonly width: number;
  readonly height: number;

  constructor(frame: PixelFrame) {
    this.frame = frame;
    this.width = frame.width;
    this.height = frame.height;
  }

  static mono(width: number, height: number): Canvas {
    return new Canvas({ kind: 'mono', width, height, pixels: new Uint8Array(width * height) });
  }

  static rgb565(width: number, height: number): Canvas {
    return new Canvas({ kind: 'rgb565', width, height, pixels: new Uint16Array(width * height) });
  }

  clear(colour: Colour): void {
    this.frame.pixels.fill(colour);
  }

  pixel(x: number, y: number, colour: Colour): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !Number.isInteger(x) || !Number.isInteger(y)) return;
    this.frame.pixels[y * this.width + x] = colour;
  }

  fillRect(x: number, y: number, w: number, h: number, colour: Colour): void {
    const x0 = Math.max(0, Math.floor(x));
    const y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(this.width, Math.floor(x + w));
    const y1 = Math.min(this.height, Math.floor(y + h));
    for (let yy = y0; yy < y1; yy++)
      this.frame.pixels.fill(colour, yy * this.width + x0, Math.max(yy * this.width + x0, yy * this.width + x1));
  }

  /** A rectangle's outline, `thickness` pixels inside its bounds. */
  strokeRect(x: number, y: number, w: number, h: number, colour: Colour, thickness = 1): void {
    this.fillRect(x, y, w, thickness, colour);
    this.fillRect(x, y + h - thickness, w, thickness, colour);
    this.fillRect(x, y, thickness, h, colour);
    this.fillRect(x + w - thickness, y, thickness, h, colour);
  }

  /** Draws `text` (made printable first) with its top-left at x, y; returns the x after it. */
  text(x: number, y: number, text: string, style: TextStyle): number {
    const s = Math.max(1, Math.floor(style.scale ?? 1));
    const t = toPanelTextKeepingEllipsis(text);
    let cx = Math.floor(x);
    for (const ch of t) {
      const g = glyph(ch, s);
      for (let gy = 0; gy < g.height; gy++)
        for (let gx = 0; gx < g.width; gx++) if (g.bits[gy * g.width + gx]) this.pixel(cx + gx, Math.floor(y) + gy, style.colour);
      cx += CELL_WIDTH * s;
    }
    return cx - s;
  }

  /** `text` cut to `width` pixels (ending in an ellipsis when cut), aligned in that width. */
  textFit(x: number, y: number, width: number, text: string, style: TextStyle & { align?: 'left' | 'right' | 'centre' }): void {
    const s = Math.max(1, Math.floor(style.scale ?? 1));
    const t = fitChars(toPanelTextKeepingEllipsis(text), charsIn(width, s), ELLIPSIS);
    const w = textWidth(t, s);
    const dx = style.align === 'right' ? width - w : style.align === 'centre' ? Math.floor((width - w) / 2) : 0;
    this.text(x + dx, y, t, style);
  }

  /** A horizontal meter: `fraction` (0..1, clamped; NaN = empty) of the bar filled, the rest as `track`. */
  meter(x: number, y: number, w: number, h: number, fraction: number, fill: Colour, track: Colour, outline?: Colour): void {
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    if (outline !== undefined) {
      this.strokeRect(x, y, w, h, outline);
      this.fillRect(x + 1, y + 1, w - 2, h - 2, track);
      this.fillRect(x + 1, y + 1, Math.round((w - 2) * f), h - 2, fill);
      return;
    }
    this.fillRect(x, y, w, h, track);
    this.fillRect(x, y, Math.round(w * f), h, fill);
  }

  /**
   * Signal bars as a phone draws them: `of` bars rising left to right in
   * `h` pixels, `bars` of them lit; unlit ones are outlines (`dim` filled).
   * Returns the width drawn.
   */
  signalBars(
    x: number,
    y: number,
    h: number,
    bars: number,
    lit: Colour,
    dim: Colour,
    opts: { of?: number; barWidth?: number } = {},
  ): number {
    const of = opts.of ?? 4;
    const bw = opts.barWidth ?? 2;
    const n = Number.isFinite(bars) ? Math.min(of, Math.max(0, Math.round(bars))) : 0;
    for (let i = 0; i < of; i++) {
      const bh = Math.max(1, Math.round((h * (i + 1)) / of));
      const bx = x + i * (bw + 1);
      if (i < n) this.fillRect(bx, y + h - bh, bw, bh, lit);
      else {
        this.fillRect(bx, y + h - bh, bw, bh, dim);
        this.fillRect(bx, y + h - 1, bw, 1, lit);
      }
    }
    return of * (bw + 1) - 1;
  }
}

/** Printable ASCII, except that the ellipsis marker survives (the pixel font draws it). */
function toPanelTextKeepingEllipsis(text: string): string {
  return text
    .split(ELLIPSIS)
    .map((p) => toPanelText(p))
    .join(ELLIPSIS);
}
