/**
 * The recordings' index: `index.ndjson` beside the segments, one JSON object
 * a line, appended as things happen, so a power cut tears at most its last
 * line (which `readIndex` skips). Pruning rewrites it whole, atomically
 * (src/lib/atomic-file.ts). Three kinds of line:
 *
 *   {"k":"open","file":"…ts","from":ms}              a segment was started
 *   {"k":"seg","file":"…ts","from":ms,"to":ms,"bytes":n[,"torn":true]}
 *                                                     it was closed and synced
 *                                                     (torn: found cut short at start-up)
 *   {"k":"sec","t":s,"d":"acked"|"partial"|"missed"[,"n":1]}
 *                                                     one wall-clock second and what
 *                                                     reached destination n (delivery.ts;
 *                                                     n absent: the first, 0)
 *   {"k":"span","from":s,"to":s,"d":…[,"n":1]}       the same for seconds from..to inclusive
 *                                                     (how a rewrite stores the timeline)
 *
 * Each destination has its own timeline (two flows, or a flow's two sources,
 * each acknowledge what they got). The first destination's is written for
 * every recorded second; the second's only while there is one, so a second
 * without an entry in it means no second destination then, not a loss.
 *
 * Times are wall-clock: ms (segments) and whole seconds (the timeline) since
 * the Unix epoch, which is what an operator compares with the show's clock.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MAX_DESTINATIONS } from '../config/schema.js';
import { writeFileAtomic } from '../lib/atomic-file.js';

export const INDEX_FILE = 'index.ndjson';

export const Delivery = z.enum(['acked', 'partial', 'missed']);
export type DeliveryT = z.infer<typeof Delivery>;
/** One second of one destination's timeline: epoch second, what reached it, its index (config order). */
export type SecondEntry = readonly [t: number, d: DeliveryT, destination: number];

const OpenLine = z.object({ k: z.literal('open'), file: z.string().regex(/^[\w.-]+\.ts$/), from: z.number() });
const SegLine = z.object({
  k: z.literal('seg'),
  file: z.string().regex(/^[\w.-]+\.ts$/),
  from: z.number(),
  to: z.number(),
  bytes: z.number().int().min(0),
  torn: z.boolean().optional(),
});
/** Which destination a timeline line is of (config order); absent: the first. */
const DestinationIndex = z
  .number()
  .int()
  .min(0)
  .max(MAX_DESTINATIONS - 1)
  .optional();
const SecLine = z.object({ k: z.literal('sec'), t: z.number().int(), d: Delivery, n: DestinationIndex });
const SpanLine = z.object({ k: z.literal('span'), from: z.number().int(), to: z.number().int(), d: Delivery, n: DestinationIndex });
export const IndexLine = z.discriminatedUnion('k', [OpenLine, SegLine, SecLine, SpanLine]);
export type IndexLineT = z.infer<typeof IndexLine>;
export type SegmentLineT = z.infer<typeof SegLine>;

/** What the index says: closed segments (oldest first), segments opened but never closed, the timeline. */
export interface RecordingIndex {
  segments: SegmentLineT[];
  open: { file: string; from: number }[];
  /** Per destination (config order; the first always there): second (epoch s) → what reached it. */
  seconds: Map<number, DeliveryT>[];
  /** Lines that could not be read (a torn last line after a power cut). */
  skipped: number;
}

export function parseIndex(text: string): RecordingIndex {
  const segments: SegmentLineT[] = [];
  const opened = new Map<string, number>();
  const seconds: Map<number, DeliveryT>[] = [new Map()];
  const timeline = (n: number | undefined): Map<number, DeliveryT> => {
    for (let i = seconds.length; i <= (n ?? 0); i++) seconds.push(new Map());
    return seconds[n ?? 0]!;
  };
  let skipped = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let parsed: ReturnType<typeof IndexLine.safeParse>;
    try {
      parsed = IndexLine.safeParse(JSON.parse(raw));
    } catch {
      skipped++;
      continue;
    }
    if (!parsed.success) {
      skipped++;
      continue;
    }
    const l = parsed.data;
    if (l.k === 'open') opened.set(l.file, l.from);
    else if (l.k === 'seg') {
      opened.delete(l.file);
      segments.push(l);
    } else if (l.k === 'sec') timeline(l.n).set(l.t, l.d);
    else {
      const m = timeline(l.n);
      for (let t = l.from; t <= l.to && t - l.from < 366 * 86_400; t++) m.set(t, l.d);
    }
  }
  segments.sort((a, b) => a.from - b.from);
  return { segments, open: [...opened].map(([file, from]) => ({ file, from })), seconds, skipped };
}

/** Reads the index of a recordings folder; an absent one is empty. */
export async function readIndex(dir: string): Promise<RecordingIndex> {
  let text = '';
  try {
    text = await fs.readFile(path.join(dir, INDEX_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return parseIndex(text);
}

export function formatLines(lines: readonly IndexLineT[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

/** The whole index as lines (for the atomic rewrite after pruning): segments, still-open ones, the timeline. */
export function indexLines(ix: RecordingIndex): IndexLineT[] {
  const lines: IndexLineT[] = [];
  for (const s of ix.segments) lines.push(s);
  for (const o of ix.open) lines.push({ k: 'open', file: o.file, from: o.from });
  ix.seconds.forEach((timeline, n) => {
    const of = n === 0 ? {} : { n };
    let span: { from: number; to: number; d: DeliveryT } | undefined;
    for (const [t, d] of [...timeline].sort((a, b) => a[0] - b[0])) {
      if (span && span.d === d && span.to === t - 1) span.to = t;
      else {
        if (span) lines.push({ k: 'span', ...span, ...of });
        span = { from: t, to: t, d };
      }
    }
    if (span) lines.push({ k: 'span', ...span, ...of });
  });
  return lines;
}

export async function rewriteIndex(dir: string, ix: RecordingIndex): Promise<void> {
  await writeFileAtomic(path.join(dir, INDEX_FILE), formatLines(indexLines(ix)), 0o600);
}
