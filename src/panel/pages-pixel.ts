/**
 * The pages on a pixel display (the 128x64 OLED, the 240x240 colour LCD):
 * one layout per page, sized from the frame and the display's Look, so both
 * glass sizes share it. Text is cut or wrapped to its box; rows that do not
 * fit end in "+N more".
 */

import type { Canvas, PixelFrame } from './canvas.js';
import { CELL_HEIGHT, CELL_WIDTH, charsIn, ELLIPSIS, GLYPH_HEIGHT, largestScale, textWidth } from './font.js';
import type { PageName, PanelInput } from './frame.js';
import type { Look } from './look.js';
import {
  dbText,
  headline,
  hostOf,
  inputFacts,
  linksUp,
  longRate,
  meterFraction,
  shortRate,
  shownAddresses,
  stateWord,
  uplinkRows,
  videoRate,
} from './page-model.js';
import { breakChars, wrapChars } from './text-fit.js';

/** A title bar with the page's name on the left and a short summary on the right; returns the y below it. */
function title(c: Canvas, look: Look, name: string, right = ''): number {
  const s = look.small;
  const h = look.titleHeight;
  c.fillRect(0, 0, c.width, h, look.title.band);
  const y = Math.floor((h - GLYPH_HEIGHT * s) / 2);
  const pad = s * 2;
  const used = c.text(pad, y, name, { colour: look.title.text, scale: s });
  if (right) c.textFit(used + 3 * s * 2, y, c.width - used - 3 * s * 2 - pad, right, { colour: look.title.text, scale: s, align: 'right' });
  return h + (s === 1 ? 2 : 6);
}

/** Lines of text from y down, each in `colour`; returns the y below them. */
function lines(c: Canvas, look: Look, y: number, text: string[], colour: number, x = 0): number {
  let yy = y;
  for (const t of text) {
    c.text(x, yy, t, { colour, scale: look.small });
    yy += look.line;
  }
  return yy;
}

function linesLeft(c: Canvas, look: Look, y: number): number {
  return Math.max(0, Math.floor((c.height - y + (look.line - CELL_HEIGHT * look.small)) / look.line));
}

function mainPage(c: Canvas, look: Look, input: PanelInput): void {
  const s = input.snapshot;
  const st = look.state[s.state] ?? look.state.error;
  const word = stateWord(s.state);
  const bh = look.bandHeight;
  c.fillRect(0, 0, c.width, bh, st.band);
  if (st.outline !== undefined) c.strokeRect(0, 0, c.width, bh, st.outline, look.small);
  const big = largestScale(word, c.width - 6 * look.small, bh - 6 * look.small, look.bigMax);
  c.text(Math.floor((c.width - textWidth(word, big)) / 2), Math.floor((bh - GLYPH_HEIGHT * big) / 2), word, {
    colour: st.text,
    scale: big,
  });

  const rows = uplinkRows(s);
  const up = linksUp(rows);
  const upTone = !up ? look.dim : up.up === up.total ? look.tones.good : up.up === 0 ? look.tones.bad : look.tones.warn;
  const rate = videoRate(s);
  const rateText = rate === undefined ? 'off air' : longRate(rate);
  const linksText = up ? `${up.up}/${up.total} links` : '';
  let y = bh + (look.small === 1 ? 2 : 8);
  const fs = look.figure;
  if (textWidth(`${rateText}  ${linksText}`, fs) <= c.width || !linksText) {
    c.text(0, y, rateText, { colour: rate === undefined ? look.dim : look.fg, scale: fs });
    if (linksText) c.textFit(0, y, c.width, linksText, { colour: upTone, scale: fs, align: 'right' });
    y += CELL_HEIGHT * fs + (look.small === 1 ? 2 : 6);
  } else {
    c.textFit(0, y, c.width, rateText, { colour: rate === undefined ? look.dim : look.fg, scale: fs });
    y += CELL_HEIGHT * fs + 2;
    c.textFit(0, y, c.width, linksText, { colour: upTone, scale: fs });
    y += CELL_HEIGHT * fs + (look.small === 1 ? 2 : 6);
  }

  const h = headline(s);
  const colour = h.level === 'error' ? look.tones.bad : h.level === 'warn' ? look.tones.warn : look.fg;
  const cols = charsIn(c.width, look.small);
  const room = linesLeft(c, look, y);
  // What is wrong first; what to do gets the lines left, at least one when there is room for two.
  const said = wrapChars(h.text, cols, h.action && room >= 2 ? room - 1 : room, ELLIPSIS);
  y = lines(c, look, y, said, colour);
  if (h.action) lines(c, look, y, wrapChars(`> ${h.action}`, cols, room - said.length, ELLIPSIS), look.fg);
}

