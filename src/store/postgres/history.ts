/**
 * PostgreSQL's history SQL, as SQLite's (src/store/sqlite/history.ts): window
 * sums over the running totals, series, and CTEs named like the entity tables
 * that shadow them with their windowed versions (inside a CTE the real table
 * is `public.<table>`), so every list query runs unchanged over a window.
 * Fragments use `?`; `numbered()` turns a whole statement's into $1, $2, …
 */
import { MARK_KEYS, addSeries, marksFrom, resolveWindow, type CumRow, type HistoryFilter, type HistoryMarks, type HistorySum, type SeriesPoint, type SeriesQuery, type Window } from '../history.js';
import type { PoolClient } from './connection.js';

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
export async function historyMarks(c: PoolClient): Promise<HistoryMarks> {
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

export async function historySums(c: PoolClient, f: HistoryFilter, w: Window): Promise<HistorySum[]> {
  const q = sumsSql(f, w, await historyMarks(c));
  return (await c.query(numbered(q.sql), q.values)).rows as HistorySum[];
}

/** The hash a template's history is kept under, from its id (what the API knows it by). */
export async function templateSub(c: PoolClient, service: string | undefined, severity: string | undefined, id: string): Promise<string> {
  const r = await c.query(`SELECT template_hash FROM body_templates WHERE service = $1 AND severity = $2 AND template_id::text = $3 ORDER BY template_hash LIMIT 1`,
    [service ?? '', severity ?? '', id]);
  return (r.rows[0]?.template_hash as string | undefined) ?? `#${id}`;
}

/** Non-empty steps of `step` ms in [from, to): each entity's rows in the window and the one after, differenced. */
export async function series(c: PoolClient, q0: SeriesQuery): Promise<SeriesPoint[]> {
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

export type WindowedTable = 'services' | 'logs_metadata' | 'body_templates' | 'metrics_metadata' | 'spans_metadata' | 'key_metadata';

export function windowCtes(table: WindowedTable, w: Window, service: string | undefined, marks: HistoryMarks): Sql {
  const svc = servicesCte(w, service, marks);
  const parts = [svc.sql];
  const values = [...svc.values];
  if (table !== 'services') {
    const t = TABLE_CTE[table](w, service, marks);
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

type CteBuilder = (w: Window, service: string | undefined, marks: HistoryMarks) => Sql;

function cte(name: string, kind: HistoryFilter['kind'], select: string, join: string): CteBuilder {
  return (w, service, marks) => {
    const s = sumsSql({ kind, service }, w, marks);
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
    // A template's history is keyed by the hash of its text, as its row (src/store/postgres/write.ts).
    'e.service = w.service AND e.severity = w.name AND e.template_hash = w.sub'),
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
