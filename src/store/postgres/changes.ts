/**
 * PostgreSQL's /changes (what rose and fell) and the pages of windowed lists sorted by a window's count or bytes,
 * from running totals kept between questions, as SQLite's (src/store/sqlite/changes.ts), but for a process whose
 * questions run on a pool of connections at once, on a database a fleet of instances writes.
 *
 * Kept, per process (one instance of this class per read store):
 *  - each older edge's totals (Float64Arrays by history_entity.id, up to KEEP_EDGES, least recently used out),
 *    once the edge is at least BACKFILL_GRACE_MS before the fleet's newest minute (FLEET_NEWEST_KEY) as the
 *    snapshot that read them saw it. Ingest adds to later minutes only; a commit adding before that bumps the
 *    backfill epoch in its own transaction (src/store/postgres/history-write.ts, seal: compared with the fleet's
 *    newest, under a lock, so an instance whose newest lags another's still counts), a template move the move epoch;
 *    retention's marks decide whether an edge is still one (as SQLite's);
 *  - the all-time totals (the sentinel rows) with the snapshot that read them: a later question takes them as they
 *    are when no instance has committed since (every commit writes its instance's `commit:<id>` row in `meta`), else
 *    with the entities that have rows from the grace before that snapshot's newest minute sought again (a commit
 *    that is no backfill adds only there), or reads them all again when those are many;
 *  - every entity's id by kind in key order (the ties' order), until the move epoch or their number changes.
 * Everything kept carries the snapshot it was read in (pg_current_snapshot()), and a question uses it only if its
 * own snapshot sees every transaction that one saw: questions run at once on other connections, and one begun
 * earlier must not mix totals it cannot see into its answer. Epochs are read in the question's own
 * repeatable-read snapshot; they only ever grow, so a question that sees larger ones drops what was kept, and one
 * that sees smaller ones (begun before) neither uses nor keeps anything.
 *
 * An edge not kept is the nearest kept one (else the all-time totals) with the entities that have rows between the
 * two sought again, or every entity sought when more rows lie between than half the entities (the first question
 * after a start). Large sets come over in one row of JSON arrays (node-postgres reading 100,000 rows is ~100 ms).
 */
import { aboveAndTied } from '../top-candidates.js';
import {
  BACKFILL_EPOCH_KEY, BACKFILL_GRACE_MS, FLEET_NEWEST_KEY, HISTORY_SENTINEL, MARK_KEYS, MIRROR_EPOCH_KEY, marksFrom, resolveWindow,
  type ChangeLists, type ChangeSum, type ChangesQuery, type HistoryKind, type HistoryMarks, type Window,
} from '../history.js';
import { compareCodePoints } from '../queries.js';
import { rankChanges, rankChangesToBoundary, type RankedChange } from '../changes-top.js';
import type { Querier } from './costs.js';
import { PG_KIND_TABLES } from './history-last.js';
import type { WindowedTable } from '../window-tables.js';

/** Running totals of every entity at one time, by history_entity.id (0 past the end: an entity made since). */
interface Totals {
  count: Float64Array;
  bytes: Float64Array;
}

/** A snapshot as pg_current_snapshot() shows it: transactions from xmax on, and those in xip, are not seen. */
export interface Snap {
  xmax: bigint;
  xip: Set<bigint>;
}

export function parseSnap(text: string): Snap {
  const [, xmax, xip] = text.split(':');
  return { xmax: BigInt(xmax!), xip: new Set(xip ? xip.split(',').map((x) => BigInt(x)) : []) };
}

/** Whether snapshot `later` sees every transaction `earlier` sees (a committed one below its xmax, not in its xip). */
export function sees(later: Snap, earlier: Snap): boolean {
  if (later.xmax < earlier.xmax) return false;
  for (const x of later.xip) if (x < earlier.xmax && !earlier.xip.has(x)) return false;
  return true;
}

/** Every entity's id by kind in (service, name, sub) order, and its service. */
interface Entities {
  /** The move epoch and the number of entities: in one epoch entities only come (a merge deletes, and moves it). */
  moves: number;
  count: number;
  byKind: Map<string, Int32Array>;
  serviceOf: Int32Array;
  /** Per id, its (service, name)'s position in key order: a template's tie below its sub. */
  groupOf: Int32Array;
  services: Map<string, number>;
  size: number;
}

