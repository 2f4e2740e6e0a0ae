/**
 * The shared shape of every SQLite list query: filters as constant SQL
 * fragments with bound values, a whitelisted sort, limit/offset, and
 * {"items", "total"}.
 */
import type Database from 'better-sqlite3';
import type { ListResult, Page, SortSpec } from '../queries.js';
import { prepared } from './statements.js';
import { topBySums } from '../top-by-sums.js';

/** Conditions joined with AND; every value goes through a bound parameter. */
export class Where {
  private readonly conds: string[] = [];
  readonly values: unknown[] = [];

  /** Adds `fragment` (with `?` placeholders) when `value` is given. */
  add(fragment: string, value: unknown): this {
    if (value === undefined) return this;
    this.conds.push(fragment);
    this.values.push(value);
    return this;
  }

  /** Case-insensitive substring match on `column` (ASCII case folding: SQLite's LIKE without ICU). */
  contains(column: string, q: string | undefined): this {
    if (q === undefined) return this;
    return this.add(`${column} LIKE ? ESCAPE '\\'`, `%${escapeLike(q)}%`);
  }

  sql(): string {
    return this.conds.length ? ` WHERE ${this.conds.join(' AND ')}` : '';
  }
}

/** Makes %, _ and the escape character itself literal in a LIKE pattern. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

export interface ListQuery {
  /** Select list (may define aliases used by sort fields). */
  select: string;
  /** FROM clause: a table, possibly with a join. */
  from: string;
  where: Where;
  spec: SortSpec;
  page: Page;
  /** Table alias the sort columns are qualified with ('' for none); a select-list alias (`percentage`) is left bare. */
  alias?: string;
  /** A WITH clause put before both statements (history windows shadow the tables with CTEs), and its values. */
  with?: { sql: string; values: unknown[] } | undefined;
  /** Another WITH clause for the count alone (a window's rows without their sums: src/store/sqlite/history.ts); default `with`. */
  countWith?: { sql: string; values: unknown[] } | undefined;
  /** `with` is a window's sums, computed for every row (the sort is by them): the page is picked by the CTE's `rid`. */
  bySums?: boolean | undefined;
  /** A WITH clause computing the window's sums only for the rows a statement picks by `rid` (a window's inlined CTE). */
  rowsWith?: { sql: string; values: unknown[] } | undefined;
  /**
   * The rowids of the rows on the first `need` by the window's sums of `column` (descending, tie-break order), from
   * sums known without SQL (the edges SqliteChanges keeps), or undefined (not known).
   * Given only when the list has no filter a row's window sum could pass or fail differently (the service alone, and
   * first_seen, which the function checks itself: the candidates are the page only if every one passes).
   */
  topRows?: ((column: string, need: number) => number[] | undefined) | undefined;
}

