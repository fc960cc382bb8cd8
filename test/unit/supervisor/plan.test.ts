import { describe, expect, it } from 'vitest';
import { type ConfigInput, validateConfig } from '../../../src/config/index.js';
import { streamSpecFromConfig } from '../../../src/media/spec.js';
import { type DesiredState, plan, type StepKind } from '../../../src/supervisor/plan.js';
import type { StreamSpec } from '../../../src/supervisor/stream-unit.js';

const BASE: ConfigInput = {
  video: { width: 1280, height: 720, bitrate: 4_000_000, minBitrate: 1_000_000, maxBitrate: 6_000_000 },
  destinations: [{ name: 'ingest', url: 'srt://ingest.example.com:5000', latencyMs: 1500 }],
};
const BONDED: ConfigInput = {
  ...BASE,
  bond: {
    enabled: true,
    links: [
      { name: 'cell-a', via: '127.0.0.1:7001' },
      { name: 'cell-b', via: '127.0.0.1:7002', priority: 6 },
    ],
  },
};

function spec(input: ConfigInput, change: (c: ConfigInput) => void = () => undefined): StreamSpec {
  const c = structuredClone(input);
  change(c);
  const config = validateConfig(c);
  return streamSpecFromConfig(config, config.destinations[0]!);
}

const wanted = (s: StreamSpec | undefined, on = true): DesiredState => ({ on, spec: s });
const running = (s: StreamSpec | undefined) => ({ stream: s ? { spec: s } : undefined });
const kinds = (steps: { kind: StepKind }[]) => steps.map((s) => s.kind);