/** Edges kept (the UI asks two or three at a time; its `since` moves each minute). */
const KEEP_EDGES = 8;

/** Kinds whose list tie-break orders sub as a number or by a column the history does not have (a template's id). */
const SQL_TIES = new Set<HistoryKind>(['template', 'span']);

interface Kept {
  totals: Totals;
  snap: Snap;
}

interface AllTime extends Kept {
  /** The `commit:<instance>` rows of meta the snapshot saw: equal later, nothing was committed between. */
  commits: string;
  /** The fleet's newest minute that snapshot saw. */
  newest: number;
}

/** What one question (one repeatable-read transaction) reads first. */
interface Question {
  snap: Snap;
  marks: HistoryMarks;
  backfills: number;
  moves: number;
  commits: string;
  /** The fleet's newest minute (undefined: no history, or a store not written since it was kept). */
  newest: number | undefined;
  /** Its epochs are the kept ones': it may use and keep. */
  current: boolean;
  /** Each entity table's MAX(history_last) (null: no rows), whether a window is open (history.ts, windowIsOpen). */
  newestLast: Record<string, number | null>;
  /** The `since` the statement was told of (question(since)), and per table its rows first seen at or after it (up to NEW_ROWS_CAP). */
  since: number | undefined;
  newRows: Record<string, number>;
}

/** Rows first seen since that are counted (question(since)): the lists of what is new need to know only up to a few hundred. */
export const NEW_ROWS_CAP = 1025;

/** The tables with history_last (every windowed table but `services`). */
const LAST_TABLES = Object.values(PG_KIND_TABLES).map((k) => k.table);

/** One row's JSON arrays. */
interface Columns {
  ids: number[] | null;
  counts: number[] | null;
  bytes: number[] | null;
}

export class PostgresChanges {
  private backfills = -1;
  private moves = -1;
  private readonly edges = new Map<number, Kept>();
  private all: AllTime | undefined;
  private entities: (Entities & { snap: Snap; commits: string }) | undefined;

  /**
   * One question's view: what it reads once (the snapshot, meta, the entities, the all-time totals) it reads once.
   * `any` runs the statements whose plans do not depend on random_page_cost (costs.ts), `c` the others.
   */
  question(c: Querier, any: Querier = c): ChangesQuestion {
    return new ChangesQuestion(this, c, any);
  }

  /** Adopts a question's epochs when they are newer (dropping what was kept), and says whether they are the kept ones'. */
  epochs(backfills: number, moves: number): boolean {
    if (backfills < this.backfills || moves < this.moves) return false;
    if (backfills > this.backfills || moves > this.moves) {
      this.backfills = backfills;
      this.moves = moves;
      this.edges.clear();
      this.all = undefined;
    }
    return true;
  }

  /** Retention moved a mark: a kept time that is no edge any more (inside a thinned hour or day) goes. */
  marked(marks: HistoryMarks): void {
    for (const t of [...this.edges.keys()]) {
      const r = resolveWindow({ from: t, to: t }, marks);
      if (r.from !== t || r.to !== t) this.edges.delete(t);
    }
  }

  keptEdge(t: number, snap: Snap): Totals | undefined {
    const k = this.edges.get(t);
    if (!k || !sees(snap, k.snap)) return undefined;
    this.edges.delete(t);
    this.edges.set(t, k);
    return k.totals;
  }

  /** The kept edge nearest `t` that `snap` may use. */
  nearest(t: number, snap: Snap): number | undefined {
    let near: number | undefined;
    for (const [e, k] of this.edges) if (sees(snap, k.snap) && (near === undefined || Math.abs(e - t) < Math.abs(near - t))) near = e;
    return near;
  }

  /** Whether `q`'s epochs are still the kept ones' (a question begun before others moved them keeps nothing). */
  private same(q: { backfills: number; moves: number }): boolean {
    return q.backfills === this.backfills && q.moves === this.moves;
  }

  keep(t: number, totals: Totals, q: Question): void {
    if (!this.same(q)) return;
    const snap = q.snap;
    const old = this.edges.get(t);
    // A question begun earlier does not replace what a later one kept.
    if (old && sees(old.snap, snap)) return;
    this.edges.delete(t);
    this.edges.set(t, { totals, snap });
    if (this.edges.size > KEEP_EDGES) this.edges.delete(this.edges.keys().next().value!);
  }

