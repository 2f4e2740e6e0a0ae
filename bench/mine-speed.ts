/**
 * `npm run bench:mine -- [LOGHUB_HDFS_DIR] [RUNS]`: the speed check of issue 3.
 * Builds the HDFS Content column repeated to 1,000,000 lines, then times the
 * real `keytally mine FILE --json` as a whole child process (start-up, reading,
 * mining, output) several times and prints the median lines/s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSet } from './loghub.js';

const LINES = 1_000_000;
const [dir = '../shared/loghub2k/HDFS', runsArg = '5'] = process.argv.slice(2);
const runs = Math.max(1, Number(runsArg));
const bin = fileURLToPath(new URL('../../bin/keytally.js', import.meta.url));

const { content } = loadSet(dir, 'HDFS');
const lines: string[] = [];
for (let i = 0; i < LINES; i++) lines.push(content[i % content.length]!);
const work = mkdtempSync(join(tmpdir(), 'keytally-mine-'));
const input = join(work, 'hdfs-1m.log');
writeFileSync(input, lines.join('\n') + '\n');

const rates: number[] = [];
let templates = 0;
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  const out = spawnSync(process.execPath, [bin, 'mine', input, '--json', '--top', '50'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (out.status !== 0) throw new Error(`keytally mine failed: ${out.stderr}`);
  templates = (JSON.parse(out.stdout).templates as unknown[]).length;
  rates.push(LINES / s);
  console.log(`run ${r + 1}: ${s.toFixed(3)} s, ${Math.round(LINES / s).toLocaleString('en-US')} lines/s`);
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
console.log(`keytally mine, ${LINES.toLocaleString('en-US')} HDFS lines, whole process: median ${Math.round(median).toLocaleString('en-US')} lines/s over ${runs} runs (${templates} templates)`);
rmSync(work, { recursive: true, force: true });
process.exitCode = median >= 1_000_000 ? 0 : 1;
