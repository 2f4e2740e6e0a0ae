/** GET /api/v1/services and /api/v1/services/{name}/overview. */
import type Database from 'better-sqlite3';
import { notFound } from './errors.js';
import { queryKeys, type KeyItem } from './keys.js';
import { parsePage, runList, Where, type ListResult, type SortSpec } from './list.js';
import { queryTemplates, type TemplateItem } from './logs.js';
import { queryMetrics, type MetricItem } from './metrics.js';
import { LIST_PARAMS, Params } from './params.js';
import { prepared } from './statements.js';

const SERVICE_SORT: SortSpec = {
  fields: {
    name: { sql: 'name', text: true },
    log_records: { sql: 'log_records' },
    spans: { sql: 'spans' },
    metric_points: { sql: 'metric_points' },
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
  first_seen: number;
  last_seen: number;
}

const SERVICE_COLUMNS = 'name, log_records, spans, metric_points, first_seen, last_seen';

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
    logs: { records: number; severities: number; templates: number };
    metrics: { points: number; metrics: number; series_estimate: number; prometheus_series: number };
    traces: { spans: number; span_names: number };
    keys: { keys: number };
  };
  top_templates: TemplateItem[];
  top_keys: KeyItem[];
  top_metrics: MetricItem[];
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
      logs: { records: svc.log_records, severities: t['severities']!, templates: t['templates']! },
      metrics: {
        points: svc.metric_points,
        metrics: t['metrics']!,
        series_estimate: t['series_estimate']!,
        prometheus_series: t['prometheus_series']!,
      },
      traces: { spans: svc.spans, span_names: t['span_names']! },
      keys: { keys: t['keys']! },
    },
    top_templates: queryTemplates(db, { service: name }, page('count')).items,
    top_keys: queryKeys(db, { service: name }, page('cardinality_estimate')).items,
    // Ranked as `keytally report` ranks them: by what Prometheus would store.
    top_metrics: queryMetrics(db, { service: name }, page('prometheus_series')).items,
  };
}
