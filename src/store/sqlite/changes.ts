/**
 * SQLite's /changes (what rose and fell, src/api/history.ts) without an index
 * seek per entity and window edge on every question. The answer needs every
 * entity's running totals at the windows' edges (usually three: the before
 * window's start, `since`, the end); as one SQL statement that was ~4 µs per
 * entity active before (100,000 keys: several hundred ms), and a seek is
 * ~0.3–0.6 µs however it is written.
 *
 * Three facts make it cheap:
 *  - an edge past the newest minute reads the entity's all-time totals: its
 *    sentinel row, all of them in one partial index (history_totals, migration
 *    0008), a scan of ~0.05 µs per entity;
 *  - an older edge's totals never change while ingest adds to the current
 *    minute (only a backfill or a template move changes them: the backfill and
 *    move epochs, src/store/history.ts; retention leaves those at whole hours
 *    and days alone): they are kept here, per edge, between questions (a few,
 *    Float64Arrays by id); a backfill drops them, a move has the templates'
 *    sought again (20,000 seeks, not 120,000);
 *  - an edge the kept ones do not have (the UI's `since` moves every minute)
 *    is a kept edge (or the all-time totals) plus the entities that have rows
 *    between the two: one seek each of those only.
 * Then the ranking is plain code over arrays (src/store/changes-top.ts), the
 * tie broken by the entities' (service, name, sub) order, read once from the
 * history_entity key index and kept until an entity comes or goes.
 * The answer is the one the statement gave (historyChangesSql, the reference
 * the tests compare with): rose and fell are entities with a sum before
 * (count or bytes) whose bytes moved, largest first.
 *
 * The same totals give a windowed list sorted by a window's count or bytes
 * its page (topCandidates; src/store/sqlite/list.ts, ListQuery.topRows).
 */
import { aboveAndTied } from '../top-candidates.js';
import type Database from 'better-sqlite3';
import {
  BACKFILL_EPOCH_KEY, BACKFILL_GRACE_MS, HISTORY_SENTINEL, MIRROR_EPOCH_KEY, resolveWindow, type ChangeLists, type ChangeSum, type ChangesQuery,
  type HistoryKind, type HistoryMarks, type Window,
} from '../history.js';
import { rankChanges, type RankedChange } from '../changes-top.js';
import { historyMarks } from './history.js';
import { prepared } from './statements.js';

/** Running totals of every entity at one time, by history_entity.id (0 past the end: an entity made since, with no rows before). */
interface Totals {
  count: Float64Array;
  bytes: Float64Array;
}

/** Every entity's id by kind in (service, name, sub) order, and its service. */
interface Entities {
  /** max(id) and the move epoch: what changes when an entity comes or goes. */
  key: string;
  byKind: Map<string, Int32Array>;
  /** Per id, its kind's position in KIND_CODES (0: no such id). */
  kindOf: Int8Array;
  serviceOf: Int32Array;
  services: Map<string, number>;
  size: number;
  /** Every id, ascending: the order of the history_totals index. */
  sorted: Int32Array;
}

/** The kinds, for Entities.kindOf. */
const KIND_CODES = ['log', 'template', 'metric', 'span', 'key'];

/** The kinds whose sub is a number on their rows (template_id, a span's kind): their tie-break orders it as one. */
const NUMERIC_SUB = new Set<HistoryKind>(['template', 'span']);

/** Edges kept (the UI asks two or three at a time; its `since` moves each minute). */
const KEEP_EDGES = 8;

/** One seek: an entity's totals at `?` (the first row at or after it). */
const AT = (col: 'count' | 'bytes') => `(SELECT ${col} FROM main.history h WHERE h.id = e.id AND h.bucket >= ? ORDER BY h.bucket LIMIT 1)`;

export class SqliteChanges {
  private entities: Entities | undefined;
  /** Totals at edges at least BACKFILL_GRACE_MS before the newest minute, by edge, least recently used first. */
  private readonly edges = new Map<number, Totals>();
  /** The backfill epoch the kept edges were read under (src/store/history.ts): when it moves they all go. */
  private backfills = '';
  /** The move epoch they were read under: when it moves, the templates' totals in them are sought again (`stale`). */
  private moves = '';
  /** Per kept edge, the ids to seek again before it is used. */
  private readonly stale = new Map<number, number[]>();
  /** The marks they were read under. */
  private marked = '';
  /** The all-time totals as of `version` (PRAGMA data_version: another connection's commit changes it). */
  private all: { version: number; key: string; totals: Totals } | undefined;

  constructor(private readonly db: Database.Database) {}

