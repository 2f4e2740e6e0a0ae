/**
 * topBySums (src/store/top-by-sums.ts) over rows in code: its page against a
 * plain sort of every row's window value, with the total given and with the
 * total left uncounted (a function it calls only when it must: /changes'
 * lists on PostgreSQL), on random rows with wide ties.
 */
import { describe, expect, it } from 'vitest';
import { topBySums, type TopBySumsReads } from '../../src/store/top-by-sums.js';
import { rng as random } from '../helpers/log-generator.js';

interface Row extends Record<string, unknown> {
  id: number;
  bound: number;
  v: number;
}

/** The list's order: the window value descending, ties by id. */
const order = (a: Row, b: Row) => b.v - a.v || a.id - b.id;

function reads(rows: Row[]): TopBySumsReads<number, Row> {
  const byBound = [...rows].sort((a, b) => b.bound - a.bound || a.id - b.id);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    top: async (n) => byBound.slice(0, n).map((r) => ({ rid: r.id, bound: r.bound })),
    above: async (v, limit) => byBound.filter((r) => r.bound > v).slice(0, limit).map((r) => r.id),
    at: async (v, limit, offset) => rows.filter((r) => r.bound === v).sort((a, b) => a.id - b.id).slice(offset, offset + limit).map((r) => r.id),
    page: async (ids, limit, offset) => ids.map((i) => byId.get(i)!).filter((r) => r.v > 0).sort(order).slice(offset, offset + limit),
  };
}

describe('topBySums', () => {
  it('answers the plain sort, with the total given or counted only when needed', async () => {
    const rnd = random(7);
    let counted = 0;
    let uncounted = 0;
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(rnd() * 700);
      // Bounds from few values (wide ties); window values at the bound (a new row: all of it in the window) or below.
      // A short window (a third of the rounds): most rows' window values far below their bounds.
      const short = rnd() < 0.35;
      const rows: Row[] = Array.from({ length: n }, (_, id) => {
        const bound = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 3 : 40));
        const v = short ? (rnd() < 0.05 ? bound : Math.floor(rnd() * (bound / 5 + 1))) : rnd() < 0.6 ? bound : Math.floor(rnd() * (bound + 1));
        return { id, bound, v };
      });
      const active = rows.filter((r) => r.v > 0);
      const page = { limit: 1 + Math.floor(rnd() * 30), offset: rnd() < 0.3 ? Math.floor(rnd() * 40) : 0 };
      const want = [...active].sort(order).slice(page.offset, page.offset + page.limit);
      const given = await topBySums(reads(rows), 'v', page, active.length);
      let calls = 0;
      const lazy = await topBySums(reads(rows), 'v', page, async () => {
        calls++;
        return active.length;
      });
      // undefined: "sort every row" (the caller's fall-back), else the exact page.
      if (given) expect(given, `round ${round}`).toEqual(want);
      if (lazy) expect(lazy, `round ${round}, uncounted`).toEqual(want);
      expect(calls).toBeLessThanOrEqual(1);
      if (calls === 0) uncounted++;
      else counted++;
    }
    // Both ways were taken: mostly without a count, sometimes with one.
    expect(uncounted).toBeGreaterThan(100);
    expect(counted).toBeGreaterThan(0);
  });
});
