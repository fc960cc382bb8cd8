/**
 * What the status page shows of the programme reaches the supervisor's side:
 * the stream unit's pipeline process measures the sound and, when asked,
 * makes a thumbnail of the picture; both cross the fork channel (levels in
 * the statistics, the JPEG as its own message) and the stream unit keeps the
 * latest, also across a pipeline restart. No destination needs to answer:
 * the pipeline runs while the SRT output is still calling.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DestinationConfig } from '../../src/config/schema.js';
import type { PipelineStats, PipelineThumbnail } from '../../src/media/channel.js';
import { Pipeline } from '../../src/media/pipeline.js';
import { defaultMux, testPatternSource } from '../../src/media/spec.js';
import { nativeAvailable } from '../../src/native/index.js';
import { StreamUnit, type StreamUnitOptions } from '../../src/supervisor/stream-unit.js';
import { missingTools, skipWithout } from '../peers.js';
import { tempDir } from './encode-helpers.js';
import { freeUdpPort, makeTestTs, sleep, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the stream unit level and thumbnail tests', [
  ...missingTools('ffmpeg', 'ffprobe'),
  ...(nativeAvailable() ? [] : ['the native addon (npm run build:native)']),
]);

/** The test tone's beep, a -6.02 dBFS sine for 100 ms of each second: the RMS of a second is 10 dB (one tenth of the energy) under the sine's -9.03. */
const TONE_PEAK_DBFS = -6.02;
const TONE_SECOND_RMS_DBFS = -19.03;

const tmp = tempDir('fieldcast-stream-thumb-');
afterAll(() => tmp.remove());

let unit: StreamUnit | undefined;
afterEach(async () => {
  await unit?.stop();
  unit = undefined;
});

async function startUnit(options: StreamUnitOptions): Promise<StreamUnit> {
  // Nobody listens there: the output keeps calling, the pipeline runs regardless.
  const port = await freeUdpPort();
  const u = new StreamUnit(
    {
      source: testPatternSource({ width: 640, height: 360, bitrate: 800_000 }),
      mux: defaultMux(),
      destination: DestinationConfig.parse({ url: `srt://127.0.0.1:${port}`, latencyMs: 200 }),
    },
    options,
  );
  await u.start();
  return u;
}

describe.skipIf(skip)('levels and thumbnails at the stream unit', () => {
  it('with thumbnails: the levels of the test tone and a 320x180 JPEG of the picture, dated now; again after the pipeline is killed', async () => {
    unit = await startUnit({ thumbnails: true });
    const u = unit;
    await waitUntil('levels and a thumbnail at the stream unit', () => u.audioLevels() !== undefined && !!u.thumbnail(), 20_000);
    const levels = u.audioLevels()!;
    expect(levels.peakDbfs).toHaveLength(2);
    expect(levels.rmsDbfs).toHaveLength(2);
    for (const p of levels.peakDbfs) expect(Math.abs(p - TONE_PEAK_DBFS)).toBeLessThan(0.5);
    for (const r of levels.rmsDbfs) expect(Math.abs(r - TONE_SECOND_RMS_DBFS)).toBeLessThan(0.5);

    const t = u.thumbnail()!;
    expect(Buffer.isBuffer(t.jpeg)).toBe(true);
    expect([t.jpeg[0], t.jpeg[1], t.jpeg.at(-2), t.jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]); // SOI ... EOI
    expect({ width: t.width, height: t.height }).toEqual({ width: 320, height: 180 });
    const ageMs = Date.now() - Date.parse(t.at);
    expect(ageMs).toBeGreaterThanOrEqual(0);
    expect(ageMs).toBeLessThan(5_000);
    const file = path.join(tmp.dir, 'unit.jpg');
    writeFileSync(file, t.jpeg);
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]).toString(),
    ) as { streams: unknown[] };
    expect(probe.streams).toEqual([{ codec_name: 'mjpeg', width: 320, height: 180 }]);

    // A new pipeline process is started with the same request and sends its own: of a picture captured after the kill.
    const first = u.pipelinePid!;
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    await waitUntil('a new pipeline process', () => u.pipelinePid !== undefined && u.pipelinePid !== first, 20_000);
    await waitUntil('a thumbnail from the new process', () => Date.parse(u.thumbnail()!.at) > killedAt, 20_000);
    expect(u.thumbnail()!.jpeg.length).toBeGreaterThan(1_000);
  }, 90_000);

  it('without thumbnails: the levels arrive, no picture does', async () => {
    unit = await startUnit({});
    const u = unit;
    await waitUntil('levels at the stream unit', () => u.audioLevels() !== undefined, 20_000);
    // Past the time the first thumbnail would have come.
    await sleep(1_500);
    expect(u.thumbnail()).toBeUndefined();
    expect(u.audioLevels()!.peakDbfs).toHaveLength(2);
  }, 60_000);

  it('a passthrough: no levels in its statistics (its TS is not decoded) and no thumbnail, even when asked', async () => {
    const file = path.join(tmp.dir, 'in.ts');
    makeTestTs(file, 2);
    const p = new Pipeline(
      { source: { kind: 'passthrough', input: file, loop: true }, mux: defaultMux(), seconds: 0, thumbnails: true },
      () => true,
    );
    const stats: PipelineStats[] = [];
    const thumbnails: PipelineThumbnail[] = [];
    p.on('stats', (st) => stats.push(st));
    p.on('thumbnail', (t) => thumbnails.push(t));
    await p.start();
    p.outputReady();
    try {
      await waitUntil('two statistics', () => stats.length >= 2, 10_000);
    } finally {
      await p.stop();
    }
    expect(stats.every((st) => st.picture === 'passthrough' && !('audioPeakDbfs' in st) && !('audioRmsDbfs' in st))).toBe(true);
    expect(thumbnails).toEqual([]);
  }, 30_000);
});
