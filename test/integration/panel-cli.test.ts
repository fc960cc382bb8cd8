import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { SAMPLES } from '../../src/panel/index.js';
import { skipWithout } from '../peers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/fieldcast.js');
const skip = skipWithout(
  'the panel CLI tests',
  existsSync(path.join(ROOT, 'dist/cli/panel.js')) ? [] : ['the built CLI in dist/ (npm run build:ts)'],
);

function run(...args: string[]) {
  return spawnSync('node', [CLI, 'panel', ...args], { encoding: 'utf8' });
}

describe.skipIf(skip)('fieldcast panel render', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fc-panel-'));

  it.each([
    ['ssd1306', 'main', [], 128 * 4, 64 * 4],
    ['st7789', 'links', ['--scale', '1'], 240, 240],
    ['hd44780', 'input', ['--scale', '2'], (16 * 6 - 1 + 6) * 2, (2 * 8 + 2 + 6) * 2],
  ] as const)('draws %s %s as a PNG of the glass', (display, page, extra, width, height) => {
    const out = path.join(dir, `${display}-${page}.png`);
    const r = run('render', '--display', display, '--page', page, ...extra, '-o', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(out);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([width, height]);
  });

  it('reads a snapshot saved from fieldcast ctl status --json, wrapped or not', () => {
    const file = path.join(dir, 'status.json');
    writeFileSync(file, JSON.stringify(SAMPLES.degraded(), null, 2));
    const out = path.join(dir, 'from-file.png');
    expect(run('render', '--display', 'st7789', '--page', 'main', '--snapshot', file, '-o', out).status).toBe(0);
    writeFileSync(file, JSON.stringify({ ok: true, result: SAMPLES.error() }));
    const r = run(
      'render',
      '--display',
      'hd44780',
      '--page',
      'setup',
      '--snapshot',
      file,
      '--setup-code',
      '771 204',
      '--url',
      'http://10.1.1.5/',
      '-o',
      out,
    );
    expect(r.status).toBe(0);
  });

  it('names the wrong flag or file, exit 2', () => {
    const out = path.join(dir, 'x.png');
    const cases: [string[], RegExp][] = [
      [['render', '--display', 'lcd', '--page', 'main', '-o', out], /--display must be one of ssd1306, st7789, hd44780 \(got "lcd"\)/],
      [['render', '--display', 'st7789', '--page', 'home', '-o', out], /--page must be one of main, links/],
      [['render', '--display', 'st7789', '--page', 'main'], /-o FILE\.png is needed/],
      [['render', '--display', 'st7789', '--page', 'main', '--scale', '0', '-o', out], /--scale must be a number from 1 to 16/],
      [['render', '--display', 'st7789', '--page', 'main', '--sample', 'party', '-o', out], /--sample must be one of live, idle/],
      [['render', '--display', 'st7789', '--page', 'main', '--frobnicate', '-o', out], /frobnicate/],
      [['draw'], /unknown panel command "draw"/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, state: 'on air', reason: 'x' }));
    const r = run('render', '--display', 'ssd1306', '--page', 'main', '--snapshot', bad, '-o', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.json is not a status snapshot .*state/);
    writeFileSync(bad, '{ not json');
    expect(run('render', '--display', 'ssd1306', '--page', 'main', '--snapshot', bad, '-o', out).stderr).toMatch(/bad\.json is not JSON/);
    expect(run('render', '--display', 'ssd1306', '--page', 'main', '--snapshot', path.join(dir, 'none.json'), '-o', out).stderr).toMatch(
      /none\.json: no such file/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('prints its usage', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: fieldcast panel render --display DISPLAY --page PAGE -o FILE\.png/);
    const help = spawnSync('node', [CLI, '--help'], { encoding: 'utf8' }).stdout;
    expect(help).toMatch(/^ {2}panel +draw a front-panel page as a display shows it$/m);
  });
});
