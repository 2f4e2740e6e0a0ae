/**
 * Values every backend stores beside a row but computes the same way from the
 * writer's mirror, so their answers agree to the digit.
 */
import type { Hll } from '../sketch/hll.js';
import type { MetricRow } from '../writer/state.js';

/** A sketch's cardinality estimate as the integer the API shows. */
export function rounded(sketch: Hll): number {
  return Math.round(sketch.estimate());
}

/** The series estimate of a metric and what Prometheus would expose for it. */
export function metricDerived(r: Pick<MetricRow, 'series' | 'type' | 'buckets'>): { seriesEstimate: number; prometheusSeries: number } {
  const seriesEstimate = rounded(r.series);
  // Prometheus exposes a histogram as one series per bucket plus _sum and _count; a summary per quantile plus the two.
  const perSeries = r.type === 'histogram' || r.type === 'exponential_histogram' || r.type === 'summary' ? r.buckets + 2 : 1;
  return { seriesEstimate, prometheusSeries: seriesEstimate * perSeries };
}
