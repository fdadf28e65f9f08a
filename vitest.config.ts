import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // *.measure.ts are measurements (not tests): run only with KTS_STORAGE_MEASURE=1.
    include: ['test/**/*.test.ts', ...(process.env.KTS_STORAGE_MEASURE ? ['test/**/*.measure.ts'] : [])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn brokers and clients; two cores, so keep the parallelism modest.
    maxWorkers: 2,
    setupFiles: ['./test/setup.ts'],
    reporters: ['default', './test/reporters/summary.ts'],
  },
});
