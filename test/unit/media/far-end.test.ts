/**
 * The far end's reading of the test pattern's second codes (native/src/test_pattern.h):
 * the pitch of each beep, the black cell in each flash, and the pairing of a
 * beep with the flash of its own code, so an A/V offset of whole seconds is
 * measured as such instead of folding back to 0.
 */
import { describe, expect, it } from 'vitest';
import { TS_WRAP } from '../../../src/lib/clock.js';
import { avOffsets, BEEP_BASE_HZ, BEEP_STEP_HZ, beepCode, findBeeps, type SecondMark } from '../../../src/media/far-end.js';
import { isFlashFrame, readSecondCode, SECOND_CODES } from '../../../src/media/timecode.js';

const RATE = 48_000;
const SECOND = 90_000;
const START = 1_234_567;

/** Flashes of seconds 0..n-1 as the pattern makes them: code n mod 16, a frame or so after each whole second. */
function flashTrain(n: number, start = START): SecondMark[] {
  return Array.from({ length: n }, (_, s) => ({ pts: start + s * SECOND + (s % 3) * 1000, code: s % SECOND_CODES }));
}

/** The same marks `ms` later (audio late when positive). */
function shifted(marks: SecondMark[], ms: number): SecondMark[] {
  return marks.map((m) => ({ pts: m.pts + ms * 90, code: m.code }));
}

/** The test tone of `seconds` seconds: each second's 100 ms beep at its code's pitch, starting `delay` samples in. */
function toneTrack(seconds: number, delay: number): Float32Array {
  const x = new Float32Array(seconds * RATE);
  for (let s = 0; s < seconds; s++) {
    const hz = BEEP_BASE_HZ + BEEP_STEP_HZ * (s % SECOND_CODES);
    const at = s * RATE + delay;
    for (let i = 0; i < 4800; i++) x[at + i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / RATE);
  }
  return x;
}

function sine(hz: number, n: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
}

describe('avOffsets: a beep pairs with the flash of its own code', () => {
  it('measures audio in step, and 1 s and 2 s late or early, as such', () => {
    const flashes = flashTrain(40);
    for (const ms of [0, 12, 1000, 2000, -1000, -2000]) {
      const offsets = avOffsets(flashes, shifted(flashes, ms));
      expect(offsets).toHaveLength(40);
      for (const o of offsets) expect(o).toBeCloseTo(ms, 6);
    }
  });

  it('where pairing with the nearest flash in time would have read 0', () => {
    const flashes = flashTrain(20);
    const late = shifted(flashes, 1000);
    const uncoded = (ms: SecondMark[]): SecondMark[] => ms.map((m) => ({ ...m, code: 0 }));
    // With one code for every second (the old identical beeps), the 1 s offset folds back to the next
    // flash: it reads as the few ms the flashes stand apart from whole seconds.
    const folded = avOffsets(uncoded(flashes), uncoded(late)).slice(0, -1);
    expect(folded).toHaveLength(19);
    for (const o of folded) expect(Math.abs(o)).toBeLessThan(25);
    expect(avOffsets(flashes, late)).toEqual(new Array(20).fill(1000));
  });

  it('pairs within ±8 s only: codes repeat every 16 s', () => {
    const flashes = flashTrain(40);
    // A lone flash and a beep of its code 8 s away or more: no pair.
    expect(avOffsets([{ pts: START, code: 3 }], [{ pts: START + 8 * SECOND, code: 3 }])).toEqual([]);
    expect(avOffsets([{ pts: START, code: 3 }], [{ pts: START + 7.9 * SECOND, code: 3 }])).toEqual([7900]);
    // Beyond that the offset is ambiguous modulo 16 s: 9 s late reads as 7 s early.
    const beyond = avOffsets(flashes, shifted(flashes, 9000));
    expect(beyond.length).toBeGreaterThan(0);
    for (const o of beyond) expect(Math.abs(o + 7000)).toBeLessThan(25);
  });

  it('yields no offsets when nothing pairs', () => {
    const flashes = flashTrain(10);
    expect(avOffsets([], [])).toEqual([]);
    expect(avOffsets(flashes, [])).toEqual([]);
    expect(avOffsets([], flashes)).toEqual([]);
    // Marks whose code could not be read pair with nothing, not with the nearest flash.
    const unread = (ms: SecondMark[]): SecondMark[] => ms.map((m) => ({ pts: m.pts, code: undefined }));
    expect(avOffsets(unread(flashes), flashes)).toEqual([]);
    expect(avOffsets(flashes, unread(flashes))).toEqual([]);
    // Beeps whose codes no flash carries.
    const strangers = flashes.map((m) => ({ pts: m.pts, code: ((m.code ?? 0) + 8) % SECOND_CODES }));
    expect(avOffsets(flashTrain(8), strangers.slice(0, 8))).toEqual([]);
  });

  it('measures across the 33-bit PTS wrap', () => {
    const flashes = flashTrain(10, TS_WRAP - 4 * SECOND);
    const late = shifted(flashes, 1000).map((m) => ({ ...m, pts: m.pts % TS_WRAP }));
    expect(avOffsets(flashes, late)).toEqual(new Array(10).fill(1000));
  });
});

