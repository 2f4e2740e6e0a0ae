/**
 * The selections that replaced full sorts (src/store/select.ts), against the sorts, at a steady store's sizes:
 * PostgreSQL /changes' boundary over one direction's ~13,000 template changes (a page of 100), and the kept edges'
 * need-th largest of 100,000 keys' window sums (half of them 0: nothing in the window).
 *
 *   npm run build && npm run bench:select
 *
 * Each figure is the median of 200 timed runs after 20 warm-up runs; the machine is shared, run it more than once.
 */
import { boundary } from '../src/store/postgres/changes.js';
import { kthLargest } from '../src/store/select.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:select
  the selections that replaced full sorts, against the sorts`, {});

function time(label: string, f: () => unknown): void {
  for (let i = 0; i < 20; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    f();
    ts.push(performance.now() - s);
  }
  ts.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} ${ts[ts.length >> 1]!.toFixed(3).padStart(8)} ms`);
}

const r = Math.random;
const groupOf = Int32Array.from({ length: 20_000 }, (_, i) => i);
const rows = Array.from({ length: 13_000 }, (_, id) => ({ id, change: Math.round(r() * 1e6) }));
time('boundary: sort 13,000, take 100 and the tie', () => {
  const sorted = [...rows].sort((x, y) => y.change - x.change || groupOf[x.id]! - groupOf[y.id]!);
  return sorted.slice(0, 100);
});
time('boundary: selection (kthBy, a heap of 100)', () => boundary(rows, 100, 1, groupOf));

const sums = Float64Array.from({ length: 100_000 }, () => (r() < 0.5 ? 0 : Math.round(r() * 1e5)));
time('100,000 sums: sort, the 100th largest', () => sums.slice().sort()[sums.length - 100]);
time('100,000 sums: kthLargest, the 100th', () => kthLargest(sums.slice(), 100));
time('100,000 sums: kthLargest, the 50,100th', () => kthLargest(sums.slice(), 50_100));
