import { describe, expect, it } from 'vitest';
import { Segmenter } from '../../../src/record/index.js';

type Ev = 'cut' | number;

function run(segmentMs = 1000) {
  const ev: Ev[] = [];
  const s = new Segmenter({ segmentMs, onCut: () => ev.push('cut'), onData: (c) => ev.push(c[0]!) });
  return { s, ev };
}

const chunk = (id: number) => Buffer.from([id]);
const plain = { pat: false, pmt: false, keyframe: false };
const pat = { pat: true, pmt: true, keyframe: false };
const key = { pat: false, pmt: false, keyframe: true };
const patKey = { pat: true, pmt: true, keyframe: true };

describe('Segmenter', () => {
  it('writes nothing before the first PAT + keyframe and starts every segment on one once due', () => {
    const { s, ev } = run();
    s.push(chunk(1), plain, 0);
    s.push(chunk(2), patKey, 10);
    s.push(chunk(3), plain, 500);
    s.push(chunk(4), patKey, 900); // not due yet
    s.push(chunk(5), plain, 1100);
    s.push(chunk(6), patKey, 1200);
    expect(ev).toEqual(['cut', 2, 3, 4, 5, 'cut', 6]);
  });

  it('cuts at the PAT before a keyframe that begins in a following chunk', () => {
    const { s, ev } = run();
    s.push(chunk(1), patKey, 0);
    s.push(chunk(2), pat, 1100); // PAT alone: held
    s.push(chunk(3), plain, 1101);
    s.push(chunk(4), key, 1102); // the keyframe: the new segment starts at chunk 2
    expect(ev).toEqual(['cut', 1, 'cut', 2, 3, 4]);
  });

  it('gives held chunks to the open segment when no keyframe follows the PAT', () => {
    const { s, ev } = run();
    s.push(chunk(1), patKey, 0);
    s.push(chunk(2), pat, 1100);
    s.push(chunk(3), pat, 1150); // another PAT: 2 was not a start
    s.push(chunk(4), key, 1160);
    expect(ev).toEqual(['cut', 1, 2, 'cut', 3, 4]);
  });

  it('cuts at a PAT alone when a stream marks no keyframes for a whole extra segment', () => {
    const { s, ev } = run();
    s.push(chunk(1), pat, 0);
    for (let i = 0; i < 12; i++) s.push(chunk(10), plain, 10 + i);
    expect(ev).toEqual([]);
    s.push(chunk(2), pat, 1000);
    expect(ev).toEqual(['cut', 2]);
    s.push(chunk(3), pat, 2100); // due, no key: held
    s.push(chunk(4), pat, 3000); // a whole segment overdue: cut at it
    expect(ev.slice(2)).toEqual([3, 'cut', 4]);
  });

  it('starts afresh after restart(): nothing until the next start point', () => {
    const { s, ev } = run();
    s.push(chunk(1), patKey, 0);
    s.restart();
    s.push(chunk(2), plain, 10);
    s.push(chunk(3), patKey, 20);
    expect(ev).toEqual(['cut', 1, 'cut', 3]);
  });
});
