/**
 * Link presets. VENUE_LINKS are the three cellular links of the bond-venue
 * benchmark (BENCHMARKS.md): the table's RTT is split evenly between the two
 * directions; rate, jitter and loss apply to the uplink (sender to receiver),
 * where video goes; the return path (ACKs, NAKs) carries the same delay with
 * a quarter of the jitter and no loss. Listen ports are picked free (port 0):
 * read each link's `address` after `start()`.
 */
import type { LinkSpecInput } from './config.js';

/** An emulated cellular uplink as the presets model one: RTT split evenly, jitter and loss on the way up. */
export function cellLink(name: string, rate: string, rttMs: number, jitterMs: number, loss: number, burst: number): LinkSpecInput {
  return {
    name,
    listen: '127.0.0.1:0',
    up: { rate, delayMs: rttMs / 2, jitterMs, loss, burst, queueMs: 250 },
    down: { delayMs: rttMs / 2, jitterMs: jitterMs / 4 },
  };
}

export const VENUE_LINKS: readonly LinkSpecInput[] = Object.freeze([
  cellLink('cell-a', '8M', 40, 10, 0.005, 3),
  cellLink('cell-b', '5M', 70, 20, 0.01, 5),
  cellLink('cell-c', '3M', 120, 40, 0.03, 10),
]);

/** Summed uplink capacity of VENUE_LINKS in bit/s (efficiency = clean rate / this). */
export const VENUE_CAPACITY_BPS = 16_000_000;
