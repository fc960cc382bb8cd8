import { describe, expect, it } from 'vitest';
import { CELL_WIDTH, charsIn, textWidth } from '../../../src/panel/font.js';
import {
  DISPLAY_GEOMETRY,
  DISPLAY_KINDS,
  type Frame,
  PAGE_NAMES,
  type PanelInput,
  renderPage,
  SAMPLE_NAMES,
  SAMPLE_URLS,
  SAMPLES,
  snapshotFromJson,
} from '../../../src/panel/index.js';
import { headline, shortRate, signalBars, uplinkRows } from '../../../src/panel/page-model.js';
import { breakChars, fitChars, toPanelText, wrapChars } from '../../../src/panel/text-fit.js';
import type { StatusSnapshot, UplinkStatus } from '../../../src/supervisor/snapshot.js';

function expectFits(frame: Frame, display: (typeof DISPLAY_KINDS)[number]): void {
  const g = DISPLAY_GEOMETRY[display];
  expect(frame.kind).toBe(g.frame);
  if (frame.kind === 'text') {
    expect([frame.cols, frame.rows]).toEqual([g.width, g.height]);
    expect(frame.lines).toHaveLength(g.height);
    for (const l of frame.lines) {
      expect(l).toHaveLength(g.width);
      // Printable ASCII, and neither of the two the HD44780's A00 ROM draws otherwise.
      expect(l).toMatch(/^[\x20-\x7e]*$/);
      expect(l).not.toMatch(/[\\~]/);
    }
  } else {
    expect([frame.width, frame.height]).toEqual([g.width, g.height]);
    expect(frame.pixels).toHaveLength(g.width * g.height);
  }
}

function everywhere(input: PanelInput): void {
  for (const d of DISPLAY_KINDS) for (const p of PAGE_NAMES) expectFits(renderPage(d, p, input), d);
}

function cellular(i: number, up: boolean): UplinkStatus {
  return {
    name: `wwan${i}`,
    kind: 'cellular',
    addresses: [`10.0.${i}.2`, `2001:db8:ffff:${i}::1234:5678:9abc`],
    up,
    enabled: true,
    priority: 5,
    metered: true,
    link: { name: `wwan${i}`, state: up ? 'live' : 'dead', throughputBps: 1e6 * i, share: 0.02, loss: 0, sentPackets: 1 },
  };
}

describe('text fitting', () => {
  it('cuts with the marker, never beyond the width', () => {
    expect(fitChars('DEGRADED', 16, '.')).toBe('DEGRADED');
    expect(fitChars('uplink wwan1 is down', 10, '.')).toBe('uplink ww.');
    expect(fitChars('abc', 0, '.')).toBe('');
    for (let n = 0; n < 30; n++) expect(fitChars('x'.repeat(50), n, '.').length).toBeLessThanOrEqual(n);
  });

  it('wraps at spaces, breaks a word longer than a line, and marks what is left over', () => {
    expect(wrapChars('no destination configured', 16, 3, '.')).toEqual(['no destination', 'configured']);
    expect(wrapChars('aaaaaaaaaaaaaaaaaaaa b', 8, 5, '.')).toEqual(['aaaaaaaa', 'aaaaaaaa', 'aaaa b']);
    const cut = wrapChars('one two three four five six seven', 9, 2, '.');
    expect(cut).toEqual(['one two', 'three.']);
    const long = wrapChars('word '.repeat(100), 21, 3, '.');
    expect(long).toHaveLength(3);
    for (const l of long) expect(l.length).toBeLessThanOrEqual(21);
    expect(wrapChars('> zzzzzzzzzzzzzzzzzzzz', 8, 2, '.')).toEqual(['> zzzzzz', 'zzzzzzz.']);
    expect(breakChars('http://192.168.100.200:8080/', 10, 2, '.')).toEqual(['http://192', '.168.100..']);
  });

  it('makes any text printable ASCII', () => {
    expect(toPanelText('Température 71 °C — check → fan…')).toBe('Temperature 71  C - check > fan...');
    expect(toPanelText('日本')).toBe('??');
    expect(toPanelText(undefined)).toBe('');
    expect(toPanelText(Number.NaN)).toBe('NaN');
  });

  it('measures the monospaced font in cells', () => {
    expect(textWidth('LIVE', 1)).toBe(4 * CELL_WIDTH - 1);
    expect(charsIn(128, 1)).toBe(21);
    expect(charsIn(240, 2)).toBe(20);
  });
});

