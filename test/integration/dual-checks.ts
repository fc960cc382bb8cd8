/**
 * Checks shared by the two-destination and fan-out tests: a listener killed
 * and started again mid-stream, against one that stayed up.
 */
import { expect } from 'vitest';
import { checkTs, overlap } from '../../src/bench/dual-rig.js';

/**
 * What the restarted listener got before (`b1`) and after (`b2`) its outage
 * is the same bytes as the other's file (`whole`), in that order, and its
 * second file is unbroken TS; a listener may drop up to `hangUpBytes` it
 * held when the sender hung up.
 */
export function expectSameAroundOutage(whole: Buffer, b1: Buffer, b2: Buffer, hangUpBytes: number): void {
  const before = overlap(whole, b1);
  const after = overlap(whole, b2);
  expect(before).toMatchObject({ differ: 0, same: b1.length });
  expect(after.at).toBeGreaterThan(before.at + b1.length);
  expect(after.differ).toBe(0);
  expect(after.same).toBeGreaterThan(b2.length - hangUpBytes);
  expect(checkTs(b2)).toMatchObject({ continuityErrors: 0, syncErrors: 0 });
}
