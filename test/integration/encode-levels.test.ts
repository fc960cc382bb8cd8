/**
 * The audio meters of the status page, measured natively on the samples the
 * AAC encoder takes: the test tone's beep (a -6.02 dBFS sine of 100 ms at
 * every whole second, native/src/test_pattern.cc) must read what its
 * amplitude predicts, and a silent track the documented floor.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIO_LEVEL_FLOOR_DBFS } from '../../src/media/channel.js';
import { skipWithout } from '../peers.js';
import { encodeToTs, missingForEncode, tempDir } from './encode-helpers.js';

const skip = skipWithout('the audio level tests', missingForEncode());

const tmp = tempDir('fieldcast-levels-');
afterAll(() => tmp.remove());

/** The test tone: 16384 of full-scale 32768, for 4800 of each second's 48000 samples. */
const TONE_AMPLITUDE = 16384 / 32768;
const BEEP_FRACTION = 4800 / 48_000;
const dbfs = (x: number): number => 20 * Math.log10(x);
/** A sine's mean square is A²/2; over a second that holds one beep, that times the beep's share. */
const TONE_PEAK_DBFS = dbfs(TONE_AMPLITUDE); // -6.02
const TONE_SECOND_RMS_DBFS = dbfs(Math.sqrt(((TONE_AMPLITUDE * TONE_AMPLITUDE) / 2) * BEEP_FRACTION)); // -19.03

describe.skipIf(skip)('audio levels in the session statistics', () => {
  it('the test tone: each whole second reads the beep’s peak (-6.02 dBFS) and that second’s RMS (-19.03 dBFS), per channel, as JSON', async () => {
    const seen: { peak: number[]; rms: number[] }[] = [];
    const r = await encodeToTs(
      path.join(tmp.dir, 'tone.ts'),
      { video: 'testpattern', audio: 'testtone', width: 640, height: 360, fps: '30', bitrate: 500_000, codec: 'libx264' },
      (_u, s, i) => {
        // Read while it runs, about once a second (as the pipeline's statistics do), and stop after 3.5 s.
        if (i % 30 === 15) {
          const st = s.stats();
          seen.push({ peak: st.audioPeakDbfs, rms: st.audioRmsDbfs });
        }
        if (i === 105) void s.close();
      },
    );
    // Every read after the first whole second: both channels, at the tone's levels.
    const measured = seen.filter((l) => l.peak.length > 0);
    expect(measured.length).toBeGreaterThanOrEqual(2);
    for (const l of [...measured, { peak: r.stats.audioPeakDbfs, rms: r.stats.audioRmsDbfs }]) {
      expect(l.peak).toHaveLength(2);
      expect(l.rms).toHaveLength(2);
      for (const p of l.peak) expect(Math.abs(p - TONE_PEAK_DBFS)).toBeLessThan(0.5);
      for (const q of l.rms) expect(Math.abs(q - TONE_SECOND_RMS_DBFS)).toBeLessThan(0.5);
    }
    console.log(
      `test tone: peak ${r.stats.audioPeakDbfs.map((x) => x.toFixed(2))} dBFS, RMS ${r.stats.audioRmsDbfs.map((x) => x.toFixed(2))} dBFS`,
    );
    // Numbers that survive the status page's JSON.
    const json = JSON.parse(JSON.stringify(r.stats)) as typeof r.stats;
    expect(json.audioPeakDbfs).toEqual(r.stats.audioPeakDbfs);
  }, 60_000);

  it('no audio ("none", a silent track), mono: one channel at the floor, -100 dBFS, never -Infinity', async () => {
    const r = await encodeToTs(path.join(tmp.dir, 'silence.ts'), {
      video: 'testpattern',
      audio: 'none',
      channels: 1,
      width: 320,
      height: 240,
      fps: '30',
      bitrate: 300_000,
      codec: 'libx264',
      paced: false,
      maxFrames: 75,
    });
    expect(r.stats.audioSilence).toBe(true);
    expect(r.stats.audioPeakDbfs).toEqual([AUDIO_LEVEL_FLOOR_DBFS]);
    expect(r.stats.audioRmsDbfs).toEqual([AUDIO_LEVEL_FLOOR_DBFS]);
    expect(JSON.parse(JSON.stringify(r.stats)).audioPeakDbfs).toEqual([-100]);
  }, 60_000);
});
