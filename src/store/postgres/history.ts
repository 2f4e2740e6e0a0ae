/**
 * PostgreSQL's history SQL, as SQLite's (src/store/sqlite/history.ts): window
 * sums over the running totals, series, and CTEs named like the entity tables
 * that shadow them with their windowed versions (inside a CTE the real table
 * is `public.<table>`), so every list query runs unchanged over a window.
 * Fragments use `?`; `numbered()` turns a whole statement's into $1, $2, …
 */
import { MARK_KEYS, addSeries, marksFrom, resolveWindow, type ChangeLists, type ChangeSum, type ChangesQuery, type CumRow, type HistoryFilter, type HistoryMarks, type SeriesPoint, type SeriesQuery, type Window } from '../history.js';
import { WINDOW_TABLES, type WindowedTable } from '../window-tables.js';
import type { Querier } from './costs.js';
import { PG_KIND_TABLES, entityJoin } from './history-last.js';

export interface Sql {
  sql: string;
  values: unknown[];
}

/** `?` placeholders in order of appearance → $1, $2, … (no fragment of ours has a literal `?`). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The marks retention left (src/store/history.ts), read in the question's own (repeatable-read) transaction. */
export async function historyMarks(c: Querier): Promise<HistoryMarks> {
  const r = await c.query(`SELECT key, value FROM meta WHERE key = ANY($1::text[])`, [Object.values(MARK_KEYS)]);
  const m = new Map((r.rows as Array<{ key: string; value: string }>).map((x) => [x.key, x.value]));
  return marksFrom((k) => m.get(k));
}

/** The running totals at a time: the first row at or after it (there always is one: the sentinel). */
const at = (alias: string) => `CROSS JOIN LATERAL (SELECT h.count, h.bytes FROM public.history h WHERE h.id = e.id AND h.bucket >= ? ORDER BY h.bucket LIMIT 1) ${alias}`;

/** Per-entity sums of one kind over a window: totals at `to` minus totals at `from`, for the entities with anything in it. */
export function sumsSql(f: HistoryFilter, w: Window, marks: HistoryMarks): Sql {
  const r = resolveWindow(w, marks);
  const values: unknown[] = [r.to, r.from, f.kind];
  let cond = 'e.kind = ?';
  for (const [col, v] of [['service', f.service], ['name', f.name], ['sub', f.sub]] as const) {
    if (v === undefined) continue;
    cond += ` AND e.${col} = ?`;
    values.push(v);
  }
  return {
    sql: `SELECT e.service, e.name, e.sub, (t.count - f.count)::bigint AS count, (t.bytes - f.bytes)::bigint AS bytes
      FROM public.history_entity e ${at('t')} ${at('f')} WHERE ${cond} AND (t.count <> f.count OR t.bytes <> f.bytes)`,
    values,
  };
}


/** The hash a template's history is kept under, from its id (what the API knows it by). */
export async function templateSub(c: Querier, service: string | undefined, severity: string | undefined, id: string): Promise<string> {
  const r = await c.query(`SELECT template_hash FROM body_templates WHERE service = $1 AND severity = $2 AND template_id::text = $3 ORDER BY template_hash LIMIT 1`,
    [service ?? '', severity ?? '', id]);
  return (r.rows[0]?.template_hash as string | undefined) ?? `#${id}`;
}

