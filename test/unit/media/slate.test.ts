import { describe, expect, it } from 'vitest';
import { captureTest } from '../../../src/media/v4l2.js';
import { loadNative, nativeAvailable } from '../../../src/native/index.js';
import { skipWithout } from '../../peers.js';

const skip = skipWithout('the slate and font tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

/** Columns [x0, x1) of a row band that contain any pixel brighter than `above`. */
function litColumns(p: { width: number; luma: Buffer }, y0: number, y1: number, above: number): number[] {
  const cols: number[] = [];
  for (let x = 0; x < p.width; x++) {
    for (let y = y0; y < y1; y++) {
      if ((p.luma[y * p.width + x] ?? 0) > above) {
        cols.push(x);
        break;
      }
    }
  }
  return cols;
}

function litRows(p: { width: number; height: number; luma: Buffer }, above: number): number[] {
  const rows: number[] = [];
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if ((p.luma[y * p.width + x] ?? 0) > above) {
        rows.push(y);
        break;
      }
    }
  }
  return rows;
}

/** Bands of rows with lit pixels (a gap of 2 rows or more separates them): the slate's lines of text, top to bottom. */
function textBands(p: { width: number; height: number; luma: Buffer }): Array<[number, number]> {
  const bands: Array<[number, number]> = [];
  for (const y of litRows(p, 100)) {
    const last = bands[bands.length - 1];
    if (last && y <= last[1] + 2) last[1] = y;
    else bands.push([y, y]);
  }
  return bands;
}

describe.skipIf(skip)('built-in font', () => {
  const n = skip ? ({} as ReturnType<typeof loadNative>) : loadNative();

  it('draws a glyph as its 5x7 bitmap at the requested place and scale', () => {
    const t = n.renderText({ width: 32, height: 32, x: 4, y: 6, scale: 2, text: 'L', luma: 200 });
    expect(t.textWidth).toBe(10);
    expect(t.textHeight).toBe(14);
    const px = (x: number, y: number): number => t.luma[y * 32 + x] ?? -1;
    // "L": a full left column and a full bottom row.
    for (let y = 6; y < 20; y++) expect(px(4, y)).toBe(200);
    for (let x = 4; x < 14; x++) expect(px(x, 19)).toBe(200);
    // Nothing right of the stem above the foot, nothing outside the cell.
    expect(px(8, 10)).toBe(0);
    expect(px(3, 10)).toBe(0);
    expect(px(14, 19)).toBe(0);
    expect(px(4, 20)).toBe(0);
  });

  it('maps lower case to upper case and spaces glyphs one column apart', () => {
    const a = n.renderText({ width: 64, height: 16, x: 0, y: 0, scale: 1, text: 'no signal', luma: 255 });
    const b = n.renderText({ width: 64, height: 16, x: 0, y: 0, scale: 1, text: 'NO SIGNAL', luma: 255 });
    expect(a.luma.equals(b.luma)).toBe(true);
    expect(a.textWidth).toBe(9 * 6 - 1);
  });

  it('clips text running off any edge instead of writing outside the picture', () => {
    const t = n.renderText({ width: 16, height: 8, x: -3, y: -2, scale: 3, text: '#########', luma: 99 });
    expect(t.luma.length).toBe(16 * 8);
    expect(t.luma.includes(99)).toBe(true);
    const far = n.renderText({ width: 16, height: 8, x: 1000, y: 1000, scale: 1, text: 'X', luma: 99 });
    expect(far.luma.includes(99)).toBe(false);
  });

  it('draws a box for characters it does not have', () => {
    const t = n.renderText({ width: 16, height: 16, x: 0, y: 0, scale: 1, text: '~', luma: 50 });
    expect(t.luma[0]).toBe(50); // top-left corner of the box
    expect(t.luma[2 * 16 + 2]).toBe(0); // hollow inside
  });
});

