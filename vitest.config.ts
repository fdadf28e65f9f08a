import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn brokers and clients; two cores, so keep the parallelism modest.
    maxWorkers: 2,
    setupFiles: ['./test/setup.ts'],
    reporters: ['default', './test/reporters/summary.ts'],
  },
});
