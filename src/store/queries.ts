/**
 * The read side's questions and answers, shared by every backend and the API.
 *
 * A route parses its query string into one of the query objects below and asks
 * the store; the store answers with items in the API's own (snake_case) shape.
 * How a question becomes SQL, or a walk over Maps, is the backend's business.
 *
 * Sorting is part of the contract, so it lives here too: each list names its
 * sortable fields (by column name, which every backend keeps under the same
 * name), whether they are text (ascending by default, compared by code point as
 * SQLite's BINARY collation does) and the primary key used to break ties, so that
 * paging is stable and every backend returns the same order.
 */
import type { KeyScope } from '../model/delta.js';
import type { MetricType } from '../model/otlp.js';
import type { Window } from './history.js';

/**
 * Every list query may carry a window: its counts and bytes (and their
 * percentages) are then sums over the history buckets in [from, to), only
 * entities active in the window are listed, and first_seen/last_seen stay the
 * exact all-time values. `firstSeenFrom` keeps entities first seen at or after it.
 */
export interface Windowed {
  window?: Window | undefined;
  firstSeenFrom?: number | undefined;
}

export type Order = 'asc' | 'desc';

export interface Page {
  limit: number;
  offset: number;
  /** A field of the list's SortSpec (checked by the API before it asks). */
  sort: string;
  order: Order;
  /**
   * false: the caller reads only the items (/changes' lists of what is new), so a store may leave the total
   * uncounted and answer -1 (PostgreSQL: a count is a statement of its own, ~5 ms over 100,000 new keys; SQLite on
   * the path that takes the page from the kept edge totals, where the count was most of the call).
   */
  count?: boolean | undefined;
}

export interface ListResult<T> {
  items: T[];
  total: number;
}

export interface SortField {
  /** The column (same name in every backend). */
  column: string;
  /** Text fields default to ascending, numbers to descending (biggest first is what people look for). */
  text?: boolean;
}

export interface SortSpec {
  fields: Record<string, SortField>;
  /** Used when the request has no `sort`. */
  defaultSort: string;
  /** Primary-key columns, ascending, appended so paging is stable when the sort field ties. */
  tiebreak: Array<{ column: string; text?: boolean }>;
}

const text = (column: string): SortField => ({ column, text: true });
const num = (column: string): SortField => ({ column });

// ---------------------------------------------------------------- services

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

export interface ServiceQuery extends Windowed {
  q?: string | undefined;
  /** Exact name (the overview). */
  name?: string | undefined;
  page: Page;
}

export const SERVICE_SORT: SortSpec = {
  fields: {
    name: text('name'),
    log_records: num('log_records'),
    spans: num('spans'),
    metric_points: num('metric_points'),
    log_bytes: num('log_bytes'),
    span_bytes: num('span_bytes'),
    metric_bytes: num('metric_bytes'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  // Services are few and looked up by name; the per-signal sorts are one click away.
  defaultSort: 'name',
  tiebreak: [text('name')],
};

/** Entity counts of one service, for its overview. */
export interface ServiceTotals {
  severities: number;
  templates: number;
  metrics: number;
  series_estimate: number;
  prometheus_series: number;
  span_names: number;
  keys: number;
}

// ---------------------------------------------------------------- metrics

export const METRIC_TYPES: readonly MetricType[] = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];

/** AggregationTemporality by number (OTLP enum), exposed by name so clients need not know the proto. */
export const TEMPORALITY = ['unspecified', 'delta', 'cumulative'];

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
  /** The SDK hit its cardinality limit: points carried `otel.metric.overflow=true` (counted in overflow_points). */
  sdk_overflow: boolean;
  overflow_points: number;
  bucket_count: number;
  series_estimate: number;
  prometheus_series: number;
  first_seen: number;
  last_seen: number;
}

export interface MetricQuery extends Windowed {
  service?: string | undefined;
  q?: string | undefined;
  type?: MetricType | undefined;
  minCardinality?: number | undefined;
  /** Exact metric name (the detail route). */
  name?: string | undefined;
  page: Page;
}

