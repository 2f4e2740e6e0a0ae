/**
 * TopN (src/store/changes-top.ts): the bounded lists /changes ranks with keep exactly what a full sort keeps.
 */
import { describe, expect, it } from 'vitest';
import { TopN } from '../../src/store/changes-top.js';
import { rng } from '../helpers/otlp-fixtures.js';

type X = { v: number; k: number };
const first = (a: X, b: X) => a.v > b.v || (a.v === b.v && a.k < b.k);
const byFull = (xs: X[], n: number) => [...xs].sort((a, b) => b.v - a.v || a.k - b.k).slice(0, n);

describe('TopN', () => {
  it('keeps the first n of a full sort, ties by the tiebreak, in any offer order', () => {
    const r = rng(7);
    for (const n of [0, 1, 3, 10, 100]) {
      // Few distinct values: wide ties.
      const xs = Array.from({ length: 500 }, (_, k) => ({ v: Math.floor(r() * 6), k }));
      const shuffled = [...xs].sort(() => r() - 0.5);
      const top = new TopN<X>(n, first);
      for (const x of shuffled) top.offer(x);
      expect(top.sorted(), `n=${n}`).toEqual(byFull(xs, n));
    }
  });

  it('fewer items than the limit: all of them, best first; worst() only once full', () => {
    const top = new TopN<X>(5, first);
    expect(top.worst()).toBeUndefined();
    for (const x of [{ v: 1, k: 2 }, { v: 3, k: 1 }, { v: 1, k: 1 }]) top.offer(x);
    expect(top.worst()).toBeUndefined();
    expect(top.sorted()).toEqual([{ v: 3, k: 1 }, { v: 1, k: 1 }, { v: 1, k: 2 }]);
    for (const x of [{ v: 0, k: 9 }, { v: 2, k: 4 }]) top.offer(x);
    expect(top.worst()).toEqual({ v: 0, k: 9 });
    expect(top.takes({ v: 0, k: 10 })).toBe(false);
    expect(top.takes({ v: 0, k: 8 })).toBe(true);
  });
});