describe.skipIf(skip)('the slate', () => {
  const n = skip ? ({} as ReturnType<typeof loadNative>) : loadNative();

  it('shows large NO SIGNAL, the input name and the UTC time on a dark picture', () => {
    const s = n.renderSlate({ width: 1280, height: 720, inputName: 'HDMI 0' });
    expect(s.pixFmt).toBe('yuv420p');
    expect(s.luma.length).toBe(1280 * 720);
    // Dark: most of the picture is background.
    let dark = 0;
    for (const v of s.luma) if (v < 60) dark++;
    expect(dark / s.luma.length).toBeGreaterThan(0.9);
    // Three text lines, top to bottom: title (brightest), name, clock.
    const bands = textBands(s);
    expect(bands.length).toBe(3);
    const [title, name, clock] = bands as [[number, number], [number, number], [number, number]];
    expect(title[1] - title[0]).toBeGreaterThanOrEqual(60); // large: at least 60 of 720 lines
    expect(name[1] - name[0]).toBeLessThan(title[1] - title[0]);
    // The title is centred and at least half the width.
    const cols = litColumns(s, title[0], title[1] + 1, 200);
    const left = cols[0] ?? 0;
    const right = cols[cols.length - 1] ?? 0;
    expect(right - left).toBeGreaterThan(640);
    expect(Math.abs((left + right) / 2 - 640)).toBeLessThan(20);
    // The title is exactly the font's "NO SIGNAL" at the slate's scale.
    const scale = (title[1] - title[0] + 1) / 7;
    expect(Number.isInteger(scale)).toBe(true);
    expect(right - left + 1).toBe(n.renderText({ width: 2, height: 2, x: 0, y: 0, scale, text: 'NO SIGNAL', luma: 1 }).textWidth);
    // The clock line is "HH:MM:SS UTC": 12 glyphs wide at the text scale.
    const textScale = (clock[1] - clock[0] + 1) / 7;
    const clockCols = litColumns(s, clock[0], clock[1] + 1, 100);
    const clockWidth = (clockCols[clockCols.length - 1] ?? 0) - (clockCols[0] ?? 0) + 1;
    expect(clockWidth).toBeLessThanOrEqual((12 * 6 - 1) * textScale);
    expect(clockWidth).toBeGreaterThan(10 * 6 * textScale);
  });

  it('keeps a planar YUV format it is asked for and falls back to yuv420p otherwise', () => {
    expect(n.renderSlate({ width: 640, height: 360, pixFmt: 'nv12' }).pixFmt).toBe('nv12');
    expect(n.renderSlate({ width: 640, height: 360, pixFmt: 'yuv422p' }).pixFmt).toBe('yuv422p');
    expect(n.renderSlate({ width: 640, height: 360, pixFmt: 'yuyv422' }).pixFmt).toBe('yuv420p');
  });

  it('shows a long or odd input name without failing', () => {
    const s = n.renderSlate({ width: 320, height: 180, inputName: `Camera ünïcode ${'x'.repeat(200)}` });
    expect(s.luma.length).toBe(320 * 180);
    // Title, the name (clipped at the picture's edges), clock; with no name, only title and clock.
    const lines = textBands(s);
    expect(lines).toHaveLength(3);
    const nameCols = litColumns(s, lines[1]![0], lines[1]![1] + 1, 100);
    expect(nameCols[0]).toBeLessThan(0.1 * 320);
    expect(nameCols.at(-1)).toBeGreaterThan(0.9 * 320);
    expect(textBands(n.renderSlate({ width: 320, height: 180, inputName: '' }))).toEqual([lines[0], lines[2]]);
  });

  it('rejects an unusable size with a clear error', () => {
    expect(() => n.renderSlate({ width: 7, height: 5 })).toThrow(/even picture size/);
  });

  it('delivers frames at the exact cadence of its rate on the media clock', async () => {
    const r = await captureTest({ source: 'slate', width: 320, height: 180, fpsNum: 30000, fpsDen: 1001, frames: 12 });
    expect(r.opened).toMatchObject({ width: 320, height: 180, pixFmt: 'yuv420p', fpsNum: 30000, fpsDen: 1001 });
    expect(r.frames.length).toBe(12);
    // Slots are start + k * 1001/30000 s (integer microseconds, floor): consecutive
    // stamps differ by 33366 or 33367 us and never drift.
    const first = r.frames[0]?.captureUs ?? 0;
    r.frames.forEach((f, k) => {
      expect(f.captureUs - first).toBeGreaterThanOrEqual(Math.floor((k * 1_001_000_000) / 30000) - 1);
      expect(f.captureUs - first).toBeLessThanOrEqual(Math.floor((k * 1_001_000_000) / 30000) + 1);
      expect(f.meanLuma).toBeGreaterThan(16);
      expect(f.meanLuma).toBeLessThan(80);
    });
  });

  it('validates capture test options before they reach native code', async () => {
    await expect(captureTest({ source: 'slate', width: 321, height: 180, frames: 1 })).rejects.toThrow(/width/);
    await expect(captureTest({ source: 'slate', width: 320, height: 180 })).rejects.toThrow(/never ends/);
  });
});
