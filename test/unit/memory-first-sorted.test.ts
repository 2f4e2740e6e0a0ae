import { describe, expect, it } from 'vitest';
import { firstSorted } from '../../src/store/memory/list.js';

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('memory store pages (firstSorted)', () => {
  it('gives the first m rows of a full sort, ties broken by the key, for every page size', () => {
    const rnd = lcg(7);
    // Few distinct counts, so most comparisons fall through to the tie-break.
    const rows = Array.from({ length: 2000 }, (_, i) => ({ count: Math.floor(rnd() * 20), key: `k${i}` }));
    const cmp = (a: (typeof rows)[number], b: (typeof rows)[number]) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const whole = [...rows].sort(cmp);
    for (const m of [1, 2, 10, 100, 249, 250, 251, 1999, 2000]) {
      expect(firstSorted([...rows], m, cmp).slice(0, m)).toEqual(whole.slice(0, m));
    }
  });

  it('takes rows in ascending and descending input order alike (its worst and best cases)', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    const asc = (a: number, b: number) => a - b;
    expect(firstSorted([...rows], 10, asc)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(firstSorted([...rows].reverse(), 10, asc)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(firstSorted([], 10, asc)).toEqual([]);
  });
});
