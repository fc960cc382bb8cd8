/**
 * Every page on every display, rendered from the samples and compared pixel
 * by pixel with its reviewed picture in test/data/panel/. On a difference
 * the render and a diff (changed pixels red over a faded golden) are saved
 * in .cache/artifacts/panel/ to look at. After a change meant to alter the
 * pictures: FIELDCAST_UPDATE_GOLDENS=1 npx vitest run test/unit/panel, then
 * look at each changed PNG before committing it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DISPLAY_KINDS,
  type DisplayKind,
  frameToPng,
  PAGE_NAMES,
  type PageName,
  type Pixels,
  PREVIEW_SCALE,
  pixelsToPng,
  pngToPixels,
  renderPage,
  SAMPLE_SETUP_CODE,
  SAMPLE_URLS,
  SAMPLES,
  type SampleName,
} from '../../../src/panel/index.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const GOLDENS = path.join(ROOT, 'test/data/panel');
const ARTIFACTS = path.join(ROOT, '.cache/artifacts/panel');
const UPDATE = process.env['FIELDCAST_UPDATE_GOLDENS'] === '1';

interface Case {
  display: DisplayKind;
  page: PageName;
  sample: SampleName;
  file: string;
}

const VARIANTS: SampleName[] = ['idle', 'error', 'no-signal', 'degraded'];
const CASES: Case[] = DISPLAY_KINDS.flatMap((display) => [
  ...PAGE_NAMES.map((page) => ({ display, page, sample: 'live' as const, file: `${display}-${page}.png` })),
  ...VARIANTS.map((sample) => ({ display, page: 'main' as const, sample, file: `${display}-main-${sample}.png` })),
]);

function render(c: Case): Buffer {
  const frame = renderPage(c.display, c.page, { snapshot: SAMPLES[c.sample](), urls: [...SAMPLE_URLS], setupCode: SAMPLE_SETUP_CODE });
  return frameToPng(frame, { scale: PREVIEW_SCALE[c.display] });
}

/** Pixels that differ, and a picture of them: red where changed, the golden faded elsewhere. */
function diff(expected: Pixels, actual: Pixels): { changed: number; image: Pixels } {
  const data = Buffer.alloc(expected.data.length);
  let changed = 0;
  for (let i = 0; i < data.length; i += 4) {
    const same =
      expected.data[i] === actual.data[i] && expected.data[i + 1] === actual.data[i + 1] && expected.data[i + 2] === actual.data[i + 2];
    if (!same) changed++;
    const grey = Math.round(((expected.data[i] ?? 0) + (expected.data[i + 1] ?? 0) + (expected.data[i + 2] ?? 0)) / 3 / 4) + 32;
    data[i] = same ? grey : 255;
    data[i + 1] = same ? grey : 0;
    data[i + 2] = same ? grey : 0;
    data[i + 3] = 255;
  }
  return { changed, image: { width: expected.width, height: expected.height, data } };
}

describe('front panel goldens', () => {
  it.each(CASES)('$file ($sample sample)', (c) => {
    const png = render(c);
    const golden = path.join(GOLDENS, c.file);
    if (UPDATE || !existsSync(golden)) {
      mkdirSync(GOLDENS, { recursive: true });
      writeFileSync(golden, png);
      if (!UPDATE) throw new Error(`${golden} did not exist: written from this render; look at it, then commit it`);
      return;
    }
    const expected = pngToPixels(readFileSync(golden));
    const actual = pngToPixels(png);
    const sameSize = expected.width === actual.width && expected.height === actual.height;
    const d = sameSize ? diff(expected, actual) : undefined;
    if (sameSize && d?.changed === 0) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    const actualFile = path.join(ARTIFACTS, c.file.replace(/\.png$/, '.actual.png'));
    writeFileSync(actualFile, png);
    let message = `${c.file}: the render is ${actual.width}x${actual.height}, the golden ${expected.width}x${expected.height}; render in ${actualFile}`;
    if (d) {
      const diffFile = path.join(ARTIFACTS, c.file.replace(/\.png$/, '.diff.png'));
      writeFileSync(diffFile, pixelsToPng(d.image));
      message = `${c.file}: ${d.changed} pixels differ from the golden; render in ${actualFile}, changes in red in ${diffFile}`;
    }
    expect.fail(`${message} (FIELDCAST_UPDATE_GOLDENS=1 rewrites the goldens)`);
  });
});