  keptAll(snap: Snap): AllTime | undefined {
    return this.all && sees(snap, this.all.snap) ? this.all : undefined;
  }

  keepAll(all: AllTime, q: Question): void {
    if (!this.same(q)) return;
    if (!this.all || sees(all.snap, this.all.snap)) this.all = all;
  }

  /**
   * The kept entities, if `snap` sees theirs and they are of epoch `moves` and `count` entities, or (count undefined)
   * nothing was committed since (the same `commits`).
   */
  keptEntities(moves: number, count: number | undefined, commits: string | undefined, snap: Snap): Entities | undefined {
    const e = this.entities;
    if (!e || e.moves !== moves || !sees(snap, e.snap)) return undefined;
    return (count === undefined ? e.commits === commits : e.count === count) ? e : undefined;
  }

  keepEntities(e: Entities, q: Question): void {
    const { snap, commits } = q;
    if (!this.same(q)) return;
    if (!this.entities || sees(snap, this.entities.snap)) this.entities = { ...e, snap, commits };
  }
}

export class ChangesQuestion {
  private q: Promise<Question> | undefined;
  private ents: Promise<Entities> | undefined;
  private allTime: Promise<Totals> | undefined;
  private readonly at = new Map<number, Promise<Totals>>();

  constructor(private readonly kept: PostgresChanges, private readonly c: Querier, private readonly any: Querier = c) {}

  /**
   * The snapshot and what meta says in it, and each entity table's newest history_last (one index read each), in one
   * statement; the epochs checked against what is kept. Every windowed list needs the marks and its table's newest,
   * so they come with the snapshot rather than in a round trip each (a steady /changes: five statements fewer).
   * Asked first with `since` (the lists of what is new: /changes asks four, all from one `since`), it also counts per
   * table the rows first seen at or after it, up to NEW_ROWS_CAP (an index range for keys and templates, a scan that
   * stops there for the small tables): a table with none has an empty list, answered without a statement of its own,
   * and one with a few is read without the kept totals' candidates (PostgresQueries.win).
   */
  private question(since?: number): Promise<Question> {
    return (this.q ??= (async () => {
      const keys = [...Object.values(MARK_KEYS), MIRROR_EPOCH_KEY, BACKFILL_EPOCH_KEY, FLEET_NEWEST_KEY];
      const r = await this.c.query(`SELECT pg_current_snapshot()::text AS snap,
        (SELECT json_object_agg(key, value ORDER BY key) FROM meta WHERE key = ANY($1::text[]) OR key LIKE 'commit:%') AS meta,
        ${LAST_TABLES.map((t) => `(SELECT MAX(history_last) FROM public.${t}) AS ${t}`).join(', ')}
        ${since === undefined ? '' : LAST_TABLES.map((t) => `, (SELECT COUNT(*) FROM (SELECT 1 FROM public.${t} WHERE first_seen >= $2 LIMIT ${NEW_ROWS_CAP}) x) AS new_${t}`).join('')}`,
      since === undefined ? [keys] : [keys, since]);
      const meta = (r.rows[0].meta ?? {}) as Record<string, string>;
      const marks = marksFrom((k) => meta[k]);
      const backfills = Number(meta[BACKFILL_EPOCH_KEY] ?? 0);
      const moves = Number(meta[MIRROR_EPOCH_KEY] ?? 0);
      const commits = Object.entries(meta).filter(([k]) => k.startsWith('commit:')).map(([k, v]) => `${k}=${v}`).join(',');
      const newest = meta[FLEET_NEWEST_KEY] === undefined ? undefined : Number(meta[FLEET_NEWEST_KEY]);
      const current = this.kept.epochs(backfills, moves);
      if (current) this.kept.marked(marks);
      const newestLast = Object.fromEntries(LAST_TABLES.map((t) => [t, r.rows[0][t] === null ? null : Number(r.rows[0][t])]));
      const newRows = since === undefined ? {} : Object.fromEntries(LAST_TABLES.map((t) => [t, Number(r.rows[0][`new_${t}`])]));
      return { snap: parseSnap(r.rows[0].snap as string), marks, backfills, moves, commits, newest, current, newestLast, since, newRows };
    })());
  }

