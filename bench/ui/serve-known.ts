/**
 * For looking at the UI by hand: starts keytally on a fresh data directory, fills it with the known data of
 * the browser test (bench/ui/fixture.ts) and prints the UI's address; Ctrl-C stops it.
 *   node dist/bench/ui/serve-known.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar } from '../load/server.js';
import type { LoadOptions } from '../load/options.js';
import { fillKnown } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'keytally-ui-'));
const s = await startSidecar({ ack: 'durable' } as LoadOptions, dir);
await fillKnown(`http://127.0.0.1:${s.otlpPort}`);
console.log(`keytally UI at http://127.0.0.1:${s.apiPort}/  (otlp ${s.otlpPort})`);
const stop = async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
