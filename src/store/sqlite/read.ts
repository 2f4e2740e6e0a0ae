/**
 * The SQLite store's read side: the API's questions as SQL on a read-only
 * connection of its own (WAL lets it read while the writer commits).
 */
import type Database from 'better-sqlite3';
import type { KeyScope } from '../../model/delta.js';
import {
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
  type ServiceItem,
  type ServiceQuery,
  type ServiceTotals,
  type SpanItem,
  type SpanQuery,
  type TemplateItem,
  type TemplateQuery,
  type Windowed,
} from '../queries.js';
import { StoreNotReady, type ReadStore, type StoreQueries } from '../store.js';
import type { DumpSource } from '../dump.js';
import { DUMP_SELECTS, rowToItem } from '../dump-rows.js';
import { bytesShare, keys, runList, Where, type ListQuery } from './list.js';
import { KIND_TABLES } from './history-last.js';
import { WINDOW_TABLES } from '../window-tables.js';
import { historyMarks, series, windowCtes, windowIsOpen, type CteMode, type Sql, type WindowedTable } from './history.js';
import { resolveWindow, type ChangeLists, type ChangesQuery, type SeriesPoint, type SeriesQuery, type VersionItem } from '../history.js';
import { openReadOnly, openReadOnlyFile, type SqliteTuning } from './connection.js';
import { prepared } from './statements.js';
import { SqliteChanges } from './changes.js';
import { seriesEstimates } from './series-estimates.js';
import type { SeriesEstimateQuery, SeriesEstimateRaw } from '../series-estimates.js';

/** The StoreQueries of one connection. Synchronous underneath; async to fit the interface. */
export class SqliteQueries implements StoreQueries {
  /** /changes keeps the totals at older edges between questions (src/store/sqlite/changes.ts). */
  private readonly changes: SqliteChanges;

  constructor(readonly db: Database.Database) {
    this.changes = new SqliteChanges(db);
  }

  async services(q: ServiceQuery): Promise<ListResult<ServiceItem>> {
    const where = new Where().add('name = ?', q.name).contains('name', q.q).add('first_seen >= ?', q.firstSeenFrom);
    return runList(this.db, { ...win(this.db, 'services', q, q.name), select: SERVICE_COLUMNS, from: 'services', where, spec: SERVICE_SORT, page: q.page }, (r) => r as unknown as ServiceItem);
  }

  async serviceTotals(service: string): Promise<ServiceTotals> {
    return prepared(this.db, TOTALS_SQL).get({ service }) as ServiceTotals;
  }

  async metrics(q: MetricQuery): Promise<ListResult<MetricItem>> {
    const where = new Where()
      .add('service = ?', q.service)
      .add('name = ?', q.name)
      .contains('name', q.q)
      .add('type = ?', q.type)
      .add('series_estimate >= ?', q.minCardinality)
      .add('first_seen >= ?', q.firstSeenFrom);
    return runList(this.db, { ...win(this.db, 'metrics_metadata', q, q.service, none(q.name, q.q, q.type, q.minCardinality) ? this.changes : undefined), select: METRIC_COLUMNS, from: 'metrics_metadata', where, spec: METRIC_SORT, page: q.page }, metricItem);
  }

  async metricLabels(service: string, metric: string): Promise<LabelItem[]> {
    const sql = `SELECT key, sample_count, bytes, ${bytesShare('bytes', 'metric_bytes', 'metric_label_keys.service')} AS bytes_percentage,
      cardinality_estimate, first_seen, last_seen FROM metric_label_keys
      WHERE service = ? AND metric = ? ORDER BY cardinality_estimate DESC, key ASC`;
    return prepared(this.db, sql).all(service, metric) as LabelItem[];
  }

