/**
 * What the ingest missed, from the recordings' index: runs of recorded
 * seconds the destination did not acknowledge (delivery.ts), in wall-clock
 * time, with the segments that hold them — what `fieldcast record list`
 * prints and what `record upload --missed` sends.
 *
 * A recorded second with no timeline entry (the box lost power before its
 * acknowledgement came) counts as missed: never skip what may be lost.
 */
import type { DeliveryT, RecordingIndex, SegmentLineT } from './index-file.js';

/** Acknowledged seconds shorter than this between two gaps join them (one outage, one line). */
const JOIN_S = 2;

export interface Gap {
  /** First and last second of it (epoch s, inclusive). */
  from: number;
  to: number;
  /** Seconds nothing of which reached the destination, and seconds only part of which did. */
  missedS: number;
  partialS: number;
  /** The segments that hold it. */
  files: string[];
}

export interface RecordingSummary {
  segments: SegmentLineT[];
  gaps: Gap[];
  recordedS: number;
  ackedS: number;
}

export function findGaps(ix: RecordingIndex): RecordingSummary {
  const gaps: Gap[] = [];
  let recordedS = 0;
  let ackedS = 0;
  let open: Gap | undefined;
  let lastBad = -Infinity;
  const seen = new Set<number>();
  for (const seg of ix.segments) {
    const first = Math.floor(seg.from / 1000);
    const last = Math.max(first, Math.ceil(seg.to / 1000) - 1);
    for (let t = first; t <= last; t++) {
      if (seen.has(t)) {
        if (open && t <= open.to && !open.files.includes(seg.file)) open.files.push(seg.file);
        continue;
      }
      seen.add(t);
      recordedS++;
      const d: DeliveryT = ix.seconds.get(t) ?? 'missed';
      if (d === 'acked') {
        ackedS++;
        continue;
      }
      if (open && t - lastBad <= JOIN_S) open.to = t;
      else {
        open = { from: t, to: t, missedS: 0, partialS: 0, files: [] };
        gaps.push(open);
      }
      lastBad = t;
      if (d === 'missed') open.missedS++;
      else open.partialS++;
      if (!open.files.includes(seg.file)) open.files.push(seg.file);
    }
  }
  return { segments: [...ix.segments], gaps, recordedS, ackedS };
}

/** Which segments hold time in [fromMs, toMs]. */
export function segmentsBetween(segments: readonly SegmentLineT[], fromMs: number, toMs: number): SegmentLineT[] {
  return segments.filter((s) => s.to >= fromMs && s.from <= toMs);
}

/** The segments that hold what the ingest missed. */
export function missedSegments(summary: RecordingSummary): SegmentLineT[] {
  const files = new Set(summary.gaps.flatMap((g) => g.files));
  return summary.segments.filter((s) => files.has(s.file));
}

function clock(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatDuration(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The summary in plain words, one line per gap (UTC). */
export function formatSummary(r: RecordingSummary): string {
  if (r.segments.length === 0) return 'No recordings kept (is recording.enabled on?).';
  const first = r.segments[0]!;
  const last = r.segments[r.segments.length - 1]!;
  const lines = [
    `Recorded ${clock(first.from)} to ${clock(last.to)} UTC: ${r.segments.length} segments, ${formatDuration(r.recordedS)} of stream.`,
  ];
  const torn = r.segments.filter((s) => s.torn);
  if (torn.length > 0) lines.push(`Cut short by a power cut or crash (kept up to the cut): ${torn.map((s) => s.file).join(', ')}.`);
  if (r.gaps.length === 0) {
    lines.push('The destination acknowledged all of it: the ingest missed nothing.');
    return lines.join('\n');
  }
  const missed = r.recordedS - r.ackedS;
  lines.push(`The ingest missed ${formatDuration(missed)} in ${r.gaps.length} ${r.gaps.length === 1 ? 'gap' : 'gaps'}:`);
  for (const g of r.gaps) {
    const len = g.to - g.from + 1;
    const how =
      g.partialS === 0
        ? 'nothing arrived'
        : g.missedS === 0
          ? 'only part arrived'
          : `nothing arrived for ${g.missedS} s, part for ${g.partialS} s`;
    lines.push(
      `  ${clock(g.from * 1000)} to ${clock((g.to + 1) * 1000).slice(11)} UTC (${formatDuration(len)}): ${how} — in ${g.files.join(', ')}`,
    );
  }
  lines.push('Upload them with: fieldcast record upload --bucket BUCKET --missed');
  return lines.join('\n');
}
