/**
 * Recordings to S3, resumable across a restart of the command: each segment
 * becomes one object (PREFIX + its file name) by multipart upload
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload). The state
 * file beside the segments (`upload-state.json`, written atomically after
 * each part) records each object's upload id and the parts done with their
 * ETags; a second run goes on from the first part not done, after asking
 * the endpoint (ListParts) which parts it holds — an endpoint that does not
 * answer ListParts (s3rver) is taken at the state file's word, and an upload
 * it no longer knows (NoSuchUpload: aborted or expired) starts afresh.
 *
 * Low priority: bodies are paced by a token bucket (rate-limit.ts; the CLI
 * default is conservative) and sent one part at a time.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { createLogger } from '../lib/logger.js';
import { UploadFailedError } from './errors.js';
import type { SegmentLineT } from './index-file.js';
import { RateLimiter } from './rate-limit.js';

const log = createLogger('record.upload');

export const UPLOAD_STATE_FILE = 'upload-state.json';
/** S3's smallest part but the last (5 MiB). */
export const PART_BYTES = 5 << 20;

const ObjectState = z.object({
  file: z.string(),
  size: z.number().int().min(0),
  uploadId: z.string().optional(),
  partBytes: z.number().int().min(PART_BYTES),
  parts: z.array(z.object({ PartNumber: z.number().int().min(1), ETag: z.string() })),
  done: z.boolean(),
});
type ObjectStateT = z.infer<typeof ObjectState>;
const UploadState = z.object({ version: z.literal(1), objects: z.record(z.string(), ObjectState) });
type UploadStateT = z.infer<typeof UploadState>;

export interface UploadTarget {
  bucket: string;
  /** Prepended to each segment's file name ("show-42/" → show-42/20261203-120501-123.ts). */
  prefix: string;
  /** The SDK's own options: region, credentials (else the default chain), endpoint, forcePathStyle. */
  client: S3ClientConfig;
  /** Upload rate limit, bit/s. */
  rateBps: number;
}

export interface UploadProgress {
  file: string;
  key: string;
  part: number;
  parts: number;
  bytesDone: number;
  size: number;
}

export interface UploadReport {
  uploaded: string[];
  /** Already whole at the endpoint (an earlier run). */
  skipped: string[];
  bytesSent: number;
  seconds: number;
}

/** Uploads `segments` of the recordings folder `dir`, resuming what an earlier run left. */
export async function uploadSegments(
  dir: string,
  segments: readonly SegmentLineT[],
  target: UploadTarget,
  onProgress: (p: UploadProgress) => void = () => {},
  signal?: AbortSignal,
): Promise<UploadReport> {
  const client = new S3Client(target.client);
  const limiter = new RateLimiter(target.rateBps);
  const stateFile = path.join(dir, UPLOAD_STATE_FILE);
  const state = await readState(stateFile);
  const report: UploadReport = { uploaded: [], skipped: [], bytesSent: 0, seconds: 0 };
  const started = performance.now();
  try {
    for (const seg of segments) {
      signal?.throwIfAborted();
      const key = `${target.prefix}${seg.file}`;
      const id = `${target.bucket}/${key}`;
      const data = await fs.readFile(path.join(dir, seg.file));
      let obj: ObjectStateT | undefined = state.objects[id];
      if (obj && obj.size !== data.length) obj = undefined; // the segment changed (mended after a cut): anew
      if (obj?.done) {
        report.skipped.push(seg.file);
        continue;
      }
      obj ??= { file: seg.file, size: data.length, partBytes: PART_BYTES, parts: [], done: false };
      state.objects[id] = obj;
      await resume(client, target.bucket, key, obj);
      if (!obj.uploadId) {
        const r = await call('start the upload of', key, () =>
          client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: key, ContentType: 'video/mp2t' }), {
            abortSignal: signal,
          }),
        );
        if (!r.UploadId) throw new UploadFailedError(`the endpoint gave no upload id for ${key}`, { key });
        obj.uploadId = r.UploadId;
        obj.parts = [];
        await writeState(stateFile, state);
      }
      const count = Math.max(1, Math.ceil(data.length / obj.partBytes));
      for (let n = 1; n <= count; n++) {
        if (obj.parts.some((p) => p.PartNumber === n)) continue;
        const body = data.subarray((n - 1) * obj.partBytes, Math.min(data.length, n * obj.partBytes));
        const r = await call('upload a part of', key, () =>
          client.send(
            new UploadPartCommand({
              Bucket: target.bucket,
              Key: key,
              UploadId: obj.uploadId,
              PartNumber: n,
              Body: limiter.stream(body, signal),
              ContentLength: body.length,
            }),
            { abortSignal: signal },
          ),
        );
        if (!r.ETag) throw new UploadFailedError(`the endpoint gave no ETag for part ${n} of ${key}`, { key, part: n });
        obj.parts.push({ PartNumber: n, ETag: r.ETag });
        report.bytesSent += body.length;
        await writeState(stateFile, state);
        onProgress({ file: seg.file, key, part: n, parts: count, bytesDone: Math.min(data.length, n * obj.partBytes), size: data.length });
      }
      const parts = [...obj.parts].sort((a, b) => a.PartNumber - b.PartNumber);
      await call('finish the upload of', key, () =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: target.bucket,
            Key: key,
            UploadId: obj.uploadId,
            MultipartUpload: { Parts: parts },
          }),
          { abortSignal: signal },
        ),
      );
      obj.done = true;
      delete obj.uploadId;
      await writeState(stateFile, state);
      report.uploaded.push(seg.file);
      log.info('uploaded', { file: seg.file, key, bytes: data.length });
    }
  } finally {
    client.destroy();
    report.seconds = (performance.now() - started) / 1000;
  }
  return report;
}

/** Asks the endpoint which parts of an unfinished upload it holds; its answer wins over the state file. */
async function resume(client: S3Client, bucket: string, key: string, obj: ObjectStateT): Promise<void> {
  if (!obj.uploadId) return;
  try {
    const r = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: obj.uploadId }));
    const held = new Map((r.Parts ?? []).map((p) => [p.PartNumber, p.ETag]));
    obj.parts = obj.parts.filter((p) => held.get(p.PartNumber) === p.ETag);
    for (const [n, etag] of held)
      if (n && etag && !obj.parts.some((p) => p.PartNumber === n)) obj.parts.push({ PartNumber: n, ETag: etag });
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchUpload') {
      log.info('the endpoint no longer knows the upload: starting it afresh', { key });
      delete obj.uploadId;
      obj.parts = [];
      return;
    }
    // NotImplemented, MethodNotAllowed (local servers): the state file's parts stand.
    log.debug('ListParts not answered: going on from the state file', { key, error: name });
  }
}

async function call<T>(what: string, key: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    const name = (e as { name?: string }).name ?? 'Error';
    const msg = (e as Error).message ?? String(e);
    throw new UploadFailedError(`could not ${what} ${key}: ${name}: ${msg} (run the command again to resume)`, { key, error: name }, e);
  }
}

async function readState(file: string): Promise<UploadStateT> {
  try {
    const parsed = UploadState.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    if (parsed.success) return parsed.data;
    log.warn('the upload state file does not fit: starting anew', { file });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('the upload state file cannot be read: starting anew', { file });
  }
  return { version: 1, objects: {} };
}

async function writeState(file: string, state: UploadStateT): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state)}\n`, 0o600);
}
