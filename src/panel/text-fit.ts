/**
 * Fitting words into a fixed number of character cells. Every panel font is
 * monospaced, so a pixel width is a count of cells and one set of rules
 * serves the OLED, the colour LCD and the 16x2: strings are first made
 * printable ASCII, then cut with a marker, or wrapped at spaces.
 */

/** Printable ASCII for the panel fonts: accents dropped, arrows and dashes spelt, anything else `?`. */
export function toPanelText(text: unknown): string {
  const s = typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2192\u21d2\u2794]/g, '>')
    .replace(/[\u2190\u21d0]/g, '<')
    .replace(/[\u2013\u2014\u2212]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/\u00b0/g, ' ')
    .replace(/[\t\r\n\u00a0]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** `text` in at most `max` cells; a cut string ends in `marker` (one cell). */
export function fitChars(text: string, max: number, marker: string): string {
  const n = Math.max(0, Math.floor(max));
  if (text.length <= n) return text;
  if (n === 0) return '';
  return text.slice(0, n - 1).trimEnd() + marker;
}

/** `text` padded or cut to exactly `width` cells. */
export function padChars(text: string, width: number, marker: string, align: 'left' | 'right' = 'left'): string {
  const t = fitChars(text, width, marker);
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/**
 * `text` wrapped at spaces into at most `lines` lines of `max` cells; a word
 * longer than a line is broken; what does not fit ends the last line in `marker`.
 */
export function wrapChars(text: string, max: number, lines: number, marker: string): string[] {
  const width = Math.max(0, Math.floor(max));
  const count = Math.max(0, Math.floor(lines));
  if (width === 0 || count === 0) return [];
  const words = text.split(' ').filter((w) => w !== '');
  const out: string[] = [];
  let line = '';
  for (const word of words) {
    let w = word;
    const joined = line === '' ? w : `${line} ${w}`;
    if (joined.length <= width) {
      line = joined;
      continue;
    }
    if (line !== '' && w.length > width && line.length + 1 < width) {
      // A word longer than any line starts on this one rather than leaving it short.
      const take = width - line.length - 1;
      out.push(`${line} ${w.slice(0, take)}`);
      w = w.slice(take);
    } else if (line !== '') out.push(line);
    line = '';
    while (w.length > width) {
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    line = w;
  }
  if (line !== '') out.push(line);
  if (out.length <= count) return out;
  const kept = out.slice(0, count);
  const last = kept[count - 1] ?? '';
  kept[count - 1] = last.length < width ? `${last}${marker}` : `${last.slice(0, width - 1)}${marker}`;
  return kept;
}

/** A URL broken into lines of `max` cells anywhere (URLs have no spaces to wrap at); the last line cut with `marker`. */
export function breakChars(text: string, max: number, lines: number, marker: string): string[] {
  const width = Math.max(0, Math.floor(max));
  const out: string[] = [];
  for (let i = 0; i < text.length && out.length < lines && width > 0; i += width) out.push(text.slice(i, i + width));
  if (out.length > 0 && out.length * width < text.length) {
    const last = out[out.length - 1] ?? '';
    out[out.length - 1] = `${last.slice(0, width - 1)}${marker}`;
  }
  return out;
}
