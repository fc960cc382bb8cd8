/**
 * `fieldcast bench bond-harsh`: bonded goodput on four links of unequal
 * quality, harder than bond-venue — a clean 4 Mbit/s link at 30 ms RTT; two
 * of 3 Mbit/s with 1 % and 3 % loss at 80 and 150 ms RTT; and 1.5 Mbit/s at
 * 250 ms RTT with ±60 ms jitter and 5 % loss in bursts of 10 — stepped up as
 * bond-steps.ts runs it. Goal: efficiency >= 0.85 of the summed 11.5 Mbit/s
 * with zero CC errors, srt_overhead <= 1.15.
 */
import { type LinkSpecInput, cellLink as link } from '../linksim/index.js';
import { runSteppedBond } from './bond-steps.js';
import type { Scenario } from './types.js';

/** BENCHMARKS.md's table; the two lossy links lose in bursts of 3 and 5 (the table gives only their rate). */
export const HARSH_LINKS: readonly LinkSpecInput[] = Object.freeze([
  link('clean', '4M', 30, 0, 0, 1),
  link('lossy-a', '3M', 80, 0, 0.01, 3),
  link('lossy-b', '3M', 150, 0, 0.03, 5),
  link('far', '1.5M', 250, 60, 0.05, 10),
]);
export const HARSH_CAPACITY_BPS = 11_500_000;

export const scenario: Scenario = {
  name: 'bond-harsh',
  description: 'bonded goodput on four unequal links (4/3/3/1.5 Mbit/s, 30-250 ms RTT, 0-5 % bursty loss)',
  run: (opts) =>
    runSteppedBond(
      {
        name: 'bond-harsh',
        links: HARSH_LINKS,
        capacityBps: HARSH_CAPACITY_BPS,
        // 0.85 x 11.5 = 9.8: finer near the goal.
        steps: [4, 6, 8, 9, 9.5, 10, 10.5, 11, 11.5],
        quickSteps: [4, 8, 9, 9.5, 10, 10.5, 11],
        goalEfficiency: 0.85,
      },
      opts,
    ),
};
