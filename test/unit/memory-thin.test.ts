/**
 * Retention's thinning of the memory store's running totals (thinRows, MemoryHistory.retain): the scan that stops at
 * the first row after every mark and copies an entity's rows only when one goes gives the rows of the full walk it
 * replaced (the reference below), and a move of the marks that drops nothing leaves the history's version alone, so
 * the UI's kept views and edges survive the hourly retention round on a store younger than the minute retention.
 */
import { describe, expect, it } from 'vitest';
import { MemoryHistory, thinRows } from '../../src/store/memory/history.js';
import { HISTORY_SENTINEL, type CumRow, type HistoryMarks } from '../../src/store/history.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../../src/model/history.js';
import { rng as random } from '../helpers/log-generator.js';

/** Every row looked at: the first of each unit kept, none before keptFrom, the sentinel always. */
function thinAll(rows: readonly CumRow[], m: HistoryMarks): CumRow[] {
  const kept: CumRow[] = [];
  let last = -1;
  for (const r of rows) {
    const unit = r.bucket < m.keptFrom ? -2 : r.bucket < m.daysUntil ? bucketOf(r.bucket, DAY_MS) : r.bucket < m.hoursUntil ? bucketOf(r.bucket, HOUR_MS) : r.bucket;
    if (unit === -2 || (unit === last && r.bucket !== HISTORY_SENTINEL)) continue;
    last = unit;
    kept.push(r);
  }
  return kept;
}

const T0 = Date.UTC(2026, 3, 1);

describe('memory history thinning', () => {
  it('thinRows keeps the rows the full walk keeps, and the same array when none goes', () => {
    const rnd = random(11);
    let changed = 0;
    let same = 0;
    for (let n = 0; n < 3000; n++) {
      // Rows a minute to days apart over ~60 days, then the sentinel.
      const rows: CumRow[] = [];
      let t = T0 + Math.floor(rnd() * 5) * DAY_MS;
      let total = 0;
      const len = Math.floor(rnd() * 40);
      for (let i = 0; i < len; i++) {
        t += MINUTE_MS * (1 + Math.floor(rnd() * (rnd() < 0.2 ? 3000 : 90)));
        rows.push({ bucket: t, count: total, bytes: 10 * total });
        total += 1 + Math.floor(rnd() * 4);
      }
      rows.push({ bucket: HISTORY_SENTINEL, count: total, bytes: 10 * total });
      // Marks anywhere over the rows' span, daysUntil sometimes past hoursUntil (the memory bound's thinning).
      const at = () => T0 + Math.floor(rnd() * 70 * 24) * HOUR_MS;
      const keptFrom = rnd() < 0.3 ? at() : 0;
      const daysUntil = Math.max(keptFrom, rnd() < 0.5 ? at() : 0);
      const hoursUntil = rnd() < 0.2 ? daysUntil - HOUR_MS : Math.max(daysUntil, at());
      // A third of the time the marks lie before most rows (a young store): often nothing to drop.
      const early = rnd() < 0.35 ? 60 * DAY_MS : 0;
      const marks: HistoryMarks = { keptFrom: Math.max(0, keptFrom - early), daysUntil: Math.max(0, daysUntil - early), hoursUntil: Math.max(0, hoursUntil - early) };
      const want = thinAll(rows, marks);
      const e = { rows: rows.slice() };
      const before = e.rows;
      const dropped = thinRows(e, marks);
      expect(e.rows).toEqual(want);
      expect(dropped).toBe(rows.length - want.length);
      if (dropped === 0) {
        expect(e.rows).toBe(before);
        same++;
      } else changed++;
    }
    expect(changed).toBeGreaterThan(1000);
    expect(same).toBeGreaterThan(300);
  });

  it('a retention round that drops nothing keeps the version; one that drops rows moves it', () => {
    const h = new MemoryHistory();
    const now = T0 + 10 * DAY_MS;
    // Two hours of minutes, all younger than the 6 h minute retention.
    for (let m = 0; m < 120; m++) h.add([{ minute: now - (120 - m) * MINUTE_MS, kind: 'key', service: 's', name: 'log', sub: `k${m % 7}`, count: 1, bytes: 10 }]);
    const retention = { minuteMs: 6 * HOUR_MS, hourMs: 2 * DAY_MS, dayMs: 30 * DAY_MS };
    const v = h.version;
    expect(h.retain(now, retention)).toBe(0);
    const first = h.marks().hoursUntil;
    expect(first).toBeGreaterThan(0);
    // An hour on, the mark moves an hour (hour-aligned), still before every row.
    expect(h.retain(now + HOUR_MS, retention)).toBe(0);
    expect(h.marks().hoursUntil).toBe(first + HOUR_MS);
    expect(h.version).toBe(v);
    // Seven hours on, the first hour's minutes are past the minute retention: thinned to one row an hour per key.
    const later = now + 7 * HOUR_MS;
    const dropped = h.retain(later, retention);
    expect(dropped).toBeGreaterThan(0);
    expect(h.version).toBeGreaterThan(v);
    const q = { kind: 'key' as const, service: undefined, before: { from: 0, to: now - HOUR_MS }, after: { from: now - HOUR_MS, to: later }, limit: 10 };
    expect(h.changes(q)).toEqual(h.changesPlain(q));
  });
});
