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
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../model/history.js';
import { seriesLevel } from '../store/history.js';
import { carryForward } from '../store/series-estimates.js';
import type { StoreQueries } from '../store/store.js';
import { badRequest, notFound } from './errors.js';
import { Params } from './params.js';

/** Points one answer may have (as /api/v1/series). */
const MAX_POINTS = 10_000;

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

/** The default step for a window: as /api/v1/series (minutes up to 6 hours, hours up to 30 days, days beyond). */
function defaultStep(span: number): number {
  if (span <= 6 * HOUR_MS) return MINUTE_MS;
  if (span <= 30 * DAY_MS) return HOUR_MS;
  return DAY_MS;
}

export async function seriesEstimatesRoute(store: StoreQueries, metric: string, query: string, now = Date.now()): Promise<SeriesEstimatesAnswer> {
  const p = new Params(query, ['service', 'label', 'from', 'to', 'step']);
  const service = p.string('service');
  if (service === undefined) throw badRequest(`parameter 'service' is required (a metric name is per service)`);
  const label = p.string('label');
  const to0 = p.time('to') ?? now;
  const from0 = p.time('from') ?? to0 - DAY_MS;
  if (from0 > to0) throw badRequest(`parameter 'from' (${from0}) is after 'to' (${to0})`);
  const stepS = p.int('step', undefined, 60, 366 * 86400);
  const step = stepS !== undefined ? stepS * 1000 : defaultStep(to0 - from0);
  if (step % MINUTE_MS !== 0) throw badRequest(`parameter 'step' must be a multiple of 60 seconds (the finest bucket is a minute), got ${stepS}`);
  const { level, ms } = seriesLevel(step);
  const from = bucketOf(from0, ms);
  const to = Math.max(from, bucketOf(to0 + ms - 1, ms));
  const points = Math.ceil((to - from) / step);
  if (points > MAX_POINTS) throw badRequest(`the window holds ${points} steps of ${step / 1000} s; at most ${MAX_POINTS}: use a larger 'step'`);
  const known = await store.metrics({ service, name: metric, page: { limit: 1, offset: 0, sort: 'name', order: 'asc' } });
  if (known.total === 0) throw notFound(`no metric '${metric}' for service '${service}'`);
  if (label !== undefined && !(await store.metricLabels(service, metric)).some((l) => l.key === label)) {
    throw notFound(`metric '${metric}' of service '${service}' has no label '${label}'`);
  }
  const raw = await store.seriesEstimates({ kind: label === undefined ? 'series' : 'label', service, metric, label: label ?? '', level, from, to, step });
  return { service, metric, label: label ?? null, from, to, step: step / 1000, items: carryForward(raw, from, to, step) };
}