function linksPage(c: Canvas, look: Look, input: PanelInput): void {
  const rows = uplinkRows(input.snapshot);
  const up = linksUp(rows);
  const total = rows.reduce((sum, r) => sum + (r.throughputBps ?? 0), 0);
  let y = title(c, look, 'LINKS', up ? `${up.up}/${up.total} up ${shortRate(total)}` : '');
  const s = look.small;
  if (rows.length === 0) {
    lines(
      c,
      look,
      y,
      wrapChars('No uplinks: the stream goes out directly, not bonded', charsIn(c.width, s), linesLeft(c, look, y), ELLIPSIS),
      look.dim,
    );
    return;
  }
  const gap = 4 * s;
  const xRate = textWidth('WIFI', s) + gap;
  const xBars = xRate + textWidth('12.3M', s) + gap;
  const barsW = 4 * (2 * s + 1) - 1;
  const xState = xBars + barsW + gap;
  const rowHeight = look.linkDetail ? 2 * look.line + look.small * 2 : look.line;
  const fit = Math.floor((c.height - y + (look.line - CELL_HEIGHT * s)) / rowHeight);
  const shown = rows.length > fit ? rows.slice(0, Math.max(0, fit - 1)) : rows;
  for (const r of shown) {
    const tone = look.tones[r.tone];
    c.text(0, y, r.kind, { colour: look.fg, scale: s });
    c.textFit(xRate, y, textWidth('12.3M', s), r.throughputBps === undefined ? '-' : shortRate(r.throughputBps), {
      colour: look.fg,
      scale: s,
      align: 'right',
    });
    if (r.bars !== undefined) c.signalBars(xBars, y, GLYPH_HEIGHT * s, r.bars, look.fg, look.track, { barWidth: 2 * s });
    else if (r.kind === 'CELL') c.text(xBars + Math.floor((barsW - textWidth('?', s)) / 2), y, '?', { colour: look.dim, scale: s });
    c.textFit(xState, y, c.width - xState, r.state, { colour: tone, scale: s });
    y += look.line;
    if (look.linkDetail) {
      c.textFit(0, y, c.width, r.detail, { colour: look.dim, scale: s });
      y += look.line + look.small * 2;
    }
  }
  if (shown.length < rows.length) c.textFit(0, y, c.width, `+${rows.length - shown.length} more`, { colour: look.dim, scale: s });
}

function inputPage(c: Canvas, look: Look, input: PanelInput): void {
  const f = inputFacts(input.snapshot);
  const s = look.small;
  let y = title(c, look, 'INPUT', f.name);
  const word = f.signal ? 'SIGNAL OK' : 'NO SIGNAL';
  const big = Math.max(s, largestScale(word, c.width, GLYPH_HEIGHT * (s + 1), s + 1));
  c.text(0, y, word, { colour: f.signal ? look.tones.good : look.tones.bad, scale: big });
  y += CELL_HEIGHT * big + (s === 1 ? 1 : 4);
  c.textFit(0, y, c.width, f.format ?? 'format not known', { colour: f.format ? look.fg : look.dim, scale: s });
  y += look.line + (s === 1 ? 0 : 4);
  if (!f.audio || f.audio.length === 0) {
    c.textFit(0, y, c.width, f.audio ? 'no audio channels' : 'no audio measured', { colour: look.dim, scale: s });
    return;
  }
  c.textFit(0, y, c.width, 'AUDIO peak dBFS', { colour: look.dim, scale: s });
  y += look.line;
  const fit = linesLeft(c, look, y);
  const shown = f.audio.length > fit ? f.audio.slice(0, Math.max(0, fit - 1)) : f.audio;
  const numW = textWidth('-inf', s);
  const xBar = textWidth('8', s) + 3 * s;
  const barW = c.width - xBar - numW - 3 * s;
  const barH = GLYPH_HEIGHT * s - 2 * s;
  for (const ch of shown) {
    c.textFit(0, y, textWidth('8', s), ch.label, { colour: look.fg, scale: s });
    const frac = meterFraction(ch.peakDbfs);
    const hot = ch.peakDbfs > -3 ? look.tones.bad : ch.peakDbfs > -12 ? look.tones.warn : look.tones.good;
    c.meter(xBar, y + s, barW, barH, frac, hot, look.track, look.fg);
    c.textFit(c.width - numW, y, numW, dbText(ch.peakDbfs), { colour: look.fg, scale: s, align: 'right' });
    y += look.line;
  }
  if (shown.length < f.audio.length) c.textFit(0, y, c.width, `+${f.audio.length - shown.length} more`, { colour: look.dim, scale: s });
}

