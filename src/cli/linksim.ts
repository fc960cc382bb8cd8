/**
 * `fieldcast linksim --config FILE.json`: runs the link emulator until
 * interrupted, printing one statistics line per link per second.
 */
import { readFile } from 'node:fs/promises';
import type { LinkSimConfigInput } from '../linksim/config.js';
import { LinkSimConfigError } from '../linksim/errors.js';
import type { LinkStats } from '../linksim/link.js';
import { LinkSim } from '../linksim/linksim.js';
import { type Command, numberOption, out, parseOptions, UsageError } from './command.js';

const usage = `Usage: fieldcast linksim --config FILE.json [--interval S]

Emulates lossy, jittery, rate-limited uplinks as UDP relays on loopback. Each
link listens where the sender sends it (the link's "via") and relays to the
target; replies come back the same way. Prints per link and second:
  up/down: delivered packets, dropped by loss/queue/outage, queue depth.

Config (JSON):
  { "seed": 1, "target": "127.0.0.1:5000",
    "links": [ { "name": "cell-a", "listen": "127.0.0.1:6001",
                 "up":   { "rate": "8M", "delayMs": 20, "jitterMs": 10, "loss": 0.005, "burst": 3 },
                 "down": { "delayMs": 20 },
                 "schedule": [ { "at": 20, "outage": 15 }, { "at": 60, "up": { "rate": "2M" } } ] } ] }
  Direction keys: rate, burstBytes, queuePackets, queueMs, delayMs, jitterMs,
  loss (fraction), burst (mean loss burst in packets), reorder (true/false).`;

function line(s: LinkStats, prev: LinkStats | undefined, seconds: number): string {
  const rate = (bytes: number, before: number | undefined) => (((bytes - (before ?? 0)) * 8) / seconds / 1e6).toFixed(2);
  const dir = (d: LinkStats['up'], p: LinkStats['up'] | undefined) =>
    `${rate(d.bytesDelivered, p?.bytesDelivered)} Mbit/s delivered=${d.delivered} lost=${d.droppedLoss} queue-drop=${d.droppedQueue} ` +
    `outage-drop=${d.droppedOutage} queue=${d.queuePackets}p/${d.queueMs.toFixed(0)}ms`;
  return `${s.name} ${s.listen}${s.peer ? ` <- ${s.peer}` : ''} | up ${dir(s.up, prev?.up)} | down ${dir(s.down, prev?.down)}`;
}

export const command: Command = {
  name: 'linksim',
  summary: 'emulate lossy, rate-limited cellular links as UDP relays on loopback',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { config: { type: 'string' }, interval: { type: 'string' } });
    if (!values.config) throw new UsageError('--config FILE.json is required');
    const interval = numberOption(values.interval, '--interval', 0.1, 3600) ?? 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(values.config, 'utf8'));
    } catch (e) {
      throw new LinkSimConfigError([`cannot read it as JSON: ${(e as Error).message}`], values.config);
    }
    const sim = new LinkSim(parsed as LinkSimConfigInput, values.config);
    await sim.start();
    for (const s of sim.stats()) out(`${s.name}: listening on ${s.listen}`);
    let prev = new Map<string, LinkStats>();
    const timer = setInterval(() => {
      const now = sim.stats();
      for (const s of now) out(line(s, prev.get(s.name), interval));
      prev = new Map(now.map((s) => [s.name, s]));
    }, interval * 1000);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    clearInterval(timer);
    sim.close();
    return 0;
  },
};
