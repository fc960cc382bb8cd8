/**
 * `fieldcast record list` and `record upload` (the built CLI) against
 * s3rver as the real S3 peer: the gaps in plain words, the upload of only
 * the segments holding what the ingest missed, and an upload killed
 * mid-part (SIGKILL) and run again that completes from where it stopped
 * with the object byte-identical to the segment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentName } from '../../src/record/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { type S3Peer, S3RVER_ENV, startS3rver } from './s3-peer.js';
import { makeTestTs, TempDir, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the recording upload tests', missingTools('ffmpeg'));
const BIN = path.join(import.meta.dirname, '../../bin/fieldcast.js');
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

let s3: S3Peer | undefined;
let child: ChildProcess | undefined;
const temps: TempDir[] = [];
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await s3?.close();
  s3 = undefined;
  for (const t of temps.splice(0)) t.remove();
});

/** A state directory with recordings: segments of `sizes` bytes (TS data), 30 s each, and the seconds `missed` (from T0) never acknowledged. */
function recordings(
  sizes: number[],
  missed: (t: number) => boolean,
  missedBySecond?: (t: number) => boolean,
): { stateDir: string; dir: string; files: string[] } {
  const tmp = new TempDir();
  temps.push(tmp);
  const ts = makeTestTs(tmp.file('src.ts'), 4).bytes;
  const stateDir = tmp.file('state');
  const dir = path.join(stateDir, 'recordings');
  mkdirSync(dir, { recursive: true });
  const lines: object[] = [];
  const files: string[] = [];
  sizes.forEach((size, i) => {
    const from = T0 + i * 30_000;
    const file = segmentName(from);
    const data = Buffer.alloc(size);
    for (let o = 0; o < size; o += ts.length) ts.copy(data, o, 0, Math.min(ts.length, size - o));
    data.writeUInt32BE(i, 200); // each segment its own bytes
    writeFileSync(path.join(dir, file), data);
    files.push(file);
    lines.push({ k: 'open', file, from }, { k: 'seg', file, from, to: from + 30_000, bytes: size });
  });
  for (let t = 0; t < sizes.length * 30; t++) lines.push({ k: 'sec', t: T0 / 1000 + t, d: missed(t) ? 'missed' : 'acked' });
  if (missedBySecond) {
    for (let t = 0; t < sizes.length * 30; t++) lines.push({ k: 'sec', t: T0 / 1000 + t, d: missedBySecond(t) ? 'missed' : 'acked', n: 1 });
  }
  writeFileSync(path.join(dir, 'index.ndjson'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return { stateDir, dir, files };
}

function cli(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const c = spawn(process.execPath, [BIN, 'record', ...args], {
    env: { ...process.env, ...S3RVER_ENV, FIELDCAST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  c.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  c.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { child: c, done: new Promise((r) => c.once('exit', (code) => r({ code, out }))) };
}

describe.skipIf(skip)('fieldcast record: what the ingest missed, uploaded to s3rver', () => {
  it('lists the gap in wall-clock time and uploads only the segment that holds it', async () => {
    // Three segments; the ingest missed 12:00:41 to 12:00:52.
    const { stateDir, dir, files } = recordings([300_000, 300_000, 300_000], (t) => t >= 41 && t < 53);
    const list = await cli(['list', '--state-dir', stateDir]).done;
    expect(list.code).toBe(0);
    expect(list.out).toContain('The ingest missed 12 s in 1 gap:');
    expect(list.out).toContain(`2026-12-03 12:00:41 to 12:00:53 UTC (12 s): nothing arrived — in ${files[1]}`);

    s3 = await startS3rver();
    const missedToShow = [
      'upload',
      '--state-dir',
      stateDir,
      '--bucket',
      s3.bucket,
      '--prefix',
      'show/',
      '--missed',
      '--endpoint',
      s3.endpoint,
    ];
    const up = await cli(missedToShow).done;
    expect(up.out).toContain('Done: 1 uploaded, 0 already there');
    expect(up.code).toBe(0);
    expect(await s3.keys()).toEqual([`show/${files[1]}`]);
    expect((await s3.get(`show/${files[1]}`)).equals(readFileSync(path.join(dir, files[1]!)))).toBe(true);

    // Again: nothing is sent twice.
    const again = await cli(missedToShow).done;
    expect(again.out).toContain('Done: 0 uploaded, 1 already there');
  }, 60_000);

  it("with two destinations: lists what each missed, uploads what either missed, or one destination's only", async () => {
    // The first destination missed 12:00:41-52 (segment 2), the second 12:01:05-09 (segment 3).
    const { stateDir, files } = recordings(
      [300_000, 300_000, 300_000],
      (t) => t >= 41 && t < 53,
      (t) => t >= 65 && t < 70,
    );
    const list = await cli(['list', '--state-dir', stateDir]).done;
    expect(list.code).toBe(0);
    expect(list.out).toContain('Destination 1 missed 12 s in 1 gap:');
    expect(list.out).toContain(
      `Destination 2 missed 5 s in 1 gap:\n  2026-12-03 12:01:05 to 12:01:10 UTC (5 s): nothing arrived — in ${files[2]}`,
    );

    const wrong = await cli(['upload', '--state-dir', stateDir, '--bucket', 'b', '--all', '--destination', '2']).done;
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain('--destination goes with --missed');
    const third = await cli(['upload', '--state-dir', stateDir, '--bucket', 'b', '--missed', '--destination', '3']).done;
    expect(third.code).not.toBe(0);
    expect(third.out).toContain('--destination');

    s3 = await startS3rver();
    const up = ['upload', '--state-dir', stateDir, '--bucket', s3.bucket, '--endpoint', s3.endpoint, '--missed'];
    expect((await cli([...up, '--destination', '2']).done).out).toContain('Done: 1 uploaded, 0 already there');
    expect(await s3.keys()).toEqual([files[2]]);
    expect((await cli(up).done).out).toContain('Done: 1 uploaded, 1 already there');
    expect((await s3.keys()).sort()).toEqual([files[1], files[2]].sort());
  }, 60_000);

  it('an upload killed mid-part resumes from the state file and completes byte-identical', async () => {
    const size = 12 * 1024 * 1024 + 12_345; // three parts: 5 MiB, 5 MiB and the rest
    const { stateDir, dir, files } = recordings([size], () => false);
    s3 = await startS3rver();
    const args = ['upload', '--state-dir', stateDir, '--bucket', s3.bucket, '--all', '--endpoint', s3.endpoint];
    const first = cli([...args, '--rate', '24M']);
    child = first.child;
    const stateFile = path.join(dir, 'upload-state.json');
    await waitUntil(
      'the first part done',
      () => existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes('"PartNumber":1'),
      30_000,
    );
    // Mid part 2 (it takes about 1.7 s at 24 Mbit/s).
    await new Promise((r) => setTimeout(r, 600));
    child.kill('SIGKILL');
    const cut = await first.done;
    expect(cut.code).toBe(null);
    expect(cut.out).not.toContain('Done:');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { objects: Record<string, { uploadId?: string; parts: unknown[] }> };
    const obj = state.objects[`${s3.bucket}/${files[0]}`]!;
    expect(obj.uploadId).toBeTruthy();
    expect(obj.parts.length).toBe(1);
    expect(await s3.keys()).toEqual([]);

    const second = await cli([...args, '--rate', '200M']).done;
    expect(second.code).toBe(0);
    expect(second.out).not.toContain('part 1/3');
    expect(second.out).toContain('part 2/3');
    expect(second.out).toContain('part 3/3');
    expect(second.out).toContain('Done: 1 uploaded');
    const got = await s3.get(files[0]!);
    expect(got.length).toBe(size);
    expect(got.equals(readFileSync(path.join(dir, files[0]!)))).toBe(true);
  }, 90_000);

  it('says what is wrong with a bad selection, and uploads nothing', async () => {
    const { stateDir } = recordings([1000], () => false);
    const r = await cli(['upload', '--state-dir', stateDir, '--bucket', 'b', '--missed', '--all']).done;
    expect(r.code).toBe(2);
    expect(r.out).toContain('one of --missed, --all, or --from T --to T');
    const t = await cli(['upload', '--state-dir', stateDir, '--bucket', 'b', '--from', 'yesterday', '--to', 'now']).done;
    expect(t.code).toBe(1);
    expect(t.out).toContain('--from "yesterday" is not a time');
  }, 30_000);
});
