/**
 * The PostgreSQL store's read side: the API's questions as SQL on a pool of
 * its own. Written to answer exactly as SQLite does: text sorts by code point
 * (the columns are COLLATE "C"), `q` folds ASCII letters only (as SQLite's
 * LIKE), percentages are float8 arithmetic (as SQLite's REAL), and each API
 * request reads one REPEATABLE READ snapshot.
 */
import type { KeyScope } from '../../model/delta.js';
import {
  foldAscii,
  KEY_SORT,
  LOG_SORT,
  METRIC_SORT,
  SERVICE_SORT,
  SPAN_KINDS,
  SPAN_SORT,
  TEMPLATE_SORT,
  TEMPORALITY,
  type KeyItem,
  type KeyQuery,
  type LabelItem,
  type ListResult,
  type LogItem,
  type LogQuery,
  type SeverityItem,
  type MetricItem,
  type MetricQuery,
  type Page,
  type ServiceItem,
  type ServiceQuery,
  type ServiceTotals,
  type SortSpec,
  type SpanItem,
  type SpanQuery,
  type TemplateItem,
  type TemplateQuery,
  type Windowed,
} from '../queries.js';
import { StoreNotReady, type ReadStore, type StoreQueries } from '../store.js';
import { type ChangeLists, type ChangesQuery, type SeriesPoint, type SeriesQuery, type VersionItem } from '../history.js';
import { numbered, series, windowCtes, windowIsOpen, type CteMode, type Sql, type WindowedTable } from './history.js';
import type { DumpSource } from '../dump.js';
import { DUMP_SELECTS, rowToItem } from '../dump-rows.js';
import { seriesEstimates } from './series-estimates.js';
import type { SeriesEstimateQuery, SeriesEstimateRaw } from '../series-estimates.js';
import { foldedAscii } from './text-search.js';
import { firstRead, topBySums } from '../top-by-sums.js';
import { checkout, isConnectionError, openPool, type Pool, type PoolClient } from './connection.js';
import { CostedConnection, type Querier } from './costs.js';
import { NEW_ROWS_CAP, PostgresChanges, rowOf, type ChangesQuestion } from './changes.js';
import { WINDOW_TABLES } from '../window-tables.js';
import { resolveWindow } from '../history.js';

/** Sorts by a window's count or bytes themselves (not a share): their candidates can come from the kept edges. */
const EDGE_SORTS = new Set(['count', 'sample_count', 'bytes']);

/** No filter given. */
const none = (...filters: unknown[]) => filters.every((f) => f === undefined);

/** Sort fields whose values a window replaces: sorting by them needs every active row's sums (history.ts, windowCtes). */
const WINDOW_SORTS = new Set(['count', 'sample_count', 'bytes', 'percentage', 'bytes_percentage']);

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** Conditions joined with AND; values are numbered parameters. */
class Where {
  private readonly conds: string[] = [];
  readonly values: unknown[] = [];

  /** `?` placeholders, numbered with the whole statement's (runList), since a window's CTE values come first. */
  add(fragment: (p: string) => string, value: unknown): this {
    if (value === undefined) return this;
    this.values.push(value);
    this.conds.push(fragment('?'));
    return this;
  }

