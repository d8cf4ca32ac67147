import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one on a 2-core CI machine. Most e2e files wait
    // on child processes and the simulated cluster, so two run well side by side (measured on 2 cores:
    // 740 s with one worker, 502 s with two, every test green).
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    reporters: ['default', './test/support/slow-reporter.ts'],
  },
});
