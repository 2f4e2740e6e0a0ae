/**
 * The memory store's windowed lists (src/store/memory/window-view.ts: rows
 * not copied, sums in arrays, ties by a kept order, a view kept per store
 * state) against its plain form (MemoryQueries with `plain`: every active row
 * copied with its sums, the reference the SQL stores are compared with in
 * test/integration/window-lists.test.ts). The same store answers both ways,
 * question by question, while commits change it between the questions: new
 * rows, a backfill into an old minute, templates that fold and split (history
 * moves), and a store so small that its history is thinned and forgotten.
 */
import { describe, expect, it } from 'vitest';
import { Packr, Unpackr } from 'msgpackr';
import { Extractor } from '../../src/extract/extractor.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { WriterState } from '../../src/writer/state.js';
import { MemoryStore } from '../../src/store/memory/store.js';
import { MemoryQueries } from '../../src/store/memory/read.js';
import { entityKey, type DeltaBatch } from '../../src/model/delta.js';
import type { LogsRequest } from '../../src/model/otlp.js';
import type { ListResult, Page } from '../../src/store/queries.js';
import type { StoreQueries } from '../../src/store/store.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 1);
const opts = { precision: 10, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 100_000 };
const roundTrip = (b: DeltaBatch): DeltaBatch => new Unpackr({ useRecords: true }).unpack(new Packr({ useRecords: true }).pack(b)) as DeltaBatch;
const STATES = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
const word = (t: number) => 'op' + String.fromCharCode(97 + (t % 26)) + String.fromCharCode(97 + Math.floor(t / 26));

interface Line {
  service: string;
  severity: string;
  body: string;
  /** Attribute keys (each a key row), with one value each. */
  keys: string[];
}

/** Lines of send `s`: 40 templates whose volume follows one of four shapes (so that window order and all-time order cross), many tied. */
function lines(s: number): Line[] {
  const out: Line[] = [];
  for (let t = 0; t < 40; t++) {
    const n = [2, 1 + s, s < 3 ? 4 : 0, s === 5 ? 6 : 1][t % 4]!;
    for (let i = 0; i < n; i++) {
      out.push({ service: `svc-${t % 3}`, severity: t % 5 === 0 ? 'WARN' : 'INFO', body: `${word(t)} took ${i + s} ms for order ${t * 31 + i}`, keys: [`k.${word(t)}`, `k.shared${t % 7}`] });
    }
  }
  return out;
}

/** `n` keys named `prefix.NNNNN`, 50 to a line, on two services. */
const many = (prefix: string, n: number, body = 'batch'): Line[] => Array.from({ length: Math.ceil(n / 50) }, (_, i) => ({
  service: `svc-${i % 2}`, severity: 'INFO', body: `${body} ${prefix} ${i}`,
  keys: Array.from({ length: Math.min(50, n - i * 50) }, (_, j) => `${prefix}.${String(i * 50 + j).padStart(5, '0')}`),
}));

/** Service `moves`: five states seen once each fold into one template; recurring, they split again. */
function lifecycle(m: number): Line[] {
  const n = m < 5 ? 1 : 6;
  return Array.from({ length: n }, (_, i) => ({
    service: 'moves', severity: 'INFO', body: `instance ${100000 + ((m * 7919 + i * 104729) % 900000)} lifecycle ${STATES[m < 5 ? m : (i + m) % 5]} by scheduler`, keys: [],
  }));
}

function request(ls: Line[]): LogsRequest {
  const services = [...new Set(ls.map((l) => l.service))];
  return {
    resources: services.map((svc) => ({
      attrs: [{ key: 'service.name', value: svc, bytes: 13 + svc.length }],
      scopes: [{
        scopeName: 's',
        records: ls.filter((l) => l.service === svc).map((l) => ({
          timeUnixMs: 0, severityNumber: l.severity === 'WARN' ? 13 : 9, severityText: l.severity, body: l.body,
          attrs: l.keys.map((k) => ({ key: k, value: 'v', bytes: k.length + 5 })), bytes: l.body.length + 9,
        })),
      }],
    })),
  };
}