  /** Called inside the request's read transaction: every statement here sees one snapshot. */
  changes(q: ChangesQuery): ChangeLists {
    const snap = this.snapshot();
    if (!snap) return { rose: [], fell: [] };
    const { marks, ents, totals } = snap;
    const b = resolveWindow(q.before, marks);
    const a = resolveWindow(q.after, marks);
    const ids = ents.byKind.get(q.kind);
    if (!ids) return { rose: [], fell: [] };
    const B0 = totals(b.from);
    const B1 = totals(b.to);
    const A0 = totals(a.from);
    const A1 = totals(a.to);

    const svc = q.service === undefined ? -1 : (ents.services.get(q.service) ?? -2);
    if (svc === -2) return { rose: [], fell: [] };
    // Ties by (service, name, sub): the position in the key index's order.
    const ranked = rankChanges(ids, ents.serviceOf, svc, [B0, B1, A0, A1], q.limit);
    const lists = { rose: ranked.rose, fell: ranked.fell };
    const picked = [...lists.rose, ...lists.fell];
    if (picked.length === 0) return { rose: [], fell: [] };
    // A template's text with it (a template entity's name is its severity, its sub its id).
    const text = q.kind === 'template'
      ? `(SELECT b.template FROM main.body_templates b WHERE b.service = e.service AND b.severity = e.name AND b.template_id = CAST(e.sub AS INTEGER))`
      : 'NULL';
    const names = new Map((prepared(this.db, `SELECT e.id, e.service, e.name, e.sub, ${text} AS template FROM main.history_entity e WHERE e.id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(picked.map((r) => r.id))) as Array<{ id: number; service: string; name: string; sub: string; template: string | null }>).map((n) => [n.id, n]));
    const sum = (r: RankedChange): ChangeSum => {
      const n = names.get(r.id)!;
      const c: ChangeSum = { service: n.service, name: n.name, sub: n.sub, count_before: r.cb, count_after: r.ca, bytes_before: r.yb, bytes_after: r.ya };
      if (n.template !== null) c.template = n.template;
      return c;
    };
    return { rose: lists.rose.map(sum), fell: lists.fell.map(sum) };
  }

  /**
   * The entities of `kind` (of `service`, when given) on the page of the first `need` by their sums of `column`
   * over the resolved window `r`, largest first, ties in the lists' tie-break order: every one above the `need`-th
   * largest sum and the first of those at it, from the totals kept at the window's edges (the sums the list's SQL
   * computes, in the same snapshot). Undefined when there are fewer than `need`, or the `need`-th largest is not
   * above 0 (rows without anything in the window would be among them): the list then sorts every row's sums.
   */
  topCandidates(kind: HistoryKind, r: Window, column: 'count' | 'bytes', service: string | undefined, need: number): number[] | undefined {
    const snap = this.snapshot();
    if (!snap) return [];
    const ids = snap.ents.byKind.get(kind);
    if (!ids) return [];
    const svc = service === undefined ? -1 : (snap.ents.services.get(service) ?? -2);
    if (svc === -2) return [];
    const to = snap.totals(r.to)[column];
    const from = snap.totals(r.from)[column];
    const picked = aboveAndTied(ids, snap.ents.serviceOf, svc, from, to, need);
    if (!picked) return undefined;
    const { above, tied } = picked;
    // Of the tie, the first by the lists' tie-break, (service, name, sub): the ids' own order (the key index's),
    // except where sub is a number (a template's id, a span's kind), ordered as one.
    const k = need - above.length;
    if (tied.length <= k) return [...above, ...tied];
    if (!NUMERIC_SUB.has(kind)) return [...above, ...tied.slice(0, k)];
    const first = prepared(this.db, `SELECT json_group_array(id) AS ids FROM (SELECT id FROM main.history_entity
      WHERE id IN (SELECT value FROM json_each(?)) ORDER BY service, name, CAST(sub AS INTEGER) LIMIT ?)`).get(JSON.stringify(tied), k) as { ids: string };
    return [...above, ...(JSON.parse(first.ids) as number[])];
  }

  /**
   * What every question reads first, in the request's snapshot: the marks, the entities, and the totals at any
   * edge (kept ones checked against the backfill and move epochs and the marks first). Undefined: no history.
   */
  private snapshot(): { marks: HistoryMarks; ents: Entities; totals: (t: number) => Totals } | undefined {
    const marks = historyMarks(this.db);
    const meta = prepared(this.db, `SELECT key, value FROM meta WHERE key IN (?, ?)`).all(MIRROR_EPOCH_KEY, BACKFILL_EPOCH_KEY) as Array<{ key: string; value: string }>;
    const moves = meta.find((m) => m.key === MIRROR_EPOCH_KEY)?.value ?? '0';
    const backfills = meta.find((m) => m.key === BACKFILL_EPOCH_KEY)?.value ?? '0';
    if (backfills !== this.backfills) {
      this.edges.clear();
      this.stale.clear();
      this.backfills = backfills;
    }
    const marked = JSON.stringify(marks);
    if (marked !== this.marked) {
      // Retention moved a mark (every hour, with the default retention). It keeps each entity's first row of every
      // hour (day) it thins and drops nothing at or after keptFrom, so the totals at a time that is a whole hour
      // (day) there are what they were; a time inside a thinned hour is no edge any more (resolveWindow): dropped.
      for (const t of [...this.edges.keys()]) {
        const r = resolveWindow({ from: t, to: t }, marks);
        if (r.from !== t || r.to !== t) {
          this.edges.delete(t);
          this.stale.delete(t);
        }
      }
      this.marked = marked;
    }
    const newest = (prepared(this.db, `SELECT MAX(bucket) AS b FROM main.history WHERE bucket < ${HISTORY_SENTINEL}`).get() as { b: number | null }).b;
    if (newest === null) return undefined;
    const old = this.entities;
    const ents = this.entityList(moves);
    if (moves !== this.moves) {
      // A template merge or split rewrote templates' rows (and a merge deleted the one merged away, whose id a new
      // entity may take): those are sought again in every kept edge when it is next used, the rest stay.
      if (old && this.edges.size > 0) {
        const again = [...(ents.byKind.get('template') ?? [])];
        for (const [kind, list] of ents.byKind) {
          if (kind === 'template') continue;
          for (const id of list) if (id < old.kindOf.length && old.kindOf[id] !== ents.kindOf[id]) again.push(id);
        }
        for (const t of this.edges.keys()) this.stale.set(t, [...(this.stale.get(t) ?? []), ...again]);
      }
      this.moves = moves;
    }
    let all: Totals | undefined;
    const allTime = () => (all ??= this.allTime(ents));
    const at = new Map<number, Totals>();
    const totals = (t: number): Totals => {
      let v = at.get(t);
      if (!v) at.set(t, (v = t > newest ? allTime() : this.edge(t, newest, ents.size, allTime)));
      return v;
    };
    return { marks, ents, totals };
  }

  /** The entities by kind in key order, read again only when one came or went (~15 ms for 120,000). */
  private entityList(moves: string): Entities {
    // A new entity gets the next id (INTEGER PRIMARY KEY); one goes only in a merge, which moves the move epoch.
    const k = prepared(this.db, `SELECT MAX(id) AS m FROM main.history_entity`).get() as { m: number | null };
    const key = `${k.m}:${moves}`;
    if (this.entities?.key === key) return this.entities;
    // One row of three JSON arrays: handing 120,000 rows to JavaScript one by one costs ~0.7 µs each, this ~0.1.
    const r = prepared(this.db, `SELECT json_group_array(id) AS ids, json_group_array(kind) AS kinds, json_group_array(service) AS services
      FROM (SELECT id, kind, service FROM main.history_entity ORDER BY kind, service, name, sub)`).get() as { ids: string; kinds: string; services: string };
    const idList = JSON.parse(r.ids) as number[];
    const kinds = JSON.parse(r.kinds) as string[];
    const svcs = JSON.parse(r.services) as string[];
    const size = (k.m ?? 0) + 1;
    const serviceOf = new Int32Array(size);
    const kindOf = new Int8Array(size);
    const services = new Map<string, number>();
    const byKind = new Map<string, Int32Array>();
    // The ids come grouped by kind (the ORDER BY): one array per run.
    let start = 0;
    for (let i = 0; i < idList.length; i++) {
      const s = svcs[i]!;
      let n = services.get(s);
      if (n === undefined) services.set(s, (n = services.size));
      serviceOf[idList[i]!] = n;
      kindOf[idList[i]!] = KIND_CODES.indexOf(kinds[i]!) + 1;
      if (i + 1 === idList.length || kinds[i + 1] !== kinds[i]) {
        byKind.set(kinds[i]!, Int32Array.from(idList.slice(start, i + 1)));
        start = i + 1;
      }
    }
    const sorted = Int32Array.from(idList).sort();
    this.entities = { key, byKind, kindOf, serviceOf, services, size, sorted };
    return this.entities;
  }

  /**
   * Every entity's all-time totals: its sentinel row, from the partial index that holds only those, in id order
   * (the ids are known: no need to hand them over), kept until another connection commits. /changes asks four
   * kinds in one read transaction: read once. 120,000 entities: a 4 ms scan, ~10 ms with handing over.
   */
  private allTime(ents: Entities): Totals {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.all && this.all.version === version && this.all.key === ents.key) return this.all.totals;
    const r = prepared(this.db, `SELECT COUNT(*) AS n, json_group_array(count) AS counts, json_group_array(bytes) AS bytes
      FROM (SELECT count, bytes FROM main.history INDEXED BY history_totals WHERE bucket = ${HISTORY_SENTINEL} ORDER BY id)`).get() as { n: number; counts: string; bytes: string };
    if (r.n !== ents.sorted.length) throw new Error(`history: ${r.n} sentinel rows for ${ents.sorted.length} entities`);
    const counts = JSON.parse(r.counts) as number[];
    const bytes = JSON.parse(r.bytes) as number[];
    const totals = { count: new Float64Array(ents.size), bytes: new Float64Array(ents.size) };
    for (let i = 0; i < counts.length; i++) {
      const id = ents.sorted[i]!;
      totals.count[id] = counts[i]!;
      totals.bytes[id] = bytes[i]!;
    }
    this.all = { version, key: ents.key, totals };
    return totals;
  }

  /** A kept edge, grown to `size` and with what a template move made stale sought again; now the most recently used. */
  private kept(t: number, size: number): Totals | undefined {
    let v = this.edges.get(t);
    if (!v) return undefined;
    if (v.count.length < size) v = { count: grown(v.count, size), bytes: grown(v.bytes, size) };
    const again = this.stale.get(t);
    if (again) {
      patch(v, prepared(this.db, `SELECT json_group_array(e.id) AS ids, json_group_array(${AT('count')}) AS counts, json_group_array(${AT('bytes')}) AS bytes
        FROM (SELECT value AS id FROM json_each(?)) e`).get(t, t, JSON.stringify(again)) as Columns);
      this.stale.delete(t);
    }
    // Least recently used first: the oldest goes first.
    this.edges.delete(t);
    this.edges.set(t, v);
    return v;
  }

  /**
   * The totals at `t` (at or before the newest minute): kept, or the nearest kept edge (else the all-time totals)
   * with the entities that have rows between the two sought again, or, when more rows lie between than entities
   * exist, every entity sought. Kept when `t` is old enough that ingest no longer adds before it.
   */
  private edge(t: number, newest: number, size: number, allTime: () => Totals): Totals {
    const kept = this.kept(t, size);
    if (kept) return kept;
    let near: number | undefined;
    for (const e of this.edges.keys()) if (near === undefined || Math.abs(e - t) < Math.abs(near - t)) near = e;
    const [lo, hi] = near === undefined ? [t, HISTORY_SENTINEL] : near < t ? [near, t] : [t, near];
    const cap = Math.max(1024, size >> 1);
    const between = (prepared(this.db, `SELECT COUNT(*) AS n FROM (SELECT 1 FROM main.history WHERE bucket >= ? AND bucket < ? LIMIT ?)`).get(lo, hi, cap) as { n: number }).n;
    let v: Totals;
    if (between >= cap) {
      v = fill(size, prepared(this.db, `SELECT json_group_array(id) AS ids, json_group_array(c) AS counts, json_group_array(b) AS bytes
        FROM (SELECT e.id, ${AT('count')} AS c, ${AT('bytes')} AS b FROM main.history_entity e)`).get(t, t) as Columns);
    } else {
      const base = near === undefined ? allTime() : this.kept(near, size)!;
      v = { count: grown(base.count, size), bytes: grown(base.bytes, size) };
      const c = prepared(this.db, `SELECT json_group_array(id) AS ids, json_group_array(c) AS counts, json_group_array(b) AS bytes
        FROM (SELECT e.id, ${AT('count')} AS c, ${AT('bytes')} AS b FROM (SELECT DISTINCT id FROM main.history WHERE bucket >= ? AND bucket < ?) e)`).get(t, t, lo, hi) as Columns;
      patch(v, c);
    }
    if (t <= newest - BACKFILL_GRACE_MS) {
      this.edges.set(t, v);
      if (this.edges.size > KEEP_EDGES) {
        const oldest = this.edges.keys().next().value!;
        this.edges.delete(oldest);
        this.stale.delete(oldest);
      }
    }
    return v;
  }
}

interface Columns {
  ids: string;
  counts: string;
  bytes: string;
}

/** A copy `size` long: the first values of `a`, zeros after. */
function grown(a: Float64Array, size: number): Float64Array {
  const out = new Float64Array(size);
  out.set(a.length > size ? a.subarray(0, size) : a);
  return out;
}

function fill(size: number, c: Columns): Totals {
  const v = { count: new Float64Array(size), bytes: new Float64Array(size) };
  patch(v, c);
  return v;
}

function patch(v: Totals, c: Columns): void {
  const ids = JSON.parse(c.ids) as number[];
  const counts = JSON.parse(c.counts) as number[];
  const bytes = JSON.parse(c.bytes) as number[];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= v.count.length) continue;
    v.count[id] = counts[i]!;
    v.bytes[id] = bytes[i]!;
  }
}
