/**
 * SQLite's history SQL: window sums over the history_minute|hour|day tables
 * and the CTEs that shadow the entity tables with their windowed versions,
 * so every list query runs unchanged over a window (the CTE named like the
 * table wins over it; inside a CTE the real table is `main.<table>`).
 */
import type Database from 'better-sqlite3';
import { windowRanges, type HistoryFilter, type HistorySum, type SeriesPoint, type SeriesQuery, type Window, seriesLevel } from '../history.js';
import { HISTORY_KINDS } from '../../writer/state.js';
import { prepared } from './statements.js';

export interface Sql {
  sql: string;
  values: unknown[];
}

/** UNION ALL of the level tables' rows of one kind in the window's ranges (service/name/sub optional filters). */
function rangesSql(f: HistoryFilter, w: Window): Sql {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const r of windowRanges(w)) {
    let cond = 'kind = ? AND bucket >= ? AND bucket < ?';
    values.push(f.kind, r.from, r.to);
    if (f.service !== undefined) {
      cond += ' AND service = ?';
      values.push(f.service);
    }
    if (f.name !== undefined) {
      cond += ' AND name = ?';
      values.push(f.name);
    }
    if (f.sub !== undefined) {
      cond += ' AND sub = ?';
      values.push(f.sub);
    }
    parts.push(`SELECT service, name, sub, count, bytes FROM main.history_${r.level} WHERE ${cond}`);
  }
  // An empty window: a query that yields no rows, with the same columns.
  if (parts.length === 0) return { sql: `SELECT '' AS service, '' AS name, '' AS sub, 0 AS count, 0 AS bytes WHERE 0`, values };
  return { sql: parts.join(' UNION ALL '), values };
}

/** Per-entity sums of one kind over a window. */
export function sumsSql(f: HistoryFilter, w: Window): Sql {
  const r = rangesSql(f, w);
  return { sql: `SELECT service, name, sub, SUM(count) AS count, SUM(bytes) AS bytes FROM (${r.sql}) GROUP BY service, name, sub`, values: r.values };
}

export function historySums(db: Database.Database, f: HistoryFilter, w: Window): HistorySum[] {
  const q = sumsSql(f, w);
  return prepared(db, q.sql).all(...q.values) as HistorySum[];
}

/** Non-empty buckets of `step` ms in [from, to) (the API fills the gaps with zeros). */
export function series(db: Database.Database, q: SeriesQuery): SeriesPoint[] {
  const { level } = seriesLevel(q.step);
  const params: Record<string, unknown> = { kind: q.kind, from: q.from, to: q.to, step: q.step };
  let cond = 'kind = @kind AND bucket >= @from AND bucket < @to';
  for (const [col, v] of [['service', q.service], ['name', q.name], ['sub', q.sub]] as const) {
    if (v === undefined) continue;
    cond += ` AND ${col} = @${col}`;
    params[col] = v;
  }
  // Integer division: bucket, from and step are whole ms.
  const sql = `SELECT @from + ((bucket - @from) / @step) * @step AS t, SUM(count) AS count, SUM(bytes) AS bytes
    FROM main.history_${level} WHERE ${cond} GROUP BY t ORDER BY t`;
  return prepared(db, sql).all(params) as SeriesPoint[];
}

/**
 * The WITH clause of a windowed list: `services` (always: the denominators of
 * bytes_percentage) and the listed table, both as their window sums.
 */
export function windowCtes(table: WindowedTable, w: Window, service: string | undefined): Sql {
  const svc = servicesCte(w, service);
  const parts = [svc.sql];
  const values = [...svc.values];
  if (table !== 'services') {
    const t = TABLE_CTE[table](w, service);
    parts.push(t.sql);
    values.push(...t.values);
  }
  return { sql: 'WITH ' + parts.join(', '), values };
}

export type WindowedTable = 'services' | 'logs_metadata' | 'body_templates' | 'metrics_metadata' | 'spans_metadata' | 'key_metadata';

