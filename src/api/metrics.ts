/** GET /api/v1/metrics and /api/v1/metrics/{name}: metric shapes, series estimates, and which label explodes them. */
import type Database from 'better-sqlite3';
import type { MetricType } from '../model/otlp.js';
import { notFound } from './errors.js';
import { bytesShare, keys, parsePage, runList, Where, type ListResult, type Page, type SortSpec } from './list.js';
import { LIST_PARAMS, Params } from './params.js';
import { prepared } from './statements.js';

export const METRIC_TYPES: readonly MetricType[] = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];

/** AggregationTemporality by number (OTLP enum), exposed by name so clients need not know the proto. */
const TEMPORALITY = ['unspecified', 'delta', 'cumulative'];

export const METRIC_SORT: SortSpec = {
  fields: {
    service: { sql: 'service', text: true },
    name: { sql: 'name', text: true },
    type: { sql: 'type', text: true },
    unit: { sql: 'unit', text: true },
    sample_count: { sql: 'sample_count' },
    bytes: { sql: 'bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
    overflow_points: { sql: 'overflow_points' },
    series_estimate: { sql: 'series_estimate' },
    prometheus_series: { sql: 'prometheus_series' },
    bucket_count: { sql: 'bucket_count' },
    first_seen: { sql: 'first_seen' },
    last_seen: { sql: 'last_seen' },
  },
  defaultSort: 'sample_count',
  tiebreak: 'service ASC, name ASC',
};

export interface MetricItem {
  service: string;
  name: string;
  type: string;
  unit: string;
  description: string;
  monotonic: boolean;
  temporality: string;
  label_keys: string[];
  resource_keys: string[];
  sample_count: number;
  /** Protobuf bytes of these data points, and their share (0-100) of the service's metric bytes. */
  bytes: number;
  bytes_percentage: number;
  /** The SDK hit its cardinality limit: points carried `otel.metric.overflow=true` (their count below). */
  sdk_overflow: boolean;
  overflow_points: number;
  bucket_count: number;
  series_estimate: number;
  prometheus_series: number;
  first_seen: number;
  last_seen: number;
}

export interface MetricFilter {
  service?: string | undefined;
  q?: string | undefined;
  type?: MetricType | undefined;
  minCardinality?: number | undefined;
  /** Exact metric name (the detail route). */
  name?: string | undefined;
}

// Named columns, not *, so the sketch BLOBs never leave SQLite.
const COLUMNS = `service, name, type, unit, description, monotonic, temporality, label_keys, resource_keys,
  sample_count, bytes, overflow_points, bucket_count, series_estimate, prometheus_series, first_seen, last_seen,
  ${bytesShare('bytes', 'metric_bytes', 'metrics_metadata.service')} AS bytes_percentage`;

function toItem(r: Record<string, unknown>): MetricItem {
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

export function queryMetrics(db: Database.Database, f: MetricFilter, page: Page): ListResult<MetricItem> {
  const where = new Where()
    .add('service = ?', f.service)
    .add('name = ?', f.name)
    .contains('name', f.q)
    .add('type = ?', f.type)
    .add('series_estimate >= ?', f.minCardinality);
  return runList(db, { select: COLUMNS, from: 'metrics_metadata', where, spec: METRIC_SORT, page }, toItem);
}

export function listMetrics(db: Database.Database, query: string): ListResult<MetricItem> {
  const p = new Params(query, ['service', 'q', 'type', 'min_cardinality', ...LIST_PARAMS]);
  const filter: MetricFilter = {
    service: p.string('service'),
    q: p.string('q'),
    type: p.oneOf('type', METRIC_TYPES),
    minCardinality: p.int('min_cardinality', undefined, 0, Number.MAX_SAFE_INTEGER),
  };
  return queryMetrics(db, filter, parsePage(p, METRIC_SORT));
}

export interface LabelItem {
  key: string;
  sample_count: number;
  /** Protobuf bytes of this label's KeyValues, and their share (0-100) of the service's metric bytes. */
  bytes: number;
  bytes_percentage: number;
  cardinality_estimate: number;
  first_seen: number;
  last_seen: number;
}

/** A metric's label keys, highest cardinality first: the answer to "which label explodes this metric". */
function labelsOf(db: Database.Database, service: string, metric: string): LabelItem[] {
  const sql = `SELECT key, sample_count, bytes, ${bytesShare('bytes', 'metric_bytes', 'metric_label_keys.service')} AS bytes_percentage,
    cardinality_estimate, first_seen, last_seen FROM metric_label_keys
    WHERE service = ? AND metric = ? ORDER BY cardinality_estimate DESC, key ASC`;
  return prepared(db, sql).all(service, metric) as LabelItem[];
}

/**
 * One metric name may be sent by several services, so the detail is a list
 * (one item per service) like every other answer; 404 when no service has it.
 */
export function metricDetail(db: Database.Database, name: string, query: string): ListResult<MetricItem & { labels: LabelItem[] }> {
  const p = new Params(query, ['service', ...LIST_PARAMS]);
  const filter: MetricFilter = { service: p.string('service'), name };
  const result = queryMetrics(db, filter, parsePage(p, METRIC_SORT));
  if (result.total === 0) {
    throw notFound(filter.service ? `no metric '${name}' for service '${filter.service}'` : `no metric '${name}'`);
  }
  return { items: result.items.map((m) => ({ ...m, labels: labelsOf(db, m.service, m.name) })), total: result.total };
}
