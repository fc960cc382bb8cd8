import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native code and child processes: separate processes keep a crash contained.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // Tests check behaviour; the log lines of the code under test would bury the summary.
    env: { FIELDCAST_LOG: process.env.FIELDCAST_LOG ?? 'warn' },
  },
});
