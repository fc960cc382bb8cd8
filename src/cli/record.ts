/**
 * `fieldcast record`: the recordings the box keeps of what it sends
 * (config `recording`, src/record): which stretches the ingest missed, in
 * plain words, and their upload to S3 — resumable, rate-limited, at low
 * CPU priority, so it can run while the box is live.
 */
import { setPriority } from 'node:os';
import path from 'node:path';
import { MAX_DESTINATIONS } from '../config/schema.js';
import { formatBitrate, parseBitrate } from '../lib/units.js';
import { findGaps, formatSummary, missedSegments, RECORDINGS_DIR, RecordInputError, readIndex, segmentsBetween } from '../record/index.js';
import { uploadSegments } from '../record/upload.js';
import { stateDir } from '../supervisor/paths.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

/** 2 Mbit/s: under what one cellular uplink leaves beside a live stream. */
const DEFAULT_RATE = '2M';

const usage = `Usage: fieldcast record list [--state-dir DIR] [--json]
       fieldcast record upload --bucket B [--prefix P] (--missed [--destination N] | --all | --from T --to T)
                               [--rate R] [--region R] [--endpoint URL] [--state-dir DIR]

  list     what is recorded and which stretches the destination never
           acknowledged (the ingest missed them), in UTC; each destination's
           own when there were two
  upload   send segments to an S3 bucket as one object each (PREFIX + file name),
           by multipart upload; run it again after an interruption and it
           resumes where it stopped (upload-state.json beside the segments)

  --missed          the segments that hold what the ingest missed (with two
                    destinations, what either of them missed)
  --destination N   with --missed: only what destination N (1 or 2) missed
  --all             every segment kept
  --from T --to T   the segments holding time between T and T (ISO 8601,
                    e.g. 2026-12-03T12:05:00Z)
  --rate R          upload limit (default ${DEFAULT_RATE} bit/s: e.g. 500k, 5M), so the
                    live stream keeps its uplinks
  --region R        the bucket's region (default $AWS_REGION, else us-east-1)
  --endpoint URL    another S3 endpoint than AWS's (a local server); path-style
  --state-dir DIR   the box's state directory (the same default as fieldcast run)

Credentials come from the AWS SDK's standard chain (AWS_PROFILE,
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role).`;

function parseTime(text: string, flag: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new RecordInputError(`${flag} "${text}" is not a time (ISO 8601, e.g. 2026-12-03T12:05:00Z)`);
  return ms;
}

export const command: Command = {
  name: 'record',
  summary: 'the recordings of what the box sent: what the ingest missed, and their upload to S3',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        'state-dir': { type: 'string' },
        json: { type: 'boolean' },
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        missed: { type: 'boolean' },
        destination: { type: 'string' },
        all: { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        rate: { type: 'string' },
        region: { type: 'string' },
        endpoint: { type: 'string' },
      },
      true,
    );
    const [op, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
    const dir = path.join(stateDir({ flag: values['state-dir'], env: process.env, uid: process.getuid?.() ?? 0 }), RECORDINGS_DIR);
    const summary = findGaps(await readIndex(dir));
    if (op === 'list') {
      out(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
      return 0;
    }
    if (op !== 'upload') throw new UsageError(op ? `unknown record command "${op}"` : 'record needs list or upload');
    if (!values.bucket) throw new UsageError('record upload needs --bucket');
    const picks = [values.missed, values.all, values.from !== undefined || values.to !== undefined].filter(Boolean).length;
    if (picks !== 1) throw new UsageError('say what to upload: one of --missed, --all, or --from T --to T');
    let segments = summary.segments;
    if (values.destination !== undefined && !values.missed) throw new UsageError('--destination goes with --missed');
    if (values.missed) {
      const n = values.destination === undefined ? undefined : numberOption(values.destination, '--destination', 1, MAX_DESTINATIONS)! - 1;
      if (n !== undefined && n > 0 && !summary.destinations)
        throw new RecordInputError(`nothing was recorded while there was a destination ${n + 1}`);
      segments = missedSegments(summary, n);
    } else if (!values.all) {
      if (values.from === undefined || values.to === undefined) throw new UsageError('--from and --to go together');
      const from = parseTime(values.from, '--from');
      const to = parseTime(values.to, '--to');
      if (to < from) throw new RecordInputError('--to is before --from');
      segments = segmentsBetween(summary.segments, from, to);
    }
    if (segments.length === 0) {
      out(values.missed ? 'Nothing to upload: the ingest missed nothing that is recorded.' : 'Nothing recorded in that selection.');
      return 0;
    }
    const rateBps = parseBitrate(values.rate ?? DEFAULT_RATE, '--rate');
    // Below the live stream's processes for the CPU as well (as nice 10 would).
    try {
      setPriority(10);
    } catch {
      // Not allowed here: the rate limit still holds.
    }
    const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
    out(`Uploading ${segments.length} segments to s3://${values.bucket}/${values.prefix ?? ''} at up to ${formatBitrate(rateBps)}`);
    const report = await uploadSegments(
      dir,
      segments,
      {
        bucket: values.bucket,
        prefix: values.prefix ?? '',
        rateBps,
        client: { region, ...(values.endpoint ? { endpoint: values.endpoint, forcePathStyle: true } : {}) },
      },
      (p) => out(`  ${p.file}: part ${p.part}/${p.parts} (${Math.round((100 * p.bytesDone) / p.size)} %)`),
    );
    out(
      `Done: ${report.uploaded.length} uploaded, ${report.skipped.length} already there` +
        `${report.gone.length > 0 ? `, ${report.gone.length} deleted by retention before they could be sent` : ''}; ` +
        `${(report.bytesSent / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s`,
    );
    return 0;
  },
};