  async spans(q: SpanQuery): Promise<ListResult<SpanItem>> {
    const where = new Where().add('service = ?', q.service).contains('name', q.q).add('kind = ?', q.kind).add('first_seen >= ?', q.firstSeenFrom);
    const select = `service, name, kind, attribute_keys, resource_keys, event_names, sample_count, bytes,
      ${bytesShare('bytes', 'span_bytes', 'spans_metadata.service')} AS bytes_percentage,
      status_ok, status_error, status_unset, first_seen, last_seen`;
    return runList(this.db, { ...win(this.db, 'spans_metadata', q, q.service, none(q.q, q.kind) ? this.changes : undefined), select, from: 'spans_metadata', where, spec: SPAN_SORT, page: q.page }, spanItem);
  }

  async logs(q: LogQuery): Promise<ListResult<LogItem>> {
    const where = new Where().add('service = ?', q.service).add('severity = ? COLLATE NOCASE', q.severity).add('first_seen >= ?', q.firstSeenFrom);
    const select = `service, severity, attribute_keys, resource_keys, body_keys, sample_count, bytes,
      ${bytesShare('bytes', 'log_bytes', 'logs_metadata.service')} AS bytes_percentage, first_seen, last_seen`;
    return runList(this.db, { ...win(this.db, 'logs_metadata', q, q.service, none(q.severity) ? this.changes : undefined), select, from: 'logs_metadata', where, spec: LOG_SORT, page: q.page }, (r) => ({
      service: r['service'] as string,
      severity: r['severity'] as string,
      attribute_keys: keys(r['attribute_keys']),
      resource_keys: keys(r['resource_keys']),
      body_keys: keys(r['body_keys']),
      sample_count: r['sample_count'] as number,
      bytes: r['bytes'] as number,
      bytes_percentage: r['bytes_percentage'] as number,
      first_seen: r['first_seen'] as number,
      last_seen: r['last_seen'] as number,
    }));
  }

  async severities(service: string | undefined): Promise<SeverityItem[]> {
    // The primary key (service, severity) gives one service's at once; all services', one pass over a few rows each.
    const where = service === undefined ? '' : 'WHERE service = ?';
    return prepared(this.db, `SELECT severity, SUM(sample_count) AS sample_count FROM logs_metadata ${where} GROUP BY severity ORDER BY severity`)
      .all(...(service === undefined ? [] : [service])) as SeverityItem[];
  }

  async templates(q: TemplateQuery): Promise<ListResult<TemplateItem>> {
    const where = new Where()
      .add('b.service = ?', q.service)
      .add('b.severity = ? COLLATE NOCASE', q.severity)
      .add('b.template_id = ?', q.templateId)
      .contains('b.template', q.q)
      .add('b.first_seen >= ?', q.firstSeenFrom);
    // Sorted by a share, every row's percentage is computed: one grouped pass for the denominators (20,000
    // templates: 10 ms) instead of a correlated sum per row (1.2 s). In a window the CTE shadows body_templates.
    // In a window the denominators are the window's (service, severity) sums (the `severities` CTE, see windowCtes).
    const byShare = q.page.sort === 'percentage' || q.page.sort === 'bytes_percentage';
    const from = q.window ? TEMPLATE_FROM_WINDOW : byShare ? TEMPLATE_FROM_SHARES : 'body_templates b';
    const select = q.window ? TEMPLATE_SELECT_WINDOW : byShare ? TEMPLATE_SELECT_SHARES : TEMPLATE_SELECT;
    return runList(this.db, { ...win(this.db, 'body_templates', q, q.service, none(q.severity, q.templateId, q.q) ? this.changes : undefined), select, from, alias: 'b', where, spec: TEMPLATE_SORT, page: q.page }, (r) => ({
      service: r['service'] as string,
      severity: r['severity'] as string,
      template_id: r['template_id'] as number,
      template: r['template'] as string,
      count: r['count'] as number,
      percentage: r['percentage'] as number,
      bytes: r['bytes'] as number,
      bytes_percentage: r['bytes_percentage'] as number,
      example: r['example'] as string,
      first_seen: r['first_seen'] as number,
      last_seen: r['last_seen'] as number,
    }));
  }

