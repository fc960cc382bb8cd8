/**
 * The pages on the 16x2 character LCD (HD44780): two lines of exactly 16
 * printable ASCII characters. The A00 character ROM shows `\` as a yen sign
 * and `~` as an arrow, so neither is ever written; a cut word ends in `.`.
 */
import type { PageName, PanelInput, TextFrame } from './frame.js';
import {
  dbText,
  headline,
  hostOf,
  inputFacts,
  linksUp,
  shortRate,
  shownAddresses,
  stateWord,
  uplinkRows,
  videoRate,
} from './page-model.js';
import { fitChars, padChars, toPanelText, wrapChars } from './text-fit.js';

const COLS = 16;
const MARK = '.';

/** Exactly COLS printable characters, none of them the ROM's look-alikes. */
function cell(text: string): string {
  return padChars(toPanelText(text).replace(/[\\~]/g, '-'), COLS, MARK);
}

/** `left` then `right` flush right; `right` parts dropped from the end until the line fits. */
function split(left: string, right: string[]): string {
  for (let n = right.length; n > 0; n--) {
    const r = right.slice(0, n).join(' ');
    if (left.length + 1 + r.length <= COLS) return left + r.padStart(COLS - left.length);
  }
  return left;
}

/** The first alert's message when it fits, else its code in words (UPLINK_DOWN: "UPLINK DOWN"); without alerts, the reason. */
function alertLine(s: PanelInput['snapshot']): string {
  const first: unknown = Array.isArray(s.alerts) ? s.alerts[0] : undefined;
  const a = typeof first === 'object' && first !== null ? (first as { code?: unknown }) : undefined;
  const h = headline(s);
  if (!a || h.text.length <= COLS || typeof a.code !== 'string' || a.code === '') return h.text;
  const words = a.code.replace(/_/g, ' ');
  // INPUT NO SIGNAL under NO SIGNAL says nothing new: what to do does (as many whole words as fit).
  if (!words.includes(stateWord(s.state)) || !h.action) return words;
  return wrapChars(h.action, COLS, Number.POSITIVE_INFINITY, '')[0] ?? words;
}

/** `left` and `right` flush right on one line, or undefined when they do not both fit. */
function flush(left: string, right: string): string | undefined {
  if (right === '') return left;
  return left.length + 1 + right.length <= COLS ? left + right.padStart(COLS - left.length) : undefined;
}

function main(input: PanelInput): [string, string] {
  const s = input.snapshot;
  const up = linksUp(uplinkRows(s));
  const rate = videoRate(s);
  const rateText = rate === undefined ? undefined : shortRate(rate);
  const linksText = up ? `${up.up}/${up.total}L` : undefined;
  // Both figures when they fit; else the links (what a long state word is usually about), else the rate.
  const word = stateWord(s.state);
  const options = [[rateText, linksText], [linksText], [rateText]].map((o) => o.filter((x): x is string => x !== undefined));
  const line1 = options.map((o) => flush(word, o.join(' '))).find((l) => l !== undefined) ?? word;
  return [line1, alertLine(s)];
}

function links(input: PanelInput): [string, string] {
  const rows = uplinkRows(input.snapshot);
  const up = linksUp(rows);
  if (!up) return ['LINKS none', 'not bonded'];
  const total = rows.reduce((sum, r) => sum + (r.throughputBps ?? 0), 0);
  // One token a link: its kind's letter, then its bars (0-4), + when up, - when not.
  const tokens = rows.map((r) => `${r.kind[0]}${r.tone !== 'good' ? '-' : r.bars !== undefined ? r.bars : '+'}`);
  let line2 = '';
  for (let i = 0; i < tokens.length; i++) {
    const next = line2 ? `${line2} ${tokens[i]}` : (tokens[i] ?? '');
    const rest = tokens.length - i - 1;
    const more = rest > 0 ? ` +${rest}` : '';
    if ((next + more).length > COLS) {
      line2 = `${line2} +${tokens.length - i}`.trim();
      break;
    }
    line2 = next;
  }
  return [split(`LINKS ${up.up}/${up.total}`, [shortRate(total)]), line2];
}

function inputLines(input: PanelInput): [string, string] {
  const f = inputFacts(input.snapshot);
  const format = f.format?.replace(' @ ', '@');
  const line1 = !f.signal
    ? split('NO SIGNAL', format ? [format.split('@')[0] ?? ''] : [])
    : format
      ? fitChars(format, COLS, MARK)
      : 'SIGNAL OK';
  if (!f.audio) return [line1, 'no audio'];
  // L-12 R-14; numbered channels get a colon (3:0, not 30).
  const parts = f.audio.map((c) => `${c.label}${/^\d/.test(c.label) ? ':' : ''}${dbText(c.peakDbfs)}`);
  let line2 = parts.join(' ');
  if (line2.length + ' dBFS'.length <= COLS) line2 += ' dBFS';
  else if (line2.length + ' dB'.length <= COLS) line2 += ' dB';
  return [line1, line2];
}

/** The status page's address in 16 cells: the scheme and a trailing / dropped, then the port if still too long. */
function shortUrl(url: string | undefined): string {
  if (!url) return 'no address yet';
  const host = hostOf(url);
  return host.length <= COLS ? host : host.replace(/:\d+$/, '');
}

function setup(input: PanelInput): [string, string] {
  const code = input.setupCode?.trim();
  return [code ? `CODE ${code}` : 'PASSWORD SET', shortUrl(input.urls[0])];
}

function network(input: PanelInput): [string, string] {
  const lan = shortUrl(input.urls[0]);
  const lanHost = lan.replace(/:\d+$/, '');
  const others = uplinkRows(input.snapshot)
    .flatMap((r) => shownAddresses(r.addresses).map((a) => ({ kind: r.kind, a })))
    .filter((x) => x.a !== lanHost);
  const first = others[0];
  return [lan, first ? `${first.kind[0]} ${first.a}${others.length > 1 ? ` +${others.length - 1}` : ''}` : 'no uplink address'];
}

const PAGES: Record<PageName, (input: PanelInput) => [string, string]> = {
  main,
  links,
  input: inputLines,
  setup,
  network,
};

export function drawTextPage(page: PageName, input: PanelInput): TextFrame {
  const [a, b] = PAGES[page](input);
  return { kind: 'text', cols: COLS, rows: 2, lines: [cell(a), cell(b)] };
}
