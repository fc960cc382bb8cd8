/**
 * `fieldcast bench bond-venue` (BENCHMARKS.md): bonded goodput on the three
 * emulated cellular links of the table (8/5/3 Mbit/s, 40/70/120 ms RTT,
 * 0.5-3 % loss in bursts), stepped up from 4 Mbit/s as bond-steps.ts runs it.
 * Goal: efficiency >= 0.90 of the summed 16 Mbit/s, srt_overhead <= 1.15.
 */
import { VENUE_CAPACITY_BPS, VENUE_LINKS } from '../linksim/index.js';
import { runSteppedBond } from './bond-steps.js';
import type { Scenario } from './types.js';

export const scenario: Scenario = {
  name: 'bond-venue',
  description: 'bonded goodput on three bad emulated cellular links (8/5/3 Mbit/s, 40/70/120 ms)',
  run: (opts) =>
    runSteppedBond(
      {
        name: 'bond-venue',
        links: VENUE_LINKS,
        capacityBps: VENUE_CAPACITY_BPS,
        // 0.9 x 16 = 14.4: finer near the goal.
        steps: [4, 6, 8, 10, 11, 12, 13, 13.5, 14, 14.5, 15, 15.5, 16],
        quickSteps: [4, 8, 10, 12, 13, 14, 15, 16],
        goalEfficiency: 0.9,
      },
      opts,
    ),
};
