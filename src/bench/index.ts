/**
 * `fieldcast bench`: the scenarios of BENCHMARKS.md. Each prints its figures
 * one `name: value unit` per line and a last line `verdict: …`; `--json FILE`
 * writes them for tracking over time. Benchmarks print numbers; tests check
 * behaviour — no test asserts on speed.
 */
import type { Scenario, ScenarioResult } from './types.js';

export type { Figure, Scenario, ScenarioOptions, ScenarioResult } from './types.js';
export { FigureSheet, NotObservedError } from './types.js';

/** Scenarios by name, loaded only when run. Each file exports `scenario`. */
export const SCENARIOS: Record<string, { description: string; load: () => Promise<{ scenario: Scenario }> }> = {
  'srt-send': { description: 'SRT sender CPU at 10 Mbit/s beside srt-live-transmit', load: () => import('./srt-send.js') },
  mux: { description: 'MPEG-TS packetiser cost against ffmpeg -c copy', load: () => import('./mux.js') },
  encode: { description: 'libx264 from the test pattern at 720p30 and 1080p30 beside ffmpeg testsrc2', load: () => import('./encode.js') },
  'bond-venue': { description: 'bonded goodput on three bad emulated cellular links', load: () => import('./bond-venue.js') },
  'bond-soak': { description: "the bonding sender's RSS live at 10 Mbit/s for 30 minutes", load: () => import('./bond-soak.js') },
  'bond-harsh': {
    description: 'bonded goodput on four unequal links (4/3/3/1.5 Mbit/s, 30-250 ms RTT, 0-5 % bursty loss)',
    load: () => import('./bond-harsh.js'),
  },
  latency: { description: 'glass to glass through encoder, mux, SRT, bonded links and a decoder', load: () => import('./latency.js') },
  'av-sync': { description: 'audio minus video at the far end, from the flash and the beep', load: () => import('./av-sync.js') },
  failover: { description: 'a bonded link dies mid-stream: loss, stall, ABR reaction, recovery', load: () => import('./failover.js') },
  'failover-harsh': {
    description: 'four unequal lossy links, the best dark for 8 s under a 4.5 Mbit/s passthrough: lost TS packets over many runs',
    load: () => import('./failover-harsh.js'),
  },
  'cost-policy': {
    description: 'a free link and two metered ones: the metered share, and the failover when the free link dies',
    load: () => import('./cost-policy.js'),
  },
  hotplug: {
    description: 'uplinks plugged in and pulled out mid-stream, in network namespaces: time to carry traffic, loss',
    load: () => import('./hotplug.js'),
  },
  restart: {
    description: 'fieldcast run: the pipeline SIGKILLed mid-stream ten times, the gap at an srt-live-transmit listener',
    load: () => import('./restart.js'),
  },
  'status-page': {
    description: 'the status page: its weight, change → screen in Chromium, supervisor CPU with 20 clients, the stream while hammered',
    load: () => import('./status-page.js'),
  },
  'bond-cpu': {
    description: 'CPU of the bonded path (pipeline + bonding sender, receiver) beside srt-live-transmit, at 4, 10 and 20 Mbit/s',
    load: () => import('./bond-cpu.js'),
  },
  boot: {
    description: 'the appliance image in qemu: power-on to fieldcast.service READY and to the first packet at a listener; image size',
    load: () => import('./boot.js'),
  },
  record: {
    description: 'recording at 10 Mbit/s: its CPU and write rate; upload to s3rver while live, with the live CC errors',
    load: () => import('./record.js'),
  },
  dual: {
    description:
      'two listeners, one killed for 10 s, from the box directly and through the bonded receiver fan-out: lost TS packets on the other, byte identity outside the outage',
    load: () => import('./dual.js'),
  },
  'receiver-scale': {
    description: 'fieldcast receive with 50 senders x 3 links at 4 Mbit/s: receiver CPU per stream',
    load: () => import('./receiver-scale.js'),
  },
};

/** One figure as `name: value unit`. A number that is not finite is never a figure: see `checkFigures`. */
export function formatFigure(f: { name: string; value: number | string; unit?: string }): string {
  const v = typeof f.value === 'number' ? (Number.isInteger(f.value) ? String(f.value) : f.value.toPrecision(4)) : f.value;
  return `${f.name}: ${v}${f.unit ? ` ${f.unit}` : ''}`;
}

/**
 * A scenario's result as it may be printed: figures whose value is not a
 * finite number (a mean of nothing, a ratio over zero) are moved to
 * `unobserved`, so no printed figure is one that was not measured.
 */
export function checkFigures(r: ScenarioResult): ScenarioResult {
  const unobserved = [...(r.unobserved ?? [])];
  const figures = r.figures.filter((f) => {
    if (typeof f.value !== 'number' || Number.isFinite(f.value)) return true;
    unobserved.push(`${f.name}: not measured (${f.value})`);
    return false;
  });
  return { ...r, figures, ...(unobserved.length ? { unobserved } : {}) };
}
