/** GET /api/v1/services and /api/v1/services/{name}/overview. */
import { SERVICE_SORT, type KeyItem, type ListResult, type MetricItem, type ServiceItem, type SpanItem, type TemplateItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { notFound } from './errors.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';
import { parseWindow } from './window.js';

export function listServices(store: StoreQueries, query: string): Promise<ListResult<ServiceItem>> {
  const p = new Params(query, ['q', ...LIST_PARAMS]);
  return store.services({ q: p.string('q'), window: parseWindow(p), page: parsePage(p, SERVICE_SORT) });
}

/** A service that sent nothing in the window: its row with the window's (zero) counts. */
function zeroed(s: ServiceItem): ServiceItem {
  return { ...s, log_records: 0, spans: 0, metric_points: 0, log_bytes: 0, span_bytes: 0, metric_bytes: 0, bytes: 0, bytes_percentage: 0 };
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

/** `top` (default 10) bounds each of the four top lists. */
export async function serviceOverview(store: StoreQueries, name: string, query: string): Promise<ServiceOverview> {
  const p = new Params(query, ['top', 'from', 'to']);
  const top = p.int('top', DEFAULT_TOP, 0, MAX_TOP);
  // With a window, the overview's totals and top lists are the window's (entity counts stay all-time).
  const window = parseWindow(p);
  const page = (sort: string) => ({ limit: top, offset: 0, sort, order: 'desc' as const });
  const svc = (await store.services({ name, window, page: { ...page('name'), limit: 1 } })).items[0] ??
    (window ? (await store.services({ name, page: { ...page('name'), limit: 1 } })).items.map((s) => zeroed(s))[0] : undefined);
  if (!svc) throw notFound(`no service '${name}'`);
  const t = await store.serviceTotals(name);
  return {
    ...svc,
    totals: {
      logs: { records: svc.log_records, bytes: svc.log_bytes, severities: t.severities, templates: t.templates },
      metrics: {
        points: svc.metric_points, bytes: svc.metric_bytes, metrics: t.metrics, series_estimate: t.series_estimate, prometheus_series: t.prometheus_series,
      },
      traces: { spans: svc.spans, bytes: svc.span_bytes, span_names: t.span_names },
      keys: { keys: t.keys },
    },
    // What costs most leads (bytes); keys by cardinality, the question asked of keys first.
    top_templates: (await store.templates({ service: name, window, page: page('bytes') })).items,
    top_keys: (await store.keys({ service: name, window, page: page('cardinality_estimate') })).items,
    top_metrics: (await store.metrics({ service: name, window, page: page('bytes') })).items,
    top_spans: (await store.spans({ service: name, window, page: page('bytes') })).items,
  };
}
