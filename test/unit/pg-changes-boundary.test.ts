/**
 * The selections that replaced full sorts (src/store/select.ts): PostgreSQL's /changes boundary
 * (src/store/postgres/changes.ts) and the kept edges' aboveAndTied (src/store/top-candidates.ts) give what the
 * sorts they replaced gave, on random inputs with wide ties.
 */
import { describe, expect, it } from 'vitest';
import { kthBy, kthLargest } from '../../src/store/select.js';
import { boundary } from '../../src/store/postgres/changes.js';
import { aboveAndTied } from '../../src/store/top-candidates.js';
import { rng } from '../helpers/otlp-fixtures.js';

type Row = { id: number; change: number };

/** boundary as it was: the whole direction sorted, the first `limit` and the rest of the last's tie. */
function sortedBoundary(rows: Row[], limit: number, sign: number, groupOf: Int32Array): Row[] {
  if (rows.length <= limit) return rows;
  const sorted = [...rows].sort((x, y) => sign * (y.change - x.change) || groupOf[x.id]! - groupOf[y.id]!);
  const last = sorted[limit - 1]!;
  let end = limit;
  while (end < sorted.length && sorted[end]!.change === last.change && groupOf[sorted[end]!.id] === groupOf[last.id]) end++;
  return sorted.slice(0, end);
}

/** aboveAndTied as it was: every sum sorted for the need-th largest. */
function sortedAboveAndTied(ids: Int32Array, serviceOf: Int32Array, svc: number, from: Float64Array, to: Float64Array, need: number) {
  const sums: number[] = [];
  for (const id of ids) if (svc < 0 || serviceOf[id] === svc) sums.push(to[id]! - from[id]!);
  if (sums.length < need) return undefined;
  const v = sums.sort((a, b) => b - a)[need - 1];
  if (v === undefined || !(v > 0)) return undefined;
  const above: number[] = [];
  const tied: number[] = [];
  for (const id of ids) {
    if (svc >= 0 && serviceOf[id] !== svc) continue;
    const x = to[id]! - from[id]!;
    if (x > v) above.push(id);
    else if (x === v) tied.push(id);
  }
  return { above, tied };
}

const ids = (rows: Row[]) => rows.map((r) => r.id).sort((a, b) => a - b);

describe('boundary (PostgreSQL /changes)', () => {
  it('picks the set the full sort picked, for either sign, limits below and above the input, wide ties', () => {
    const r = rng(14);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(r() * 400);
      const span = 1 + Math.floor(r() * 6);
      const groups = 1 + Math.floor(r() * 5);
      const groupOf = Int32Array.from({ length: n }, () => Math.floor(r() * groups));
      for (const sign of [1, -1]) {
        const rows = Array.from({ length: n }, (_, id) => ({ id, change: sign * (1 + Math.floor(r() * span)) }));
        for (const limit of [1, 2, 7, 100, n - 1, n, n + 5].filter((l) => l >= 1)) {
          expect(ids(boundary(rows, limit, sign, groupOf))).toEqual(ids(sortedBoundary(rows, limit, sign, groupOf)));
        }
      }
    }
  });

  it('takes every row of the tie when all are equal, and nothing of nothing', () => {
    const groupOf = new Int32Array(50);
    const rows = Array.from({ length: 50 }, (_, id) => ({ id, change: 3 }));
    expect(boundary(rows, 10, 1, groupOf)).toHaveLength(50);
    expect(boundary([], 10, 1, groupOf)).toEqual([]);
    // Equal changes, the tie split by group: only the last's group follows it.
    const split = Int32Array.from({ length: 50 }, (_, id) => (id < 20 ? 0 : 1));
    expect(ids(boundary(rows, 10, 1, split))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(boundary(rows, 25, 1, split)).toHaveLength(50);
  });
});

describe('kthBy and kthLargest', () => {
  it('answer the k-th of a sort, or undefined past the end', () => {
    const r = rng(3);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(r() * 300);
      const xs = Array.from({ length: n }, () => Math.floor(r() * 8) - 2);
      const sorted = [...xs].sort((a, b) => b - a);
      for (const k of [0, 1, 2, 50, n - 1, n, n + 1]) {
        const want = k >= 1 ? sorted[k - 1] : undefined;
        expect(kthBy(xs, k, (a, b) => b - a)).toBe(want);
        expect(kthLargest(Float64Array.from(xs), k)).toBe(want);
      }
    }
    expect(kthLargest(Float64Array.from({ length: 1000 }, (_, i) => i), 10)).toBe(990);
    expect(kthLargest(new Float64Array(1000).fill(4), 999)).toBe(4);
  });
});

describe('aboveAndTied (kept edges)', () => {
  it('gives the above and tied the sort of every sum gave', () => {
    const r = rng(11);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(r() * 300);
      const services = 1 + Math.floor(r() * 3);
      const order = Int32Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5);
      const serviceOf = Int32Array.from({ length: n }, () => Math.floor(r() * services));
      const from = Float64Array.from({ length: n }, () => Math.floor(r() * 3));
      // Small sums, many of them 0 or equal.
      const to = Float64Array.from(from, (f) => f + Math.floor(r() * 4));
      for (const svc of [-1, 0, services - 1]) {
        for (const need of [0, 1, 3, 20, n - 1, n, n + 1]) {
          expect(aboveAndTied(order, serviceOf, svc, from, to, need)).toEqual(sortedAboveAndTied(order, serviceOf, svc, from, to, need));
        }
      }
    }
  });
});
