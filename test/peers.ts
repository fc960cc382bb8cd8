/**
 * What a test suite needs from this machine: real peers (srt-live-transmit,
 * ffmpeg, qemu, Chromium), the native addon, an IPv6 loopback.
 *
 * Where something is missing the suite is skipped, loudly, naming it. In CI
 * (`CI=true`) and with `FIELDCAST_REQUIRE_ALL=1` a skip would make a green run
 * that tested nothing — `npm run setup` installs every peer on this project's
 * machines — so there a missing peer is a failure of the suite that needs it.
 */
import { spawnSync } from 'node:child_process';

/** True where a skipped suite must fail instead (CI, or asked for). */
export function skipsAreFailures(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1' || env['FIELDCAST_REQUIRE_ALL'] === '1';
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** The tools of `names` this machine lacks. */
export function missingTools(...names: string[]): string[] {
  return names.filter((n) => !hasTool(n));
}

export class MissingPeerError extends Error {
  constructor(suite: string, missing: string[]) {
    super(
      `${suite}: needs ${missing.join(', ')}, which this machine lacks; a skip is a failure here ` +
        '(CI=true or FIELDCAST_REQUIRE_ALL=1): run "npm run setup"',
    );
    this.name = 'MissingPeerError';
  }
}

/**
 * Decides a suite's skip: returns true (skip) when something it needs is
 * missing, after a warning that names it; throws MissingPeerError instead
 * where skips are failures. Call it at the top of the test file.
 */
export function skipWithout(suite: string, missing: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (missing.length === 0) return false;
  if (skipsAreFailures(env)) throw new MissingPeerError(suite, [...missing]);
  console.warn(`\n*** SKIPPING ${suite}: missing ${missing.join(', ')} (npm run setup installs it) ***\n`);
  return true;
}
