/**
 * What replaced full sorts, against those sorts, at a steady store's sizes: PostgreSQL /changes' template boundary
 * over 20,000 templates (most of them changed, by few distinct byte counts: wide ties; a page of 100) — every change
 * as an object and each direction sorted (round 9), against rankChangesToBoundary (a top-N and a pass for the tie at
 * its end) — and the kept edges' need-th largest of 100,000 keys' window sums (half of them 0: nothing in the window).
 *
 *   npm run build && npm run bench:select
 *
 * Each figure is the median of 200 timed runs after 20 warm-up runs; the machine is shared, run it more than once.
 */
import { rankChanges, rankChangesToBoundary, type EdgeTotals, type RankedChange } from '../src/store/changes-top.js';
import { kthLargest } from '../src/store/select.js';
import { checkArgs } from './args.js';

checkArgs('usage: npm run bench:select\n  the selections that replaced full sorts, against the sorts', {});

function time(label: string, f: () => unknown): void {
  for (let i = 0; i < 20; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    f();
    ts.push(performance.now() - s);
  }
  ts.sort((a, b) => a - b);
  console.log(`${label.padEnd(56)} ${ts[ts.length >> 1]!.toFixed(3).padStart(8)} ms`);
}

const r = Math.random;
const N = 20_000;
const at = (): EdgeTotals => ({ count: new Float64Array(N), bytes: new Float64Array(N) });
const e = [at(), at(), at(), at()] as [EdgeTotals, EdgeTotals, EdgeTotals, EdgeTotals];
for (let id = 0; id < N; id++) {
  let c = 0;
  let b = 0;
  for (const x of e) {
    c += 1 + Math.floor(r() * 2);
    b += 70 * (1 + Math.floor(r() * 2));
    x.count[id] = c;
    x.bytes[id] = b;
  }
}
const ids = Int32Array.from({ length: N }, (_, i) => i);
const groupOf = Int32Array.from({ length: N }, (_, i) => Math.floor(i / 1000));
const serviceOf = groupOf;

/** Round 9's way: every change an object, each direction sorted, the first 100 and the rest of the last's tie. */
function sorted(rows: RankedChange[], sign: number): RankedChange[] {
  const s = rows.sort((x, y) => sign * (y.change - x.change) || groupOf[x.id]! - groupOf[y.id]!);
  if (s.length <= 100) return s;
  const last = s[99]!;
  let end = 100;
  while (end < s.length && s[end]!.change === last.change && groupOf[s[end]!.id] === groupOf[last.id]) end++;
  return s.slice(0, end);
}
time('template boundary: every change, sorted', () => {
  const all = rankChanges(ids, serviceOf, -1, e, 100, true).all;
  return [sorted(all.filter((x) => x.change > 0), 1), sorted(all.filter((x) => x.change < 0), -1)];
});
time('template boundary: top-N and the tie pass', () => rankChangesToBoundary(ids, serviceOf, -1, e, 100, groupOf));

const sums = Float64Array.from({ length: 100_000 }, () => (r() < 0.5 ? 0 : Math.round(r() * 1e5)));
time('100,000 sums: sort, the 100th largest', () => sums.slice().sort()[sums.length - 100]);
time('100,000 sums: kthLargest, the 100th', () => kthLargest(sums.slice(), 100));
time('100,000 sums: kthLargest, the 50,100th', () => kthLargest(sums.slice(), 50_100));
