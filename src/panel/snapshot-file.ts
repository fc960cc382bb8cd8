/**
 * A status snapshot read from a file: what `fieldcast ctl status --json`
 * prints, or the same wrapped as `{ "result": ... }` / `{ "snapshot": ... }`
 * (the control socket's answer, a saved API response). Checked for the parts
 * the pages read, each with its type, so a wrong file is refused with the
 * key that is wrong instead of drawing nonsense. Other keys pass through.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { StatusSnapshot } from '../supervisor/snapshot.js';
import { PanelSnapshotError } from './errors.js';

const num = z.number();
const alert = z.looseObject({
  code: z.string(),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
  action: z.string().optional(),
});
const link = z.looseObject({ name: z.string(), state: z.string(), throughputBps: num.optional() });

const SnapshotShape = z.looseObject({
  version: z.literal(1),
  state: z.enum(['idle', 'starting', 'live', 'degraded', 'no-signal', 'error']),
  reason: z.string(),
  action: z.string().optional(),
  stream: z.looseObject({
    picture: z.enum(['input', 'slate', 'passthrough', 'none']),
    input: z.looseObject({ name: z.string(), signal: z.boolean() }),
    video: z.looseObject({
      bitrateBps: num,
      width: num.optional(),
      height: num.optional(),
      fps: z.union([z.string(), num]).optional(),
    }),
    audio: z.looseObject({ peakDbfs: z.array(num) }).optional(),
    tsBitrateBps: num,
  }),
  destinations: z.array(z.looseObject({ name: z.string(), state: z.string() })),
  health: z.looseObject({}),
  bond: z.looseObject({ links: z.array(link) }).optional(),
  uplinks: z
    .array(
      z.looseObject({
        name: z.string(),
        kind: z.enum(['ethernet', 'wifi', 'cellular', 'other']),
        addresses: z.array(z.string()),
        up: z.boolean(),
        enabled: z.boolean(),
        link: link.optional(),
      }),
    )
    .optional(),
  alerts: z.array(alert),
});

function unwrap(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !('version' in value)) {
    const v = value as { result?: unknown; snapshot?: unknown };
    if (typeof v.result === 'object' && v.result !== null) return v.result;
    if (typeof v.snapshot === 'object' && v.snapshot !== null) return v.snapshot;
  }
  return value;
}

function path(p: readonly PropertyKey[]): string {
  return (
    p
      .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
      .join('')
      .replace(/^\./, '') || '(the whole file)'
  );
}

/** A status snapshot from parsed JSON; `source` names it in the error. */
export function snapshotFromJson(value: unknown, source: string): StatusSnapshot {
  const r = SnapshotShape.safeParse(unwrap(value));
  if (!r.success) {
    const problems = r.error.issues.slice(0, 3).map((i) => `${path(i.path)}: ${i.message}`);
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw new PanelSnapshotError(`${source} is not a status snapshot (fieldcast ctl status --json): ${problems.join('; ')}${more}`, {
      source,
      problems,
    });
  }
  return r.data as unknown as StatusSnapshot;
}

/** Reads and checks a status snapshot file. */
export async function readSnapshot(file: string): Promise<StatusSnapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PanelSnapshotError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? `: ${code}` : ''}`, { source: file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PanelSnapshotError(`${file} is not JSON: ${(e as Error).message}`, { source: file });
  }
  return snapshotFromJson(value, file);
}
