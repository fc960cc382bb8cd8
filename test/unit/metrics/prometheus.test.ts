import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../../src/metrics/prometheus.js';

describe('renderPrometheus', () => {
  it('writes HELP, TYPE and samples, escaping label values', () => {
    const text = renderPrometheus([
      { name: 'x_total', help: 'a\nb', type: 'counter', samples: [{ labels: { link: 'a"b\\c\nd', n: 3 }, value: 5 }] },
      { name: 'y', help: 'gauge', type: 'gauge', samples: [{ value: Number.POSITIVE_INFINITY }, { value: 0.5 }] },
    ]);
    expect(text).toBe(
      [
        '# HELP x_total a\\nb',
        '# TYPE x_total counter',
        'x_total{link="a\\"b\\\\c\\nd",n="3"} 5',
        '# HELP y gauge',
        '# TYPE y gauge',
        'y +Inf',
        'y 0.5',
        '',
      ].join('\n'),
    );
  });

  it('refuses names the format does not allow', () => {
    expect(() => renderPrometheus([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => renderPrometheus([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 1 }, value: 1 }] }])).toThrow(
      /invalid label name/,
    );
  });
});