  /** The entities by kind in key order: kept until the move epoch or their number changes (~100 ms for 120,000). */
  private entities(): Promise<Entities> {
    return (this.ents ??= (async () => {
      const q = await this.question();
      // Nothing committed since they were read: the same entities, no need to count them.
      const same = q.current ? this.kept.keptEntities(q.moves, undefined, q.commits, q.snap) : undefined;
      if (same) return same;
      const n = Number((await this.c.query(`SELECT COUNT(*) AS n FROM history_entity`)).rows[0].n);
      const found = q.current ? this.kept.keptEntities(q.moves, n, undefined, q.snap) : undefined;
      if (found) return found;
      // One row of three JSON arrays, from the key index's order (one sort, not one per array).
      const r = await this.c.query(`SELECT COUNT(*) AS n, MAX(id) AS m, json_agg(id) AS ids, json_agg(kind) AS kinds, json_agg(service) AS services,
          json_agg(CASE WHEN kind IN ('template', 'span') THEN name END) AS names
        FROM (SELECT id, kind, service, name FROM history_entity ORDER BY kind, service, name, sub) e`);
      const row = r.rows[0] as { n: number; m: number | null; ids: number[] | null; kinds: string[] | null; services: string[] | null; names: Array<string | null> | null };
      const names = row.names ?? [];
      const ids = row.ids ?? [];
      const kinds = row.kinds ?? [];
      const svcs = row.services ?? [];
      const size = (row.m ?? 0) + 1;
      const serviceOf = new Int32Array(size);
      const groupOf = new Int32Array(size);
      const services = new Map<string, number>();
      const byKind = new Map<string, Int32Array>();
      let start = 0;
      let group = 0;
      for (let i = 0; i < ids.length; i++) {
        const s = svcs[i]!;
        if (i > 0 && (s !== svcs[i - 1] || names[i] !== names[i - 1] || kinds[i] !== kinds[i - 1])) group++;
        groupOf[ids[i]!] = group;
        let x = services.get(s);
        if (x === undefined) services.set(s, (x = services.size));
        serviceOf[ids[i]!] = x;
        if (i + 1 === ids.length || kinds[i + 1] !== kinds[i]) {
          byKind.set(kinds[i]!, Int32Array.from(ids.slice(start, i + 1)));
          start = i + 1;
        }
      }
      const e: Entities = { moves: q.moves, count: Number(row.n), byKind, serviceOf, groupOf, services, size };
      if (q.current) this.kept.keepEntities(e, q);
      return e;
    })());
  }

  /** Every entity's totals at `t` (a resolved edge). */
  private totals(t: number): Promise<Totals> {
    let v = this.at.get(t);
    if (!v) this.at.set(t, (v = this.edge(t)));
    return v;
  }

  /**
   * The all-time totals (the sentinel rows): kept ones as they are when nothing was committed since they were read,
   * or with the entities that have rows from the grace before their newest minute sought again (a commit that is
   * no backfill adds to no earlier minute), or all read (~30 ms for 120,000 entities).
   */
  private all(): Promise<Totals> {
    return (this.allTime ??= (async () => {
      const q = await this.question();
      const ents = await this.entities();
      const kept = q.current ? this.kept.keptAll(q.snap) : undefined;
      let totals: Totals;
      if (kept && kept.commits === q.commits) totals = grownTotals(kept.totals, ents.size);
      else if (kept) totals = await this.patched(kept.totals, kept.newest - BACKFILL_GRACE_MS, HISTORY_SENTINEL, HISTORY_SENTINEL, ents.size);
      else totals = await this.sentinels(ents.size);
      if (q.current && q.newest !== undefined) this.kept.keepAll({ totals, snap: q.snap, commits: q.commits, newest: q.newest }, q);
      return totals;
    })());
  }