describe('the pages', () => {
  it('every page of every display from every sample is a frame of the display size', () => {
    for (const name of SAMPLE_NAMES) everywhere({ snapshot: SAMPLES[name](), urls: [...SAMPLE_URLS], setupCode: '123456' });
  });

  it('is deterministic', () => {
    for (const d of DISPLAY_KINDS)
      for (const p of PAGE_NAMES) {
        const input = { snapshot: SAMPLES.degraded(), urls: [...SAMPLE_URLS] };
        expect(renderPage(d, p, input)).toEqual(renderPage(d, p, input));
      }
  });

  it('the 16x2 main page says the state, the rate and the links, then what matters', () => {
    const f = renderPage('hd44780', 'main', { snapshot: SAMPLES.live(), urls: [] });
    expect(f).toMatchObject({ kind: 'text', lines: ['LIVE   8.2M 3/3L', 'live to ingest. '] });
    const d = renderPage('hd44780', 'main', { snapshot: SAMPLES.degraded(), urls: [] });
    expect(d).toMatchObject({ lines: ['DEGRADED    2/3L', 'UPLINK DOWN     '] });
    const e = renderPage('hd44780', 'main', { snapshot: SAMPLES.error(), urls: [] });
    expect(e).toMatchObject({ lines: ['ERROR       0/3L', 'SRT AUTH FAILED '] });
    // The alert's code would repeat the state word: what to do instead.
    const n = renderPage('hd44780', 'main', { snapshot: SAMPLES['no-signal'](), urls: [] });
    expect(n).toMatchObject({ lines: ['NO SIGNAL   3/3L', 'check the camera'] });
  });

  it('draws a snapshot missing every optional part', () => {
    const s = SAMPLES.idle();
    const bare: StatusSnapshot = { ...s, stream: { ...s.stream, audio: undefined }, alerts: [], bond: undefined, uplinks: undefined };
    everywhere({ snapshot: bare, urls: [] });
    expect(renderPage('hd44780', 'links', { snapshot: bare, urls: [] })).toMatchObject({ lines: ['LINKS none      ', 'not bonded      '] });
    expect(renderPage('hd44780', 'setup', { snapshot: bare, urls: [] })).toMatchObject({ lines: ['PASSWORD SET    ', 'no address yet  '] });
    expect(renderPage('hd44780', 'input', { snapshot: bare, urls: [] })).toMatchObject({ lines: ['1920x1080@50    ', 'no audio        '] });
  });

  it('keeps inside the frame with absurd inputs: 40 uplinks, a 500-character reason, NaN and missing figures', () => {
    const s = SAMPLES.live();
    const absurd = {
      ...s,
      reason: 'x'.repeat(250) + ' ' + 'y '.repeat(125),
      action: 'z'.repeat(500),
      stream: {
        ...s.stream,
        input: { ...s.stream.input, name: 'N'.repeat(300) },
        video: { ...s.stream.video, bitrateBps: Number.NaN, width: Number.NaN, height: undefined, fps: undefined },
        audio: { source: 'x', peakDbfs: [Number.NaN, -Infinity, 12, ...Array.from({ length: 30 }, () => -6)], rmsDbfs: [] },
        tsBitrateBps: Number.NaN,
      },
      uplinks: Array.from({ length: 40 }, (_, i) => cellular(i, i % 3 !== 0)),
      alerts: [{ code: 'X'.repeat(80), level: 'error', message: 'm'.repeat(500), since: s.at }],
    } as unknown as StatusSnapshot;
    everywhere({
      snapshot: absurd,
      urls: Array.from({ length: 20 }, (_, i) => `http://[2001:db8::${i}]:${8000 + i}/${'p'.repeat(100)}`),
      setupCode: '9'.repeat(200),
    });
    const links = renderPage('hd44780', 'links', { snapshot: absurd, urls: [] });
    expect(links.kind === 'text' && links.lines[1]).toMatch(/\+\d+ *$/);
    const nan = { ...s, stream: { ...s.stream, video: { ...s.stream.video, bitrateBps: Number.NaN } } };
    const main = renderPage('hd44780', 'main', { snapshot: nan, urls: [] });
    expect(main.kind === 'text' && main.lines.join('')).not.toContain('NaN');
  });

  it('a broken snapshot from a file (bad types) still draws once let through as any', () => {
    const junk = {
      version: 1,
      state: 'live',
      reason: 42,
      stream: {},
      destinations: null,
      health: {},
      alerts: 'no',
    } as unknown as StatusSnapshot;
    everywhere({ snapshot: junk, urls: [] });
    for (const j of [
      {},
      { state: 'on fire', stream: null, uplinks: [null, {}], bond: { links: [null, { name: 7 }] }, alerts: [null, 5] },
      { stream: { audio: { peakDbfs: 'loud' }, video: null, input: null } },
    ])
      everywhere({ snapshot: j as unknown as StatusSnapshot, urls: null as unknown as string[] });
  });

  it('lists as many uplinks as fit, then "+N more"', () => {
    const withLinks = (n: number) => ({ ...SAMPLES.live(), uplinks: Array.from({ length: n }, (_, i) => cellular(i + 1, true)) });
    for (const d of ['ssd1306', 'st7789'] as const) {
      const a = renderPage(d, 'links', { snapshot: withLinks(40), urls: [] });
      const b = renderPage(d, 'links', { snapshot: withLinks(41), urls: [] });
      if (a.kind === 'text' || b.kind === 'text') throw new Error('a pixel frame expected');
      // Below the title (whose count differs), the rows shown are the same; only the last line's "+N more" differs.
      const below = a.width * (d === 'ssd1306' ? 10 : 26);
      const firstDiff = a.pixels.findIndex((v, i) => i >= below && v !== b.pixels[i]);
      expect(firstDiff).toBeGreaterThan(0);
      expect(Math.floor(firstDiff / a.width)).toBeGreaterThan(a.height * 0.75);
    }
    expect(uplinkRows(withLinks(40))).toHaveLength(40);
  });
});

