import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingConfig } from '../../../src/config/schema.js';
import { type DeliverySample, findGaps, MAX_QUEUED_BYTES, readIndex, StreamRecorder } from '../../../src/record/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A 7-packet chunk whose first packet starts a PAT section (PID 0, payload_unit_start). */
function chunk(): Buffer {
  const c = Buffer.alloc(1316, 0xff);
  for (let i = 0; i < 7; i++) c.writeUInt32BE(i === 0 ? 0x47400010 : 0x47010010, i * 188);
  return c;
}
const start = { pat: true, pmt: true, keyframe: true };
const plain = { pat: false, pmt: false, keyframe: false };

describe('StreamRecorder under backpressure', () => {
  it('drops the recording, never blocks, says so, and resumes at the next keyframe once the disk caught up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-rec-'));
    dirs.push(dir);
    const rec = await StreamRecorder.open({
      dir,
      settings: { ...RecordingConfig.parse({}), segmentSeconds: 60 },
      probe: () => [{ connection: 0, connected: false, sentBytes: 0 }],
    });
    const c = chunk();
    // A burst faster than any disk: all of it handed over within one turn of the event loop.
    const burst = Math.ceil((MAX_QUEUED_BYTES * 1.5) / c.length);
    rec.write(c, start);
    for (let i = 0; i < burst; i++) rec.write(c, plain);
    const during = rec.stats();
    expect(during.state).toBe('dropping');
    expect(during.drops).toBe(1);
    expect(during.droppedBytes).toBeGreaterThan(MAX_QUEUED_BYTES * 0.4);
    expect(during.lastError).toContain('the disk is too slow');
    // Once written, recording picks up at the next start point, in a new segment.
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 50; i++) rec.write(c, plain);
    rec.write(c, start);
    for (let i = 0; i < 50; i++) rec.write(c, plain);
    expect(rec.stats().state).toBe('recording');
    await rec.close();
    const ix = await readIndex(dir);
    expect(ix.segments.length).toBe(2);
    expect(ix.segments[0]!.bytes).toBeLessThanOrEqual(MAX_QUEUED_BYTES);
    expect(ix.segments[1]!.bytes).toBe(51 * c.length);
    for (const s of ix.segments) expect(statSync(path.join(dir, s.file)).size).toBe(s.bytes);
    expect(rec.stats().drops).toBe(1);
  });
});

describe('StreamRecorder with two destinations', () => {
  it('keeps a timeline for each: what one acknowledged is not taken for the other', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldcast-rec-'));
    dirs.push(dir);
    let sent = 0;
    // The first destination takes everything and acknowledges it at once; the second is not connected.
    const probe = (): DeliverySample[] => [
      { connection: 1, connected: true, sentBytes: sent * 1316, srt: { sentUnique: sent, sndBuf: 0, dropped: 0 } },
      { connection: 1, connected: false, sentBytes: 0 },
    ];
    const rec = await StreamRecorder.open({ dir, settings: { ...RecordingConfig.parse({}), segmentSeconds: 60 }, probe });
    const c = chunk();
    rec.write(c, start);
    const until = Date.now() + 2600;
    while (Date.now() < until) {
      for (let i = 0; i < 10; i++) rec.write(c, plain);
      sent += 10;
      await new Promise((r) => setTimeout(r, 20));
      rec.srtSample();
    }
    rec.endStream();
    rec.srtSample();
    await rec.close();
    const ix = await readIndex(dir);
    expect(ix.seconds.length).toBe(2);
    const first = [...ix.seconds[0]!.values()];
    const second = [...ix.seconds[1]!.values()];
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(first.filter((d) => d === 'acked').length).toBeGreaterThanOrEqual(2);
    expect(second.length).toBe(first.length);
    expect(second.every((d) => d === 'missed')).toBe(true);
    const summary = findGaps(ix);
    expect(summary.destinations?.map((d) => d.gaps.length > 0)).toEqual([first.some((d) => d !== 'acked'), true]);
    // What any destination missed is what --missed uploads: here, every recorded second.
    expect(summary.ackedS).toBe(0);
  });
});