  async keys(q: KeyQuery): Promise<ListResult<KeyItem>> {
    const where = new Where()
      .add('service = ?', q.service)
      .add('scope = ?', q.scope)
      .contains('key', q.q)
      .add('cardinality_estimate >= ?', q.minCardinality)
      .add('first_seen >= ?', q.firstSeenFrom);
    const select = `service, scope, key, sample_count, bytes,
      COALESCE(100.0 * bytes / NULLIF((SELECT ${KEY_SIGNAL_BYTES} FROM services s WHERE s.name = key_metadata.service), 0), 0) AS bytes_percentage,
      cardinality_estimate, first_seen, last_seen`;
    return runList(this.db, { ...win(this.db, 'key_metadata', q, q.service, none(q.scope, q.q, q.minCardinality) ? this.changes : undefined), select, from: 'key_metadata', where, spec: KEY_SORT, page: q.page }, (r) => ({ ...r, scope: r['scope'] as KeyScope }) as unknown as KeyItem);
  }

  async historyChanges(q: ChangesQuery): Promise<ChangeLists> {
    return this.changes.changes(q);
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    return series(this.db, q);
  }

  async seriesEstimates(q: SeriesEstimateQuery): Promise<SeriesEstimateRaw> {
    return seriesEstimates(this.db, q);
  }

  async versions(service: string): Promise<VersionItem[]> {
    return prepared(this.db, `SELECT service, version, records, bytes, first_seen, last_seen FROM service_versions
      WHERE service = ? ORDER BY first_seen ASC, version ASC`).all(service) as VersionItem[];
  }
}

/**
 * The CTEs of a windowed list (none without a window). `changes` given (the list has no filter but the service and
 * first_seen):
 * a sort by the window's count or bytes may take its page's candidates from the totals /changes keeps at the
 * window's edges (ListQuery.topRows).
 */
function win(
  db: Database.Database, table: WindowedTable, q: Windowed & { page: { sort: string } }, service: string | undefined, changes?: SqliteChanges,
): { with?: Sql; countWith?: Sql; rowsWith?: Sql; bySums?: boolean; topRows?: ListQuery['topRows'] } {
  if (!q.window) return {};
  const marks = historyMarks(db);
  const bySums = WINDOW_SORTS.has(q.page.sort);
  const open = windowIsOpen(db, table, q.window, marks);
  const cte = (mode: CteMode) => windowCtes(table, q.window!, service, marks, mode, open);
  const lazy = cte('lazy');
  let topRows: ListQuery['topRows'];
  if (changes && table !== 'services' && EDGE_SORTS.has(q.page.sort)) {
    const kind = WINDOW_TABLES[table].kind;
    const r = resolveWindow(q.window, marks);
    const seen = q.firstSeenFrom;
    topRows = (column, need) => {
      const ids = changes.topCandidates(kind, r, column === 'bytes' ? 'bytes' : 'count', service, need);
      if (!ids) return undefined;
      const rowOf = KIND_TABLES[kind].rowOf('e', 'h');
      const rows = prepared(db, `SELECT json_group_array(e.rowid) AS rids, COALESCE(SUM(e.first_seen < ?), 0) AS old FROM (SELECT value AS id FROM json_each(?)) c
        JOIN main.history_entity h ON h.id = c.id JOIN main.${table} e ON e.service = h.service AND ${rowOf}`).get(seen ?? null, JSON.stringify(ids)) as { rids: string; old: number };
      // What is new (/changes' lists): the candidates are the page's of every row, so they are its page only if
      // every one is new (a row left out ranks below them, or ties after them); else the rows are summed.
      if (rows.old > 0) return undefined;
      return JSON.parse(rows.rids) as number[];
    };
  }
  return { with: bySums ? cte('materialized') : lazy, countWith: cte('count'), rowsWith: lazy, bySums, topRows };
}

/** Sorts by a window's count or bytes themselves (not a share): their candidates can come from the kept edges. */
const EDGE_SORTS = new Set(['count', 'sample_count', 'bytes']);

/** No filter given. */
const none = (...filters: unknown[]) => filters.every((f) => f === undefined);

/** Sort fields whose values a window replaces: sorting by them needs every row's sums (see windowCtes). */
const WINDOW_SORTS = new Set(['count', 'sample_count', 'bytes', 'percentage', 'bytes_percentage']);

