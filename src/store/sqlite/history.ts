/**
 * SQLite's history SQL: window sums over the running totals (history,
 * history_entity; src/store/history.ts), series, and the CTEs that shadow the entity tables with their windowed versions,
 * so every list query runs unchanged over a window (the CTE named like the
 * table wins over it; inside a CTE the real table is `main.<table>`).
 */
import type Database from 'better-sqlite3';
import { MARK_KEYS, addSeries, marksFrom, resolveWindow, type ChangeLists, type ChangeSum, type ChangesQuery, type CumRow, type HistoryFilter, type HistoryMarks, type HistorySum, type SeriesPoint, type SeriesQuery, type Window } from '../history.js';
import { WINDOW_TABLES, type WindowedTable } from '../window-tables.js';
import { prepared } from './statements.js';
import { KIND_TABLES } from './history-last.js';

export interface Sql {
  sql: string;
  values: unknown[];
}

/** The marks retention left (src/store/history.ts), read with the question so both see one state. */
export function historyMarks(db: Database.Database): HistoryMarks {
  const rows = prepared(db, `SELECT key, value FROM meta WHERE key IN (?, ?, ?)`).all(...Object.values(MARK_KEYS)) as Array<{ key: string; value: string }>;
  const m = new Map(rows.map((r) => [r.key, r.value]));
  return marksFrom((k) => m.get(k));
}

/** The running totals at `t` (the first row at or after it): a correlated scalar per column. */
const at = (col: 'count' | 'bytes', t: string) => `(SELECT ${col} FROM main.history h WHERE h.id = e.id AND h.bucket >= ${t} ORDER BY h.bucket LIMIT 1)`;

/**
 * Per-entity sums of one kind over a window: the running totals at `to`
 * minus those at `from`, for the entities with anything in it. Four index
 * seeks per entity (20,000 templates: ~35 ms), however long the window.
 */
export function sumsSql(f: HistoryFilter, w: Window, marks: HistoryMarks): Sql {
  const r = resolveWindow(w, marks);
  const values: unknown[] = [r.to, r.from, r.to, r.from, f.kind];
  let cond = 'e.kind = ?';
  for (const [col, v] of [['service', f.service], ['name', f.name], ['sub', f.sub]] as const) {
    if (v === undefined) continue;
    cond += ` AND e.${col} = ?`;
    values.push(v);
  }
  values.push(r.from, r.to);
  // Active in the window = has a row in it (rows exist only for buckets with records). Tested on the entity, not
  // on the sums: SQLite flattens this query into its callers and would evaluate the lookups twice (measured: 1.6×).
  return {
    sql: `SELECT e.service, e.name, e.sub, ${at('count', '?')} - ${at('count', '?')} AS count, ${at('bytes', '?')} - ${at('bytes', '?')} AS bytes
      FROM main.history_entity e WHERE ${cond} AND EXISTS (SELECT 1 FROM main.history h WHERE h.id = e.id AND h.bucket >= ? AND h.bucket < ?)`,
    values,
  };
}

/**
 * /changes for one kind in one statement: each entity active in the window
 * before (one lookup), its running totals at the distinct edges of both
 * windows (usually three: the windows meet), computed once (MATERIALIZED),
 * then the largest rises and falls, so 100,000 keys never leave SQLite.
 * ~4 µs per entity active before: the store answers with SqliteChanges
 * (src/store/sqlite/changes.ts) instead; this stays as its reference (the
 * tests compare the two) and as the old side of `npm run bench:changes`.
 */