/** Non-empty steps of `step` ms in [from, to): each entity's rows in the window and the one after, differenced. */
export async function series(c: Querier, q0: SeriesQuery): Promise<SeriesPoint[]> {
  const q = q0.kind === 'template' && q0.sub !== undefined ? { ...q0, sub: await templateSub(c, q0.service, q0.name, q0.sub) } : q0;
  const values: unknown[] = [q.kind, q.from, q.to];
  let cond = 'e.kind = $1';
  for (const [col, v] of [['service', q.service], ['name', q.name], ['sub', q.sub]] as const) {
    if (v === undefined) continue;
    values.push(v);
    cond += ` AND e.${col} = $${values.length}`;
  }
  const r = await c.query(`SELECT e.id, h.bucket, h.count, h.bytes FROM public.history_entity e
      JOIN public.history h ON h.id = e.id AND h.bucket >= $2 AND h.bucket < $3 WHERE ${cond}
    UNION ALL SELECT e.id, n.bucket, n.count, n.bytes FROM public.history_entity e
      CROSS JOIN LATERAL (SELECT h.bucket, h.count, h.bytes FROM public.history h WHERE h.id = e.id AND h.bucket >= $3 ORDER BY h.bucket LIMIT 1) n WHERE ${cond}
    ORDER BY 1, 2`, values);
  const byEntity = new Map<number, CumRow[]>();
  for (const row of r.rows as Array<CumRow & { id: number }>) {
    let rows = byEntity.get(row.id);
    if (!rows) byEntity.set(row.id, (rows = []));
    rows.push({ bucket: row.bucket, count: row.count, bytes: row.bytes });
  }
  const points = new Map<number, SeriesPoint>();
  for (const rows of byEntity.values()) addSeries(rows, q.from, q.to, q.step, points);
  return [...points.values()].sort((a, b) => a.t - b.t);
}

export type { WindowedTable };

/**
 * Whether window `w` (as resolved) ends after `newest`, the newest history
 * minute of every row of a table (its MAX(history_last): one index read,
 * ChangesQuestion.newestLast; null: no rows): then a row was active in it if
 * and only if its history_last is at or after `from`. `services` has no such
 * column: never open.
 */
export function windowIsOpen(newest: number | null, w: Window, marks: HistoryMarks): boolean {
  return newest === null || resolveWindow(w, marks).to > newest;
}

/**
 * A windowed list's table CTE: 'lazy' (a page in the order of an entity
 * column: not materialized, so the planner reads the table in that order,
 * filters on history_last, stops at the page's last row and computes the
 * window's sums — scalar subqueries, which it evaluates after the sort and
 * limit — for the page's rows only); 'materialized' (sorted by the sums:
 * every active row's computed once); 'count' (the active rows with their
 * all-time counts, no sums, no join when the window is open).
 */
export type CteMode = 'lazy' | 'materialized' | 'count';

/**
 * The WITH clause of a windowed list: `services` (always: the denominators of
 * bytes_percentage), for templates `severities` (their shares' denominators:
 * the window's sums of the `log` entities, which a severity's templates add
 * up to), and the listed table, as its window sums.
 */