  /** SQLite's `LIKE '%q%'` without ICU: a substring, ASCII letters case-insensitive, nothing else folded. */
  contains(column: string, q: string | undefined): this {
    if (q === undefined) return this;
    const pattern = `%${foldAscii(q).replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    return this.add((p) => `${foldedAscii(column)} LIKE ${p}`, pattern);
  }

  sql(): string {
    return this.conds.length ? ` WHERE ${this.conds.join(' AND ')}` : '';
  }
}

interface ListQuery {
  select: string;
  from: string;
  where: Where;
  spec: SortSpec;
  page: Page;
  alias?: string;
  /** Appended after the spec's tie-break, for keys wider than the API's (a template's hash). */
  extraTiebreak?: string;
  /** A history window's CTEs (src/store/postgres/history.ts), before the page's statement. */
  with?: Sql | undefined;
  /** The window's CTEs for the count: its rows without their sums (default `with`). */
  countWith?: Sql | undefined;
  /** `with` computes the sums of the rows a statement reads (not materialized): the page is picked by `rid` first. */
  lazy?: boolean | undefined;
  /** `with` is a window's sums for every row (the sort is by them); `rowsWith` computes them for the rows picked by `rid`. */
  bySums?: boolean | undefined;
  rowsWith?: Sql | undefined;
  /**
   * The rids (ctids) of the rows on the first `need` by the window's sums of `column` (descending, tie-break order),
   * from totals known without summing every row (src/store/postgres/changes.ts), or undefined (not known). Given only
   * when the list has no filter but the service and first_seen.
   */
  topRows?: ((column: string, need: number) => Promise<string[] | undefined>) | undefined;
  /** No row is first seen since the list's `first_seen` filter (ChangesQuestion.newRows): the page is empty. */
  none?: boolean | undefined;
}

/**
 * `db`'s views plan under the costs they name (costs.ts): the statements that read rows in an index's order or by
 * `rid` with random_page_cost 1.1 (`inMemory`), the counts and the plain statement with the connection's own.
 */
async function runList<T>(db: CostedConnection, q: ListQuery, map: (r: Record<string, any>) => T): Promise<ListResult<T>> {
  const c = db.default;
  const fast = db.inMemory;
  // The total, when asked, is the count of no rows.
  if (q.none) return { items: [], total: q.page.count === false ? -1 : 0 };
  // A select-list alias (`AS percentage`; not the start of `AS bytes_percentage` when the column is `bytes`) stays bare.
  const isAlias = (column: string) => new RegExp(` AS ${column}\\b`).test(q.select);
  const qualify = (column: string) => (q.alias && !isAlias(column) ? `${q.alias}.${column}` : column);
  const where = q.where.sql();
  const w = q.with ? q.with.sql + ' ' : '';
  const wv = q.with ? q.with.values : [];
  const cw = q.countWith ?? q.with;
  // A window's count reads its rows' history_last alone (the count CTE has no sums): 100,000 keys in a few ms.
  const count = async () => Number((await c.query(numbered(`${cw ? cw.sql + ' ' : ''}SELECT COUNT(*) AS n FROM ${q.from}${where}`), [...(cw ? cw.values : []), ...q.where.values])).rows[0].n);
  // Not asked for (page.count false: /changes' lists), the total is not counted: -1 (topBySums counts if it must).
  const total = q.page.count === false ? -1 : await count();
  if (q.page.limit === 0 || (total >= 0 && q.page.offset >= total)) return { items: [], total };
  const field = q.spec.fields[q.page.sort]!;
  const dir = q.page.order === 'asc' ? 'ASC' : 'DESC';
  const ties = q.spec.tiebreak.map((t) => `${qualify(t.column)} ASC`);
  if (q.extraTiebreak) ties.push(q.extraTiebreak);
  const sorted = `ORDER BY ${qualify(field.column)} ${dir}, ${ties.join(', ')}`;
  const order = `${sorted} LIMIT ? OFFSET ?`;
  if (q.lazy && q.with && cw && !isAlias(field.column)) {
    // A window's page in an entity column's order: the page's rows picked from the rows alone (no sums), then their
    // sums. In one statement the planner computes the sums below the LIMIT, so for every row an OFFSET skips too
    // (100,000 keys, offset 50,000 by name: 4.6 s; this way the skipped rows cost an index entry each).
    const rids = (await fast.query(numbered(`${cw.sql} SELECT ${qualify('rid')} AS rid FROM ${q.from}${where} ${order}`),
      [...cw.values, ...q.where.values, q.page.limit, q.page.offset])).rows.map((r) => r.rid as string);
    const rows = await ridPage(fast, `${w}SELECT ${q.select} FROM ${q.from} WHERE ${qualify('rid')} = ANY(?::tid[]) ${sorted}`, [...wv, rids], rids);
    return { items: rows.map(map), total };
  }
  if (q.bySums && q.rowsWith && cw && dir === 'DESC' && !isAlias(field.column)) {
    // The page's candidates from the totals kept at the window's edges: only their sums computed in SQL.
    const need = q.page.offset + q.page.limit;
    const rids = q.topRows ? await q.topRows(field.column, need) : undefined;
    if (rids && q.page.limit > 0) {
      const rows = await ridPage(fast, `${q.rowsWith!.sql} SELECT ${q.select} FROM ${q.from} WHERE ${qualify('rid')} = ANY(?::tid[]) ${order}`,
        [...q.rowsWith!.values, rids, q.page.limit, q.page.offset], rids);
      return { items: rows.map(map), total };
    }
    // The count, when topBySums needs it, planned with the default costs (`count` reads through `c`).
    const page = await postgresTopBySums(fast, q, sorted, ties.join(', '), field.column, qualify, total >= 0 ? total : count);
    if (page) return { items: page.map(map), total };
  }
  const sql = numbered(`${w}SELECT ${q.select} FROM ${q.from}${where} ${order}`);
  const rows = (await c.query(sql, [...wv, ...q.where.values, q.page.limit, q.page.offset])).rows as Array<Record<string, any>>;
  return { items: rows.map(map), total };
}

/**
 * The rows `rids` (ctids) by a statement over them (`values` end with the array): no rows, no statement (a steady
 * store's four lists of what is new have none; each of these statements, a window's CTEs, took ~1 ms to plan).
 */
async function ridPage(c: Querier, sql: string, values: unknown[], rids: readonly string[]): Promise<Array<Record<string, any>>> {
  if (rids.length === 0) return [];
  return (await c.query(numbered(sql), values)).rows as Array<Record<string, any>>;
}

/**
 * topBySums (src/store/top-by-sums.ts) over PostgreSQL: candidates from the count form (`countWith`: all-time
 * values), the page's sums through the lazy form (`rowsWith`), rows found again by `rid` (ctid: a TID scan).
 */
function postgresTopBySums(c: Querier, q: ListQuery, sorted: string, tiebreak: string, column: string, qualify: (c: string) => string, total: number | (() => Promise<number>)): Promise<Array<Record<string, any>> | undefined> {
  const cw = q.countWith!;
  const rw = q.rowsWith!;
  const where = q.where.sql();
  const and = where ? `${where} AND` : ' WHERE';
  const rid = qualify('rid');
  const bound = qualify(column);
  const read = async (sql: string, extra: unknown[]) => (await c.query(numbered(`${cw.sql} ${sql}`), [...cw.values, ...q.where.values, ...extra])).rows as Array<Record<string, any>>;
  const ids = (rows: Array<Record<string, any>>) => rows.map((r) => r.rid as string);
  return topBySums<string, Record<string, any>>({
    top: async (n) => (await read(`SELECT ${rid} AS rid, ${bound} AS bound FROM ${q.from}${where} ORDER BY ${bound} DESC LIMIT ?`, [n])) as Array<{ rid: string; bound: number }>,
    above: async (v, limit) => ids(await read(`SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} > ? LIMIT ?`, [v, limit])),
    at: async (v, limit, offset) => ids(await read(`SELECT ${rid} AS rid FROM ${q.from}${and} ${bound} = ? ORDER BY ${tiebreak} LIMIT ? OFFSET ?`, [v, limit, offset])),
    page: (rids, limit, offset) => ridPage(c, `${rw.sql} SELECT ${q.select} FROM ${q.from} WHERE ${rid} = ANY(?::tid[]) ${sorted} LIMIT ? OFFSET ?`, [...rw.values, rids, limit, offset], rids),
  }, column, q.page, total);
}

/** An item's share (0-100) of its service's bytes of one signal, in float8 (as SQLite's REAL). */
function bytesShare(bytes: string, serviceColumn: string, serviceRef: string): string {
  return `COALESCE(100.0::float8 * ${bytes} / NULLIF((SELECT ${serviceColumn} FROM services s WHERE s.name = ${serviceRef}), 0)::float8, 0::float8)`;
}

const SERVICE_COLUMNS = `name, log_records, spans, metric_points, log_bytes, span_bytes, metric_bytes,
  log_bytes + span_bytes + metric_bytes AS bytes,
  COALESCE(100.0::float8 * (log_bytes + span_bytes + metric_bytes) /
    NULLIF((SELECT SUM(a.log_bytes + a.span_bytes + a.metric_bytes) FROM services a), 0)::float8, 0::float8) AS bytes_percentage,
  first_seen, last_seen`;

/* The signal a key's bytes are a share of (as keySignalBytes in queries.ts): resource keys ride on all three. */
const KEY_SIGNAL_BYTES = `CASE scope WHEN 'log' THEN log_bytes WHEN 'metric' THEN metric_bytes
  WHEN 'resource' THEN log_bytes + span_bytes + metric_bytes ELSE span_bytes END`;

const METRIC_COLUMNS = `service, name, type, unit, description, monotonic, temporality, label_keys, resource_keys,
  sample_count, bytes, overflow_points, bucket_count, series_estimate, prometheus_series, first_seen, last_seen,
  ${bytesShare('bytes', 'metric_bytes', 'metrics_metadata.service')} AS bytes_percentage`;

/*
 * As in SQLite: the denominator is the whole (service, severity) whatever `q`
 * leaves; float8, not numeric, so the digits are the same as SQLite's REAL.
 */
const TEMPLATE_SELECT = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0::float8 * b.count / NULLIF((SELECT SUM(t.count) FROM body_templates t
    WHERE t.service = b.service AND t.severity = b.severity), 0)::float8, 0::float8) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

/** In a window the denominators are the window's (service, severity) sums: the `severities` CTE (history.ts, windowCtes). */
const TEMPLATE_SELECT_WINDOW = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0::float8 * b.count / NULLIF((SELECT s.count FROM severities s WHERE s.service = b.service AND s.name = b.severity), 0)::float8, 0::float8) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

/** The history's bucket counts as dump rows, templates under their ids (the store keys them by the hash of their text). */
const PG_HISTORY_DUMP = `SELECT e.kind, e.service, e.name,
    CASE WHEN e.kind = 'template' THEN COALESCE((SELECT b.template_id::text FROM body_templates b
      WHERE b.service = e.service AND b.severity = e.name AND b.template_hash = e.sub), e.sub) ELSE e.sub END AS sub, h.bucket, h.count, h.bytes FROM (
     SELECT id, bucket, LEAD(count) OVER w - count AS count, LEAD(bytes) OVER w - bytes AS bytes FROM history WINDOW w AS (PARTITION BY id ORDER BY bucket)
   ) h JOIN history_entity e ON e.id = h.id WHERE h.count IS NOT NULL AND (h.count <> 0 OR h.bytes <> 0)
   ORDER BY h.bucket, e.kind, e.service, e.name, 4`;

export class PostgresQueries implements StoreQueries {
  /** The question's connection, its statements planned under the costs each needs (costs.ts). */
  private readonly db: CostedConnection;
  /** Its statements planned with the connection's own costs. */
  private readonly c: Querier;
  /** The totals kept at the windows' edges, as this question's snapshot may use them (src/store/postgres/changes.ts). */
  private readonly changes: ChangesQuestion;

  constructor(client: PoolClient, kept: PostgresChanges = new PostgresChanges()) {
    this.db = new CostedConnection(client);
    this.c = this.db.default;
    this.changes = kept.question(this.db.default, this.db.any);
  }

  /**
   * The CTEs of a windowed list (none without a window): the page's (its sums computed for every active row when the
   * sort is by them, else for the page's rows only) and the count's. The marks, and each table's newest history_last
   * (whether the window is open), are read once per (repeatable-read) question, in the statement that reads its
   * snapshot (ChangesQuestion): one round trip, not one for the marks and one per list.
   */
  private async win(table: WindowedTable, q: Windowed & { page: { sort: string } }, service: string | undefined, plain = false): Promise<{ with?: Sql; countWith?: Sql; lazy?: boolean; bySums?: boolean; rowsWith?: Sql | undefined; topRows?: ListQuery['topRows']; none?: boolean }> {
    if (!q.window) return {};
    const seen = q.firstSeenFrom;
    const marks = await this.changes.marks(seen);
    // A list of what is new when nothing is (a steady store's /changes): no statement (six round trips for its four).
    const fresh = seen !== undefined && table !== 'services' ? await this.changes.newRows(table, seen) : undefined;
    if (fresh === 0) return { none: true };
    const open = table !== 'services' && windowIsOpen(await this.changes.newestLast(table), q.window, marks);
    const cte = (mode: CteMode) => windowCtes(table, q.window!, service, marks, mode, open);
    const bySums = WINDOW_SORTS.has(q.page.sort);
    // `services` is always one materialized CTE (a few rows, every one's sums): no page by rid.
    const lazy = table !== 'services' ? cte('lazy') : undefined;
    // No filter but the service (and first_seen), sorted by a window's count or bytes: the page's candidates may
    // come from the totals kept at the window's edges (src/store/postgres/changes.ts, topCandidates), as SQLite's.
    let topRows: ListQuery['topRows'];
    if (plain && table !== 'services' && EDGE_SORTS.has(q.page.sort)) {
      const kind = WINDOW_TABLES[table].kind;
      const r = resolveWindow(q.window, marks);
      topRows = async (column, need) => {
        // No more new rows than topBySums reads first: it takes them all in its first read and sums those (two
        // statements), where the kept totals' candidates cost one or two statements to find old among them first.
        if (fresh !== undefined && fresh < NEW_ROWS_CAP && fresh <= firstRead(need)) return undefined;
        const ids = await this.changes.topCandidates(kind, r, column === 'bytes' ? 'bytes' : 'count', service, need);
        if (!ids) return undefined;
        // What is new (/changes' lists): the candidates are the page's of every row, so they are its page only if
        // every one is new (a row left out ranks below them, or ties after them); else the rows are summed.
        if (ids.length === 0) return [];
        // Its plan (index lookups per candidate) is the same at either random_page_cost: it runs in whichever is set.
        const rows = await this.db.any.query(`SELECT json_agg(t.ctid::text) AS rids, COUNT(*) FILTER (WHERE t.first_seen < $2) AS old
          FROM unnest($1::bigint[]) AS u(id) JOIN history_entity d ON d.id = u.id JOIN public.${table} t ON ${rowOf(kind)}`, [ids, seen ?? null]);
        if (Number(rows.rows[0].old) > 0) return undefined;
        return (rows.rows[0].rids as string[] | null) ?? [];
      };
    }
    return { with: bySums || !lazy ? cte('materialized') : lazy, countWith: cte('count'), lazy: !bySums && lazy !== undefined, bySums, rowsWith: lazy, topRows };
  }

  async services(q: ServiceQuery): Promise<ListResult<ServiceItem>> {
    const where = new Where().add((p) => `name = ${p}`, q.name).contains('name', q.q).add((p) => `first_seen >= ${p}`, q.firstSeenFrom);
    return runList(this.db, { ...await this.win('services', q, q.name), select: SERVICE_COLUMNS, from: 'services', where, spec: SERVICE_SORT, page: q.page }, (r) => ({
      name: r.name, log_records: r.log_records, spans: r.spans, metric_points: r.metric_points,
      log_bytes: r.log_bytes, span_bytes: r.span_bytes, metric_bytes: r.metric_bytes, bytes: r.bytes, bytes_percentage: r.bytes_percentage,
      first_seen: r.first_seen, last_seen: r.last_seen,
    }));
  }

  async serviceTotals(service: string): Promise<ServiceTotals> {
    const r = await this.c.query(
      `SELECT
        (SELECT COUNT(*) FROM logs_metadata WHERE service = $1) AS severities,
        (SELECT COUNT(*) FROM body_templates WHERE service = $1) AS templates,
        (SELECT COUNT(*) FROM metrics_metadata WHERE service = $1) AS metrics,
        (SELECT COALESCE(SUM(series_estimate), 0)::bigint FROM metrics_metadata WHERE service = $1) AS series_estimate,
        (SELECT COALESCE(SUM(prometheus_series), 0)::bigint FROM metrics_metadata WHERE service = $1) AS prometheus_series,
        (SELECT COUNT(*) FROM spans_metadata WHERE service = $1) AS span_names,
        (SELECT COUNT(*) FROM key_metadata WHERE service = $1) AS keys`,
      [service],
    );
    return r.rows[0] as ServiceTotals;
  }

  async metrics(q: MetricQuery): Promise<ListResult<MetricItem>> {
    const where = new Where()
      .add((p) => `service = ${p}`, q.service)
      .add((p) => `name = ${p}`, q.name)
      .contains('name', q.q)
      .add((p) => `type = ${p}`, q.type)
      .add((p) => `series_estimate >= ${p}`, q.minCardinality)
      .add((p) => `first_seen >= ${p}`, q.firstSeenFrom);
    return runList(this.db, { ...await this.win('metrics_metadata', q, q.service, none(q.name, q.q, q.type, q.minCardinality)), select: METRIC_COLUMNS, from: 'metrics_metadata', where, spec: METRIC_SORT, page: q.page }, (r) => ({
      service: r.service,
      name: r.name,
      type: r.type,
      unit: r.unit,
      description: r.description,
      monotonic: r.monotonic,
      temporality: TEMPORALITY[r.temporality] ?? 'unspecified',
      label_keys: r.label_keys,
      resource_keys: r.resource_keys,
      sample_count: r.sample_count,
      bytes: r.bytes,
      bytes_percentage: r.bytes_percentage,
      sdk_overflow: r.overflow_points > 0,
      overflow_points: r.overflow_points,
      bucket_count: r.bucket_count,
      series_estimate: r.series_estimate,
      prometheus_series: r.prometheus_series,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
    }));
  }

  async metricLabels(service: string, metric: string): Promise<LabelItem[]> {
    const r = await this.c.query(
      `SELECT key, sample_count, bytes, ${bytesShare('bytes', 'metric_bytes', 'metric_label_keys.service')} AS bytes_percentage,
        cardinality_estimate, first_seen, last_seen FROM metric_label_keys
        WHERE service = $1 AND metric = $2 ORDER BY cardinality_estimate DESC, key ASC`,
      [service, metric],
    );
    return r.rows as LabelItem[];
  }

  async spans(q: SpanQuery): Promise<ListResult<SpanItem>> {
    const where = new Where().add((p) => `service = ${p}`, q.service).contains('name', q.q).add((p) => `kind = ${p}`, q.kind).add((p) => `first_seen >= ${p}`, q.firstSeenFrom);
    const select = `service, name, kind, attribute_keys, resource_keys, event_names, sample_count, bytes,
      ${bytesShare('bytes', 'span_bytes', 'spans_metadata.service')} AS bytes_percentage, status_ok, status_error, status_unset, first_seen, last_seen`;
    return runList(this.db, { ...await this.win('spans_metadata', q, q.service, none(q.q, q.kind)), select, from: 'spans_metadata', where, spec: SPAN_SORT, page: q.page }, (r) => ({
      service: r.service,
      name: r.name,
      kind: SPAN_KINDS[r.kind] ?? 'unspecified',
      attribute_keys: r.attribute_keys,
      resource_keys: r.resource_keys,
      event_names: r.event_names,
      sample_count: r.sample_count,
      bytes: r.bytes,
      bytes_percentage: r.bytes_percentage,
      status_ok: r.status_ok,
      status_error: r.status_error,
      status_unset: r.status_unset,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
    }));
  }

  async logs(q: LogQuery): Promise<ListResult<LogItem>> {
    // Severity compares case-insensitively (ASCII), as SQLite's COLLATE NOCASE.
    const where = new Where()
      .add((p) => `service = ${p}`, q.service)
      .add((p) => `translate(severity, '${UPPER}', '${LOWER}') = translate(${p}, '${UPPER}', '${LOWER}')`, q.severity)
      .add((p) => `first_seen >= ${p}`, q.firstSeenFrom);
    const select = `service, severity, attribute_keys, resource_keys, body_keys, sample_count, bytes,
      ${bytesShare('bytes', 'log_bytes', 'logs_metadata.service')} AS bytes_percentage, first_seen, last_seen`;
    return runList(this.db, { ...await this.win('logs_metadata', q, q.service, none(q.severity)), select, from: 'logs_metadata', where, spec: LOG_SORT, page: q.page }, (r) => ({
      service: r.service,
      severity: r.severity,
      attribute_keys: r.attribute_keys,
      resource_keys: r.resource_keys,
      body_keys: r.body_keys,
      sample_count: r.sample_count,
      bytes: r.bytes,
      bytes_percentage: r.bytes_percentage,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
    }));
  }

  async severities(service: string | undefined): Promise<SeverityItem[]> {
    // Code-point order, as the other stores: the "C" collation compares UTF-8 bytes.
    const where = service === undefined ? '' : 'WHERE service = $1';
    const r = await this.c.query(`SELECT severity, SUM(sample_count)::bigint AS sample_count FROM logs_metadata ${where} GROUP BY severity ORDER BY severity COLLATE "C"`,
      service === undefined ? [] : [service]);
    return r.rows as SeverityItem[];
  }

  async templates(q: TemplateQuery): Promise<ListResult<TemplateItem>> {
    const where = new Where()
      .add((p) => `b.service = ${p}`, q.service)
      .add((p) => `translate(b.severity, '${UPPER}', '${LOWER}') = translate(${p}, '${UPPER}', '${LOWER}')`, q.severity)
      .add((p) => `b.template_id = ${p}`, q.templateId)
      .contains('b.template', q.q)
      .add((p) => `b.first_seen >= ${p}`, q.firstSeenFrom);
    return runList(this.db, { ...await this.win('body_templates', q, q.service, none(q.severity, q.templateId, q.q)), select: q.window ? TEMPLATE_SELECT_WINDOW : TEMPLATE_SELECT,
      from: 'body_templates b', alias: 'b', where, spec: TEMPLATE_SORT, page: q.page, extraTiebreak: 'b.template_hash ASC' }, (r) => ({
      service: r.service,
      severity: r.severity,
      template_id: r.template_id,
      template: r.template,
      count: r.count,
      percentage: r.percentage,
      bytes: r.bytes,
      bytes_percentage: r.bytes_percentage,
      example: r.example,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
    }));
  }

  async keys(q: KeyQuery): Promise<ListResult<KeyItem>> {
    const where = new Where()
      .add((p) => `service = ${p}`, q.service)
      .add((p) => `scope = ${p}`, q.scope)
      .contains('key', q.q)
      .add((p) => `cardinality_estimate >= ${p}`, q.minCardinality)
      .add((p) => `first_seen >= ${p}`, q.firstSeenFrom);
    const select = `service, scope, key, sample_count, bytes,
      COALESCE(100.0::float8 * bytes / NULLIF((SELECT ${KEY_SIGNAL_BYTES} FROM services s WHERE s.name = key_metadata.service), 0)::float8, 0::float8) AS bytes_percentage,
      cardinality_estimate, first_seen, last_seen`;
    return runList(this.db, { ...await this.win('key_metadata', q, q.service, none(q.scope, q.q, q.minCardinality)), select, from: 'key_metadata', where, spec: KEY_SORT, page: q.page }, (r) => ({
      service: r.service, scope: r.scope as KeyScope, key: r.key, sample_count: r.sample_count, bytes: r.bytes, bytes_percentage: r.bytes_percentage,
      cardinality_estimate: r.cardinality_estimate,
      first_seen: r.first_seen, last_seen: r.last_seen,
    }));
  }

  historyChanges(q: ChangesQuery): Promise<ChangeLists> {
    return this.changes.changes(q);
  }

  series(q: SeriesQuery): Promise<SeriesPoint[]> {
    return series(this.c, q);
  }

  seriesEstimates(q: SeriesEstimateQuery): Promise<SeriesEstimateRaw> {
    return seriesEstimates(this.c, q);
  }

  async versions(service: string): Promise<VersionItem[]> {
    const r = await this.c.query(
      `SELECT service, version, records, bytes, first_seen, last_seen FROM service_versions WHERE service = $1 ORDER BY first_seen ASC, version ASC`,
      [service],
    );
    return r.rows as VersionItem[];
  }
}


export class PostgresReadStore implements ReadStore {
  readonly backend = 'postgres' as const;
  private readonly pool: Pool;
  /** /changes' and the windowed lists' totals at older edges, kept between questions for the whole process. */
  private readonly kept = new PostgresChanges();

  constructor(url: string, connections = 2) {
    // No JIT for the API's questions: a windowed list's plan costs past jit_above_cost (100,000) whenever it sums every
    // row, and compiling its ~150 expressions cost more than running them: a steady store's 20,000 templates by a
    // day's count, the statement 295–470 ms with JIT, 130–190 without (README, "Round 8"). Set per connection, so it
    // costs no round trip and holds whatever the server's default.
    this.pool = openPool(url, { max: connections, name: 'keytally-reader', options: '-c jit=off' });
  }

  async read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    try {
      return await this.readOnce(fn);
    } catch (err) {
      // The server is down or unreachable: the API answers 503 (retry later), not 500.
      if (isConnectionError(err)) throw new StoreNotReady(`store unavailable: ${(err as Error).message || (err as { code?: string }).code}`);
      throw err;
    }
  }

  private async readOnce<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    const client = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await fn(new PostgresQueries(client, this.kept));
      } finally {
        await client.query('COMMIT').catch((err: Error) => (broken = err));
      }
    } catch (err) {
      broken ??= err as Error;
      throw err;
    } finally {
      // Only a broken connection is destroyed; an SQL or API error leaves it fit for the next request.
      client.release(isConnectionError(broken) ? broken : undefined);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** One REPEATABLE READ snapshot over every table; the writers go on meanwhile. */
  dumpSource(): DumpSource {
    const pool = this.pool;
    return {
      salt: async () => {
        const r = await pool.query(`SELECT value FROM meta WHERE key = 'hash_salt'`);
        return r.rows[0] ? BigInt(r.rows[0].value as string) : undefined;
      },
      rows: () =>
        (async function* () {
          const client = await checkout(pool);
          try {
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            for (const [t, select] of DUMP_SELECTS.map(([t, sql]) => [t, t === 'history' ? PG_HISTORY_DUMP : sql] as const)) {
              for (const r of (await client.query(select)).rows as Array<Record<string, unknown>>) yield rowToItem(t, r, { keys: (v) => v as string[] });
            }
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        })(),
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