function setupPage(c: Canvas, look: Look, input: PanelInput): void {
  const s = look.small;
  const code = input.setupCode?.trim();
  let y = title(c, look, 'SETUP');
  const cols = charsIn(c.width, s);
  const url = input.urls[0];
  if (code) {
    c.textFit(0, y, c.width, 'Setup code:', { colour: look.dim, scale: s });
    y += look.line;
    // A code too long for large type is cut at body size rather than drawn too small to read.
    const big = Math.max(s, largestScale(code, c.width, GLYPH_HEIGHT * look.bigMax, look.bigMax));
    c.textFit(0, y, c.width, code, { colour: look.fg, scale: big, align: 'centre' });
    y += CELL_HEIGHT * big + (s === 1 ? 0 : 6);
  } else {
    const big = Math.max(s, largestScale('password set', c.width, GLYPH_HEIGHT * (s + 1), s + 1));
    c.textFit(0, y, c.width, 'password set', { colour: look.fg, scale: big });
    y += CELL_HEIGHT * big + (s === 1 ? 2 : 8);
  }
  if (!url) {
    c.textFit(0, y, c.width, 'no address yet', { colour: look.dim, scale: s });
    return;
  }
  c.textFit(0, y, c.width, 'Open:', { colour: look.dim, scale: s });
  y += look.line;
  lines(c, look, y, breakChars(url, cols, linesLeft(c, look, y), ELLIPSIS), look.fg);
}

function networkPage(c: Canvas, look: Look, input: PanelInput): void {
  const s = look.small;
  let y = title(c, look, 'NETWORK');
  const kindW = 5 * CELL_WIDTH * s;
  const entries: { label: string; text: string; dim?: boolean }[] = [];
  for (const u of input.urls) entries.push({ label: 'WEB', text: hostOf(u) });
  if (input.urls.length === 0) entries.push({ label: 'WEB', text: 'no address yet', dim: true });
  for (const r of uplinkRows(input.snapshot)) {
    const addrs = shownAddresses(r.addresses);
    if (addrs.length === 0) entries.push({ label: r.kind, text: `${r.name}: no address`, dim: true });
    for (const a of addrs.slice(0, 2)) entries.push({ label: r.kind, text: a });
  }
  const fit = linesLeft(c, look, y);
  const shown = entries.length > fit ? entries.slice(0, Math.max(0, fit - 1)) : entries;
  for (const e of shown) {
    c.text(0, y, e.label, { colour: look.dim, scale: s });
    c.textFit(kindW, y, c.width - kindW, e.text, { colour: e.dim ? look.dim : look.fg, scale: s });
    y += look.line;
  }
  if (shown.length < entries.length) c.textFit(0, y, c.width, `+${entries.length - shown.length} more`, { colour: look.dim, scale: s });
}

const PAGES: Record<PageName, (c: Canvas, look: Look, input: PanelInput) => void> = {
  main: mainPage,
  links: linksPage,
  input: inputPage,
  setup: setupPage,
  network: networkPage,
};

/** Draws `page` into `canvas` (cleared first) in `look`. */
export function drawPixelPage(canvas: Canvas, look: Look, page: PageName, input: PanelInput): PixelFrame {
  canvas.clear(look.bg);
  PAGES[page](canvas, look, input);
  return canvas.frame;
}
