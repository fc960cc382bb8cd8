/**
 * Frames as PNG pictures of the glass: the OLED as cyan-white dots on black,
 * the colour LCD's RGB565 widened to 8 bits a channel, and the 16x2 as its
 * 5x8-dot character cells on a blue backlight, dots off faintly visible,
 * a gap between cells as on the real module. For the renders in the docs,
 * `fieldcast panel render` and the golden-image tests.
 */
import { PNG } from 'pngjs';
import { GLYPH_ROWS, GLYPH_WIDTH, glyphRows } from './font.js';
import type { DisplayKind, Frame, TextFrame } from './frame.js';

/** The scale each display is shown at by default: its frame at a size a reviewer can read. */
export const PREVIEW_SCALE: Record<DisplayKind, number> = { ssd1306: 4, st7789: 2, hd44780: 4 };

type Rgb = readonly [number, number, number];

const OLED_ON: Rgb = [200, 240, 255];
const OLED_OFF: Rgb = [0, 0, 0];
const LCD_BACKLIGHT: Rgb = [24, 64, 224];
const LCD_DOT_OFF: Rgb = [40, 84, 236];
const LCD_DOT_ON: Rgb = [232, 240, 255];
const LCD_BEZEL: Rgb = [16, 40, 170];

/** A decoded picture: RGBA bytes, row-major. */
export interface Pixels {
  width: number;
  height: number;
  data: Buffer;
}

function image(width: number, height: number, fill: Rgb): PNG {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 6 });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = fill[0];
    png.data[i * 4 + 1] = fill[1];
    png.data[i * 4 + 2] = fill[2];
    png.data[i * 4 + 3] = 255;
  }
  return png;
}

function block(png: PNG, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = y; yy < y + h; yy++)
    for (let xx = x; xx < x + w; xx++) {
      const o = (yy * png.width + xx) * 4;
      png.data[o] = c[0];
      png.data[o + 1] = c[1];
      png.data[o + 2] = c[2];
    }
}

/** RGB565 to 8-bit channels, the top bits repeated into the low ones so white stays 255. */
export function rgb565ToRgb(v: number): Rgb {
  const r = (v >> 11) & 0x1f;
  const g = (v >> 5) & 0x3f;
  const b = v & 0x1f;
  return [(r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)];
}

/** The dot grid of a character display: cells of 5x8 dots, one dot between cells, a border of 3 dots. */
const CELL_GAP = 1;
const BORDER = 3;

function textPng(frame: TextFrame, scale: number): PNG {
  const dotsW = frame.cols * GLYPH_WIDTH + (frame.cols - 1) * CELL_GAP + 2 * BORDER;
  const dotsH = frame.rows * 8 + (frame.rows - 1) * CELL_GAP * 2 + 2 * BORDER;
  const png = image(dotsW * scale, dotsH * scale, LCD_BACKLIGHT);
  // A dot is `scale` pixels less a one-pixel gutter once it is big enough to show one.
  const dot = scale >= 3 ? scale - 1 : scale;
  for (let row = 0; row < frame.rows; row++) {
    const line = (frame.lines[row] ?? '').padEnd(frame.cols).slice(0, frame.cols);
    for (let col = 0; col < frame.cols; col++) {
      const rows = glyphRows(line[col] ?? ' ');
      const cx = BORDER + col * (GLYPH_WIDTH + CELL_GAP);
      const cy = BORDER + row * (8 + CELL_GAP * 2);
      for (let dy = 0; dy < 8; dy++)
        for (let dx = 0; dx < GLYPH_WIDTH; dx++) {
          const on = dy < GLYPH_ROWS && (((rows[dy] ?? 0) >> (GLYPH_WIDTH - 1 - dx)) & 1) === 1;
          block(png, (cx + dx) * scale, (cy + dy) * scale, dot, dot, on ? LCD_DOT_ON : LCD_DOT_OFF);
        }
    }
  }
  // The bezel's inner edge: a darker line one dot in from the border.
  block(png, 0, 0, png.width, scale, LCD_BEZEL);
  block(png, 0, png.height - scale, png.width, scale, LCD_BEZEL);
  block(png, 0, 0, scale, png.height, LCD_BEZEL);
  block(png, png.width - scale, 0, scale, png.height, LCD_BEZEL);
  return png;
}

/** Draws `frame` as the display would show it, each pixel (or dot) `scale` pixels square. */
export function frameToPng(frame: Frame, opts: { scale?: number } = {}): Buffer {
  const scale = Math.max(1, Math.min(32, Math.floor(opts.scale ?? 1)));
  let png: PNG;
  if (frame.kind === 'text') png = textPng(frame, scale);
  else {
    png = image(frame.width * scale, frame.height * scale, OLED_OFF);
    for (let y = 0; y < frame.height; y++)
      for (let x = 0; x < frame.width; x++) {
        const v = frame.pixels[y * frame.width + x] ?? 0;
        if (frame.kind === 'mono') {
          if (v) block(png, x * scale, y * scale, scale, scale, OLED_ON);
        } else block(png, x * scale, y * scale, scale, scale, rgb565ToRgb(v));
      }
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** A PNG decoded to RGBA bytes (for comparing renders). */
export function pngToPixels(buf: Buffer): Pixels {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, data: png.data };
}

/** A PNG of RGBA bytes. */
export function pixelsToPng(p: Pixels): Buffer {
  const png = new PNG({ width: p.width, height: p.height });
  p.data.copy(png.data);
  return PNG.sync.write(png);
}