// One statement for the entity counts: each scalar subquery walks a primary-key prefix.
const TOTALS_SQL = `SELECT
  (SELECT COUNT(*) FROM logs_metadata WHERE service = @service) AS severities,
  (SELECT COUNT(*) FROM body_templates WHERE service = @service) AS templates,
  (SELECT COUNT(*) FROM metrics_metadata WHERE service = @service) AS metrics,
  (SELECT COALESCE(SUM(series_estimate), 0) FROM metrics_metadata WHERE service = @service) AS series_estimate,
  (SELECT COALESCE(SUM(prometheus_series), 0) FROM metrics_metadata WHERE service = @service) AS prometheus_series,
  (SELECT COUNT(*) FROM spans_metadata WHERE service = @service) AS span_names,
  (SELECT COUNT(*) FROM key_metadata WHERE service = @service) AS keys`;

const SERVICE_COLUMNS = `name, log_records, spans, metric_points, log_bytes, span_bytes, metric_bytes,
  log_bytes + span_bytes + metric_bytes AS bytes,
  COALESCE(100.0 * (log_bytes + span_bytes + metric_bytes) /
    NULLIF((SELECT SUM(a.log_bytes + a.span_bytes + a.metric_bytes) FROM services a), 0), 0) AS bytes_percentage,
  first_seen, last_seen`;

/* The signal a key's bytes are a share of (as keySignalBytes in queries.ts): resource keys ride on all three. */
const KEY_SIGNAL_BYTES = `CASE scope WHEN 'log' THEN log_bytes WHEN 'metric' THEN metric_bytes
  WHEN 'resource' THEN log_bytes + span_bytes + metric_bytes ELSE span_bytes END`;

// Named columns, not *, so the sketch BLOBs never leave SQLite.
const METRIC_COLUMNS = `service, name, type, unit, description, monotonic, temporality, label_keys, resource_keys,
  sample_count, bytes, overflow_points, bucket_count, series_estimate, prometheus_series, first_seen, last_seen,
  ${bytesShare('bytes', 'metric_bytes', 'metrics_metadata.service')} AS bytes_percentage`;

function metricItem(r: Record<string, unknown>): MetricItem {
  return {
    service: r['service'] as string,
    name: r['name'] as string,
    type: r['type'] as string,
    unit: r['unit'] as string,
    description: r['description'] as string,
    monotonic: r['monotonic'] === 1,
    temporality: TEMPORALITY[r['temporality'] as number] ?? 'unspecified',
    label_keys: keys(r['label_keys']),
    resource_keys: keys(r['resource_keys']),
    sample_count: r['sample_count'] as number,
    bytes: r['bytes'] as number,
    bytes_percentage: r['bytes_percentage'] as number,
    sdk_overflow: (r['overflow_points'] as number) > 0,
    overflow_points: r['overflow_points'] as number,
    bucket_count: r['bucket_count'] as number,
    series_estimate: r['series_estimate'] as number,
    prometheus_series: r['prometheus_series'] as number,
    first_seen: r['first_seen'] as number,
    last_seen: r['last_seen'] as number,
  };
}

function spanItem(r: Record<string, unknown>): SpanItem {
  return {
    service: r['service'] as string,
    name: r['name'] as string,
    kind: SPAN_KINDS[r['kind'] as number] ?? 'unspecified',
    attribute_keys: keys(r['attribute_keys']),
    resource_keys: keys(r['resource_keys']),
    event_names: keys(r['event_names']),
    sample_count: r['sample_count'] as number,
    bytes: r['bytes'] as number,
    bytes_percentage: r['bytes_percentage'] as number,
    status_ok: r['status_ok'] as number,
    status_error: r['status_error'] as number,
    status_unset: r['status_unset'] as number,
    first_seen: r['first_seen'] as number,
    last_seen: r['last_seen'] as number,
  };
}

/*
 * The percentage's denominator is the whole (service, severity), not the rows
 * left after `q`: a template is "40% of this service's ERROR logs" whatever the
 * search box says. A correlated sum rather than a window function for that
 * reason (a window only sees the filtered rows); the (service, severity, count)
 * index covers it, and SQLite evaluates it only for the rows returned unless
 * the sort is by percentage.
 */