describe('what the pages say', () => {
  it('bit rates in a few cells', () => {
    expect([8.2e6, 12.4e6, 850e3, 0, Number.NaN, -1, 2.5e9].map(shortRate)).toEqual(['8.2M', '12M', '850k', '0', '--', '--', '3G']);
  });

  it('signal bars from RSRP first, else CSQ RSSI', () => {
    const live = SAMPLES.live().uplinks ?? [];
    expect(live.map(signalBars)).toEqual([undefined, 3, 2]);
    const csqOnly = {
      ...cellular(1, true),
      modem: { id: '1', port: 'p', profile: 'g', reading: { signal: { csq: { raw: 25, rssiDbm: -63 } } } },
    };
    expect(signalBars(csqOnly as unknown as UplinkStatus)).toBe(4);
  });

  it('the headline is the first alert, else the reason', () => {
    expect(headline(SAMPLES.error()).text).toBe('ingest.example.com refused the passphrase');
    expect(headline(SAMPLES.idle())).toEqual({ text: 'no destination configured', action: 'add one on the status page', level: 'info' });
  });

  it('bond links stand in for uplinks on a box that does not list them', () => {
    const s = { ...SAMPLES.live(), uplinks: undefined };
    expect(uplinkRows(s).map((r) => [r.kind, r.state])).toEqual([
      ['ETH', 'live'],
      ['CELL', 'live'],
      ['CELL', 'live'],
    ]);
  });
});

describe('snapshot files', () => {
  it('accepts the snapshot and the control answer wrapping it', () => {
    const s = SAMPLES.live();
    expect(snapshotFromJson(JSON.parse(JSON.stringify(s)), 'f').state).toBe('live');
    expect(snapshotFromJson({ ok: true, result: s }, 'f').reason).toBe(s.reason);
  });

  it('refuses a file that is not one, naming the keys', () => {
    expect(() => snapshotFromJson({ version: 1, state: 'on air' }, 'x.json')).toThrow(/x\.json is not a status snapshot.*state/);
    expect(() => snapshotFromJson([1, 2], 'y.json')).toThrow(/y\.json is not a status snapshot/);
    expect(() => snapshotFromJson({ ...SAMPLES.live(), uplinks: [{ name: 'a' }] }, 'z.json')).toThrow(/uplinks\[0\]\.kind/);
  });
});
