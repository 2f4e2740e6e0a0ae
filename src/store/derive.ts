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

/** A store keeps the salt it was created with: asking for another one is a configuration error, not a silent switch. */
export function checkSalt(stored: bigint, preferred: bigint | undefined): bigint {
  if (preferred !== undefined && preferred !== stored) {
    throw new Error(`--hash-salt ${preferred} differs from the salt this store was created with; sketches under two salts cannot merge (leave --hash-salt unset to use the store's)`);
  }
  return stored;
}
