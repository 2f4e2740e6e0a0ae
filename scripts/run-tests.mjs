#!/usr/bin/env node
// Runs the whole vitest suite and ends with the plain "N passed, N failed" line
// that CI reads, taken from vitest's JSON report (its own summary is not read).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const report = join(process.cwd(), '.vitest.json');
rmSync(report, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
// Every temp dir a test makes (data dirs, clusters, sockets) goes under one run dir that is removed at the end,
// so a test that forgets its own, or a run that is killed half-way, leaves nothing behind in /tmp but this one
// dir. It is traversable by others (0711) because PostgreSQL's cluster dir inside it belongs to `postgres`.
// The browser tests' screenshots are meant to be looked at after the run: they go beside it and are kept.
const runDir = mkdtempSync(join(tmpdir(), 'keytally-run-'));
chmodSync(runDir, 0o711);
const env = { ...process.env, TMPDIR: runDir };
// (named after the run dir, made by the browser tests only when they run).
env.KEYTALLY_UI_SCREENSHOTS ||= runDir.replace('keytally-run-', 'keytally-ui-screenshots-');
const run = spawnSync('npx', args, { stdio: 'inherit', env });
rmSync(runDir, { recursive: true, force: true });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  for (const file of json.testResults ?? []) {
    // A file that failed to load has no assertions but is a failure.
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
      else skipped++;
    }
  }
} catch (err) {
  console.error(`could not read the vitest JSON report: ${err.message}`);
  failed++;
}
if (passed + failed === 0) {
  console.error('no test was executed: that is a failure');
  failed = 1;
}
console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);
