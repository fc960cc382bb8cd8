/**
 * A power cut mid-segment: the recorder's process is SIGKILLed (nothing of
 * it runs after) while a segment is being written. At the next start the
 * recordings folder is mended: every earlier segment decodes whole
 * (ffprobe) with an unbroken TS (the analyser), the torn one is cut back to
 * its last whole packet and decodes up to there, the index survives, and
 * the segments together are exactly the stream as it was fed, from the
 * first segment's start to the cut — nothing lost but the torn tail.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TsAnalyser } from '../../src/mux/index.js';
import { readIndex, SegmentStore } from '../../src/record/index.js';
import { missingTools, skipWithout } from '../peers.js';
import { makeTestTs, probe, TempDir, waitUntil } from './srt-helpers.js';

const skip = skipWithout('the recording power-cut test', missingTools('ffmpeg', 'ffprobe'));

let child: ChildProcess | undefined;
const temps: TempDir[] = [];
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  for (const t of temps.splice(0)) t.remove();
});

describe.skipIf(skip)('recording through a power cut', () => {
  it('SIGKILL mid-segment: earlier segments play whole, the torn one only loses its tail, the index survives', async () => {
    const tmp = new TempDir();
    temps.push(tmp);
    const source = tmp.file('source.ts');
    const { bytes, bitsPerSecond } = makeTestTs(source, 14);
    const dir = tmp.file('recordings');
    const feeder = path.join(import.meta.dirname, 'record-feeder.mjs');
    child = spawn(process.execPath, [feeder, source, dir, String(Math.round(bitsPerSecond)), '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    child.stdout?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    // Three closed segments, and the fourth under way with data on disk: cut the power.
    const closedAndOpen = (): boolean => {
      try {
        const text = readFileSync(path.join(dir, 'index.ndjson'), 'utf8');
        const closed = text.match(/"k":"seg"/g)?.length ?? 0;
        const opens = [...text.matchAll(/"k":"open","file":"([^"]+)"/g)].map((m) => m[1]!);
        const last = opens[opens.length - 1];
        return closed >= 3 && opens.length === closed + 1 && last !== undefined && statSync(path.join(dir, last)).size > 0;
      } catch {
        return false;
      }
    };
    await waitUntil(`three segments and a fourth under way (feeder said: ${said})`, closedAndOpen, 20_000);
    expect(said).not.toContain('end of file');
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    // Before mending: the torn one is only announced.
    const before = await readIndex(dir);
    expect(before.open.length).toBe(1);
    const tornFile = before.open[0]!.file;

    await SegmentStore.open(dir);
    const ix = await readIndex(dir);
    expect(ix.open).toEqual([]);
    expect(ix.segments.length).toBe(before.segments.length + 1);
    const torn = ix.segments[ix.segments.length - 1]!;
    expect(torn).toMatchObject({ file: tornFile, torn: true });
    const files = ix.segments.map((s) => readFileSync(path.join(dir, s.file)));
    for (const [i, s] of ix.segments.entries()) {
      const f = files[i]!;
      expect(f.length).toBe(s.bytes);
      expect(f.length % 188).toBe(0);
      // Each plays by itself: it starts with a PAT and decodes.
      expect(f.readUInt8(0)).toBe(0x47);
      expect(((f[1]! & 0x1f) << 8) | f[2]!).toBe(0);
      const p = probe(path.join(dir, s.file));
      expect(p.codecs).toEqual(['aac', 'h264']);
      expect(p.videoFrames).toBeGreaterThan(0);
      const a = new TsAnalyser();
      a.push(f);
      const rep = a.report();
      expect(rep.checks.Continuity_count_error).toBe(0);
      expect(rep.checks.TS_sync_loss).toBe(0);
    }
    // Together they are the stream as fed, from the first segment's start to the cut.
    const all = Buffer.concat(files);
    const at = bytes.indexOf(files[0]!.subarray(0, 1316));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(all.equals(bytes.subarray(at, at + all.length))).toBe(true);
    console.log(
      `power cut: ${ix.segments.length - 1} whole segments kept, the torn one ${torn.bytes} bytes; ` +
        `${all.length} of the ${bytes.length - at} bytes fed from the first start point`,
    );
  }, 60_000);
});
