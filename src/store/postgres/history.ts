/**
 * PostgreSQL's history SQL, as SQLite's (src/store/sqlite/history.ts): window
 * sums over history_minute|hour|day, and CTEs named like the entity tables
 * that shadow them with their windowed versions (inside a CTE the real table
 * is `public.<table>`), so every list query runs unchanged over a window.
 * Fragments use `?`; `numbered()` turns a whole statement's into $1, $2, …
 */
import { HISTORY_KINDS } from '../../writer/state.js';
import { retentionCutoffs, seriesLevel, windowRanges, type HistoryFilter, type HistorySum, type Retention, type SeriesPoint, type SeriesQuery, type Window } from '../history.js';
import type { Pool, PoolClient } from './connection.js';

export interface Sql {
  sql: string;
  values: unknown[];
}

/** `?` placeholders in order of appearance → $1, $2, … (no fragment of ours has a literal `?`). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function rangesSql(f: HistoryFilter, w: Window): Sql {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const r of windowRanges(w)) {
    let cond = 'kind = ? AND bucket >= ? AND bucket < ?';
    values.push(f.kind, r.from, r.to);
    for (const [col, v] of [['service', f.service], ['name', f.name], ['sub', f.sub]] as const) {
      if (v === undefined) continue;
      cond += ` AND ${col} = ?`;
      values.push(v);
    }
    parts.push(`SELECT service, name, sub, count, bytes FROM public.history_${r.level} WHERE ${cond}`);
  }
  if (parts.length === 0) return { sql: `SELECT ''::text AS service, ''::text AS name, ''::text AS sub, 0::bigint AS count, 0::bigint AS bytes WHERE false`, values };
  return { sql: parts.join(' UNION ALL '), values };
}

export function sumsSql(f: HistoryFilter, w: Window): Sql {
  const r = rangesSql(f, w);
  return { sql: `SELECT service, name, sub, SUM(count)::bigint AS count, SUM(bytes)::bigint AS bytes FROM (${r.sql}) h GROUP BY service, name, sub`, values: r.values };
}

export async function historySums(c: PoolClient, f: HistoryFilter, w: Window): Promise<HistorySum[]> {
  const q = sumsSql(f, w);
  return (await c.query(numbered(q.sql), q.values)).rows as HistorySum[];
}

export async function series(c: PoolClient, q: SeriesQuery): Promise<SeriesPoint[]> {
  const { level } = seriesLevel(q.step);
  const values: unknown[] = [q.from, q.step, q.kind, q.to];
  let cond = 'kind = $3 AND bucket >= $1 AND bucket < $4';
  for (const [col, v] of [['service', q.service], ['name', q.name], ['sub', q.sub]] as const) {
    if (v === undefined) continue;
    values.push(v);
    cond += ` AND ${col} = $${values.length}`;
  }
  // Integer division: bucket, from and step are whole ms.
  const sql = `SELECT $1::bigint + ((bucket - $1::bigint) / $2::bigint) * $2::bigint AS t, SUM(count)::bigint AS count, SUM(bytes)::bigint AS bytes
    FROM public.history_${level} WHERE ${cond} GROUP BY 1 ORDER BY 1`;
  return (await c.query(sql, values)).rows as SeriesPoint[];
}

export type WindowedTable = 'services' | 'logs_metadata' | 'body_templates' | 'metrics_metadata' | 'spans_metadata' | 'key_metadata';

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

function sumsByService(kind: 'log' | 'span' | 'metric', w: Window, service: string | undefined): Sql {
  const r = rangesSql({ kind, service }, w);
  return { sql: `SELECT service, SUM(count)::bigint AS count, SUM(bytes)::bigint AS bytes FROM (${r.sql}) h GROUP BY service`, values: r.values };
}

function servicesCte(w: Window, service: string | undefined): Sql {
  const l = sumsByService('log', w, service);
  const s = sumsByService('span', w, service);
  const m = sumsByService('metric', w, service);
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

type CteBuilder = (w: Window, service: string | undefined) => Sql;

function cte(name: string, kind: HistoryFilter['kind'], select: string, join: string): CteBuilder {
  return (w, service) => {
    const s = sumsSql({ kind, service }, w);
    return { sql: `${name} AS MATERIALIZED (SELECT ${select} FROM (${s.sql}) w JOIN public.${name} e ON ${join})`, values: s.values };
  };
}

// Text sub values compare as text (a template's or kind's number as written by the writer), never cast.
const TABLE_CTE: Record<Exclude<WindowedTable, 'services'>, CteBuilder> = {
  logs_metadata: cte('logs_metadata', 'log',
    `e.service, e.severity, e.attribute_keys, e.resource_keys, e.body_keys, w.count AS sample_count, w.bytes AS bytes, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.severity = w.name'),
  body_templates: cte('body_templates', 'template',
    `e.service, e.severity, e.template_hash, e.template_id, e.template, w.count AS count, w.bytes AS bytes, e.example, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.severity = w.name AND e.template_id::text = w.sub'),
  metrics_metadata: cte('metrics_metadata', 'metric',
    `e.service, e.name, e.type, e.unit, e.description, e.monotonic, e.temporality, e.label_keys, e.resource_keys,
     w.count AS sample_count, w.bytes AS bytes, e.overflow_points, e.bucket_count, e.series_estimate, e.prometheus_series, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.name = w.name'),
  spans_metadata: cte('spans_metadata', 'span',
    `e.service, e.name, e.kind, e.attribute_keys, e.resource_keys, e.event_names, w.count AS sample_count, w.bytes AS bytes,
     e.status_unset, e.status_ok, e.status_error, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.name = w.name AND e.kind::text = w.sub'),
  key_metadata: cte('key_metadata', 'key',
    `e.service, e.scope, e.key, w.count AS sample_count, w.bytes AS bytes, e.cardinality_estimate, e.first_seen, e.last_seen`,
    'e.service = w.service AND e.scope = w.name AND e.key = w.sub'),
};

/** Drops whole buckets older than the cutoffs, oldest first, within a time budget; returns the rows dropped. */
export async function retain(pool: Pool, now: number, retention: Retention, budgetMs: number): Promise<number> {
  const cutoffs = retentionCutoffs(now, retention);
  const started = performance.now();
  let dropped = 0;
  for (const level of ['minute', 'hour', 'day'] as const) {
    for (const kind of HISTORY_KINDS) {
      for (;;) {
        const b = (await pool.query(`SELECT MIN(bucket) AS b FROM history_${level} WHERE kind = $1`, [kind])).rows[0]?.b as number | null;
        if (b === null || b === undefined || b >= cutoffs[level]) break;
        dropped += (await pool.query(`DELETE FROM history_${level} WHERE kind = $1 AND bucket = $2`, [kind, b])).rowCount ?? 0;
        if (performance.now() - started > budgetMs) return dropped;
      }
    }
  }
  return dropped;
}
