/**
 * `npm run bench:mine -- [LOGHUB_HDFS_DIR] [RUNS]`: the speed check of issues 3 and 11.
 * Builds the HDFS Content column repeated to 1,000,000 lines, then times the real
 * `keytally mine FILE --json` as a whole child process (start-up, reading, mining,
 * output) several times and prints the median lines/s (target: 1,000,000).
 *
 * `npm run bench:mine -- --mix [LOGHUB_ROOT] [RUNS]`: the same on a mix of every set
 * under LOGHUB_ROOT (default ../shared/loghub2k): all Content columns, repeated to
 * 1,000,000 lines and shuffled (fixed seed), so the miner keeps switching between
 * unrelated templates of many shapes (aim: 700,000 lines/s).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll, loadSet } from './loghub.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:mine -- [LOGHUB_HDFS_DIR] [RUNS]
npm run bench:mine -- --mix [LOGHUB_ROOT] [RUNS]
  \`keytally mine\` on 1,000,000 lines, whole process`, { flags: ['mix'], positionals: 2 });

const LINES = 1_000_000;
// --mix anywhere among the arguments (checkArgs allows it there), the rest in order.
const argv = process.argv.slice(2);
const mix = argv.includes('--mix');
const positional = argv.filter((a) => a !== '--mix');
const [dir = mix ? '../shared/loghub2k' : '../shared/loghub2k/HDFS', runsArg = '5'] = positional;
const runs = Math.max(1, Number(runsArg));
const target = mix ? 700_000 : 1_000_000;
const bin = fileURLToPath(new URL('../../bin/keytally.js', import.meta.url));

/** mulberry32, for a shuffle that is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const content = mix ? loadAll(dir).flatMap((s) => s.content) : loadSet(dir, 'HDFS').content;
const lines: string[] = [];
for (let i = 0; i < LINES; i++) lines.push(content[i % content.length]!.replace(/[\r\n]+/g, ' '));
if (mix) {
  const r = rng(11);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = lines[i]!;
    lines[i] = lines[j]!;
    lines[j] = t;
  }
}
const work = mkdtempSync(join(tmpdir(), 'keytally-mine-'));
const input = join(work, mix ? 'loghub-mix-1m.log' : 'hdfs-1m.log');
writeFileSync(input, lines.join('\n') + '\n');

const rates: number[] = [];
let templates = 0;
try {
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const out = spawnSync(process.execPath, [bin, 'mine', input, '--json', '--top', '50'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (out.status !== 0) throw new Error(`keytally mine failed: ${out.stderr}`);
    templates = (JSON.parse(out.stdout).stats as { clusters: number }).clusters;
    rates.push(LINES / s);
    console.log(`run ${r + 1}: ${s.toFixed(3)} s, ${Math.round(LINES / s).toLocaleString('en-US')} lines/s`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
const what = mix ? `${content.length.toLocaleString('en-US')} Loghub lines (every set) repeated and shuffled` : 'HDFS lines';
console.log(`keytally mine, ${LINES.toLocaleString('en-US')} ${what}, whole process: median ${Math.round(median).toLocaleString('en-US')} lines/s over ${runs} runs (${templates} templates; target ${target.toLocaleString('en-US')})`);
process.exitCode = median >= target ? 0 : 1;