class Feed {
  private readonly state: WriterState;
  private constructor(readonly store: MemoryStore, private readonly workers: Extractor[]) {
    this.state = new WriterState(opts, store.loader());
  }

  static async open(maxBytes: number): Promise<Feed> {
    const hasher = await createKeyedHasher(0x5eedn);
    return new Feed(new MemoryStore({ maxBytes }), [0, 1].map((workerId) => new Extractor(hasher, { workerId, ...opts })));
  }

  /** `ls` received at `at`, through two workers, one commit. */
  async send(ls: Line[], at: number): Promise<void> {
    const half = Math.ceil(ls.length / 2);
    for (const [w, part] of [[this.workers[0]!, ls.slice(0, half)], [this.workers[1]!, ls.slice(half)]] as const) {
      if (part.length === 0) continue;
      w.foldLogs(request(part), at);
      this.state.applyBatch(roundTrip(w.flush()));
    }
    await this.store.commit(this.state.takeChanges());
  }
}

/** The questions, each asked of the fast and the plain form. */
type Ask = (q: StoreQueries) => Promise<ListResult<unknown>>;

function questions(windows: Array<{ from: number; to: number }>): Array<[string, Ask]> {
  const out: Array<[string, Ask]> = [];
  const page = (sort: string, order: 'asc' | 'desc', limit: number, offset = 0): Page => ({ sort, order, limit, offset });
  for (const window of windows) {
    const w = `${window.from - T0}..${window.to - T0}`;
    for (const [sort, order] of [['count', 'desc'], ['bytes', 'desc'], ['bytes', 'asc'], ['percentage', 'desc'], ['bytes_percentage', 'desc'], ['first_seen', 'desc'], ['template', 'asc']] as const) {
      for (const [limit, offset] of [[5, 0], [7, 3], [100, 0], [3, 60], [0, 0]]) {
        out.push([`templates ${w} ${sort} ${order} ${limit}@${offset}`, (q) => q.templates({ window, page: page(sort, order, limit, offset) })]);
      }
    }
    out.push([`templates ${w} filtered`, (q) => q.templates({ window, service: 'svc-1', severity: 'info', q: 'OP', page: page('count', 'desc', 10) })]);
    out.push([`templates ${w} moves`, (q) => q.templates({ window, service: 'moves', page: page('count', 'desc', 10) })]);
    out.push([`templates ${w} new`, (q) => q.templates({ window, firstSeenFrom: window.from, page: page('bytes', 'desc', 20) })]);
    for (const [sort, order] of [['sample_count', 'desc'], ['bytes', 'desc'], ['cardinality_estimate', 'desc'], ['key', 'asc'], ['bytes_percentage', 'desc'], ['last_seen', 'asc']] as const) {
      for (const [limit, offset] of [[1, 0], [6, 2], [100, 0], [10, 25], [0, 0]]) {
        out.push([`keys ${w} ${sort} ${order} ${limit}@${offset}`, (q) => q.keys({ window, page: page(sort, order, limit, offset) })]);
      }
    }
    // A filter without a service: the same view as the unfiltered lists above, other rows.
    out.push([`keys ${w} by text`, (q) => q.keys({ window, q: 'SHARED', page: page('sample_count', 'desc', 100) })]);
    // The text index (src/store/memory/text-index.ts): needles matching many, one or no key, at a key's start or end,
    // capitals on either side, the empty one, one holding the index's separator; pages deep into the matches.
    for (const text of ['k.', 'K.OP', 'shared3', 'SHARED3X', 'zzz', 'k.early', 'y', '.', '', '\u0000', 'nothing like it', 'opb0', 'MIXEDcase', 'k.M']) {
      for (const [sort, order, limit, offset] of [['sample_count', 'desc', 100, 0], ['key', 'asc', 7, 3], ['bytes', 'asc', 5, 40], ['bytes_percentage', 'desc', 3, 0], ['key', 'asc', 0, 0]] as const) {
        out.push([`keys ${w} text ${JSON.stringify(text)} ${sort} ${order} ${limit}@${offset}`, (q) => q.keys({ window, q: text, page: page(sort, order, limit, offset) })]);
      }
      out.push([`keys ${w} text ${JSON.stringify(text)} svc-1`, (q) => q.keys({ window, service: 'svc-1', q: text, page: page('key', 'asc', 20) })]);
    }
    out.push([`keys ${w} filtered`, (q) => q.keys({ window, service: 'svc-2', scope: 'log', q: 'shared', page: page('sample_count', 'desc', 10) })]);
    out.push([`keys ${w} new`, (q) => q.keys({ window, firstSeenFrom: window.from, page: page('bytes', 'desc', 20) })]);
    // What is new (/changes' lists: src/store/memory/fresh-list.ts): first seen at, before and after the window's
    // start, by the window's count or bytes either way, pages deep and empty, one service, a severity.
    for (const since of [window.from, window.from - 6 * HOUR, window.from + 7 * MIN, T0 + 6 * HOUR + 7 * MIN, window.to]) {
      const n = `${w} new since ${since - T0}`;
      for (const [sort, order, limit, offset] of [['count', 'desc', 20, 0], ['bytes', 'desc', 5, 3], ['bytes', 'asc', 7, 0], ['count', 'asc', 100, 0], ['bytes', 'desc', 0, 0], ['bytes', 'desc', 3, 50]] as const) {
        out.push([`templates ${n} ${sort} ${order} ${limit}@${offset}`, (q) => q.templates({ window, firstSeenFrom: since, page: page(sort, order, limit, offset) })]);
        const keySort = sort === 'count' ? 'sample_count' : sort;
        out.push([`keys ${n} ${keySort} ${order} ${limit}@${offset}`, (q) => q.keys({ window, firstSeenFrom: since, page: page(keySort, order, limit, offset) })]);
      }
      out.push([`templates ${n} svc-1 INFO`, (q) => q.templates({ window, firstSeenFrom: since, service: 'svc-1', severity: 'info', page: page('bytes', 'desc', 10) })]);
      out.push([`templates ${n} moves`, (q) => q.templates({ window, firstSeenFrom: since, service: 'moves', page: page('count', 'desc', 10) })]);
      out.push([`keys ${n} svc-2`, (q) => q.keys({ window, firstSeenFrom: since, service: 'svc-2', page: page('bytes', 'desc', 10) })]);
      out.push([`keys ${n} min cardinality`, (q) => q.keys({ window, firstSeenFrom: since, minCardinality: 1, page: page('sample_count', 'desc', 10) })]);
      // Sorted by a row's own column, or deeper than a kept page: a window view of the new rows (window-view.ts).
      out.push([`keys ${n} by key`, (q) => q.keys({ window, firstSeenFrom: since, page: page('key', 'asc', 20, 2) })]);
      out.push([`templates ${n} by first_seen`, (q) => q.templates({ window, firstSeenFrom: since, page: page('first_seen', 'desc', 10) })]);
      out.push([`keys ${n} deep`, (q) => q.keys({ window, firstSeenFrom: since, page: page('bytes', 'desc', 1000, 1500) })]);
      out.push([`metrics ${n}`, (q) => q.metrics({ window, firstSeenFrom: since, page: page('bytes', 'desc', 10) })]);
      out.push([`spans ${n}`, (q) => q.spans({ window, firstSeenFrom: since, page: page('bytes', 'desc', 10) })]);
    }
    out.push([`logs ${w}`, (q) => q.logs({ window, page: page('sample_count', 'desc', 10) })]);
    out.push([`logs ${w} by share`, (q) => q.logs({ window, service: 'svc-0', page: page('bytes_percentage', 'desc', 10) })]);
    out.push([`metrics ${w}`, (q) => q.metrics({ window, page: page('bytes', 'desc', 10) })]);
    out.push([`spans ${w}`, (q) => q.spans({ window, page: page('bytes', 'desc', 10) })]);
  }
  // All-time, one service's rows (the service page): found by the entries' copy of the service.
  for (const service of ['svc-1', 'svc-2', 'moves', 'nobody']) {
    out.push([`keys all-time ${service}`, (q) => q.keys({ service, page: page('cardinality_estimate', 'desc', 10) })]);
    out.push([`keys all-time ${service} new`, (q) => q.keys({ service, firstSeenFrom: T0 + 20 * 60_000, page: page('key', 'asc', 50) })]);
    out.push([`templates all-time ${service}`, (q) => q.templates({ service, page: page('bytes', 'desc', 10) })]);
    out.push([`metrics all-time ${service}`, (q) => q.metrics({ service, page: page('bytes', 'desc', 10) })]);
    out.push([`spans all-time ${service}`, (q) => q.spans({ service, page: page('bytes', 'desc', 10) })]);
    out.push([`totals ${service}`, async (q) => ({ items: [await q.serviceTotals(service)], total: 1 })]);
  }
  return out;
}

