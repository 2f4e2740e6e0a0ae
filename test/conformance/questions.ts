/**
 * Every API question the conformance suite asks each backend: every list
 * route with each of its filters, every sort field that does not depend on
 * the time a record arrived, both orders, paging; every overview and metric
 * detail. first_seen/last_seen are the time each instance received a record,
 * so they are compared for presence and order of magnitude, not to the digit.
 */
import { SERVICES } from './workload.js';

const SORTS: Record<string, string[]> = {
  '/api/v1/services': ['name', 'log_records', 'spans', 'metric_points', 'log_bytes', 'span_bytes', 'metric_bytes', 'bytes', 'bytes_percentage'],
  '/api/v1/metrics': ['service', 'name', 'type', 'unit', 'sample_count', 'series_estimate', 'prometheus_series', 'bucket_count', 'bytes', 'bytes_percentage', 'overflow_points'],
  '/api/v1/spans': ['service', 'name', 'kind', 'sample_count', 'status_ok', 'status_error', 'status_unset', 'bytes', 'bytes_percentage'],
  '/api/v1/logs': ['service', 'severity', 'sample_count', 'bytes', 'bytes_percentage'],
  '/api/v1/logs/templates': ['service', 'severity', 'template', 'count', 'percentage', 'bytes', 'bytes_percentage'],
  '/api/v1/keys': ['service', 'scope', 'key', 'sample_count', 'cardinality_estimate', 'bytes', 'bytes_percentage'],
};

const FILTERS: Record<string, string[]> = {
  '/api/v1/services': ['q=CART', 'q=/', 'q=zzz'],
  '/api/v1/metrics': ['type=histogram', 'type=sum', 'q=DURATION', 'min_cardinality=10', ...SERVICES.map((s) => `service=${encodeURIComponent(s)}`)],
  '/api/v1/spans': ['kind=server', 'kind=client', 'q=cache', 'q=_', ...SERVICES.map((s) => `service=${encodeURIComponent(s)}&kind=internal`)],
  '/api/v1/logs': ['severity=ERROR', ...SERVICES.map((s) => `service=${encodeURIComponent(s)}`)],
  '/api/v1/logs/templates': ['severity=INFO', 'q=PASSWORD', 'q=%25', 'q=<*>', ...SERVICES.map((s) => `service=${encodeURIComponent(s)}&severity=WARN`)],
  '/api/v1/keys': ['scope=resource', 'scope=log', 'scope=metric', 'scope=span', 'scope=span_event', 'q=ID', 'min_cardinality=100', ...SERVICES.map((s) => `service=${encodeURIComponent(s)}`)],
};

/** The list questions: path?query. */
export function listQuestions(): string[] {
  const out: string[] = [];
  for (const [path, sorts] of Object.entries(SORTS)) {
    out.push(path);
    out.push(`${path}?limit=10000`);
    out.push(`${path}?limit=0`);
    for (const sort of sorts) {
      for (const order of ['asc', 'desc']) out.push(`${path}?sort=${sort}&order=${order}&limit=7&offset=2`);
    }
    for (const f of FILTERS[path] ?? []) out.push(`${path}?${f}&limit=10000`);
    // A history window covering everything: the same lists as sums of buckets (a window's other edges would
    // depend on which minute each instance received a record in).
    out.push(`${path}?from=0&limit=10000`);
    out.push(`${path}?from=0&sort=${sorts[sorts.length - 1]}&limit=5`);
  }
  // Day steps over the last week (step is in seconds), and one without a service: a 400 on every store alike.
  const week = Math.floor(Date.now() / 86_400_000 - 7) * 86_400_000;
  out.push(`/api/v1/series?signal=logs&service=cart&from=${week}&step=86400`);
  out.push(`/api/v1/series?signal=metrics&service=checkout&from=${week}&step=86400`);
  out.push('/api/v1/series?signal=metrics&from=0&step=86400');
  out.push('/api/v1/services/cart/versions');
  // The severities, of all services, of each, and of none.
  out.push('/api/v1/logs/severities', '/api/v1/logs/severities?service=nope');
  for (const s of SERVICES) out.push(`/api/v1/logs/severities?service=${encodeURIComponent(s)}`);
  // What changed since yesterday (whole days, as above): everything is new; nothing was there before to rise or fall.
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  out.push(`/api/v1/changes?since=${today - 86_400_000}&until=${today + 86_400_000}&limit=50`);
  out.push(`/api/v1/changes?since=${today - 86_400_000}&until=${today + 86_400_000}&service=cart`);
  // Series estimates over time, from the day buckets (whole days: the same whichever minute each instance received
  // a record in): the metric's and its labels', and the 404s.
  const weekAgo = Math.floor(Date.now() / 86_400_000 - 7) * 86_400_000;
  const est = (m: string, q = '') => `/api/v1/metrics/${encodeURIComponent(m)}/series-estimates?service=cart&from=${weekAgo}&step=86400${q}`;
  for (const m of ['requests', 'jobs.done', 'http.server.duration', 'queue.depth']) out.push(est(m));
  out.push(est('requests', '&label=pod'), est('requests', '&label=zone'), est('jobs.done', '&label=status'));
  out.push(est('requests', '&label=nope'), est('nope'), est('requests', '&step=90'));
  return out;
}

/** Questions that name entities found in an answer: overviews, metric details. */
export function entityQuestions(metricNames: string[]): string[] {
  const out: string[] = [];
  for (const s of SERVICES) {
    out.push(`/api/v1/services/${encodeURIComponent(s)}/overview`);
    out.push(`/api/v1/services/${encodeURIComponent(s)}/overview?top=3`);
  }
  for (const m of metricNames) {
    out.push(`/api/v1/metrics/${encodeURIComponent(m)}`);
    out.push(`/api/v1/metrics/${encodeURIComponent(m)}?service=cart`);
  }
  out.push('/api/v1/services/nope/overview');
  out.push('/api/v1/metrics/nope');
  return out;
}

/** An answer with the receive times taken out (checked separately: present, within the test's window). */
export function withoutTimes(v: unknown, window: { from: number; to: number }, problems: string[], where = ''): unknown {
  if (Array.isArray(v)) return v.map((x, i) => withoutTimes(x, window, problems, `${where}[${i}]`));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'first_seen' || k === 'last_seen') {
        if (typeof x !== 'number' || x < window.from || x > window.to) problems.push(`${where}.${k} = ${String(x)} outside the test window`);
        continue;
      }
      out[k] = withoutTimes(x, window, problems, `${where}.${k}`);
    }
    return out;
  }
  return v;
}
