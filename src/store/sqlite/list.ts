/**
 * The shared shape of every SQLite list query: filters as constant SQL
 * fragments with bound values, a whitelisted sort, limit/offset, and
 * {"items", "total"}.
 */
import type Database from 'better-sqlite3';
import type { ListResult, Page, SortSpec } from '../queries.js';
import { prepared } from './statements.js';

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
}

export function runList<T>(db: Database.Database, q: ListQuery, map: (row: Record<string, unknown>) => T): ListResult<T> {
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
    const total = (known = count());
    // Nothing on the page (/changes' new keys on a store where nothing is new): no top-N to look for.
    if (q.page.offset >= total) return { items: [], total };
    const tiebreak = q.spec.tiebreak.map((t) => `${qualify(t.column)} ASC`).join(', ');
    const page = topBySums(db, q, order, tiebreak, field.column, qualify, total);
    if (page) return { items: page.map(map), total };
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
 * The largest window sums without every row's: a row's sum over a window
 * never exceeds its all-time value (the rows of `countWith` carry those), so
 * the `n` rows largest all-time get their window sums first. Call `v` the
 * page's last value among them: every row whose all-time value is below `v`
 * ranks after the page, so the page over the rows above `v` and those at `v`
 * is exact. Of the rows at `v` (a tie, often wide: keys of one size), only
 * those whose whole count is in the window reach `v`, and they rank by the
 * tiebreak: they are read in that order until the page has enough of them.
 * A long window (a week of a week: 20,000 templates) needs a few dozen rows'
 * sums, not 20,000; a short one, whose sums are far below the all-time
 * values, has most rows above `v`: undefined (sort every row's).
 */
function topBySums(db: Database.Database, q: ListQuery, order: string, tiebreak: string, column: string, qualify: (c: string) => string, total: number): Record<string, unknown>[] | undefined {
  const cw = q.countWith!;
  const where = q.where.sql();
  const and = where ? `${where} AND` : ' WHERE';
  const rid = qualify('rid');
  const bound = qualify(column);
  const need = q.page.offset + q.page.limit;
  const n = Math.max(4 * need, 64);
  // Past half the rows, sorting all of them (each sum computed once) is about as quick.
  const most = Math.floor(total / 2);
  const rids = (stmt: Database.Statement, ...extra: unknown[]) => (stmt.all(...cw.values, ...q.where.values, ...extra) as Array<{ rid: number }>).map((r) => r.rid);
  const top = prepared(db, `${cw.sql} SELECT ${rid} AS rid, ${bound} AS bound FROM ${q.from}${where} ORDER BY ${bound} DESC LIMIT ?`);
  const above = prepared(db, `${cw.sql} SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} > ? LIMIT ?`);
  const at = prepared(db, `${cw.sql} SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} = ? ORDER BY ${tiebreak} LIMIT ? OFFSET ?`);
  const rw = q.rowsWith!;
  const sorted = prepared(db, `${rw.sql} SELECT ${q.select} FROM ${q.from} WHERE ${rid} IN (SELECT value FROM json_each(?)) ORDER BY ${order} LIMIT ? OFFSET ?`);
  const pageOf = (ids: number[], limit = q.page.limit, offset = q.page.offset) => sorted.all(...rw.values, JSON.stringify(ids), limit, offset) as Record<string, unknown>[];

  const first = top.all(...cw.values, ...q.where.values, n + 1) as Array<{ rid: number; bound: number }>;
  if (first.length <= n) return pageOf(first.map((r) => r.rid));
  const next = first.pop()!.bound;
  const out = pageOf(first.map((r) => r.rid));
  if (out.length < q.page.limit) return undefined;
  const v = out[out.length - 1]![column] as number;
  if (v > next) return out;
  // The rows above v: all among those read already when the next one is at v (they are in all-time order).
  const ids = next <= v ? first.filter((r) => r.bound > v).map((r) => r.rid) : rids(above, v, most + 1);
  if (ids.length > most) return undefined;
  // The tie at v, in tiebreak order, a chunk at a time: stop once `need` of them are at v in the window.
  const chunk = Math.max(need, 64);
  let atV = 0;
  for (let offset = 0; atV < need; offset += chunk) {
    const tied = rids(at, v, chunk, offset);
    ids.push(...tied);
    if (ids.length > most) return undefined;
    if (tied.length < chunk) break;
    atV += pageOf(tied, chunk, 0).filter((r) => r[column] === v).length;
  }
  return pageOf(ids);
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
