/**
 * Rows of the SQL backends (column names, as both schemas spell them) as dump
 * items (deltas). One mapping for SQLite and PostgreSQL; the memory store maps
 * its records the same way.
 */
import type { KeyScope } from '../model/delta.js';
import type { MetricType } from '../model/otlp.js';
import type { HistoryKind } from '../writer/state.js';
import { Hll } from '../sketch/hll.js';
import type { DumpItem } from './dump.js';

type Row = Record<string, any>;

export interface RowShape {
  /** A key list column as stored (SQLite: JSON text; PostgreSQL: a jsonb array already parsed). */
  keys(v: unknown): string[];
}

const sketch = (v: unknown): Uint8Array => (v instanceof Uint8Array ? new Uint8Array(v) : new Hll().serialize());

/** The SELECT of each table, in an order that makes an import rebuild the same thing (templates by id). */
export const DUMP_SELECTS: Array<[DumpItem['t'], string]> = [
  ['services', 'SELECT * FROM services ORDER BY name'],
  ['metrics', 'SELECT * FROM metrics_metadata ORDER BY service, name'],
  ['labels', 'SELECT * FROM metric_label_keys ORDER BY service, metric, key'],
  ['spans', 'SELECT * FROM spans_metadata ORDER BY service, name, kind'],
  ['logs', 'SELECT * FROM logs_metadata ORDER BY service, severity'],
  ['keys', 'SELECT * FROM key_metadata ORDER BY service, scope, key'],
  ['templates', 'SELECT * FROM body_templates ORDER BY template_id, service, severity'],
  ['versions', 'SELECT * FROM service_versions ORDER BY service, version'],
  // Each running-total row's bucket count: the next row's totals minus its own (the sentinel's LEAD is NULL).
  ['history', `SELECT e.kind, e.service, e.name, e.sub, h.bucket, h.count, h.bytes FROM (
     SELECT id, bucket, LEAD(count) OVER w - count AS count, LEAD(bytes) OVER w - bytes AS bytes FROM history WINDOW w AS (PARTITION BY id ORDER BY bucket)
   ) h JOIN history_entity e ON e.id = h.id WHERE h.count IS NOT NULL AND (h.count <> 0 OR h.bytes <> 0)
   ORDER BY h.bucket, e.kind, e.service, e.name, e.sub`],
  ['estimates', 'SELECT * FROM metric_series_estimates ORDER BY service, metric, kind, label, level, bucket'],
];

export function rowToItem(t: DumpItem['t'], r: Row, shape: RowShape): DumpItem {
  const seen = { firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen) };
  switch (t) {
    case 'services':
      return { t, d: { name: r.name, logRecords: r.log_records, spans: r.spans, metricPoints: r.metric_points, logBytes: r.log_bytes, spanBytes: r.span_bytes, metricBytes: r.metric_bytes, ...seen } };
    case 'metrics':
      return {
        t,
        d: {
          service: r.service, name: r.name, type: r.type as MetricType, unit: r.unit, description: r.description, monotonic: r.monotonic === true || r.monotonic === 1,
          temporality: r.temporality, labelKeys: shape.keys(r.label_keys), resourceKeys: shape.keys(r.resource_keys), points: r.sample_count, bytes: r.bytes,
          overflowPoints: r.overflow_points, buckets: r.bucket_count, series: sketch(r.series_sketch), ...seen,
        },
      };
    case 'labels':
      return { t, d: { service: r.service, metric: r.metric, key: r.key, samples: r.sample_count, bytes: r.bytes, sketch: sketch(r.sketch), ...seen } };
    case 'spans':
      return {
        t,
        d: {
          service: r.service, name: r.name, kind: r.kind, attributeKeys: shape.keys(r.attribute_keys), resourceKeys: shape.keys(r.resource_keys),
          eventNames: shape.keys(r.event_names), count: r.sample_count, bytes: r.bytes, statusUnset: r.status_unset, statusOk: r.status_ok, statusError: r.status_error, ...seen,
        },
      };
    case 'logs':
      return {
        t,
        d: {
          service: r.service, severity: r.severity, attributeKeys: shape.keys(r.attribute_keys), resourceKeys: shape.keys(r.resource_keys),
          bodyKeys: shape.keys(r.body_keys), count: r.sample_count, bytes: r.bytes, ...seen,
        },
      };
    case 'keys':
      return { t, d: { service: r.service, scope: r.scope as KeyScope, key: r.key, samples: r.sample_count, bytes: r.bytes, sketch: sketch(r.sketch), ...seen } };
    case 'templates':
      return { t, d: { service: r.service, severity: r.severity, template: r.template, id: r.template_id, count: r.count, bytes: r.bytes, example: r.example, ...seen } };
    case 'versions':
      return { t, d: { service: r.service, version: r.version, records: r.records, bytes: r.bytes, ...seen } };
    case 'estimates':
      return { t, d: { level: r.level, kind: r.kind, service: r.service, metric: r.metric, label: r.label, bucket: Number(r.bucket), estimate: Number(r.estimate) } };
    case 'history':
      return { t, d: { minute: Number(r.bucket), kind: r.kind as HistoryKind, service: r.service, name: r.name, sub: r.sub, count: r.count, bytes: r.bytes } };
  }
}
