/**
 * Template accuracy and speed on Loghub 2k sets: `npm run bench:templates -- DIR`
 * (DIR holds one folder per set with its `*_structured.csv`). Mines the Content
 * column with the default miner and prints lines, templates found vs. true, GA and
 * lines/s per set, then the mean GA. `--show SET` lists the wrongly grouped lines.
 */
import { TemplateMiner } from '../src/mine/miner.js';
import { groupingAccuracy } from '../src/mine/accuracy.js';
import { loadAll, type LoghubSet } from './loghub.js';

function mine(set: LoghubSet): { ids: number[]; miner: TemplateMiner } {
  const miner = new TemplateMiner();
  const raw = set.content.map((line) => miner.add(line).id);
  return { ids: raw.map((id) => miner.currentId(id)), miner };
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
const root = args[0] ?? '../shared/loghub2k';
const sets = loadAll(root);
console.log(`${'dataset'.padEnd(10)} ${'lines'.padStart(6)} ${'found'.padStart(6)} ${'true'.padStart(5)} ${'GA'.padStart(6)} ${'lines/s'.padStart(10)}`);
let sum = 0;
for (const set of sets) {
  const { ids, miner } = mine(set);
  const ga = groupingAccuracy(ids, set.eventId);
  sum += ga;
  const found = new Set(ids).size;
  const truth = new Set(set.eventId).size;
  const lps = show === undefined ? speed(set) : 0;
  console.log(`${set.name.padEnd(10)} ${String(set.content.length).padStart(6)} ${String(found).padStart(6)} ${String(truth).padStart(5)} ${ga.toFixed(3).padStart(6)} ${Math.round(lps).toLocaleString('en-US').padStart(10)}`);
  if (show === set.name) showErrors(set, ids, miner);
}
console.log(`${'mean'.padEnd(10)} ${''.padStart(6)} ${''.padStart(6)} ${''.padStart(5)} ${(sum / sets.length).toFixed(3).padStart(6)}`);
