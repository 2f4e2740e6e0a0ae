/**
 * The memory store's /changes from kept edges (src/store/memory/edge-totals.ts,
 * MemoryHistory.changes) against its plain walk of every entity's running
 * totals (changesPlain, the reference the SQL stores are compared with), on
 * random histories while commits change them between the questions: new
 * entities, backfills behind kept edges, template merges and splits, thinning
 * and forgotten entities. Many `since` values, moving a minute at a time as
 * the UI's, with services, limits and ties (few distinct byte counts).
 */
import { describe, expect, it } from 'vitest';
import { MemoryHistory } from '../../src/store/memory/history.js';
import type { ChangesQuery, HistoryKind } from '../../src/store/history.js';
import type { HistoryRow } from '../../src/writer/state.js';
import { rng as random } from '../helpers/log-generator.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 1);

const KINDS: HistoryKind[] = ['template', 'key', 'metric'];

/** A commit at minute `m`: a few entities of each kind, byte counts from a few values (many ties). */
function commit(rnd: () => number, m: number, entities: number): HistoryRow[] {
  const out: HistoryRow[] = [];
  const n = 1 + Math.floor(rnd() * 30);
  for (let i = 0; i < n; i++) {
    const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
    const e = Math.floor(rnd() * entities);
    const service = `svc-${e % 3}`;
    const name = kind === 'template' ? (e % 4 === 0 ? 'WARN' : 'INFO') : kind === 'key' ? 'log' : `m${e % 5}`;
    const sub = kind === 'template' ? String(e) : kind === 'key' ? `k.${e}` : '';
    out.push({ minute: m, kind, service, name, sub, count: Math.floor(rnd() * 3), bytes: 10 * Math.floor(rnd() * 4) });
  }
  return out;
}

/** Asks both forms the UI's questions at `now`: `since` a minute apart, and some with a service or an `until`. */
function compare(h: MemoryHistory, rnd: () => number, now: number, asked: { n: number; nonEmpty: number }): void {
  for (let i = 0; i < 12; i++) {
    const since = now - 24 * HOUR + i * MIN + (rnd() < 0.3 ? Math.floor(rnd() * 20) * HOUR : 0);
    const until = rnd() < 0.2 ? since + Math.floor(1 + rnd() * 30) * MIN : now + MIN;
    for (const kind of [...KINDS, 'span' as const]) {
      const service = rnd() < 0.3 ? `svc-${Math.floor(rnd() * 4)}` : undefined;
      const q: ChangesQuery = { kind, service, before: { from: Math.max(0, 2 * since - until), to: since }, after: { from: since, to: until }, limit: 1 + Math.floor(rnd() * 12) };
      const fast = h.changes(q);
      expect(fast, JSON.stringify(q)).toEqual(h.changesPlain(q));
      asked.n++;
      if (fast.rose.length + fast.fell.length > 0) asked.nonEmpty++;
    }
  }
}

describe('memory /changes: kept edges answer as the plain walk', () => {
  for (const seed of [1, 2, 3]) {
    it(`random history ${seed}: commits, backfills, template moves, thinning and forgotten entities between questions`, () => {
      const rnd = random(seed);
      const h = new MemoryHistory();
      const asked = { n: 0, nonEmpty: 0 };
      let now = T0;
      for (let step = 0; step < 60; step++) {
        // A few minutes of commits, some backfilled behind the kept edges (hours back).
        for (let c = 0; c < 5; c++) {
          now += MIN * (1 + Math.floor(rnd() * 20));
          h.add(commit(rnd, now - (rnd() < 0.15 ? Math.floor(rnd() * 40) * HOUR : 0) - (now % MIN), 60 + step * 4));
        }
        if (rnd() < 0.3) {
          // Templates merge (one goes) or split (part of one's lines move to another, maybe new).
          const e = Math.floor(rnd() * 60);
          const to = Math.floor(rnd() * 300);
          const merged = rnd() < 0.5;
          h.move([{ service: `svc-${e % 3}`, severity: e % 4 === 0 ? 'WARN' : 'INFO', from: String(e), to: String(to), merged, count: Math.floor(rnd() * 5), bytes: 10 * Math.floor(rnd() * 5) }]);
        }
        if (step % 5 === 4) h.retain(now, { minuteMs: 6 * HOUR, hourMs: 2 * 24 * HOUR, dayMs: 30 * 24 * HOUR });
        if (step === 45) for (let i = 0; i < 6; i++) h.dropOldest();
        compare(h, rnd, now, asked);
      }
      expect(asked.n).toBeGreaterThan(2000);
      expect(asked.nonEmpty).toBeGreaterThan(asked.n / 3);
    });
  }

  it('many entities forgotten: the slots renumbered, the answers the same', () => {
    const rnd = random(7);
    const h = new MemoryHistory();
    const asked = { n: 0, nonEmpty: 0 };
    let now = T0;
    for (let m = 0; m < 400; m++) {
      now += 5 * MIN;
      h.add(commit(rnd, now, 3000));
    }
    compare(h, rnd, now, asked);
    // Thinned to nothing left to thin, then whole entities forgotten a sixteenth at a time (past half: renumbered).
    let dropped = 0;
    for (let i = 0; i < 30; i++) dropped += h.dropOldest();
    expect(dropped).toBeGreaterThan(0);
    compare(h, rnd, now, asked);
    for (let m = 0; m < 50; m++) {
      now += MIN;
      h.add(commit(rnd, now, 3000));
    }
    compare(h, rnd, now, asked);
    expect(asked.nonEmpty).toBeGreaterThan(20);
  });
});