const TEMPLATE_SELECT = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0 * b.count / NULLIF((SELECT SUM(t.count) FROM body_templates t
    WHERE t.service = b.service AND t.severity = b.severity), 0), 0) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

const TEMPLATE_FROM_SHARES = `body_templates b JOIN (SELECT service, severity, SUM(count) AS total FROM body_templates GROUP BY service, severity) s
  ON s.service = b.service AND s.severity = b.severity`;
const TEMPLATE_SELECT_SHARES = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0 * b.count / NULLIF(s.total, 0), 0) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

// A template's share in a window: of its (service, severity)'s window sum, one lookup in `severities` (SQLite indexes
// the CTE for it). A LEFT JOIN to it was scanned once per row: 20,000 templates by bytes, 106 ms against 60.
const TEMPLATE_FROM_WINDOW = 'body_templates b';
const TEMPLATE_SELECT_WINDOW = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0 * b.count / NULLIF((SELECT s.count FROM severities s WHERE s.service = b.service AND s.name = b.severity), 0), 0) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

/**
 * A read-only connection opened on first use, not at start: the writer
 * creates and migrates the file concurrently, so at start-up it may not exist
 * yet (or be empty). Until it is there with its schema, read() throws
 * StoreNotReady and the next call tries again.
 */
export class SqliteReadStore implements ReadStore {
  readonly backend = 'sqlite' as const;
  private queries: SqliteQueries | undefined;
  /** Requests run one after another on the one connection: a snapshot is a transaction of that connection. */
  private queue: Promise<unknown> = Promise.resolve();

  /** `file` given: that database file (reports); otherwise the keytally.db of `dataDir`. */
  constructor(
    private readonly dataDir: string,
    private readonly tuning: SqliteTuning,
    private readonly file?: string,
  ) {}

  /** The connection, for tests and tools that need SQLite itself. */
  connection(): Database.Database {
    return this.open().db;
  }

  private open(): SqliteQueries {
    if (this.queries) return this.queries;
    let conn: Database.Database;
    try {
      conn = this.file ? openReadOnlyFile(this.file, this.tuning) : openReadOnly(this.dataDir, this.tuning);
    } catch {
      throw new StoreNotReady('store not ready yet');
    }
    try {
      // The last table the initial migration creates: present means the schema is complete.
      const ready = conn.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_metadata'`).get();
      if (!ready) throw new StoreNotReady('store not ready yet');
    } catch (err) {
      conn.close();
      throw err instanceof StoreNotReady ? err : new StoreNotReady('store not ready yet');
    }
    this.queries = new SqliteQueries(conn);
    return this.queries;
  }

  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    const run = async () => {
      const q = this.open();
      // One read transaction per request: a list's total and its items (and the
      // overview's several queries) come from the same snapshot even while the
      // writer commits between them.
      prepared(q.db, 'BEGIN').run();
      try {
        return await fn(q);
      } finally {
        if (q.db.inTransaction) prepared(q.db, 'COMMIT').run();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async ping(): Promise<void> {
    prepared(this.open().db, 'SELECT 1').get();
  }

  /** One read transaction over every table (WAL: the writer goes on meanwhile). */
  dumpSource(): DumpSource {
    return {
      salt: async () => {
        const r = this.open().db.prepare(`SELECT value FROM meta WHERE key = 'hash_salt'`).get() as { value: string } | undefined;
        return r ? BigInt(r.value) : undefined;
      },
      rows: () => {
        const db = this.open().db;
        return (async function* () {
          db.prepare('BEGIN').run();
          try {
            for (const [t, select] of DUMP_SELECTS) {
              for (const r of db.prepare(select).iterate() as Iterable<Record<string, unknown>>) yield rowToItem(t, r, { keys });
            }
          } finally {
            if (db.inTransaction) db.prepare('COMMIT').run();
          }
        })();
      },
    };
  }

  async close(): Promise<void> {
    this.queries?.db.close();
    this.queries = undefined;
  }
}
