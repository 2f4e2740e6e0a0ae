/**
 * What replaced full sorts: PostgreSQL's /changes boundary for templates (rankChangesToBoundary,
 * src/store/changes-top.ts: a top-N and a pass for the tie at its end, no object per change) and the kept edges'
 * aboveAndTied (src/store/top-candidates.ts, by kthLargest) give what the sorts they replaced gave, on random inputs
 * with wide ties.
 */
import { describe, expect, it } from 'vitest';
import { kthLargest } from '../../src/store/select.js';
import { rankChanges, rankChangesToBoundary, type EdgeTotals } from '../../src/store/changes-top.js';
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

/** aboveAndTied as it was: every sum sorted for the need-th largest (written with filters, apart from the code). */
function sortedAboveAndTied(ids: Int32Array, serviceOf: Int32Array, svc: number, from: Float64Array, to: Float64Array, need: number) {
  const mine = [...ids].filter((id) => svc < 0 || serviceOf[id] === svc);
  const sum = (id: number) => to[id]! - from[id]!;
  const v = mine.map(sum).sort((a, b) => b - a)[need - 1];
  if (mine.length < need || v === undefined || !(v > 0)) return undefined;
  return { above: mine.filter((id) => sum(id) > v), tied: mine.filter((id) => sum(id) === v) };
}

const ids_ = (rows: Row[]) => rows.map((r) => r.id).sort((a, b) => a - b);

/** Random running totals at four edges for n entities, from few values (wide ties); some entities idle before. */
function edges(r: () => number, n: number, span: number): [EdgeTotals, EdgeTotals, EdgeTotals, EdgeTotals] {
  const at = () => ({ count: new Float64Array(n), bytes: new Float64Array(n) });
  const e = [at(), at(), at(), at()] as [EdgeTotals, EdgeTotals, EdgeTotals, EdgeTotals];
  for (let id = 0; id < n; id++) {
    let c = Math.floor(r() * 3);
    let b = 10 * c;
    for (const x of e) {
      // Some entities move nothing in a window (idle before: not ranked; the same after: no change).
      if (r() < 0.7) {
        c += Math.floor(r() * 3);
        b += 10 * Math.floor(r() * span);
      }
      x.count[id] = c;
      x.bytes[id] = b;
    }
  }
  return e;
}

describe('rankChangesToBoundary (PostgreSQL /changes, templates)', () => {
  it("picks the set the sort of every change picked, each way, limits below and above the input, wide ties, a service's only", () => {
    const r = rng(14);
    let tiesAfter = 0;
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(r() * 400);
      const e = edges(r, n, 1 + Math.floor(r() * 4));
      // Entities in key order (the ids' order here), (service, name) groups non-decreasing along it.
      const ids = Int32Array.from({ length: n }, (_, i) => i);
      const groupOf = new Int32Array(n);
      for (let i = 1; i < n; i++) groupOf[i] = groupOf[i - 1]! + (r() < 0.1 ? 1 : 0);
      const serviceOf = Int32Array.from(groupOf, (g) => g % 3);
      for (const svc of [-1, 1]) {
        const all = rankChanges(ids, serviceOf, svc, e, 1, true).all;
        for (const limit of [1, 2, 7, 100, n - 1, n, n + 5].filter((l) => l >= 1)) {
          const got = rankChangesToBoundary(ids, serviceOf, svc, e, limit, groupOf);
          const up = sortedBoundary(all.filter((x) => x.change > 0), limit, 1, groupOf);
          const down = sortedBoundary(all.filter((x) => x.change < 0), limit, -1, groupOf);
          expect(ids_(got.up)).toEqual(ids_(up));
          expect(ids_(got.down)).toEqual(ids_(down));
          expect(got.up.find((x) => x.change <= 0)).toBeUndefined();
          expect([got.ups, got.downs]).toEqual([all.filter((x) => x.change > 0).length, all.filter((x) => x.change < 0).length]);
          // The sums carried are those of the plain ranking.
          const byId = new Map(all.map((x) => [x.id, x]));
          for (const x of [...got.up, ...got.down]) expect(x).toEqual(byId.get(x.id));
          if (got.up.length > limit) tiesAfter++;
        }
      }
    }
    // The tie pass was needed often: more rows than the limit, tied with the last on change and group.
    expect(tiesAfter).toBeGreaterThan(100);
  });
});

describe('kthLargest', () => {
  it('answer the k-th of a sort, or undefined past the end', () => {
    const r = rng(3);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(r() * 300);
      const xs = Array.from({ length: n }, () => Math.floor(r() * 8) - 2);
      const sorted = [...xs].sort((a, b) => b - a);
      for (const k of [0, 1, 2, 50, n - 1, n, n + 1]) {
        const want = k >= 1 ? sorted[k - 1] : undefined;
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
