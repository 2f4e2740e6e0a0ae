/**
 * The running-totals history's pure parts (src/store/history.ts,
 * src/store/history-moves.ts): lookups, windows at the resolution retention
 * left, series, and template moves, checked against plain bucket sums.
 */
import { describe, expect, it } from 'vitest';
import {
  HISTORY_SENTINEL, NO_MARKS, addSeries, bucketsOf, cumAt, cumOf, resolveWindow, retentionTargets, type CumRow, type SeriesPoint,
} from '../../src/store/history.js';
import { moveRows, shares } from '../../src/store/history-moves.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Buckets at known minutes with known counts; bytes are ten times the count plus one. */
const BUCKETS: CumRow[] = [0, 1, 5, 59, 60, 61, 200, 1440, 1500].map((m, i) => ({ bucket: m * MIN, count: i + 1, bytes: 10 * (i + 1) + 1 }));
const sumIn = (from: number, to: number, f: 'count' | 'bytes') => BUCKETS.filter((b) => b.bucket >= from && b.bucket < to).reduce((a, b) => a + b[f], 0);

describe('running totals', () => {
  const rows = cumOf(BUCKETS);

  it('end in the sentinel with the all-time totals, and give the buckets back', () => {
    expect(rows.at(-1)).toEqual({ bucket: HISTORY_SENTINEL, count: sumIn(0, Infinity, 'count'), bytes: sumIn(0, Infinity, 'bytes') });
    expect(bucketsOf(rows)).toEqual(BUCKETS);
  });

  it('answer any window as the totals at its end minus those at its start', () => {
    for (let from = 0; from < 1600 * MIN; from += 7 * MIN) {
      for (const len of [MIN, 13 * MIN, HOUR, DAY]) {
        const to = from + len;
        expect(cumAt(rows, to).count - cumAt(rows, from).count).toBe(sumIn(from, to, 'count'));
        expect(cumAt(rows, to).bytes - cumAt(rows, from).bytes).toBe(sumIn(from, to, 'bytes'));
      }
    }
  });

  it('make series whose steps hold their buckets, and nothing outside [from, to)', () => {
    const points = new Map<number, SeriesPoint>();
    addSeries(rows, HOUR, DAY, HOUR, points);
    const got = [...points.values()].sort((a, b) => a.t - b.t);
    expect(got.reduce((a, p) => a + p.count, 0)).toBe(sumIn(HOUR, DAY, 'count'));
    expect(got.map((p) => p.t)).toEqual([HOUR, 3 * HOUR]);
    expect(got[0]!.count).toBe(sumIn(HOUR, 2 * HOUR, 'count'));
  });
});

describe('windows at the resolution retention left', () => {
  it('are whole minutes without marks (from down, to up)', () => {
    expect(resolveWindow({ from: 90_500, to: 150_001 }, NO_MARKS)).toEqual({ from: MIN, to: 3 * MIN });
  });

  it('are whole hours before hoursUntil, whole days before daysUntil, and never before keptFrom', () => {
    const m = { hoursUntil: 10 * DAY, daysUntil: 5 * DAY, keptFrom: 2 * DAY };
    expect(resolveWindow({ from: 9 * DAY + 30 * MIN + 5, to: 11 * DAY + 7 * MIN + 1 }, m)).toEqual({ from: 9 * DAY, to: 11 * DAY + 8 * MIN });
    expect(resolveWindow({ from: 4 * DAY + 3 * HOUR, to: 9 * DAY + 90 * MIN }, m)).toEqual({ from: 4 * DAY, to: 9 * DAY + 2 * HOUR });
    expect(resolveWindow({ from: 0, to: 3 * DAY + HOUR }, m)).toEqual({ from: 2 * DAY, to: 4 * DAY });
    expect(resolveWindow({ from: 0, to: DAY }, m)).toEqual({ from: 2 * DAY, to: 2 * DAY });
  });

  it('come from retention targets aligned to the hour and the day', () => {
    const t = retentionTargets(10 * DAY + 5 * HOUR + 17 * MIN, { minuteMs: 6 * HOUR, hourMs: 2 * DAY, dayMs: 7 * DAY });
    expect(t).toEqual({ hoursUntil: 9 * DAY + 23 * HOUR, daysUntil: 8 * DAY, keptFrom: 3 * DAY });
  });
});

describe('template moves', () => {
  const a = cumOf([{ bucket: MIN, count: 3, bytes: 30 }, { bucket: 2 * MIN, count: 5, bytes: 50 }, { bucket: 4 * MIN, count: 2, bytes: 20 }]);
  const b = cumOf([{ bucket: 2 * MIN, count: 1, bytes: 10 }, { bucket: 3 * MIN, count: 4, bytes: 40 }]);

  it('a merge adds every bucket of one to the other', () => {
    const m = moveRows(a, b, { merged: true, count: 10, bytes: 100 });
    expect(m.from).toEqual([]);
    expect(bucketsOf(m.to)).toEqual([
      { bucket: MIN, count: 3, bytes: 30 }, { bucket: 2 * MIN, count: 6, bytes: 60 }, { bucket: 3 * MIN, count: 4, bytes: 40 }, { bucket: 4 * MIN, count: 2, bytes: 20 },
    ]);
  });

  it('a split moves exactly its count and bytes, in proportion, no bucket below zero, and keeps every bucket\'s sum', () => {
    const m = moveRows(a, b, { merged: false, count: 4, bytes: 35 });
    expect(m.to.at(-1)!.count - b.at(-1)!.count).toBe(4);
    expect(m.to.at(-1)!.bytes - b.at(-1)!.bytes).toBe(35);
    expect(m.from.at(-1)).toEqual({ bucket: HISTORY_SENTINEL, count: 6, bytes: 65 });
    for (const x of [...bucketsOf(m.from), ...bucketsOf(m.to)]) expect(x.count >= 0 && x.bytes >= 0).toBe(true);
    for (const t of [MIN, 2 * MIN, 3 * MIN, 4 * MIN]) {
      const before = cumAt(a, t + MIN).count - cumAt(a, t).count + cumAt(b, t + MIN).count - cumAt(b, t).count;
      const after = cumAt(m.from, t + MIN).count - cumAt(m.from, t).count + cumAt(m.to, t + MIN).count - cumAt(m.to, t).count;
      expect(after).toBe(before);
    }
  });

  it('a split of more than there is moves all of it', () => {
    const m = moveRows(a, b, { merged: false, count: 99, bytes: 999 });
    expect(m.from.at(-1)).toEqual({ bucket: HISTORY_SENTINEL, count: 0, bytes: 0 });
    expect(m.to.at(-1)!.count).toBe(15);
  });

  it('shares add up exactly and never exceed a part', () => {
    for (const [parts, amount] of [[[1, 1, 1], 2], [[5, 0, 7, 1], 6], [[1e9, 3, 2], 7], [[2, 2], 0]] as Array<[number[], number]>) {
      const s = shares(parts, amount);
      expect(s.reduce((x, y) => x + y, 0)).toBe(Math.min(amount, parts.reduce((x, y) => x + y, 0)));
      s.forEach((v, i) => expect(v >= 0 && v <= parts[i]!).toBe(true));
    }
  });
});