export async function runList<T>(db: Database.Database, q: ListQuery, map: (row: Record<string, unknown>) => T): Promise<ListResult<T>> {
  // A select-list alias (`AS percentage`, not the start of `AS bytes_percentage` when the column is `bytes`) stays bare.
  const isAlias = (column: string) => new RegExp(` AS ${column}\\b`).test(q.select);
  const qualify = (column: string) => (q.alias && !isAlias(column) ? `${q.alias}.${column}` : column);
  const field = q.spec.fields[q.page.sort]!;
  const where = q.where.sql();
  const dir = q.page.order === 'asc' ? 'ASC' : 'DESC';
  const w = q.with ? q.with.sql + ' ' : '';
  const wv = q.with ? q.with.values : [];
  const cw = q.countWith ?? q.with;
  const count = () => (prepared(db, `${cw ? cw.sql + ' ' : ''}SELECT COUNT(*) AS n FROM ${q.from}${where}`).get(...(cw ? cw.values : []), ...q.where.values) as { n: number }).n;
  const order = [`${qualify(field.column)} ${dir}`, ...q.spec.tiebreak.map((t) => `${qualify(t.column)} ASC`)].join(', ');
  // Sorted by a window's sums (a materialized CTE: every row's sums are computed anyway, once), one statement picks
  // the page's rows by `rid` (the CTEs carry the table's rowid) and computes the select list for those rows only, and
  // the total once. Sorting 20,000 templates with every row's shares computed was 60 ms, this way 43 ms.
  const byAlias = isAlias(field.column);
  let known: number | undefined;
  if (q.bySums && q.rowsWith && q.countWith && q.page.limit > 0 && dir === 'DESC' && !byAlias) {
    // Uncounted (Page.count false: /changes) unless the page needs the total below.
    const counted = q.page.count !== false;
    const total = counted ? (known = count()) : -1;
    // Nothing on the page (/changes' new keys on a store where nothing is new): no top-N to look for.
    if (counted && q.page.offset >= total) return { items: [], total };
    // The sums known at the window's edges (a steady store: uniform traffic, so the top-N by all-time values below
    // cannot stop early): only the page's rows get theirs computed in SQL, not every row's (20,000 templates in a
    // 24 h window of a 54 h history).
    const need = q.page.offset + q.page.limit;
    const rids = q.topRows?.(field.column, need);
    if (rids) {
      const rid = qualify('rid');
      const sql = `${q.rowsWith.sql} SELECT ${q.select} FROM ${q.from}${where ? `${where} AND` : ' WHERE'} ${rid} IN (SELECT value FROM json_each(?)) ORDER BY ${order} LIMIT ? OFFSET ?`;
      const rows = prepared(db, sql).all(...q.rowsWith.values, ...q.where.values, JSON.stringify(rids), q.page.limit, q.page.offset) as Record<string, unknown>[];
      return { items: rows.map(map), total };
    }
    const tiebreak = q.spec.tiebreak.map((t) => `${qualify(t.column)} ASC`).join(', ');
    known ??= count();
    if (q.page.offset >= known) return { items: [], total: known };
    const page = await sqliteTopBySums(db, q, order, tiebreak, field.column, qualify, known);
    if (page) return { items: page.map(map), total: known };
  }
  if (q.bySums && q.with && q.page.limit > 0) {
    const rid = qualify('rid');
    const page = byAlias
      ? `SELECT rid FROM (SELECT ${rid} AS rid, ${q.select} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?)`
      : `SELECT ${rid} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
    const sql = `${w}SELECT ${q.select}, (SELECT COUNT(*) FROM ${q.from}${where}) AS __total FROM ${q.from} WHERE ${rid} IN (${page}) ORDER BY ${order}`;
    const rows = prepared(db, sql).all(...wv, ...q.where.values, ...q.where.values, q.page.limit, q.page.offset) as Record<string, unknown>[];
    const total = rows.length > 0 ? (rows[0]!['__total'] as number) : (known ?? count());
    return { items: rows.map((r) => { delete r['__total']; return map(r); }), total };
  }
  // Otherwise a window's CTE is inlined (not materialized): the count only asks each row whether it was active, and a
  // page in an index's order stops at its last row (src/store/sqlite/history.ts, windowCtes).
  const total = count();
  // Skip the row query when nothing can come back (limit=0 asks for the total only, or paging past the end).
  if (q.page.limit === 0 || q.page.offset >= total) return { items: [], total };
  let sql: string;
  let values = [...wv, ...q.where.values, q.page.limit, q.page.offset];
  if (q.with && q.countWith && !byAlias) {
    // A window, in an index's order: the page's rids from the rows alone (no join, no sums; 50,000 keys skipped by
    // name: 166 ms with the join on every row skipped), then the window's sums for those rows only.
    const rid = qualify('rid');
    const rids = (prepared(db, `${q.countWith.sql} SELECT ${rid} AS rid FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...q.countWith.values, ...q.where.values, q.page.limit, q.page.offset) as Array<{ rid: number }>).map((r) => r.rid);
    sql = `${w}SELECT ${q.select} FROM ${q.from} WHERE ${rid} IN (SELECT value FROM json_each(?)) ORDER BY ${order}`;
    values = [...wv, JSON.stringify(rids)];
  } else if (q.with || byAlias || /\bjoin\b/i.test(q.from)) {
    // A windowed list reads CTEs, which have no rowid: the plain form.
    sql = `${w}SELECT ${q.select} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
  } else {
    // Pick the page's rowids first, then compute the select list for those rows only. SQLite evaluates the select
    // list of every row it sorts; with a correlated percentage that was 1.2 s for 20,000 templates by first_seen,
    // 16 ms this way.
    const rowid = q.alias ? `${q.alias}.rowid` : 'rowid';
    sql = `SELECT ${q.select} FROM ${q.from} WHERE ${rowid} IN (SELECT ${rowid} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?) ORDER BY ${order}`;
  }
  const rows = prepared(db, sql).all(...values) as Record<string, unknown>[];
  return { items: rows.map(map), total };
}

/**
 * topBySums (src/store/top-by-sums.ts) over SQLite: candidates from the count form (`countWith`: all-time values),
 * the page's sums through the lazy form (`rowsWith`), rows found again by `rid` (json_each of the ids).
 */
function sqliteTopBySums(db: Database.Database, q: ListQuery, order: string, tiebreak: string, column: string, qualify: (c: string) => string, total: number): Promise<Record<string, unknown>[] | undefined> {
  const cw = q.countWith!;
  const rw = q.rowsWith!;
  const where = q.where.sql();
  const and = where ? `${where} AND` : ' WHERE';
  const rid = qualify('rid');
  const bound = qualify(column);
  const rids = (stmt: Database.Statement, ...extra: unknown[]) => (stmt.all(...cw.values, ...q.where.values, ...extra) as Array<{ rid: number }>).map((r) => r.rid);
  const top = prepared(db, `${cw.sql} SELECT ${rid} AS rid, ${bound} AS bound FROM ${q.from}${where} ORDER BY ${bound} DESC LIMIT ?`);
  const above = prepared(db, `${cw.sql} SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} > ? LIMIT ?`);
  const at = prepared(db, `${cw.sql} SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} = ? ORDER BY ${tiebreak} LIMIT ? OFFSET ?`);
  const sorted = prepared(db, `${rw.sql} SELECT ${q.select} FROM ${q.from} WHERE ${rid} IN (SELECT value FROM json_each(?)) ORDER BY ${order} LIMIT ? OFFSET ?`);
  return topBySums<number, Record<string, unknown>>({
    top: async (n) => top.all(...cw.values, ...q.where.values, n) as Array<{ rid: number; bound: number }>,
    above: async (v, limit) => rids(above, v, limit),
    at: async (v, limit, offset) => rids(at, v, limit, offset),
    page: async (ids, limit, offset) => sorted.all(...rw.values, JSON.stringify(ids), limit, offset) as Record<string, unknown>[],
  }, column, q.page, total);
}

/**
 * SQL for an item's share (0-100) of its service's bytes of one signal:
 * `bytes` over the `services` column (or sum of columns) of the item's service.
 * All fragments are written in code, never taken from a request.
 */
export function bytesShare(bytes: string, serviceColumn: string, serviceRef: string): string {
  return `COALESCE(100.0 * ${bytes} / NULLIF((SELECT ${serviceColumn} FROM services s WHERE s.name = ${serviceRef}), 0), 0)`;
}

/** Key lists are stored as sorted JSON arrays in a TEXT column. */
export function keys(v: unknown): string[] {
  if (typeof v !== 'string' || v === '') return [];
  const parsed: unknown = JSON.parse(v);
  return Array.isArray(parsed) ? (parsed as string[]) : [];
}
