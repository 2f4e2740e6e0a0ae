import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // One PostgreSQL cluster serves the run (the PostgreSQL store's tests and the conformance suite).
    globalSetup: ['test/global-postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers with worker threads; two cores, so keep the file-level parallelism small.
    maxWorkers: 2,
    pool: 'forks',
    // As in the server (src/util/release.ts): unit tests run with ArrayBuffer.prototype.transfer, so code that
    // frees buffers early is exercised, and a read after a release shows up as a wrong result.
    execArgv: ['--harmony-rab-gsab-transfer'],
  },
});
