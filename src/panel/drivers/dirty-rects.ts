/**
 * Where two colour frames differ, as a few rectangles: the picture is cut
 * into bands of BAND_ROWS rows and each band that changed gives the bounding
 * box of its changes. A one-glyph change makes one or two small rectangles; a
 * page change makes a band-shaped mosaic whose total stays near the changed
 * area, and each rectangle costs only 11 command/parameter bytes to address.
 */

/** 16 rows: the panel font's line height, so one text line usually lands in one band. */
export const BAND_ROWS = 16;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The changed rectangles of `next` against `prev` (both width*height, row-major), top to bottom. */
export function dirtyRects(prev: Uint16Array, next: Uint16Array, width: number, height: number, bandRows = BAND_ROWS): Rect[] {
  const rects: Rect[] = [];
  for (let top = 0; top < height; top += bandRows) {
    const bottom = Math.min(top + bandRows, height);
    let x0 = width;
    let x1 = -1;
    let y0 = -1;
    let y1 = -1;
    for (let y = top; y < bottom; y++) {
      const row = y * width;
      let first = -1;
      for (let x = 0; x < width; x++) {
        if (prev[row + x] !== next[row + x]) {
          first = x;
          break;
        }
      }
      if (first < 0) continue;
      let last = first;
      for (let x = width - 1; x > first; x--) {
        if (prev[row + x] !== next[row + x]) {
          last = x;
          break;
        }
      }
      if (y0 < 0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
    if (y0 >= 0) rects.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
  }
  return rects;
}