  /**
   * `base` (the totals at `from` … it was read at) made the totals at `t`: the entities with rows in [lo, hi) sought
   * at `t`, or every entity when those rows are more than half the entities.
   */
  private async patched(base: Totals, lo: number, hi: number, t: number, size: number): Promise<Totals> {
    const cap = Math.max(1024, size >> 1);
    const between = Number((await this.c.query(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM history WHERE bucket >= $1 AND bucket < $2 LIMIT $3) x`, [lo, hi, cap])).rows[0].n);
    if (between >= cap) return t === HISTORY_SENTINEL ? this.sentinels(size) : this.sought(t, size);
    const v = grownTotals(base, size, true);
    patch(v, (await this.c.query(`SELECT json_agg(e.id) AS ids, json_agg(x.count) AS counts, json_agg(x.bytes) AS bytes
      FROM (SELECT DISTINCT id FROM history WHERE bucket >= $1 AND bucket < $2) e
      CROSS JOIN LATERAL (SELECT h.count, h.bytes FROM history h WHERE h.id = e.id AND h.bucket >= $3 ORDER BY h.bucket LIMIT 1) x`, [lo, hi, t])).rows[0] as Columns);
    return v;
  }

  /** Every entity's all-time totals, its sentinel row (no order: the ids come with them). */
  private async sentinels(size: number): Promise<Totals> {
    return fill(size, (await this.c.query(`SELECT json_agg(id) AS ids, json_agg(count) AS counts, json_agg(bytes) AS bytes
      FROM history WHERE bucket = ${HISTORY_SENTINEL}`)).rows[0] as Columns);
  }

  /** Every entity's totals at `t`, one seek each (~0.3 s for 120,000). */
  private async sought(t: number, size: number): Promise<Totals> {
    return fill(size, (await this.c.query(`SELECT json_agg(e.id) AS ids, json_agg(x.count) AS counts, json_agg(x.bytes) AS bytes FROM history_entity e
      CROSS JOIN LATERAL (SELECT h.count, h.bytes FROM history h WHERE h.id = e.id AND h.bucket >= $1 ORDER BY h.bucket LIMIT 1) x`, [t])).rows[0] as Columns);
  }

  private async edge(t: number): Promise<Totals> {
    const q = await this.question();
    const ents = await this.entities();
    // Past the fleet's newest minute no row but the sentinel lies at or after `t`.
    const newest = q.newest ?? (await this.newestRow());
    if (newest === undefined || t > newest) return this.all();
    const kept = q.current ? this.kept.keptEdge(t, q.snap) : undefined;
    if (kept) return grownTotals(kept, ents.size);
    const near = q.current ? this.kept.nearest(t, q.snap) : undefined;
    const base = near === undefined ? await this.all() : grownTotals(this.kept.keptEdge(near, q.snap)!, ents.size);
    const [lo, hi] = near === undefined ? [t, HISTORY_SENTINEL] : near < t ? [near, t] : [t, near];
    const v = await this.patched(base, lo, hi, t, ents.size);
    // Only under a fleet newest the writers compare with (seal): a store no instance has sealed keeps nothing.
    if (q.current && q.newest !== undefined && t <= q.newest - BACKFILL_GRACE_MS) this.kept.keep(t, v, q);
    return v;
  }

  private async newestRow(): Promise<number | undefined> {
    const r = await this.c.query(`SELECT MAX(bucket) AS b FROM history WHERE bucket < ${HISTORY_SENTINEL}`);
    return (r.rows[0].b as number | null) ?? undefined;
  }

  /** The marks of this question's snapshot (`since`: see question). */
  async marks(since?: number): Promise<HistoryMarks> {
    return (await this.question(since)).marks;
  }

  /**
   * How many rows of `table` were first seen at or after `since` in this question's snapshot, NEW_ROWS_CAP meaning
   * at least that many, if its first statement was told of that `since` (undefined: not known, ask the rows).
   */
  async newRows(table: Exclude<WindowedTable, 'services'>, since: number): Promise<number | undefined> {
    const q = await this.question();
    return q.since === since ? q.newRows[table] : undefined;
  }

  /** `table`'s newest history_last in this question's snapshot (null: no rows). */
  async newestLast(table: Exclude<WindowedTable, 'services'>): Promise<number | null> {
    return (await this.question()).newestLast[table] ?? null;
  }

  /** /changes for one kind: as historyChangesSql (src/store/postgres/history.ts), from the totals at the edges. */
  async changes(q: ChangesQuery): Promise<ChangeLists> {
    const { marks } = await this.question();
    const b = resolveWindow(q.before, marks);
    const a = resolveWindow(q.after, marks);
    const ents = await this.entities();
    const ids = ents.byKind.get(q.kind);
    if (!ids) return { rose: [], fell: [] };
    const svc = q.service === undefined ? -1 : (ents.services.get(q.service) ?? -2);
    if (svc === -2) return { rose: [], fell: [] };
    const [B0, B1, A0, A1] = await Promise.all([this.totals(b.from), this.totals(b.to), this.totals(a.from), this.totals(a.to)]);
    const kinds = q.kind === 'template';
    // Ties by (service, name, sub): for most kinds the position in the key index's order. A template's sub is
    // answered as its id, which the history does not have: every one at the lists' boundary is kept and they are
    // ordered below, with their ids.
    const edges = [B0, B1, A0, A1] as const;
    let picked: RankedChange[];
    let ups = 0;
    let downs = 0;
    if (kinds) {
      const b = rankChangesToBoundary(ids, ents.serviceOf, svc, edges, q.limit, ents.groupOf);
      picked = [...b.up, ...b.down];
      ups = b.ups;
      downs = b.downs;
    } else {
      const { rose, fell } = rankChanges(ids, ents.serviceOf, svc, edges, q.limit);
      picked = [...rose, ...fell];
    }
    if (picked.length === 0) return { rose: [], fell: [] };
    const k = PG_KIND_TABLES[q.kind];
    // A template: its id and text from its row (an entity whose row is gone is not answered, as the statement did not).
    const sql = kinds
      ? `SELECT u.i, d.service, d.name, t.template_id::text AS sub, t.template FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, i)
          JOIN history_entity d ON d.id = u.id JOIN ${k.table} t ON ${rowOf('template')}`
      : `SELECT u.i, d.service, d.name, d.sub FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, i) JOIN history_entity d ON d.id = u.id`;
    // Index lookups per picked id at either random_page_cost: run in whichever is set (costs.ts).
    const rows = (await this.any.query(sql, [picked.map((r) => r.id)])).rows as Array<{ i: number; service: string; name: string; sub: string; template?: string }>;
    const out = rows.map((n) => {
      const r = picked[n.i - 1]!;
      const s: ChangeSum = { service: n.service, name: n.name, sub: n.sub, count_before: r.cb, count_after: r.ca, bytes_before: r.yb, bytes_after: r.ya };
      if (n.template !== undefined) s.template = n.template;
      return { s, change: r.change, rank: r.rank };
    });
    const tie = (x: { s: ChangeSum; rank: number }, y: { s: ChangeSum; rank: number }) => kinds
      ? compareCodePoints(x.s.service, y.s.service) || compareCodePoints(x.s.name, y.s.name) || compareCodePoints(x.s.sub, y.s.sub)
      : x.rank - y.rank;
    const list = (sign: number) => out.filter((o) => Math.sign(o.change) === sign).sort((x, y) => sign * (y.change - x.change) || tie(x, y)).slice(0, q.limit).map((o) => o.s);
    if (kinds) {
      // Rows gone made a list short of what it could hold: every entity of that direction, then.
      const risen = list(1);
      const fallen = list(-1);
      if ((risen.length < Math.min(q.limit, ups) || fallen.length < Math.min(q.limit, downs)) && picked.length < ups + downs) {
        return this.templatesOf(rankChanges(ids, ents.serviceOf, svc, edges, q.limit, true).all, q.limit);
      }
      return { rose: risen, fell: fallen };
    }
    return { rose: list(1), fell: list(-1) };
  }

  /** Templates' lists from every ranked entity (a list came short: rows gone). */
  private async templatesOf(all: Array<{ id: number; change: number; cb: number; ca: number; yb: number; ya: number }>, limit: number): Promise<ChangeLists> {
    const k = PG_KIND_TABLES.template;
    const rows = (await this.c.query(`SELECT u.i, d.service, d.name, t.template_id::text AS sub, t.template FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, i)
      JOIN history_entity d ON d.id = u.id JOIN ${k.table} t ON ${rowOf('template')}`, [all.map((r) => r.id)])).rows as Array<{ i: number; service: string; name: string; sub: string; template: string }>;
    const out = rows.map((n) => {
      const r = all[n.i - 1]!;
      return { change: r.change, s: { service: n.service, name: n.name, sub: n.sub, template: n.template, count_before: r.cb, count_after: r.ca, bytes_before: r.yb, bytes_after: r.ya } as ChangeSum };
    });
    const tie = (x: ChangeSum, y: ChangeSum) => compareCodePoints(x.service, y.service) || compareCodePoints(x.name, y.name) || compareCodePoints(x.sub, y.sub);
    const list = (sign: number) => out.filter((o) => Math.sign(o.change) === sign).sort((x, y) => sign * (y.change - x.change) || tie(x.s, y.s)).slice(0, limit).map((o) => o.s);
    return { rose: list(1), fell: list(-1) };
  }

  /**
   * The entities of `kind` (of `service`) on the page of the first `need` by their sums of `column` over the
   * resolved window `r`, largest first, ties in the list's tie-break order, as SQLite's topCandidates. Undefined when
   * there are fewer than `need`, or the `need`-th largest is not above 0: the list then sorts every row's sums.
   */
  async topCandidates(kind: HistoryKind, r: Window, column: 'count' | 'bytes', service: string | undefined, need: number): Promise<number[] | undefined> {
    const ents = await this.entities();
    const ids = ents.byKind.get(kind);
    if (!ids) return [];
    const svc = service === undefined ? -1 : (ents.services.get(service) ?? -2);
    if (svc === -2) return [];
    const [from, to] = (await Promise.all([this.totals(r.from), this.totals(r.to)])).map((t) => t[column]) as [Float64Array, Float64Array];
    const picked = aboveAndTied(ids, ents.serviceOf, svc, from, to, need);
    if (!picked) return undefined;
    const { above, tied } = picked;
    const k = need - above.length;
    if (tied.length <= k) return [...above, ...tied];
    if (!SQL_TIES.has(kind)) return [...above, ...tied.slice(0, k)];
    // The list's tie-break: (service, name) in key order, then a template's row's id (then hash), a span's kind as a
    // number: the whole (service, name)s before the k-th, and of its own the first by SQL.
    const groupOf = ents.groupOf;
    const byGroup = [...tied].sort((x, y) => groupOf[x]! - groupOf[y]!);
    const g = groupOf[byGroup[k - 1]!]!;
    const before = byGroup.filter((id) => groupOf[id]! < g);
    const within = byGroup.filter((id) => groupOf[id] === g);
    const t = PG_KIND_TABLES[kind];
    const order = kind === 'template' ? 't.template_id, t.template_hash' : 'd.sub::int';
    const first = (await this.any.query(`SELECT json_agg(id) AS ids FROM (SELECT d.id FROM unnest($1::bigint[]) AS u(id) JOIN history_entity d ON d.id = u.id
      ${kind === 'template' ? `JOIN ${t.table} t ON ${rowOf('template')}` : ''} ORDER BY ${order} LIMIT $2) x`, [within, k - before.length])).rows[0] as { ids: number[] | null };
    return [...above, ...before, ...(first.ids ?? [])];
  }
}

/**
 * The join of entity `d`'s row `t` in its table, by the table's key index: a template's hash is of the default
 * collation (history_entity's sub is "C", with which the index on it cannot be used), a span's kind a number.
 */
export function rowOf(kind: HistoryKind): string {
  if (kind === 'template') return `t.service = d.service AND t.severity = d.name AND t.template_hash = (d.sub COLLATE "default")`;
  if (kind === 'span') return `t.service = d.service AND t.name = d.name AND t.kind = d.sub::int`;
  return PG_KIND_TABLES[kind].match;
}

/** A copy `size` long (a fresh one when `copy`, else `a` itself if it is long enough). */
function grownTotals(a: Totals, size: number, copy = false): Totals {
  if (!copy && a.count.length >= size) return a;
  const g = (x: Float64Array) => {
    const out = new Float64Array(Math.max(size, x.length));
    out.set(x);
    return out;
  };
  return { count: g(a.count), bytes: g(a.bytes) };
}

function fill(size: number, c: Columns): Totals {
  const v = { count: new Float64Array(size), bytes: new Float64Array(size) };
  patch(v, c);
  return v;
}

function patch(v: Totals, c: Columns): void {
  const ids = c.ids ?? [];
  const counts = c.counts ?? [];
  const bytes = c.bytes ?? [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= v.count.length) continue;
    v.count[id] = counts[i]!;
    v.bytes[id] = bytes[i]!;
  }
}