export function historyChangesSql(db: Database.Database, q: ChangesQuery): ChangeLists {
  const marks = historyMarks(db);
  const b = resolveWindow(q.before, marks);
  const a = resolveWindow(q.after, marks);
  const edges = [...new Set([b.from, b.to, a.from, a.to])];
  const col = (name: 'count' | 'bytes', t: number) => `c${edges.indexOf(t)}_${name}`;
  const values: unknown[] = [];
  const lookups = edges.flatMap((t, i) => (['count', 'bytes'] as const).map((name) => {
    values.push(t);
    return `(SELECT ${name} FROM main.history h WHERE h.id = e.id AND h.bucket >= ? ORDER BY h.bucket LIMIT 1) AS c${i}_${name}`;
  }));
  let cond = 'e.kind = ?';
  values.push(q.kind);
  if (q.service !== undefined) {
    cond += ' AND e.service = ?';
    values.push(q.service);
  }
  values.push(b.from, b.to);
  const diff = (name: 'count' | 'bytes', w: Window) => `${col(name, w.to)} - ${col(name, w.from)}`;
  const sql = `WITH t AS MATERIALIZED (SELECT e.service, e.name, e.sub, ${lookups.join(', ')} FROM main.history_entity e
      WHERE ${cond} AND EXISTS (SELECT 1 FROM main.history h WHERE h.id = e.id AND h.bucket >= ? AND h.bucket < ?)),
    c AS MATERIALIZED (SELECT service, name, sub, ${diff('count', b)} AS count_before, ${diff('count', a)} AS count_after,
      ${diff('bytes', b)} AS bytes_before, ${diff('bytes', a)} AS bytes_after FROM t)
    SELECT * FROM (SELECT 1 AS rose, * FROM c WHERE bytes_after > bytes_before ORDER BY bytes_after - bytes_before DESC, service, name, sub LIMIT ?)
    UNION ALL SELECT * FROM (SELECT 0 AS rose, * FROM c WHERE bytes_after < bytes_before ORDER BY bytes_after - bytes_before ASC, service, name, sub LIMIT ?)`;
  const out: ChangeLists = { rose: [], fell: [] };
  for (const r of prepared(db, sql).all(...values, q.limit, q.limit) as Array<ChangeSum & { rose: number }>) {
    const { rose, ...c } = r;
    (rose ? out.rose : out.fell).push(c);
  }
  return out;
}

/** Non-empty steps of `step` ms in [from, to) (the API fills the gaps with zeros). */
export function series(db: Database.Database, q: SeriesQuery): SeriesPoint[] {
  let cond = 'kind = ?';
  const values: unknown[] = [q.kind];
  for (const [col, v] of [['service', q.service], ['name', q.name], ['sub', q.sub]] as const) {
    if (v === undefined) continue;
    cond += ` AND ${col} = ?`;
    values.push(v);
  }
  // Each entity's rows in the window and the one after it (its totals at `to`): the differences are its buckets.
  const rows = prepared(db, `SELECT bucket, count, bytes FROM history WHERE id = ? AND bucket >= ? AND bucket < ?
    UNION ALL SELECT * FROM (SELECT bucket, count, bytes FROM history WHERE id = ? AND bucket >= ? ORDER BY bucket LIMIT 1)`);
  const points = new Map<number, SeriesPoint>();
  for (const e of prepared(db, `SELECT id FROM history_entity WHERE ${cond}`).all(...values) as Array<{ id: number }>) {
    addSeries(rows.all(e.id, q.from, q.to, e.id, q.to) as CumRow[], q.from, q.to, q.step, points);
  }
  return [...points.values()].sort((a, b) => a.t - b.t);
}

/**
 * The WITH clause of a windowed list: `services` (always: the denominators of
 * bytes_percentage) and the listed table, both as their window sums.
 *
 * `mode` 'lazy' (pages in the order of an entity column: cardinality,
 * first_seen, name…): the table's CTE is NOT MATERIALIZED, so SQLite inlines
 * it, walks the table's own index for the ORDER BY, asks each row whether it
 * was active (its history_last), stops at the page's last row, and computes
 * the window's sums only for the rows it returns. 'materialized' (sorted by
 * a window's count, bytes or share: every row's sums are needed): each sum is
 * computed once, not once per use. 'count': the active rows with their
 * all-time counts and bytes, no sums.
 */
export function windowCtes(table: WindowedTable, w: Window, service: string | undefined, marks: HistoryMarks, mode: CteMode, open: boolean): Sql {
  const svc = servicesCte(w, service, marks);
  const parts = [svc.sql];
  const values = [...svc.values];
  if (table === 'body_templates') {
    // A template's share is of its (service, severity)'s lines in the window: the `log` entity's sums, which the
    // templates of that severity add up to (every line is in one template; merges and splits keep each minute's sum).
    const sev = sumsSql({ kind: 'log', service }, w, marks);
    parts.push(`severities AS MATERIALIZED (${sev.sql})`);
    values.push(...sev.values);
  }
  if (table !== 'services') {
    const t = tableCte(table, resolveWindow(w, marks), service, mode, open);
    parts.push(t.sql);
    values.push(...t.values);
  }
  return { sql: 'WITH ' + parts.join(', '), values };
}

export type { WindowedTable };

