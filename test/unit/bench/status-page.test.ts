import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchSetupError } from '../../../src/bench/errors.js';
import { SCENARIOS } from '../../../src/bench/index.js';
import { pageWeight } from '../../../src/bench/page-weight.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fieldcast-page-weight-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench status-page', () => {
  it('is a scenario of fieldcast bench', async () => {
    expect(SCENARIOS['status-page']).toBeDefined();
    const { scenario } = await SCENARIOS['status-page']!.load();
    expect(scenario.name).toBe('status-page');
  });

  it('without a built page, the page weight fails naming npm run build:web', () => {
    const missing = path.join(tempDir(), 'web');
    expect(() => pageWeight(missing)).toThrow(BenchSetupError);
    expect(() => pageWeight(missing)).toThrow(/npm run build:web/);
    // A page whose assets are gone is not built either.
    const half = tempDir();
    writeFileSync(path.join(half, 'index.html'), '<!doctype html>');
    expect(() => pageWeight(half)).toThrow(/npm run build:web/);
    mkdirSync(path.join(half, 'assets'));
    writeFileSync(path.join(half, 'assets', 'index.css'), 'body{}');
    expect(() => pageWeight(half)).toThrow(/no JavaScript.*npm run build:web/);
  });

  it('weighs the JS and CSS gzipped at level 9, not the compressed copies beside them', () => {
    const dir = tempDir();
    const assets = path.join(dir, 'assets');
    mkdirSync(assets, { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    const js = Buffer.from('export const a = 1;\n'.repeat(200));
    const css = Buffer.from('body { color: black; }\n'.repeat(50));
    writeFileSync(path.join(assets, 'index-1.js'), js);
    writeFileSync(path.join(assets, 'index-1.js.gz'), gzipSync(js));
    writeFileSync(path.join(assets, 'index-2.css'), css);
    writeFileSync(path.join(assets, 'logo.svg'), '<svg/>');
    const w = pageWeight(dir);
    expect(w.files).toEqual(['index-1.js', 'index-2.css']);
    expect(w.rawBytes).toBe(js.length + css.length);
    expect(w.gzipBytes).toBe(gzipSync(js, { level: 9 }).length + gzipSync(css, { level: 9 }).length);
    // No .br beside each: the brotli weight is not known, rather than a sum of some.
    expect(w.brotliBytes).toBeUndefined();
  });
});
