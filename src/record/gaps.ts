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

export interface DestinationGaps {
  /** The destination (config order, 0 the first). */
  destination: number;
  gaps: Gap[];
  ackedS: number;
}

export interface RecordingSummary {
  segments: SegmentLineT[];
  /** What any destination missed (a second counts once): what `--missed` uploads. */
  gaps: Gap[];
  recordedS: number;
  /** Seconds every destination acknowledged. */
  ackedS: number;
  /** Each destination's own gaps, when the recording had a second destination. */
  destinations?: DestinationGaps[];
}

/**
 * What the ingest missed, per destination and over all: a recorded second
 * is bad for the first destination unless it acknowledged it (no entry is
 * missed: the box lost power before the acknowledgement); for the second
 * only where its timeline has it as missed or partial (no entry: there was
 * no second destination then). Two flows, or a flow's two sources, may each
 * miss a different stretch; uploading what either missed never skips a loss.
 */
export function findGaps(ix: RecordingIndex): RecordingSummary {
  const seconds = recordedSeconds(ix.segments);
  const verdict = (n: number, t: number): DeliveryT | undefined => ix.seconds[n]?.get(t) ?? (n === 0 ? 'missed' : undefined);
  const worst = (t: number): DeliveryT => {
    let d: DeliveryT = 'acked';
    for (let n = 0; n < Math.max(1, ix.seconds.length); n++) {
      const v = verdict(n, t);
      if (v === 'missed') return v;
      if (v === 'partial') d = v;
    }
    return d;
  };
  const all = gapsOf(seconds, worst);
  const summary: RecordingSummary = { segments: [...ix.segments], gaps: all.gaps, recordedS: seconds.length, ackedS: all.ackedS };
  const second = ix.seconds[1];
  if (second && second.size > 0) {
    summary.destinations = ix.seconds.map((_, n) => {
      const own = gapsOf(seconds, (t) => verdict(n, t) ?? 'acked');
      return { destination: n, gaps: own.gaps, ackedS: own.ackedS };
    });
  }
  return summary;
}

/** Each recorded second once (epoch s, in order) with the segments that hold it. */
function recordedSeconds(segments: readonly SegmentLineT[]): { t: number; files: string[] }[] {
  const byT = new Map<number, string[]>();
  for (const seg of segments) {
    const first = Math.floor(seg.from / 1000);
    const last = Math.max(first, Math.ceil(seg.to / 1000) - 1);
    for (let t = first; t <= last; t++) {
      const files = byT.get(t);
      if (!files) byT.set(t, [seg.file]);
      else if (!files.includes(seg.file)) files.push(seg.file);
    }
  }
  return [...byT].sort((a, b) => a[0] - b[0]).map(([t, files]) => ({ t, files }));
}

/** The runs of seconds `of` does not call acked (joined across short acknowledged stretches). */
function gapsOf(seconds: readonly { t: number; files: string[] }[], of: (t: number) => DeliveryT): { gaps: Gap[]; ackedS: number } {
  const gaps: Gap[] = [];
  let ackedS = 0;
  let open: Gap | undefined;
  let lastBad = -Infinity;
  for (const { t, files } of seconds) {
    const d = of(t);
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
    for (const f of files) if (!open.files.includes(f)) open.files.push(f);
  }
  return { gaps, ackedS };
}

/** Which segments hold time in [fromMs, toMs]. */
export function segmentsBetween(segments: readonly SegmentLineT[], fromMs: number, toMs: number): SegmentLineT[] {
  return segments.filter((s) => s.to >= fromMs && s.from <= toMs);
}

/** The segments that hold what the ingest missed: at any destination, or at `destination` only. */
export function missedSegments(summary: RecordingSummary, destination?: number): SegmentLineT[] {
  const gaps =
    destination === undefined
      ? summary.gaps
      : summary.destinations
        ? (summary.destinations[destination]?.gaps ?? [])
        : destination === 0
          ? summary.gaps
          : [];
  const files = new Set(gaps.flatMap((g) => g.files));
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
    lines.push(
      r.destinations
        ? 'Both destinations acknowledged all of it: the ingest missed nothing.'
        : 'The destination acknowledged all of it: the ingest missed nothing.',
    );
    return lines.join('\n');
  }
  if (!r.destinations) {
    lines.push(...describeGaps(r.gaps, r.recordedS - r.ackedS, 'The ingest'));
    lines.push('Upload them with: fieldcast record upload --bucket BUCKET --missed');
    return lines.join('\n');
  }
  for (const d of r.destinations) {
    const name = `Destination ${d.destination + 1}`;
    if (d.gaps.length === 0) lines.push(`${name} acknowledged all of it.`);
    else lines.push(...describeGaps(d.gaps, r.recordedS - d.ackedS, name));
  }
  lines.push(
    "Upload what either missed with: fieldcast record upload --bucket BUCKET --missed (one destination's only: add --destination N)",
  );
  return lines.join('\n');
}

function describeGaps(gaps: readonly Gap[], missedS: number, who: string): string[] {
  const lines = [`${who} missed ${formatDuration(missedS)} in ${gaps.length} ${gaps.length === 1 ? 'gap' : 'gaps'}:`];
  for (const g of gaps) {
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
  return lines;
}
