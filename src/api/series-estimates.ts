/**
 * GET /api/v1/metrics/{name}/series-estimates?service=S[&label=K][&from][&to][&step]
 *
 * A metric's series estimate over time (the HLL estimate of its distinct
 * label sets, metrics_metadata.series_estimate), or with `label` one label
 * key's cardinality estimate: for every step of the window, the estimate at
 * the end of that step. Estimates are all-time (they only grow); a step with
 * no data of its own carries the last known value forward, and steps before
 * the first known value are null. Read from the minute, hour or day buckets
 * that divide the step, so it is kept as long as the history's retention keeps
 * that level.
 */
import { carryForward } from '../store/series-estimates.js';
import type { StoreQueries } from '../store/store.js';
import { badRequest, notFound } from './errors.js';
import { parseStepWindow } from './step-window.js';
import { Params } from './params.js';

export interface SeriesEstimatesAnswer {
  service: string;
  metric: string;
  /** The label key asked for, or null for the metric's series estimate. */
  label: string | null;
  from: number;
  to: number;
  /** Seconds. */
  step: number;
  items: Array<{ t: number; estimate: number | null }>;
}

export async function seriesEstimatesRoute(store: StoreQueries, metric: string, query: string, now = Date.now()): Promise<SeriesEstimatesAnswer> {
  const p = new Params(query, ['service', 'label', 'from', 'to', 'step']);
  const service = p.string('service');
  if (service === undefined) throw badRequest(`parameter 'service' is required (a metric name is per service)`);
  const label = p.string('label');
  const { from, to, step, level } = parseStepWindow(p, now);
  const known = await store.metrics({ service, name: metric, page: { limit: 1, offset: 0, sort: 'name', order: 'asc' } });
  if (known.total === 0) throw notFound(`no metric '${metric}' for service '${service}'`);
  if (label !== undefined && !(await store.metricLabels(service, metric)).some((l) => l.key === label)) {
    throw notFound(`metric '${metric}' of service '${service}' has no label '${label}'`);
  }
  const raw = await store.seriesEstimates({ kind: label === undefined ? 'series' : 'label', service, metric, label: label ?? '', level, from, to, step });
  return { service, metric, label: label ?? null, from, to, step: step / 1000, items: carryForward(raw, from, to, step) };
}
