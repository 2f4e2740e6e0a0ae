// Data several pages need.
import { api } from '../api.js';
import { useData } from '../live.js';

/** Service names for a filter's options (the first 1,000 by name: a select with more is of no use anyway). */
export function useServiceNames(enabled = true) {
  const { data } = useData(() => (enabled ? api('/services', { limit: 1000, sort: 'name', order: 'asc' }) : Promise.resolve({ items: [] })), `svcnames:${enabled}`);
  return (data?.items ?? []).map((s) => s.name);
}

export const KEY_SCOPES = ['resource', 'metric', 'span', 'span_event', 'log'];
export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];

/** The cardinality above which a key or label is flagged: `over` in the query string, 1,000 by default. */
export function overLimit(params) {
  const n = Number(params.over);
  return Number.isSafeInteger(n) && n > 0 ? n : 1000;
}
