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
  /** Another WITH clause for the count alone (a window's lazy CTEs: src/store/sqlite/history.ts); default `with`. */
  countWith?: { sql: string; values: unknown[] } | undefined;
}

export function runList<T>(db: Database.Database, q: ListQuery, map: (row: Record<string, unknown>) => T): ListResult<T> {
  const qualify = (column: string) => (q.alias && !q.select.includes(` AS ${column}`) ? `${q.alias}.${column}` : column);
  const field = q.spec.fields[q.page.sort]!;
  const where = q.where.sql();
  const dir = q.page.order === 'asc' ? 'ASC' : 'DESC';
  const w = q.with ? q.with.sql + ' ' : '';
  const wv = q.with ? q.with.values : [];
  const cw = q.countWith ?? q.with;
  const count = () => (prepared(db, `${cw ? cw.sql + ' ' : ''}SELECT COUNT(*) AS n FROM ${q.from}${where}`).get(...(cw ? cw.values : []), ...q.where.values) as { n: number }).n;
  const order = [`${qualify(field.column)} ${dir}`, ...q.spec.tiebreak.map((t) => `${qualify(t.column)} ASC`)].join(', ');
  // Sorted by a window's sums (a materialized CTE: every row's sums are computed anyway), one statement gives the page
  // and the total (COUNT(*) OVER ()), so they are computed once; only a page past the end needs the count alone.
  if (q.countWith && q.with && q.page.limit > 0) {
    const rows = prepared(db, `${w}SELECT ${q.select}, COUNT(*) OVER () AS __total FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...wv, ...q.where.values, q.page.limit, q.page.offset) as Record<string, unknown>[];
    const total = rows.length > 0 ? (rows[0]!['__total'] as number) : count();
    return { items: rows.map((r) => { delete r['__total']; return map(r); }), total };
  }
  // Otherwise a window's CTE is inlined (not materialized): the count only asks whether each entity was active (one
  // lookup), and a page in an index's order stops at its last row (src/store/sqlite/history.ts, windowCtes).
  const total = count();
  // Skip the row query when nothing can come back (limit=0 asks for the total only, or paging past the end).
  if (q.page.limit === 0 || q.page.offset >= total) return { items: [], total };
  let sql: string;
  // A windowed list reads CTEs, which have no rowid: the plain form.
  if (q.with || q.select.includes(` AS ${field.column}`) || /\bjoin\b/i.test(q.from)) {
    sql = `${w}SELECT ${q.select} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
  } else {
    // Pick the page's rowids first, then compute the select list for those rows only. SQLite evaluates the select
    // list of every row it sorts; with a correlated percentage that was 1.2 s for 20,000 templates by first_seen,
    // 16 ms this way.
    const rowid = q.alias ? `${q.alias}.rowid` : 'rowid';
    sql = `SELECT ${q.select} FROM ${q.from} WHERE ${rowid} IN (SELECT ${rowid} FROM ${q.from}${where} ORDER BY ${order} LIMIT ? OFFSET ?) ORDER BY ${order}`;
  }
  const rows = prepared(db, sql).all(...wv, ...q.where.values, q.page.limit, q.page.offset) as Record<string, unknown>[];
  return { items: rows.map(map), total };
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
