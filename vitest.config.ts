import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers with worker threads; two cores, so keep the file-level parallelism small.
    maxWorkers: 2,
    pool: 'forks',
  },
});
