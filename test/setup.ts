/**
 * Runs in every test file: whatever sidecars a file started and did not stop
 * (a failed assertion skips its test's own stop) are stopped after the file,
 * so no test leaves a server running.
 */
import { afterAll } from 'vitest';
import { stopAll } from './helpers/server.js';

afterAll(async () => {
  await stopAll();
});