export const METRIC_SORT: SortSpec = {
  fields: {
    service: text('service'),
    name: text('name'),
    type: text('type'),
    unit: text('unit'),
    sample_count: num('sample_count'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    overflow_points: num('overflow_points'),
    series_estimate: num('series_estimate'),
    prometheus_series: num('prometheus_series'),
    bucket_count: num('bucket_count'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  defaultSort: 'sample_count',
  tiebreak: [text('service'), text('name')],
};

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

// ---------------------------------------------------------------- spans

/** SpanKind by its OTLP number. */
export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];

export interface SpanItem {
  service: string;
  name: string;
  kind: SpanKindName;
  attribute_keys: string[];
  resource_keys: string[];
  event_names: string[];
  sample_count: number;
  /** Protobuf bytes of these spans, and their share (0-100) of the service's span bytes. */
  bytes: number;
  bytes_percentage: number;
  status_ok: number;
  status_error: number;
  status_unset: number;
  first_seen: number;
  last_seen: number;
}

export interface SpanQuery extends Windowed {
  service?: string | undefined;
  q?: string | undefined;
  /** OTLP SpanKind number. */
  kind?: number | undefined;
  page: Page;
}

export const SPAN_SORT: SortSpec = {
  fields: {
    service: text('service'),
    name: text('name'),
    // By the OTLP number, not the name.
    kind: num('kind'),
    sample_count: num('sample_count'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    status_ok: num('status_ok'),
    status_error: num('status_error'),
    status_unset: num('status_unset'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  defaultSort: 'sample_count',
  tiebreak: [text('service'), text('name'), num('kind')],
};

// ---------------------------------------------------------------- logs

export interface LogItem {
  service: string;
  severity: string;
  attribute_keys: string[];
  resource_keys: string[];
  body_keys: string[];
  sample_count: number;
  /** Protobuf bytes of these records, and their share (0-100) of the service's log bytes. */
  bytes: number;
  bytes_percentage: number;
  first_seen: number;
  last_seen: number;
}

export interface LogQuery extends Windowed {
  service?: string | undefined;
  severity?: string | undefined;
  page: Page;
}

/** A severity the logs carry (/api/v1/logs/severities): its all-time records, over every service or one. */
export interface SeverityItem {
  severity: string;
  sample_count: number;
}

export const LOG_SORT: SortSpec = {
  fields: {
    service: text('service'),
    severity: text('severity'),
    sample_count: num('sample_count'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  defaultSort: 'sample_count',
  tiebreak: [text('service'), text('severity')],
};

export interface TemplateItem {
  service: string;
  severity: string;
  template_id: number;
  template: string;
  count: number;
  /** 0-100 of the (service, severity) total, whatever `q` filters out. */
  percentage: number;
  /** Protobuf bytes of this template's records, and their share (0-100) of the service's log bytes. */
  bytes: number;
  bytes_percentage: number;
  example: string;
  first_seen: number;
  last_seen: number;
}

export interface TemplateQuery extends Windowed {
  service?: string | undefined;
  severity?: string | undefined;
  /** Exact template id (with service and severity: one template). */
  templateId?: number | undefined;
  q?: string | undefined;
  page: Page;
}

export const TEMPLATE_SORT: SortSpec = {
  fields: {
    service: text('service'),
    severity: text('severity'),
    template: text('template'),
    count: num('count'),
    percentage: num('percentage'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  defaultSort: 'count',
  tiebreak: [text('service'), text('severity'), num('template_id')],
};

// ---------------------------------------------------------------- keys

export interface KeyItem {
  service: string;
  scope: KeyScope;
  key: string;
  sample_count: number;
  /** Protobuf bytes of this key's KeyValues, and their share (0-100) of the service's bytes of the key's signal (resource: all). */
  bytes: number;
  bytes_percentage: number;
  cardinality_estimate: number;
  first_seen: number;
  last_seen: number;
}

export interface KeyQuery extends Windowed {
  service?: string | undefined;
  scope?: KeyScope | undefined;
  q?: string | undefined;
  minCardinality?: number | undefined;
  page: Page;
}

export const KEY_SORT: SortSpec = {
  fields: {
    service: text('service'),
    scope: text('scope'),
    key: text('key'),
    sample_count: num('sample_count'),
    bytes: num('bytes'),
    bytes_percentage: num('bytes_percentage'),
    cardinality_estimate: num('cardinality_estimate'),
    first_seen: num('first_seen'),
    last_seen: num('last_seen'),
  },
  // The question this route answers first is "which key explodes", so highest cardinality leads.
  defaultSort: 'cardinality_estimate',
  tiebreak: [text('service'), text('scope'), text('key')],
};

// ---------------------------------------------------------------- bytes

/** Which of a service's signal byte totals a key's bytes are a share of: resource keys ride on every signal. */
export function keySignalBytes(scope: KeyScope, s: { log_bytes: number; span_bytes: number; metric_bytes: number }): number {
  switch (scope) {
    case 'log':
      return s.log_bytes;
    case 'metric':
      return s.metric_bytes;
    case 'resource':
      return s.log_bytes + s.span_bytes + s.metric_bytes;
    default:
      return s.span_bytes;
  }
}

/** 0-100 share; 0 when the whole is 0. */
export function share(part: number, whole: number): number {
  return whole === 0 ? 0 : (100.0 * part) / whole;
}

// ---------------------------------------------------------------- helpers for backends that answer in code

/** ASCII-only lower-casing: the `q` filters match case-insensitively as SQLite's LIKE does without ICU. */
export function foldAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

/** Compares by Unicode code point, as SQLite's BINARY collation (memcmp of UTF-8) and PostgreSQL's COLLATE "C" do. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point above U+FFFF) sorts after every BMP unit, which UTF-16 order gets wrong for U+E000-U+FFFF.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
