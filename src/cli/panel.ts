/** `fieldcast panel render`: a front-panel page drawn from a status snapshot, saved as a PNG of the glass. */
import { writeFile } from 'node:fs/promises';
import {
  DISPLAY_GEOMETRY,
  DISPLAY_KINDS,
  type DisplayKind,
  frameToPng,
  PAGE_NAMES,
  type PageName,
  PanelSnapshotError,
  PREVIEW_SCALE,
  readSnapshot,
  renderPage,
  SAMPLE_NAMES,
  SAMPLE_SETUP_CODE,
  SAMPLE_URLS,
  SAMPLES,
  type SampleName,
} from '../panel/index.js';
import { type Command, err, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast panel render --display DISPLAY --page PAGE -o FILE.png [options]

Draws one page of the front panel as the display shows it and saves it as a PNG.
  --display D        ${DISPLAY_KINDS.join(' | ')} (128x64 OLED, 240x240 colour LCD, 16x2 character LCD)
  --page P           ${PAGE_NAMES.join(' | ')}
  --snapshot FILE    a status snapshot: what "fieldcast ctl status --json" prints
  --sample NAME      a built-in snapshot instead: ${SAMPLE_NAMES.join(' | ')} (default live)
  --setup-code CODE  the one-time setup code the setup page shows (with --sample: ${SAMPLE_SETUP_CODE})
  --url URL          an address of the status page, the LAN one first (repeatable; with --sample: ${SAMPLE_URLS.join(' ')})
  --scale N          pixels per display pixel (dot), 1 to 16 (default: ${DISPLAY_KINDS.map((d) => `${d} ${PREVIEW_SCALE[d]}`).join(', ')})
  -o, --output FILE  where to write the PNG`;

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  if (value === undefined) throw new UsageError(`${flag} is needed (${allowed.join(', ')})`);
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export const command: Command = {
  name: 'panel',
  summary: 'draw a front-panel page as a display shows it',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'render') throw new UsageError(sub ? `unknown panel command "${sub}" (there is: render)` : 'panel needs a command: render');
    const { values, positionals } = parseOptions(
      rest,
      {
        display: { type: 'string' },
        page: { type: 'string' },
        snapshot: { type: 'string' },
        sample: { type: 'string' },
        'setup-code': { type: 'string' },
        url: { type: 'string', multiple: true },
        scale: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      true,
    );
    if (positionals.length > 0) throw new UsageError(`panel render takes no arguments (got "${positionals[0]}")`);
    const display = oneOf<DisplayKind>(values.display, '--display', DISPLAY_KINDS);
    const page = oneOf<PageName>(values.page, '--page', PAGE_NAMES);
    if (values.snapshot !== undefined && values.sample !== undefined) throw new UsageError('--snapshot and --sample: give one of them');
    const sample = values.sample === undefined ? undefined : oneOf<SampleName>(values.sample, '--sample', SAMPLE_NAMES);
    const scale = numberOption(values.scale, '--scale', 1, 16) ?? PREVIEW_SCALE[display];
    if (!Number.isInteger(scale)) throw new UsageError(`--scale must be a whole number (got "${values.scale}")`);
    if (!values.output) throw new UsageError('-o FILE.png is needed');
    for (const u of values.url ?? [])
      if (!/^https?:\/\/\S+$/.test(u)) throw new UsageError(`--url must be an http:// or https:// address (got "${u}")`);

    let snapshot: ReturnType<(typeof SAMPLES)[SampleName]>;
    try {
      snapshot = values.snapshot !== undefined ? await readSnapshot(values.snapshot) : SAMPLES[sample ?? 'live']();
    } catch (e) {
      if (!(e instanceof PanelSnapshotError)) throw e;
      err(`fieldcast panel: ${e.message}`);
      return 2;
    }
    const fromSample = values.snapshot === undefined;
    const code = values['setup-code'] ?? (fromSample ? SAMPLE_SETUP_CODE : undefined);
    const urls = values.url ?? (fromSample ? [...SAMPLE_URLS] : []);
    const frame = renderPage(display, page, { snapshot, urls, ...(code ? { setupCode: code } : {}) });
    await writeFile(values.output, frameToPng(frame, { scale }));
    const g = DISPLAY_GEOMETRY[display];
    out(`${values.output}: ${display} ${page} (${g.width}x${g.height}${g.frame === 'text' ? ' characters' : ''}, scale ${scale})`);
    return 0;
  },
};
