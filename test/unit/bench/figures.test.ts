import { describe, expect, it } from 'vitest';
import { checkFigures, FigureSheet, formatFigure } from '../../../src/bench/index.js';

describe('benchmark figures: only what was observed is printed', () => {
  it('a figure that was not measured is recorded with why, never as a number', () => {
    const sheet = new FigureSheet()
      .add('pictures', 0)
      .measured('mean_offset_ms', undefined, 'ms', 'no flash/beep pair was found')
      .measured('ratio', Number.NaN, undefined, 'the peer used no CPU')
      .add('infinite', Number.POSITIVE_INFINITY)
      .missing('srt_overhead', 'the caller wrote no statistics');
    const r = sheet.result('nothing held');
    expect(r.figures).toEqual([{ name: 'pictures', value: 0 }]);
    expect(r.unobserved).toEqual([
      'mean_offset_ms: no flash/beep pair was found',
      'ratio: the peer used no CPU',
      'infinite: not a finite number (Infinity)',
      'srt_overhead: the caller wrote no statistics',
    ]);
  });

  it('a result with nothing missing says so by having no unobserved list', () => {
    const r = new FigureSheet().add('a', 1.5, 'ms').add('b', 'not needed').result('ok');
    expect(r).toEqual({
      figures: [
        { name: 'a', value: 1.5, unit: 'ms' },
        { name: 'b', value: 'not needed' },
      ],
      verdict: 'ok',
    });
    expect(r.figures.map(formatFigure)).toEqual(['a: 1.500 ms', 'b: not needed']);
  });

  it('a scenario that builds its own figures still cannot print NaN: checkFigures moves it to unobserved', () => {
    const r = checkFigures({
      figures: [
        { name: 'ok', value: 3 },
        { name: 'nan', value: Number.NaN, unit: 'ms' },
      ],
      verdict: 'v',
    });
    expect(r.figures).toEqual([{ name: 'ok', value: 3 }]);
    expect(r.unobserved).toEqual(['nan: not measured (NaN)']);
  });
});
