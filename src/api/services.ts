/** GET /api/v1/services and /api/v1/services/{name}/overview. */
import type Database from 'better-sqlite3';
import { notFound } from './errors.js';
import { queryKeys, type KeyItem } from './keys.js';
import { parsePage, runList, Where, type ListResult, type SortSpec } from './list.js';
import { queryTemplates, type TemplateItem } from './logs.js';
import { queryMetrics, type MetricItem } from './metrics.js';
import { LIST_PARAMS, Params } from './params.js';
import { querySpans, type SpanItem } from './spans.js';
import { prepared } from './statements.js';

const SERVICE_SORT: SortSpec = {
  fields: {
    name: { sql: 'name', text: true },
    log_records: { sql: 'log_records' },
    spans: { sql: 'spans' },
    metric_points: { sql: 'metric_points' },
    bytes: { sql: 'bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
    log_bytes: { sql: 'log_bytes' },
    span_bytes: { sql: 'span_bytes' },
    metric_bytes: { sql: 'metric_bytes' },
    first_seen: { sql: 'first_seen' },
    last_seen: { sql: 'last_seen' },
  },
  // Services are few and looked up by name; the per-signal sorts are one click away.
  defaultSort: 'name',
  tiebreak: 'name ASC',
};

export interface ServiceItem {
  name: string;
  log_records: number;
  spans: number;
  metric_points: number;
  /** Protobuf bytes per signal, their sum, and the sum's share (0-100) of all services' bytes. */
  log_bytes: number;
  span_bytes: number;
  metric_bytes: number;
  bytes: number;
  bytes_percentage: number;
  first_seen: number;
  last_seen: number;
}

const SERVICE_COLUMNS = `name, log_records, spans, metric_points, log_bytes, span_bytes, metric_bytes,
  log_bytes + span_bytes + metric_bytes AS bytes,
  COALESCE(100.0 * (log_bytes + span_bytes + metric_bytes) /
    NULLIF((SELECT SUM(a.log_bytes + a.span_bytes + a.metric_bytes) FROM services a), 0), 0) AS bytes_percentage,
  first_seen, last_seen`;

export function listServices(db: Database.Database, query: string): ListResult<ServiceItem> {
  const p = new Params(query, ['q', ...LIST_PARAMS]);
  const where = new Where().contains('name', p.string('q'));
  const page = parsePage(p, SERVICE_SORT);
  return runList(db, { select: SERVICE_COLUMNS, from: 'services', where, spec: SERVICE_SORT, page }, (r) => r as unknown as ServiceItem);
}

export const DEFAULT_TOP = 10;
const MAX_TOP = 1000;

export interface ServiceOverview extends ServiceItem {
  totals: {
    logs: { records: number; bytes: number; severities: number; templates: number };
    metrics: { points: number; bytes: number; metrics: number; series_estimate: number; prometheus_series: number };
    traces: { spans: number; bytes: number; span_names: number };
    keys: { keys: number };
  };
  top_templates: TemplateItem[];
  top_keys: KeyItem[];
  top_metrics: MetricItem[];
  top_spans: SpanItem[];
}

// One statement for the entity counts: each scalar subquery walks a primary-key prefix.
const TOTALS_SQL = `SELECT
  (SELECT COUNT(*) FROM logs_metadata WHERE service = @service) AS severities,
  (SELECT COUNT(*) FROM body_templates WHERE service = @service) AS templates,
  (SELECT COUNT(*) FROM metrics_metadata WHERE service = @service) AS metrics,
  (SELECT COALESCE(SUM(series_estimate), 0) FROM metrics_metadata WHERE service = @service) AS series_estimate,
  (SELECT COALESCE(SUM(prometheus_series), 0) FROM metrics_metadata WHERE service = @service) AS prometheus_series,
  (SELECT COUNT(*) FROM spans_metadata WHERE service = @service) AS span_names,
  (SELECT COUNT(*) FROM key_metadata WHERE service = @service) AS keys`;

/** `top` (default 10) bounds each of the three top lists. */
export function serviceOverview(db: Database.Database, name: string, query: string): ServiceOverview {
  const p = new Params(query, ['top']);
  const top = p.int('top', DEFAULT_TOP, 0, MAX_TOP);
  const svc = prepared(db, `SELECT ${SERVICE_COLUMNS} FROM services WHERE name = ?`).get(name) as ServiceItem | undefined;
  if (!svc) throw notFound(`no service '${name}'`);
  const t = prepared(db, TOTALS_SQL).get({ service: name }) as Record<string, number>;
  const page = (sort: string) => ({ limit: top, offset: 0, sort, order: 'desc' as const });
  return {
    ...svc,
    totals: {
      logs: { records: svc.log_records, bytes: svc.log_bytes, severities: t['severities']!, templates: t['templates']! },
      metrics: {
        points: svc.metric_points,
        bytes: svc.metric_bytes,
        metrics: t['metrics']!,
        series_estimate: t['series_estimate']!,
        prometheus_series: t['prometheus_series']!,
      },
      traces: { spans: svc.spans, bytes: svc.span_bytes, span_names: t['span_names']! },
      keys: { keys: t['keys']! },
    },
    // Ranked by what they cost (bytes); keys by cardinality, the question asked of keys first.
    top_templates: queryTemplates(db, { service: name }, page('bytes')).items,
    top_keys: queryKeys(db, { service: name }, page('cardinality_estimate')).items,
    top_metrics: queryMetrics(db, { service: name }, page('bytes')).items,
    top_spans: querySpans(db, { service: name }, page('bytes')).items,
  };
}