/** Asks every question of both forms: the same answers; returns how many had items. */
async function compare(store: MemoryStore, windows: Array<{ from: number; to: number }>, only = ''): Promise<number> {
  // The fast form is the store's own reader (its tie orders and views live across questions and commits, as in a server).
  const fast = store.localReader();
  const plain = new MemoryQueries(store.tables, store.history, store.versions, store.estimates, true);
  let nonEmpty = 0;
  for (const [name, ask] of questions(windows).filter(([name]) => name.startsWith(only))) {
    const a = await fast.read(ask);
    expect(a, name).toEqual(await ask(plain));
    // Asked again of the same state (its kept view): the same.
    expect(await fast.read(ask), `${name}, again`).toEqual(a);
    if (a.items.length > 0) nonEmpty++;
  }
  return nonEmpty;
}

describe('memory store windowed lists: the fast form answers as the plain one', () => {
  it('over a history of sends, while commits add rows, backfill old minutes and move template history', async () => {
    const f = await Feed.open(1 << 30);
    const fast = f.store.localReader();
    const at = (s: number) => T0 + s * 6 * HOUR + 7 * MIN;
    const windows = (now: number) => [
      { from: T0, to: now + MIN },
      { from: now - 12 * HOUR, to: now + MIN },
      { from: T0 + 6 * HOUR, to: T0 + 18 * HOUR },
      // An edge that moves a minute at a time, as the UI's.
      { from: T0 + 6 * HOUR + 7 * MIN, to: now + MIN },
      { from: T0 + 6 * HOUR + 8 * MIN, to: now + MIN },
      { from: now - 3 * HOUR, to: now - HOUR },
    ];
    let nonEmpty = 0;
    for (let s = 0; s < 4; s++) await f.send(lines(s), at(s));
    nonEmpty += await compare(f.store, windows(at(3)));

    // A template asked about through the store's own reader (its views kept), then changed by a commit: asked again, the new answer.
    const top = () => fast.read((q) => q.templates({ window: { from: T0, to: at(6) }, page: { sort: 'count', order: 'desc', limit: 3, offset: 0 } }));
    const before = await top();
    await f.send(lines(4), at(4));
    await f.send(Array.from({ length: 50 }, () => lines(0)[0]!), at(4) + MIN);
    // A key first seen now (new in the windows since an earlier time), backfilled below: then first seen long ago.
    await f.send([{ service: 'svc-0', severity: 'INFO', body: 'early bird', keys: ['k.early'] }], at(4) + MIN);
    const after = await top();
    expect(after.items[0]).not.toEqual(before.items[0]);
    nonEmpty += await compare(f.store, windows(at(4) + MIN));

    // A backfill into the first send's minute (an old edge's totals change), and new keys among the old ones in
    // tie-break order, all of cardinality 1 as the old (the tie order grows in the middle).
    const late = ['svc-0', 'svc-1', 'svc-2'].map((service) => ({ service, severity: 'INFO', body: 'late arrival 1', keys: ['k.zzz', 'k.aaa', 'k.opb0', 'k.shared3x', 'k.MixedCase'] }));
    await f.send([...lines(1), ...late, { service: 'svc-0', severity: 'INFO', body: 'early bird', keys: ['k.early'] }], at(0));
    nonEmpty += await compare(f.store, windows(at(4) + MIN));

    // The history alone changes (no row does): a key's bytes without a count, another's count, in the last send's
    // minute. Keys asked just before in the one window (their views kept) and just after.
    const last = [{ from: at(4), to: at(4) + 2 * MIN }];
    nonEmpty += await compare(f.store, last, 'keys');
    f.store.history.add([
      { minute: at(4), kind: 'key', service: 'svc-0', name: 'log', sub: 'k.aaa', count: 0, bytes: 7 },
      { minute: at(4), kind: 'key', service: 'svc-1', name: 'log', sub: 'k.zzz', count: 3, bytes: 30 },
    ]);
    nonEmpty += await compare(f.store, last, 'keys');
    // A row alone changes (no history does): the cardinality of a key active in that window.
    const e = f.store.tables.entry('keys', entityKey('svc-1', 'log', 'k.zzz'))!;
    e.row.cardinality_estimate = 99;
    f.store.tables.updated(e);
    nonEmpty += await compare(f.store, last, 'keys');
    nonEmpty += await compare(f.store, windows(at(4) + MIN));

    // Template moves: the five states fold into one template, then split again.
    for (let m = 0; m < 20; m++) await f.send(lifecycle(m), at(5) + m * MIN);
    const moved = await fast.read((q) => q.templates({ service: 'moves', page: { sort: 'count', order: 'desc', limit: 100, offset: 0 } }));
    expect(moved.total).toBeGreaterThan(1);
    // The text filter folds ASCII case on both sides (as SQLite's LIKE): a capital in the text, none in the needle, and the other way round.
    for (const q of ['lifecycle started', 'LIFECYCLE STARTED']) {
      const started = await fast.read((x) => x.templates({ service: 'moves', q, page: { sort: 'count', order: 'desc', limit: 100, offset: 0 } }));
      expect(started.items.map((t) => t.template), q).toEqual(moved.items.map((t) => t.template).filter((t) => t.includes('lifecycle Started')));
      expect(started.total, q).toBeGreaterThan(0);
    }
    nonEmpty += await compare(f.store, [...windows(at(5) + 20 * MIN), { from: at(5) + 3 * MIN, to: at(5) + 9 * MIN }]);
    expect(nonEmpty).toBeGreaterThan(400);
  });

  it('a window ending after every row keeps its view across ends; one ending inside the history does not share it', async () => {
    const f = await Feed.open(1 << 30);
    const at = (s: number) => T0 + s * 6 * HOUR + 7 * MIN;
    for (let s = 0; s < 4; s++) await f.send(lines(s), at(s));
    const fast = f.store.localReader();
    const plain = new MemoryQueries(f.store.tables, f.store.history, f.store.versions, f.store.estimates, true);
    const from = T0 + 6 * HOUR;
    // Inside the history (the last send is after it), then open-ended twice, then inside again: one after another,
    // so a view kept for one is there for the next (read.ts, cachedView).
    for (const to of [at(3) - MIN, at(3) + 2 * MIN, at(3) + 5 * MIN, at(3) - MIN, at(2) + MIN]) {
      for (const ask of [
        (q: StoreQueries) => q.templates({ window: { from, to }, page: { sort: 'count', order: 'desc', limit: 20, offset: 0 } }),
        (q: StoreQueries) => q.keys({ window: { from, to }, page: { sort: 'key', order: 'asc', limit: 20, offset: 3 } }),
      ]) expect(await fast.read(ask), `to ${to - T0}`).toEqual(await ask(plain));
    }
  });

  it('after a first_seen moves back alone', async () => {
    // What is new (fresh-list.ts) reads first_seen and entity slots from arrays kept across questions: this test and
    // the next each make them stale by one change alone.
    const f = await Feed.open(1 << 30);
    const at = (s: number) => T0 + s * HOUR;
    await f.send(many('new', 600), at(1));
    await f.send(many('new', 300, 'again'), at(2));
    const windows = [{ from: at(1), to: at(3) }, { from: at(1) + 30 * MIN, to: at(3) }];
    let nonEmpty = await compare(f.store, windows, 'keys');

    // One key alone, sent as if long ago: its first_seen moves back before the windows (no row comes or goes).
    await f.send([{ service: 'svc-1', severity: 'INFO', body: 'batch new 1', keys: ['new.00050'] }], at(0));
    const fresh = () => f.store.localReader().read((q) => q.keys({ window: windows[0]!, firstSeenFrom: at(1), page: { sort: 'bytes', order: 'desc', limit: 1000, offset: 0 } }));
    expect((await fresh()).items.map((k) => k.key)).not.toContain('new.00050');
    nonEmpty += await compare(f.store, windows, 'keys');

    expect(nonEmpty).toBeGreaterThan(20);
  });

  it('after most entities are forgotten and the rest renumbered, while their rows stay', async () => {
    const f = await Feed.open(1 << 30);
    const at = (s: number) => T0 + s * HOUR;
    await f.send(many('old', 1500), at(0));
    await f.send(many('new', 600), at(1));
    // The old keys again: the history's LRU order puts them last, so the new keys' entities are forgotten first.
    await f.send(many('old', 1500, 'again'), at(2));
    // Thinning moves the oldest kept time past the first day: the later send is two days on.
    const windows = [{ from: T0, to: at(72) }, { from: at(47), to: at(72) }];
    let nonEmpty = await compare(f.store, windows, 'keys');
    // Forgotten (thinned to nothing, then whole entities) until the keys' slots are renumbered (edge-totals.ts, compact).
    const slots = () => f.store.history.edgeTotals('key', f.store.history.resolve(windows[0]!)).slots.compactions;
    const before = slots();
    for (let i = 0; i < 200 && slots() === before; i++) f.store.history.dropOldest();
    expect(slots()).toBe(before + 1);
    // The old keys sent to again (their rows never went; no row comes or goes): survivors under new slots, the
    // forgotten ones as new entities.
    await f.send(many('old', 1500, 'later'), at(48));
    const fresh = await f.store.localReader().read((q) => q.keys({ window: windows[1]!, firstSeenFrom: T0, page: { sort: 'bytes', order: 'desc', limit: 1000, offset: 0 } }));
    expect(fresh.items.length).toBe(1000);
    nonEmpty += await compare(f.store, windows, 'keys');
    expect(nonEmpty).toBeGreaterThan(20);
  });

  it('on a store whose history is thinned, then forgotten entity by entity, then sent to again', async () => {
    const f = await Feed.open(1 << 30);
    const at = (s: number) => T0 + s * 5 * HOUR + (s % 3) * MIN;
    for (let s = 0; s < 8; s++) await f.send(lines(s % 6), at(s));
    const keys = (from: number) => f.store.localReader().read((q) => q.keys({ window: { from, to: at(20) }, page: { sort: 'key', order: 'asc', limit: 0, offset: 0 } }));
    const everything = (await keys(0)).total;
    const windows = (now: number) => [{ from: T0, to: now + MIN }, { from: now - 12 * HOUR, to: now + MIN }, { from: at(2), to: at(5) }, { from: at(5), to: now + MIN }];
    let nonEmpty = await compare(f.store, windows(at(7)));
    // Thinned to nothing past the minutes, then whole entities forgotten (the least recently updated first).
    let dropped = 0;
    for (let i = 0; i < 40; i++) dropped += f.store.history.dropOldest();
    expect(dropped).toBeGreaterThan(0);
    nonEmpty += await compare(f.store, windows(at(7)));
    // Sent to again: the forgotten entities of the templates sent come back (new history), the others stay forgotten.
    await f.send(lines(3), at(9));
    await f.send(lines(4), at(10));
    const back = (await keys(at(8))).total;
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThan(everything);
    nonEmpty += await compare(f.store, windows(at(10)));
    expect(nonEmpty).toBeGreaterThan(150);
  });
});