describe('findBeeps: each beep with the code of its pitch', () => {
  it('reads every code from the tone, and an audio track 1 s late pairs 1000 ms late', () => {
    const delay = 6000; // past the 100 ms of quiet an onset needs, as every beep after the first has
    const track = toneTrack(34, delay);
    const beeps = findBeeps(track, START);
    expect(beeps.map((b) => b.code)).toEqual(Array.from({ length: 34 }, (_, s) => s % SECOND_CODES));
    const flashes = beeps.map((_, s) => ({ pts: START + ((s * RATE + delay) * 90_000) / RATE, code: s % SECOND_CODES }));
    // Onsets are read to the 1 ms window.
    for (const o of avOffsets(flashes, beeps)) expect(Math.abs(o)).toBeLessThanOrEqual(1);
    const late = findBeeps(track, START + SECOND);
    const offsets = avOffsets(flashes, late);
    expect(offsets).toHaveLength(34);
    for (const o of offsets) expect(Math.abs(o - 1000)).toBeLessThanOrEqual(1);
  });

  it('does not count a beep cut off by the end of the samples', () => {
    const track = toneTrack(3, 6000).subarray(0, 2 * RATE + 6000 + 2000);
    expect(findBeeps(track, 0).map((b) => b.code)).toEqual([0, 1]);
  });

  it('rejects a beep whose strongest pitch is not clearly above the others', () => {
    const n = 6000;
    for (let c = 0; c < SECOND_CODES; c++) expect(beepCode(sine(BEEP_BASE_HZ + BEEP_STEP_HZ * c, n), 0)).toBe(c);
    // Two pitches at once, a pitch between two codes, noise, silence: no code.
    const a = sine(800, n, 0.25);
    const b = sine(1300, n, 0.25);
    expect(
      beepCode(
        a.map((v, i) => v + b[i]!),
        0,
      ),
    ).toBeUndefined();
    expect(beepCode(sine(850, n), 0)).toBeUndefined();
    let x = 1;
    const noise = Float32Array.from({ length: n }, () => {
      x ^= x << 13; // xorshift32
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 31 - 1;
    });
    expect(beepCode(noise, 0)).toBeUndefined();
    expect(beepCode(new Float32Array(n), 0)).toBeUndefined();
    // Too few samples after the onset to measure.
    expect(beepCode(sine(900, 3000), 0)).toBeUndefined();
  });
});

describe('readSecondCode: the black cell in the flash', () => {
  /** A flash frame's luma as decoded (full range): white above the band, cell `code` of the strip black. */
  function flash(width: number, height: number, dark: number[]): Uint8Array {
    const g = new Uint8Array(width * height).fill(255);
    for (const c of dark)
      for (let y = Math.floor(height / 10); y < Math.floor(height / 5); y++)
        g.fill(0, y * width + Math.floor((width * c) / SECOND_CODES), y * width + Math.floor((width * (c + 1)) / SECOND_CODES));
    return g;
  }

  it('reads the code of every second at 640x360 and 1920x1080, and the flash stays a flash', () => {
    for (const [w, h] of [
      [640, 360],
      [1920, 1080],
    ] as const) {
      for (let c = 0; c < SECOND_CODES; c++) {
        const g = flash(w, h, [c]);
        expect(readSecondCode(g, w, h)).toBe(c);
        expect(isFlashFrame(g, w, h)).toBe(true);
      }
    }
  });

  it('gives no code for a strip with no dark cell, two, or too little contrast', () => {
    expect(readSecondCode(flash(640, 360, []), 640, 360)).toBeUndefined();
    expect(readSecondCode(flash(640, 360, [2, 9]), 640, 360)).toBeUndefined();
    const faint = flash(640, 360, [5]).map((v) => (v === 0 ? 215 : v));
    expect(readSecondCode(faint, 640, 360)).toBeUndefined();
    expect(readSecondCode(new Uint8Array(10), 640, 360)).toBeUndefined();
  });
});
