/**
 * The status page's build: Svelte 5 compiled by Vite into dist/web, which the
 * status server serves at `/`. Everything is bundled (no CDN, no web fonts):
 * at a venue the box often has no internet. The CSS goes to files, never into
 * `<style>` or `style=""`, because the server's Content-Security-Policy
 * allows only `style-src 'self'`.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const outDir = path.resolve(root, '../dist/web');

/**
 * Writes name.br and name.gz beside each text asset: the status server serves
 * them to browsers that accept them (@fastify/static preCompressed), so a phone
 * on a weak venue Wi-Fi loads a third of the bytes, and nothing is compressed
 * on the box per request.
 */
function precompress(): Plugin {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = path.join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return {
    name: 'fieldcast-precompress',
    apply: 'build',
    closeBundle() {
      for (const file of walk(outDir).filter((f) => /\.(html|js|css|svg|json)$/.test(f))) {
        const data = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  // Nothing is copied from a public/ directory: every asset goes through the bundle.
  publicDir: false,
  plugins: [svelte({ compilerOptions: { css: 'external' } }), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // A small icon inlined as data: would be allowed (img-src data:), but a file keeps the rule simple.
    assetsInlineLimit: 0,
    // Module preload polyfill injects an inline script, which the CSP refuses.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 300,
  },
  logLevel: 'warn',
});
