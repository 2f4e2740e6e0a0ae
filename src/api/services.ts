/** GET /api/v1/services and /api/v1/services/{name}/overview. */
import { SERVICE_SORT, type KeyItem, type ListResult, type MetricItem, type ServiceItem, type TemplateItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { notFound } from './errors.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';

export function listServices(store: StoreQueries, query: string): Promise<ListResult<ServiceItem>> {
  const p = new Params(query, ['q', ...LIST_PARAMS]);
  return store.services({ q: p.string('q'), page: parsePage(p, SERVICE_SORT) });
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

/** `top` (default 10) bounds each of the three top lists. */
export async function serviceOverview(store: StoreQueries, name: string, query: string): Promise<ServiceOverview> {
  const p = new Params(query, ['top']);
  const top = p.int('top', DEFAULT_TOP, 0, MAX_TOP);
  const page = (sort: string) => ({ limit: top, offset: 0, sort, order: 'desc' as const });
  const svc = (await store.services({ name, page: { ...page('name'), limit: 1 } })).items[0];
  if (!svc) throw notFound(`no service '${name}'`);
  const t = await store.serviceTotals(name);
  return {
    ...svc,
    totals: {
      logs: { records: svc.log_records, severities: t.severities, templates: t.templates },
      metrics: { points: svc.metric_points, metrics: t.metrics, series_estimate: t.series_estimate, prometheus_series: t.prometheus_series },
      traces: { spans: svc.spans, span_names: t.span_names },
      keys: { keys: t.keys },
    },
    top_templates: (await store.templates({ service: name, page: page('count') })).items,
    top_keys: (await store.keys({ service: name, page: page('cardinality_estimate') })).items,
    top_metrics: (await store.metrics({ service: name, page: page('series_estimate') })).items,
  };
}