export function windowCtes(table: WindowedTable, w: Window, service: string | undefined, marks: HistoryMarks, mode: CteMode = 'materialized', open = false): Sql {
  const svc = servicesCte(w, service, marks);
  const parts = [svc.sql];
  const values = [...svc.values];
  if (table === 'body_templates' && mode !== 'count') {
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

function sumsByService(kind: 'log' | 'span' | 'metric', w: Window, service: string | undefined, marks: HistoryMarks): Sql {
  const r = sumsSql({ kind, service }, w, marks);
  return { sql: `SELECT service, SUM(count)::bigint AS count, SUM(bytes)::bigint AS bytes FROM (${r.sql}) h GROUP BY service`, values: r.values };
}

function servicesCte(w: Window, service: string | undefined, marks: HistoryMarks): Sql {
  const l = sumsByService('log', w, service, marks);
  const s = sumsByService('span', w, service, marks);
  const m = sumsByService('metric', w, service, marks);
  return {
    sql: `services AS MATERIALIZED (SELECT x.name, COALESCE(l.count, 0)::bigint AS log_records, COALESCE(s.count, 0)::bigint AS spans,
      COALESCE(m.count, 0)::bigint AS metric_points, COALESCE(l.bytes, 0)::bigint AS log_bytes, COALESCE(s.bytes, 0)::bigint AS span_bytes,
      COALESCE(m.bytes, 0)::bigint AS metric_bytes, x.first_seen, x.last_seen
      FROM public.services x LEFT JOIN (${l.sql}) l ON l.service = x.name LEFT JOIN (${s.sql}) s ON s.service = x.name
      LEFT JOIN (${m.sql}) m ON m.service = x.name
      WHERE l.service IS NOT NULL OR s.service IS NOT NULL OR m.service IS NOT NULL)`,
    values: [...l.values, ...s.values, ...m.values],
  };
}


/**
 * The table's rows active in the (resolved) window `r`, with its sums in
 * place of the all-time counts and bytes. Active is asked of the row's
 * history_last; only a window that ends before some row's newest minute asks
 * the history too, for the rows whose newest minute is past it.
 */
function tableCte(table: Exclude<WindowedTable, 'services'>, r: Window, service: string | undefined, mode: CteMode, open: boolean): Sql {
  const spec = WINDOW_TABLES[table];
  // Templates carry their hash too: the list's last tiebreak (src/store/postgres/read.ts).
  const t = table === 'body_templates' ? { ...spec, select: 'e.template_hash, ' + spec.select } : spec;
  const counting = mode === 'count';
  // Materialized (every row's sums), the rows join their entities once. Lazy, each row that reaches the page looks its
  // entity up inside the sums: a join would run for every row the page's sort reads (100,000 keys of one cardinality
  // all tie on the sort's first column: 700 ms of the 820 a page took was the join).
  const joined = mode === 'materialized' || (counting && !open);
  const id = joined ? 'h.id' : `(SELECT h.id FROM public.history_entity h WHERE ${entityJoin(t.kind, 'e')})`;
  // The sums: one lateral subquery per row, each edge's totals (count and bytes) from one seek, and the entity looked up
  // once (as four scalar subqueries, each looked the entity up and sought the edge again: 8 index descents a row, not 3).
  // Lazy, the page's statement picks its rows by `rid` first (a TID scan under the lateral), so only they are summed.
  const edge = (alias: string) => `(SELECT x.count, x.bytes FROM public.history x WHERE x.id = ${joined ? 'h.id' : 'i.id'} AND x.bucket >= ? ORDER BY x.bucket LIMIT 1) ${alias}`;
  // Materialized, every active row's: as /changes' (edgeTotals), one descent and the few rows after `from` for most.
  const edges = r.from === r.to ? [r.from] : [r.from, r.to];
  const tot = edgeTotals('h.id', edges, 'y');
  const last = edges.length - 1;
  const sums = joined
    ? ` LEFT JOIN LATERAL (SELECT (${tot.count(last)} - ${tot.count(0)})::bigint AS count, (${tot.bytes(last)} - ${tot.bytes(0)})::bigint AS bytes
        FROM (SELECT 1) o ${tot.sql}) w ON true`
    : ` LEFT JOIN LATERAL (SELECT (t.count - f.count)::bigint AS count, (t.bytes - f.bytes)::bigint AS bytes
        FROM (SELECT h.id FROM public.history_entity h WHERE ${entityJoin(t.kind, 'e')}) i CROSS JOIN LATERAL ${edge('t')} CROSS JOIN LATERAL ${edge('f')}) w ON true`;
  // Values in the order their placeholders appear: the join's, then the filter's.
  const select = counting ? t.select.replace('{count}', t.count).replace('{bytes}', 'e.bytes') : t.select.replace('{count}', 'w.count').replace('{bytes}', 'w.bytes');
  const values: unknown[] = counting ? [] : joined ? [...tot.values] : [r.to, r.from];
  let cond = '';
  if (service !== undefined) {
    cond = 'e.service = ? AND ';
    values.push(service);
  }
  cond += 'e.history_last >= ?';
  values.push(r.from);
  if (!open) {
    cond += ` AND (e.history_last < ? OR EXISTS (SELECT 1 FROM public.history x WHERE x.id = ${id} AND x.bucket >= ? AND x.bucket < ?))`;
    values.push(r.to, r.from, r.to);
  }
  const join = (joined ? ` LEFT JOIN public.history_entity h ON ${entityJoin(t.kind, 'e')}` : '') + (counting ? '' : sums);
  // `rid`, the row version's ctid: fixed within the question's snapshot, so a page picked by it in one statement is
  // found again by it (a TID scan) in the next (src/store/postgres/read.ts, runList).
  return {
    sql: `${table} AS ${mode === 'materialized' ? 'MATERIALIZED' : 'NOT MATERIALIZED'} (SELECT e.ctid AS rid, ${select} FROM public.${table} e${join} WHERE ${cond})`,
    values,
  };
}

/**
 * Rows of an entity's history edgeTotals reads from its first edge on, in bucket order, before it seeks any later
 * edge by the index. On a store that has run for days most entities have a few rows between /changes' edges (one per
 * minute they were active in): reading them costs less than a seek per edge (100,000 steady keys, 4 edges: the
 * statement 880–1,120 ms with a seek per edge, 620–810 this way; README, "Round 8"). An entity busier than
 * that gets the seeks as before, after the rows.
 */
export const EDGE_SCAN_ROWS = 8;

/**
 * Running totals of entity `id` (an SQL expression of the outer row) at each of `edges` (ascending, distinct): the
 * first row at or after each. Running totals never decrease, so the totals at edge e are the smallest of the rows at
 * or after it: one descent reads up to EDGE_SCAN_ROWS rows from the first edge and takes each later edge's totals as
 * the MIN over the rows at or after it, which is exact for every edge up to the last row read (the rows are every
 * row from the first edge on, so the first row at or after such an edge is among them). Only when the rows end
 * before the last edge are the later edges sought one by one, in a join the planner gates on that (a one-time
 * filter: no seek at all otherwise; OFFSET 0 keeps the condition inside the subquery, where it is one: pulled up, it
 * became a join filter applied after every seek had run). `count(i)`/`bytes(i)` are the expressions of edge i; `values` fill the
 * fragment's placeholders in order.
 */
export function edgeTotals(id: string, edges: readonly number[], alias: string): { sql: string; values: unknown[]; count(i: number): string; bytes(i: number): string } {
  const seek = (n: string) => `(SELECT x.count, x.bytes FROM public.history x WHERE x.id = ${id} AND x.bucket >= ? ORDER BY x.bucket LIMIT 1) ${n}`;
  if (edges.length === 1) {
    return { sql: `CROSS JOIN LATERAL ${seek(`${alias}0`)}`, values: [edges[0]], count: () => `${alias}0.count`, bytes: () => `${alias}0.bytes` };
  }
  const later = edges.slice(1);
  const s = `${alias}s`;
  const d = `${alias}d`;
  const mins = later.map((_, j) => `MIN(y.count) FILTER (WHERE y.bucket >= ?) AS c${j + 1}, MIN(y.bytes) FILTER (WHERE y.bucket >= ?) AS b${j + 1}`);
  const seeks = later.map((_, j) => seek(`s${j + 1}`));
  const picks = later.map((_, j) => `s${j + 1}.count AS c${j + 1}, s${j + 1}.bytes AS b${j + 1}`);
  const sql = `CROSS JOIN LATERAL (SELECT MAX(y.bucket) AS top, MIN(y.count) AS c0, MIN(y.bytes) AS b0, ${mins.join(', ')}
      FROM (SELECT x.bucket, x.count, x.bytes FROM public.history x WHERE x.id = ${id} AND x.bucket >= ? ORDER BY x.bucket LIMIT ${EDGE_SCAN_ROWS}) y) ${s}
    LEFT JOIN LATERAL (SELECT ${picks.join(', ')} FROM ${seeks.join(' CROSS JOIN ')} WHERE ${s}.top < ? OFFSET 0) ${d} ON true`;
  const values = [...later.flatMap((e) => [e, e]), edges[0], ...later, edges[edges.length - 1]];
  const pick = (col: 'c' | 'b', i: number) => (i === 0 ? `${s}.${col}0` : `COALESCE(${d}.${col}${i}, ${s}.${col}${i})`);
  return { sql, values, count: (i) => pick('c', i), bytes: (i) => pick('b', i) };
}

/**
 * /changes for one kind in one statement (the API answers from totals kept between questions instead,
 * src/store/postgres/changes.ts; this stays as the tests' reference), as SQLite's: the entities active
 * in the window before, their totals at the windows' distinct edges (edgeTotals:
 * one descent and a few rows for most entities), then the largest rises and falls,
 * so only 2 × limit rows leave PostgreSQL (it was both windows' sums of every
 * entity of the kind, sent to keytally and ranked there: 5–9 s for 100,000
 * keys). The candidates are asked of their rows first: an entity first seen
 * after the window before, or whose newest minute is before it, was not
 * active in it (a store whose entities are all new answers at once).
 */
export async function historyChangesSql(c: Querier, q: ChangesQuery): Promise<ChangeLists> {
  const marks = await historyMarks(c);
  const b = resolveWindow(q.before, marks);
  const a = resolveWindow(q.after, marks);
  const edges = [...new Set([b.from, b.to, a.from, a.to])].sort((x, y) => x - y);
  const values: unknown[] = [];
  const table = PG_KIND_TABLES[q.kind].table;
  let cond = 'r.history_last >= ? AND r.first_seen < ?';
  values.push(b.from, b.to);
  if (q.service !== undefined) {
    cond += ' AND r.service = ?';
    values.push(q.service);
  }
  const totals = edgeTotals('h.id', edges, 'x');
  values.push(...totals.values);
  const at = (t: number) => {
    const i = edges.indexOf(t);
    return { count: totals.count(i), bytes: totals.bytes(i) };
  };
  const diff = (col: 'count' | 'bytes', w: Window) => `(${at(w.to)[col]} - ${at(w.from)[col]})::bigint`;
  // A template is answered by its id and text (its history is kept under the hash of its text).
  const sub = q.kind === 'template' ? 'r.template_id::text' : 'h.sub';
  const text = q.kind === 'template' ? ', r.template' : '';
  // Ties rank by (service, name, sub) in code-point order, sub as answered (a template's id as text), as the other stores rank them.
  // The candidates first, from the rows' own index (history_last, first_seen), materialized so that the planner
  // cannot start from history_entity instead: with a table's statistics behind a fill (autovacuum had not analyzed it
  // yet) it did, and tried each of 20,000 templates against every row of its severity: 2.4 s for no candidate at all.
  // The candidates carry only what the join and the answer need: whole rows (a key's sketch) made the materialized
  // CTE spill to disk (100,000 keys: 160 ms to write and read it back).
  const k = PG_KIND_TABLES[q.kind];
  const carried = q.kind === 'template' ? ', r.template_id, r.template' : '';
  const sql = `WITH r AS MATERIALIZED (SELECT r.service, ${k.name('r')} AS name, ${k.sub('r')} AS sub${carried} FROM public.${table} r WHERE ${cond}),
    c AS MATERIALIZED (SELECT h.service, h.name, ${sub} AS sub${text}, ${sub} COLLATE "C" AS ord,
      ${diff('count', b)} AS count_before, ${diff('count', a)} AS count_after, ${diff('bytes', b)} AS bytes_before, ${diff('bytes', a)} AS bytes_after
      FROM r JOIN public.history_entity h ON h.kind = '${q.kind}' AND h.service = r.service AND h.name = r.name AND h.sub = r.sub ${totals.sql}),
    d AS (SELECT * FROM c WHERE count_before <> 0 OR bytes_before <> 0)
    SELECT * FROM (SELECT 1 AS rose, * FROM d WHERE bytes_after > bytes_before ORDER BY bytes_after - bytes_before DESC, service, name, ord LIMIT ?) u
    UNION ALL SELECT * FROM (SELECT 0 AS rose, * FROM d WHERE bytes_after < bytes_before ORDER BY bytes_after - bytes_before ASC, service, name, ord LIMIT ?) v`;
  const r = await c.query(numbered(sql), [...values, q.limit, q.limit]);
  const out: ChangeLists = { rose: [], fell: [] };
  for (const row of r.rows as Array<ChangeSum & { rose: number; ord?: string }>) {
    const { rose, ord: _, ...x } = row;
    (rose ? out.rose : out.fell).push(x);
  }
  return out;
}
