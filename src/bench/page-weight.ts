/**
 * The status page's weight as a phone downloads it: the built JavaScript and
 * CSS (dist/web/assets/*.js, *.css — every chunk, loaded at once or later),
 * each compressed here with gzip at level 9 (node:zlib), so the figure is
 * measured in this run from the files as built, whatever .gz the build left
 * beside them. The brotli copies the build wrote are summed too: they are
 * what the status server sends a browser that accepts br (@fastify/static
 * preCompressed), Chromium among them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BenchSetupError } from './errors.js';

/** Where `npm run build:web` writes the page (web/vite.config.ts) and the status server serves it from. */
export const PAGE_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

export interface PageWeight {
  /** The assets counted, by name. */
  files: string[];
  rawBytes: number;
  /** Sum of each file gzipped at level 9 here. */
  gzipBytes: number;
  /** Sum of the build's .br copies; undefined when one of the files has none. */
  brotliBytes: number | undefined;
}

/** Weighs the built page in `dir`; throws BenchSetupError naming `npm run build:web` when there is no built page. */
export function pageWeight(dir: string = PAGE_DIR): PageWeight {
  const assets = path.join(dir, 'assets');
  const notBuilt = (what: string): BenchSetupError =>
    new BenchSetupError(`the status page is not built (${what}): run npm run build:web`, { dir });
  if (!existsSync(path.join(dir, 'index.html'))) throw notBuilt(`no ${path.join(dir, 'index.html')}`);
  if (!existsSync(assets) || !statSync(assets).isDirectory()) throw notBuilt(`no ${assets}`);
  const files = readdirSync(assets)
    .filter((n) => /\.(js|css)$/.test(n))
    .sort();
  if (!files.some((n) => n.endsWith('.js'))) throw notBuilt(`no JavaScript in ${assets}`);
  let rawBytes = 0;
  let gzipBytes = 0;
  let brotliBytes: number | undefined = 0;
  for (const n of files) {
    const data = readFileSync(path.join(assets, n));
    rawBytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
    const br = path.join(assets, `${n}.br`);
    brotliBytes = brotliBytes !== undefined && existsSync(br) ? brotliBytes + statSync(br).size : undefined;
  }
  return { files, rawBytes, gzipBytes, brotliBytes };
}