function servicesCte(w: Window, service: string | undefined, marks: HistoryMarks): Sql {
  const l = sumsByService('log', w, service, marks);
  const s = sumsByService('span', w, service, marks);
  const m = sumsByService('metric', w, service, marks);
  return {
    sql: `services AS MATERIALIZED (SELECT x.rowid AS rid, x.name, COALESCE(l.count, 0) AS log_records, COALESCE(s.count, 0) AS spans,
      COALESCE(m.count, 0) AS metric_points, COALESCE(l.bytes, 0) AS log_bytes, COALESCE(s.bytes, 0) AS span_bytes,
      COALESCE(m.bytes, 0) AS metric_bytes, x.first_seen, x.last_seen
      FROM main.services x LEFT JOIN (${l.sql}) l ON l.service = x.name LEFT JOIN (${s.sql}) s ON s.service = x.name
      LEFT JOIN (${m.sql}) m ON m.service = x.name
      WHERE l.service IS NOT NULL OR s.service IS NOT NULL OR m.service IS NOT NULL)`,
    values: [...l.values, ...s.values, ...m.values],
  };
}

function sumsByService(kind: 'log' | 'span' | 'metric', w: Window, service: string | undefined, marks: HistoryMarks): Sql {
  const r = sumsSql({ kind, service }, w, marks);
  return { sql: `SELECT service, SUM(count) AS count, SUM(bytes) AS bytes FROM (${r.sql}) GROUP BY service`, values: r.values };
}


/**
 * Whether window `w` (as resolved) ends after the newest history minute of
 * every row of `table`: then a row was active in it if and only if its
 * newest minute is at or after `from` (one index seek to know; asked once
 * per list, for all its CTE forms). `services` has no such column: false.
 */
export function windowIsOpen(db: Database.Database, table: WindowedTable, w: Window, marks: HistoryMarks): boolean {
  if (table === 'services') return false;
  const newest = (prepared(db, `SELECT MAX(history_last) AS m FROM main.${table}`).get() as { m: number | null }).m;
  return newest === null || resolveWindow(w, marks).to > newest;
}

/**
 * The table's rows active in the (resolved) window `r`, with its sums in
 * place of the all-time counts and bytes, and its rowid as `rid` (a page is
 * picked by rid first, src/store/sqlite/list.ts). Active is asked of the
 * row's history_last; only a window that ends before some row's newest
 * minute asks the history too, for the rows whose newest minute is past it.
 * A count reads no sums: its CTE has no join to history_entity at all (SQLite
 * would keep even an unused LEFT JOIN in a count: 100,000 keys, 53 ms against
 * 1), and the rows keep their all-time count and bytes.
 */
function tableCte(table: Exclude<WindowedTable, 'services'>, r: Window, service: string | undefined, mode: CteMode, open: boolean): Sql {
  const t = WINDOW_TABLES[table];
  const k = KIND_TABLES[t.kind];
  const entity = `main.history_entity h WHERE h.kind = ? AND h.service = e.service AND h.name = ${k.name('e')} AND h.sub = ${k.sub('e')}`;
  const sum = (col: 'count' | 'bytes') =>
    `((SELECT ${col} FROM main.history x WHERE x.id = h.id AND x.bucket >= ? ORDER BY x.bucket LIMIT 1) - ` +
    `(SELECT ${col} FROM main.history x WHERE x.id = h.id AND x.bucket >= ? ORDER BY x.bucket LIMIT 1))`;
  // Values in the order their placeholders appear: the select list's (count, then bytes), the join's, the filter's.
  const counting = mode === 'count';
  // Counting, the rows keep their all-time counts and bytes: what a window's sums can never exceed (a top-N
  // by the sums reads its candidates in that order, src/store/sqlite/list.ts).
  const select = counting ? t.select.replace('{count}', t.count).replace('{bytes}', 'e.bytes') : t.select.replace('{count}', sum('count')).replace('{bytes}', sum('bytes'));
  const values: unknown[] = counting ? [] : [r.to, r.from, r.to, r.from, t.kind];
  let cond = '';
  if (service !== undefined) {
    cond = 'e.service = ? AND ';
    values.push(service);
  }
  cond += 'e.history_last >= ?';
  values.push(r.from);
  if (!open) {
    cond += ` AND (e.history_last < ? OR EXISTS (SELECT 1 FROM main.history x WHERE x.id = (SELECT h.id FROM ${entity}) AND x.bucket >= ? AND x.bucket < ?))`;
    values.push(r.to, t.kind, r.from, r.to);
  }
  const join = counting ? '' : ` LEFT JOIN main.history_entity h ON h.kind = ? AND h.service = e.service AND h.name = ${k.name('e')} AND h.sub = ${k.sub('e')}`;
  return {
    sql: `${table} AS ${mode === 'materialized' ? 'MATERIALIZED' : 'NOT MATERIALIZED'} (SELECT e.rowid AS rid, ${select} FROM main.${table} e${join} WHERE ${cond})`,
    values,
  };
}

/** A windowed list's table CTE: inlined for a page in an index's order, computed once for a sort by its sums, or rows only for a count. */
export type CteMode = 'lazy' | 'materialized' | 'count';