function servicesCte(w: Window, service: string | undefined): Sql {
  const l = sumsByService('log', w, service);
  const s = sumsByService('span', w, service);
  const m = sumsByService('metric', w, service);
  return {
    sql: `services AS MATERIALIZED (SELECT x.name, COALESCE(l.count, 0) AS log_records, COALESCE(s.count, 0) AS spans,
      COALESCE(m.count, 0) AS metric_points, COALESCE(l.bytes, 0) AS log_bytes, COALESCE(s.bytes, 0) AS span_bytes,
      COALESCE(m.bytes, 0) AS metric_bytes, x.first_seen, x.last_seen
      FROM main.services x LEFT JOIN (${l.sql}) l ON l.service = x.name LEFT JOIN (${s.sql}) s ON s.service = x.name
      LEFT JOIN (${m.sql}) m ON m.service = x.name
      WHERE l.service IS NOT NULL OR s.service IS NOT NULL OR m.service IS NOT NULL)`,
    values: [...l.values, ...s.values, ...m.values],
  };
}

function sumsByService(kind: 'log' | 'span' | 'metric', w: Window, service: string | undefined): Sql {
  const r = rangesSql({ kind, service }, w);
  return { sql: `SELECT service, SUM(count) AS count, SUM(bytes) AS bytes FROM (${r.sql}) GROUP BY service`, values: r.values };
}

type CteBuilder = (w: Window, service: string | undefined) => Sql;

function cte(name: string, kind: HistoryFilter['kind'], select: string, join: string): CteBuilder {
  return (w, service) => {
    const s = sumsSql({ kind, service }, w);
    return { sql: `${name} AS MATERIALIZED (SELECT ${select} FROM (${s.sql}) w JOIN main.${name} e ON ${join})`, values: s.values };
  };
}

const TABLE_CTE: Record<Exclude<WindowedTable, 'services'>, CteBuilder> = {
  logs_metadata: cte(
    'logs_metadata',
    'log',
    `e.service, e.severity, e.attribute_keys, e.resource_keys, e.body_keys, w.count AS sample_count, w.bytes AS bytes, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.severity = w.name',
  ),
  body_templates: cte(
    'body_templates',
    'template',
    `e.service, e.severity, e.template_id, e.template, w.count AS count, w.bytes AS bytes, e.example, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.severity = w.name AND e.template_id = CAST(w.sub AS INTEGER)',
  ),
  metrics_metadata: cte(
    'metrics_metadata',
    'metric',
    `e.service, e.name, e.type, e.unit, e.description, e.monotonic, e.temporality, e.label_keys, e.resource_keys,
     w.count AS sample_count, w.bytes AS bytes, e.overflow_points, e.bucket_count, e.series_estimate, e.prometheus_series, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.name = w.name',
  ),
  spans_metadata: cte(
    'spans_metadata',
    'span',
    `e.service, e.name, e.kind, e.attribute_keys, e.resource_keys, e.event_names, w.count AS sample_count, w.bytes AS bytes,
     e.status_unset, e.status_ok, e.status_error, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.name = w.name AND e.kind = CAST(w.sub AS INTEGER)',
  ),
  key_metadata: cte(
    'key_metadata',
    'key',
    `e.service, e.scope, e.key, w.count AS sample_count, w.bytes AS bytes, e.cardinality_estimate, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.scope = w.name AND e.key = w.sub',
  ),
};

/** Drops whole buckets older than the cutoffs, oldest first, within a time budget; returns the rows dropped. */
export function retain(db: Database.Database, cutoffs: Record<'minute' | 'hour' | 'day', number>, budgetMs: number): number {
  const started = performance.now();
  let dropped = 0;
  for (const level of ['minute', 'hour', 'day'] as const) {
    const cutoff = cutoffs[level];
    // Per kind, so both statements walk the (kind, bucket) index.
    const oldest = prepared(db, `SELECT MIN(bucket) AS b FROM history_${level} WHERE kind = ?`);
    const drop = prepared(db, `DELETE FROM history_${level} WHERE kind = ? AND bucket = ?`);
    for (const kind of HISTORY_KINDS) {
      for (;;) {
        const b = (oldest.get(kind) as { b: number | null }).b;
        if (b === null || b >= cutoff) break;
        // One whole bucket per statement: short transactions between the writer's commits.
        dropped += drop.run(kind, b).changes;
        if (performance.now() - started > budgetMs) return dropped;
      }
    }
  }
  return dropped;
}

