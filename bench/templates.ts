/**
 * Template accuracy on Loghub 2k sets: `npm run bench:templates -- [DIR] [--show SET] [--no-loo]`
 * (DIR holds one folder per set with its `*_structured.csv`; default ../shared/loghub2k).
 * Mines the Content column with the default miner and prints per set: lines, templates
 * found vs. true, grouping accuracy (GA), how many true templates were merged into
 * others and how many were split, and lines/s of fresh miners; then the mean GA.
 *
 * Then the guard against fitting (leave-one-out): for each set, the miner's numeric
 * settings (similarity, siblings, recur) are chosen on the *other* sets (best mean GA over a small grid) and the
 * held-out set is measured with that choice. When the held-out figures equal the all-in
 * ones, the defaults were not picked for any single set. `--show SET` lists the wrongly
 * grouped lines of one set.
 */
import { TemplateMiner, type MinerOptions } from '../src/mine/miner.js';
import { groupingAccuracy } from '../src/mine/accuracy.js';
import { loadAll, type LoghubSet } from './loghub.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:templates -- [DIR] [--show SET] [--no-loo]
  template grouping accuracy on the Loghub 2k sets under DIR (default ../shared/loghub2k)`, { values: ['show'], flags: ['no-loo'], positionals: 1 });

function mine(set: LoghubSet, opts: MinerOptions = {}): { ids: number[]; miner: TemplateMiner } {
  const miner = new TemplateMiner(opts);
  const raw = set.content.map((line) => {
    miner.add(line);
    return miner.lastAssignment;
  });
  return { ids: raw.map((a) => miner.finalId(a)), miner };
}

function speed(set: LoghubSet): number {
  // Fresh miners over the set until ~0.3 s has passed: measures learning, not only cache hits.
  let lines = 0;
  const t0 = performance.now();
  do {
    const m = new TemplateMiner();
    for (const l of set.content) m.add(l);
    lines += set.content.length;
  } while (performance.now() - t0 < 300);
  return lines / ((performance.now() - t0) / 1000);
}

/** True templates whose lines share a found template with another true template (merged), or span several found ones (split). */
export function mergedAndSplit(ids: readonly number[], truth: readonly string[]): { merged: number; split: number } {
  const predsOf = new Map<string, Set<number>>();
  const truesOf = new Map<number, Set<string>>();
  for (let i = 0; i < ids.length; i++) {
    let p = predsOf.get(truth[i]!);
    if (p === undefined) predsOf.set(truth[i]!, (p = new Set()));
    p.add(ids[i]!);
    let t = truesOf.get(ids[i]!);
    if (t === undefined) truesOf.set(ids[i]!, (t = new Set()));
    t.add(truth[i]!);
  }
  let merged = 0;
  let split = 0;
  for (const preds of predsOf.values()) {
    if (preds.size > 1) split++;
    for (const p of preds) {
      if (truesOf.get(p)!.size > 1) {
        merged++;
        break;
      }
    }
  }
  return { merged, split };
}

function showErrors(set: LoghubSet, ids: number[], miner: TemplateMiner): void {
  const byTrue = new Map<string, Set<number>>();
  const byPred = new Map<number, Set<string>>();
  set.eventId.forEach((e, i) => {
    if (!byTrue.has(e)) byTrue.set(e, new Set());
    byTrue.get(e)!.add(ids[i]!);
    if (!byPred.has(ids[i]!)) byPred.set(ids[i]!, new Set());
    byPred.get(ids[i]!)!.add(e);
  });
  const tpl = new Map(miner.clusters().map((c) => [c.id, c.template()]));
  for (const [e, preds] of byTrue) {
    const bad = preds.size > 1 || [...preds].some((p) => byPred.get(p)!.size > 1);
    if (!bad) continue;
    const n = set.eventId.filter((x) => x === e).length;
    console.log(`\n${e} (${n} lines) -> predicted ${[...preds].join(',')}`);
    for (const p of preds) console.log(`   ${p}: ${tpl.get(p)}   [true: ${[...byPred.get(p)!].join(',')}]`);
    const ex = set.content.filter((_, i) => set.eventId[i] === e).slice(0, 3);
    for (const l of ex) console.log(`   | ${l}`);
  }
}

const args = process.argv.slice(2);
const showAt = args.indexOf('--show');
const show = showAt >= 0 ? args.splice(showAt, 2)[1] : undefined;
const looAt = args.indexOf('--no-loo');
const loo = looAt < 0;
if (!loo) args.splice(looAt, 1);
const root = args[0] ?? '../shared/loghub2k';
const sets = loadAll(root);
const head = (first: string) =>
  `${first.padEnd(10)} ${'lines'.padStart(6)} ${'found'.padStart(6)} ${'true'.padStart(5)} ${'GA'.padStart(6)} ${'merged'.padStart(7)} ${'split'.padStart(6)}`;
const row = (name: string, set: LoghubSet, ids: number[], ga: number) => {
  const { merged, split } = mergedAndSplit(ids, set.eventId);
  return `${name.padEnd(10)} ${String(set.content.length).padStart(6)} ${String(new Set(ids).size).padStart(6)} ${String(new Set(set.eventId).size).padStart(5)} ${ga.toFixed(3).padStart(6)} ${String(merged).padStart(7)} ${String(split).padStart(6)}`;
};

console.log('All-in: default settings on every set (merged = true templates that share a found template with another; split = true templates spread over several)');
console.log(`${head('dataset')} ${'lines/s'.padStart(10)}`);
let sum = 0;
for (const set of sets) {
  const { ids, miner } = mine(set);
  const ga = groupingAccuracy(ids, set.eventId);
  sum += ga;
  const lps = show === undefined ? speed(set) : 0;
  console.log(`${row(set.name, set, ids, ga)} ${Math.round(lps).toLocaleString('en-US').padStart(10)}`);
  if (show === set.name) showErrors(set, ids, miner);
}
console.log(`${'mean'.padEnd(10)} ${''.padStart(6)} ${''.padStart(6)} ${''.padStart(5)} ${(sum / sets.length).toFixed(3).padStart(6)}`);

if (loo && show === undefined && sets.length > 1) {
  const grid: MinerOptions[] = [];
  for (const similarity of [0.6, 0.7, 0.75, 0.8, 0.9])
    for (const siblings of [3, 4, 5]) for (const recur of [2, 3, 5]) grid.push({ similarity, siblings, recur });
  const gaOf = grid.map((opts) => sets.map((set) => groupingAccuracy(mine(set, opts).ids, set.eventId)));
  console.log('\nHeld out (leave-one-out): settings chosen on the other sets, GA measured on this one');
  console.log(`${head('held out')} ${'chosen on the rest'.padStart(36)}`);
  let held = 0;
  sets.forEach((set, s) => {
    // Best mean GA on the other sets; among settings the other sets cannot tell apart (equal
    // means), the one closest to the default: what the rest gives no reason to change stays.
    const DEFAULT: MinerOptions = { similarity: 0.75, siblings: 5, recur: 3 };
    const distance = (o: MinerOptions) => (['similarity', 'siblings', 'recur'] as const).filter((k) => o[k] !== DEFAULT[k]).length;
    let best = 0;
    let bestMean = -1;
    gaOf.forEach((gas, g) => {
      const mean = gas.reduce((a, x, k) => (k === s ? a : a + x), 0) / (sets.length - 1);
      if (mean > bestMean + 1e-9 || (Math.abs(mean - bestMean) <= 1e-9 && distance(grid[g]!) < distance(grid[best]!))) {
        bestMean = mean;
        best = g;
      }
    });
    const opts = grid[best]!;
    const { ids } = mine(set, opts);
    const ga = gaOf[best]![s]!;
    held += ga;
    console.log(`${row(set.name, set, ids, ga)} ${`similarity ${opts.similarity}, siblings ${opts.siblings}, recur ${opts.recur}`.padStart(36)}`);
  });
  console.log(`${'mean'.padEnd(10)} ${''.padStart(6)} ${''.padStart(6)} ${''.padStart(5)} ${(held / sets.length).toFixed(3).padStart(6)}`);
}