describe('plan(actual, desired)', () => {
  const cases: { name: string; actual: StreamSpec | undefined; desired: DesiredState; expect: StepKind[] }[] = [
    { name: 'nothing runs, nothing wanted', actual: undefined, desired: wanted(spec(BASE), false), expect: [] },
    { name: 'no destination, nothing runs', actual: undefined, desired: wanted(undefined), expect: [] },
    { name: 'wanted and not running: start', actual: undefined, desired: wanted(spec(BASE)), expect: ['start'] },
    { name: 'running and stopped by the operator: stop', actual: spec(BASE), desired: wanted(spec(BASE), false), expect: ['stop'] },
    { name: 'running, its destination removed: stop', actual: spec(BASE), desired: wanted(undefined), expect: ['stop'] },
    { name: 'running as wanted: nothing', actual: spec(BASE), desired: wanted(spec(BASE)), expect: [] },
    {
      name: 'the bit rate range: live, no restart',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.video!, { maxBitrate: 5_000_000 }))),
      expect: ['setVideoRange'],
    },
    {
      name: 'adaptive switched off: live',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.video!, { adaptive: false }))),
      expect: ['setVideoRange'],
    },
    {
      name: 'the latency: a new call, the pipeline runs on',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.destinations![0]!, { latencyMs: 2500 }))),
      expect: ['setDestination'],
    },
    {
      name: 'a passphrase: a new call',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.destinations![0]!, { passphrase: 'correct horse battery' }))),
      expect: ['setDestination'],
    },
    {
      name: 'another destination URL: a new call',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.destinations![0]!, { url: 'srt://backup.example.com:5001' }))),
      expect: ['setDestination'],
    },
    {
      name: 'the picture size: a new pipeline process, same SRT session',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.video!, { width: 1920, height: 1080 }))),
      expect: ['restartPipeline'],
    },
    {
      name: 'the input: a new pipeline process',
      actual: spec(BASE),
      desired: wanted(
        spec(BASE, (c) => {
          c.input = { ...c.input, video: '/dev/video0' };
        }),
      ),
      expect: ['restartPipeline'],
    },
    {
      name: 'the mux: a new pipeline process',
      actual: spec(BASE),
      desired: wanted(
        spec(BASE, (c) => {
          c.mux = { ...c.mux, serviceName: 'Truck 2' };
        }),
      ),
      expect: ['restartPipeline'],
    },
    {
      name: 'size and bit rate together: the new process takes both (no separate range step)',
      actual: spec(BASE),
      desired: wanted(spec(BASE, (c) => Object.assign(c.video!, { width: 1920, height: 1080, maxBitrate: 8_000_000 }))),
      expect: ['restartPipeline'],
    },
    {
      name: 'size and latency together: pipeline, then destination',
      actual: spec(BASE),
      desired: wanted(
        spec(BASE, (c) => {
          Object.assign(c.video!, { fps: '25' });
          Object.assign(c.destinations![0]!, { latencyMs: 800 });
        }),
      ),
      expect: ['restartPipeline', 'setDestination'],
    },
    { name: 'bonding switched on: a new stream unit', actual: spec(BASE), desired: wanted(spec(BONDED)), expect: ['restartStream'] },
    { name: 'bonding switched off: a new stream unit', actual: spec(BONDED), desired: wanted(spec(BASE)), expect: ['restartStream'] },
    {
      name: 'another bonding receiver: a new stream unit',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => Object.assign(c.destinations![0]!, { url: 'srt://other-receiver:5000' }))),
      expect: ['restartStream'],
    },
    {
      name: 'a link added: live',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => c.bond!.links!.push({ name: 'eth0', via: '127.0.0.1:7003' }))),
      expect: ['addLink'],
    },
    {
      name: 'a link removed: live',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => c.bond!.links!.splice(0, 1))),
      expect: ['removeLink'],
    },
    {
      name: 'a link changed: out, then in as it is now',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => Object.assign(c.bond!.links![1]!, { priority: 2 }))),
      expect: ['removeLink', 'addLink'],
    },
    {
      name: 'metered links bonded alike instead of when needed: live, same links',
      actual: spec(BONDED),
      desired: wanted(
        spec(BONDED, (c) => {
          c.bond!.meteredLinks = 'always';
        }),
      ),
      expect: ['setMeteredPolicy'],
    },
    {
      name: 'a link marked metered: out, then in as it is now',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => Object.assign(c.bond!.links![0]!, { metered: true }))),
      expect: ['removeLink', 'addLink'],
    },
    {
      name: 'the latency of a bonded stream: a new call through the same bonding sender',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => Object.assign(c.destinations![0]!, { latencyMs: 3000 }))),
      expect: ['setDestination'],
    },
    {
      name: 'an explicit default reads as the default (no change)',
      actual: spec(BONDED),
      desired: wanted(spec(BONDED, (c) => Object.assign(c.bond!.links![0]!, { priority: 5, backupOnly: false }))),
      expect: [],
    },
    {
      name: 'several at once, in order: range, destination, links',
      actual: spec(BONDED),
      desired: wanted(
        spec(BONDED, (c) => {
          Object.assign(c.video!, { minBitrate: 2_000_000 });
          Object.assign(c.destinations![0]!, { streamId: '#!::r=truck2' });
          c.bond!.links = [c.bond!.links![1]!, { name: 'wifi', via: '127.0.0.1:7009' }];
        }),
      ),
      expect: ['setVideoRange', 'setDestination', 'removeLink', 'addLink'],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(kinds(plan(running(c.actual), c.desired))).toEqual(c.expect);
    });
  }

  it('carries what each step needs, and names why', () => {
    const bigger = spec(BASE, (c) => Object.assign(c.video!, { width: 1920, height: 1080 }));
    const [step] = plan(running(spec(BASE)), wanted(bigger));
    expect(step).toMatchObject({ kind: 'restartPipeline', reason: expect.stringContaining('width, height') });
    expect(step!.kind === 'restartPipeline' && step.source).toEqual(bigger.source);

    const [range] = plan(running(spec(BASE)), wanted(spec(BASE, (c) => Object.assign(c.video!, { maxBitrate: 5_000_000 }))));
    expect(range).toEqual({
      kind: 'setVideoRange',
      range: { bitrate: 4_000_000, minBitrate: 1_000_000, maxBitrate: 5_000_000, adaptive: true },
    });

    const links = plan(running(spec(BONDED)), wanted(spec(BONDED, (c) => c.bond!.links!.push({ name: 'eth0', via: '127.0.0.1:7003' }))));
    expect(links).toEqual([
      { kind: 'addLink', link: { name: 'eth0', via: '127.0.0.1:7003', priority: 5, enabled: true, backupOnly: false, metered: false } },
    ]);

    expect(plan(running(spec(BASE)), wanted(spec(BASE), false))).toEqual([{ kind: 'stop', reason: 'the operator stopped the stream' }]);
  });

  it('is pure: the same inputs give the same steps and are not changed', () => {
    const a = spec(BASE);
    const d = wanted(spec(BASE, (c) => Object.assign(c.video!, { width: 1920, height: 1080 })));
    const before = structuredClone({ a, d });
    expect(plan(running(a), d)).toEqual(plan(running(a), d));
    expect({ a, d }).toEqual(before);
  });
});

describe('plan: a second destination', () => {
  const withSecond = (s: StreamSpec, url = 'srt://flow-b.example.com:5000'): StreamSpec => ({
    ...s,
    secondDestination: validateConfig({ destinations: [{ name: 'backup', url }] }).destinations[0]!,
  });

  it('added or changed: only that one is called (anew); the first keeps its session', () => {
    const add = plan(running(spec(BASE)), wanted(withSecond(spec(BASE))));
    expect(add).toEqual([{ kind: 'setDestination', index: 1, destination: expect.objectContaining({ name: 'backup' }) }]);
    const change = plan(running(withSecond(spec(BASE))), wanted(withSecond(spec(BASE), 'srt://flow-c.example.com:5000')));
    expect(change).toMatchObject([{ kind: 'setDestination', index: 1, destination: { url: 'srt://flow-c.example.com:5000' } }]);
  });

  it('removed: only that one is hung up', () => {
    expect(plan(running(withSecond(spec(BASE))), wanted(spec(BASE)))).toEqual([{ kind: 'removeDestination', index: 1 }]);
  });

  it('the first changed while a second runs: only the first is called anew', () => {
    const moved = withSecond(spec(BASE, (c) => Object.assign(c.destinations![0]!, { latencyMs: 2500 })));
    expect(plan(running(withSecond(spec(BASE))), wanted(moved))).toMatchObject([{ kind: 'setDestination', index: 0 }]);
  });
});
