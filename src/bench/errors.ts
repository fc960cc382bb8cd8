/** Errors of the benchmarks. */
import { FieldcastError } from '../lib/errors.js';

/**
 * Something a scenario needs is not on this machine or not built (a peer
 * program, a dev dependency, the status page): nothing was measured, and the
 * message names the fix.
 */
export class BenchSetupError extends FieldcastError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BENCH_SETUP', message, details);
  }
}
