/** GET /api/v1/metrics and /api/v1/metrics/{name}: metric shapes, series estimates, and which label explodes them. */
import { METRIC_SORT, METRIC_TYPES, type LabelItem, type ListResult, type MetricItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { notFound } from './errors.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';
import { parseWindow } from './window.js';

export function listMetrics(store: StoreQueries, query: string): Promise<ListResult<MetricItem>> {
  const p = new Params(query, ['service', 'q', 'type', 'min_cardinality', ...LIST_PARAMS]);
  return store.metrics({
    service: p.string('service'),
    q: p.string('q'),
    type: p.oneOf('type', METRIC_TYPES),
    minCardinality: p.int('min_cardinality', undefined, 0, Number.MAX_SAFE_INTEGER),
    window: parseWindow(p),
    page: parsePage(p, METRIC_SORT),
  });
}

/**
 * One metric name may be sent by several services, so the detail is a list
 * (one item per service) like every other answer; 404 when no service has it.
 */
export async function metricDetail(store: StoreQueries, name: string, query: string): Promise<ListResult<MetricItem & { labels: LabelItem[] }>> {
  const p = new Params(query, ['service', ...LIST_PARAMS]);
  const service = p.string('service');
  const result = await store.metrics({ service, name, window: parseWindow(p), page: parsePage(p, METRIC_SORT) });
  if (result.total === 0) {
    throw notFound(service ? `no metric '${name}' for service '${service}'` : `no metric '${name}'`);
  }
  const items = [];
  for (const m of result.items) items.push({ ...m, labels: await store.metricLabels(m.service, m.name) });
  return { items, total: result.total };
}
