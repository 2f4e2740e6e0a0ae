/**
 * The entity tables a history window shadows (src/store/sqlite/history.ts,
 * src/store/postgres/history.ts): each one's history kind (its join to
 * history_entity: the dialects' history-last.ts) and its select list, the
 * same in both dialects.
 */
import type { HistoryFilter } from './history.js';

export type WindowedTable = 'services' | 'logs_metadata' | 'body_templates' | 'metrics_metadata' | 'spans_metadata' | 'key_metadata';

export interface WindowTableSpec {
  kind: HistoryFilter['kind'];
  /** The select list over the row `e`, with {count} and {bytes} standing for the window's sums. */
  select: string;
  /** The table's all-time count column. */
  count: string;
}

export const WINDOW_TABLES: Record<Exclude<WindowedTable, 'services'>, WindowTableSpec> = {
  logs_metadata: {
    kind: 'log', count: 'e.sample_count',
    select: `e.service, e.severity, e.attribute_keys, e.resource_keys, e.body_keys, {count} AS sample_count, {bytes} AS bytes, e.first_seen, e.last_seen`,
  },
  body_templates: {
    kind: 'template', count: 'e.count',
    select: `e.service, e.severity, e.template_id, e.template, {count} AS count, {bytes} AS bytes, e.example, e.first_seen, e.last_seen`,
  },
  metrics_metadata: {
    kind: 'metric', count: 'e.sample_count',
    select: `e.service, e.name, e.type, e.unit, e.description, e.monotonic, e.temporality, e.label_keys, e.resource_keys,
      {count} AS sample_count, {bytes} AS bytes, e.overflow_points, e.bucket_count, e.series_estimate, e.prometheus_series, e.first_seen, e.last_seen`,
  },
  spans_metadata: {
    kind: 'span', count: 'e.sample_count',
    select: `e.service, e.name, e.kind, e.attribute_keys, e.resource_keys, e.event_names, {count} AS sample_count, {bytes} AS bytes,
      e.status_unset, e.status_ok, e.status_error, e.first_seen, e.last_seen`,
  },
  key_metadata: {
    kind: 'key', count: 'e.sample_count',
    select: `e.service, e.scope, e.key, {count} AS sample_count, {bytes} AS bytes, e.cardinality_estimate, e.first_seen, e.last_seen`,
  },
};
