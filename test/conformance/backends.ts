/**
 * The backends the conformance suite runs on, each as the arguments that
 * start a real keytally on it. One place says what a backend cannot do
 * (`skip`), so a gap is visible rather than a silently weaker test.
 */
import { startKeytally, tempDir, type Keytally } from '../helpers/server.js';

/** One salt for every backend: estimates agree to the digit only under one salt. */
export const CONFORMANCE_SALT = 0x5eed_c0ff_ee12_3456n;

export interface Backend {
  name: 'memory' | 'sqlite' | 'postgres';
  start(extraArgs?: string[]): Promise<Keytally>;
  /** Questions (route prefixes) this backend cannot answer like the reference, with the reason. */
  skip: Record<string, string>;
  /** PostgreSQL: its database (every start is another instance of one fleet on it). */
  url?: string;
}

export const COMMON_ARGS = ['--ack', 'durable', '--workers', '1', '--flush-ms', '20', '--commit-ms', '5', '--hash-salt', CONFORMANCE_SALT.toString()];

export const memory: Backend = {
  name: 'memory',
  start: (extra = []) => startKeytally({ args: [...COMMON_ARGS, '--store', 'memory', ...extra] }),
  skip: {},
};

export const sqlite: Backend = {
  name: 'sqlite',
  start: (extra = []) => startKeytally({ dataDir: tempDir(), args: [...COMMON_ARGS, ...extra] }),
  skip: {},
};
