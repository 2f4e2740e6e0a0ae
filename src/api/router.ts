/**
 * Dispatches an API path to its route. Runs on the reader thread against the
 * store's read side (src/store/store.ts); every answer is JSON, errors as
 * {"error": "..."}. No SQL here: a route asks the store a typed question.
 */
import { StoreNotReady, type ReadStore, type StoreQueries } from '../store/store.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { listKeys } from './keys.js';
import { listLogs, listSeverities, listTemplates } from './logs.js';
import { listMetrics, metricDetail } from './metrics.js';
import { listServices, serviceOverview } from './services.js';
import { listSpans } from './spans.js';
import { changesRoute, seriesRoute, versionsRoute } from './history.js';
import { seriesEstimatesRoute } from './series-estimates.js';

export interface ApiResponse {
  status: number;
  body: string;
}

const PREFIX = ['api', 'v1'];

/**
 * Splits before decoding, so an encoded slash (`%2F`) stays inside its
 * segment: metric names like `http/server/duration` are addressable.
 */
function segments(path: string): string[] | undefined {
  const parts = path.split('/');
  if (parts[0] !== '') return undefined;
  parts.shift();
  // A trailing slash is tolerated (`/api/v1/services/`).
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length < PREFIX.length || PREFIX.some((p, i) => parts[i] !== p)) return undefined;
  return parts.slice(PREFIX.length).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest(`malformed percent-encoding in path segment '${s}'`);
    }
  });
}

async function route(db: StoreQueries, path: string, query: string): Promise<unknown> {
  const seg = segments(path);
  if (seg === undefined) throw notFound(`no such route: ${path}`);
  const [a, b, c, ...rest] = seg;
  if (rest.length === 0) {
    switch (a) {
      case 'services':
        if (b === undefined) return listServices(db, query);
        if (c === 'overview') return serviceOverview(db, b, query);
        if (c === 'versions') return versionsRoute(db, b, query);
        break;
      case 'metrics':
        if (b === undefined) return listMetrics(db, query);
        if (c === undefined) return metricDetail(db, b, query);
        if (c === 'series-estimates') return seriesEstimatesRoute(db, b, query);
        break;
      case 'spans':
        if (b === undefined) return listSpans(db, query);
        break;
      case 'logs':
        if (b === undefined) return listLogs(db, query);
        if (b === 'templates' && c === undefined) return listTemplates(db, query);
        if (b === 'severities' && c === undefined) return listSeverities(db, query);
        break;
      case 'keys':
        if (b === undefined) return listKeys(db, query);
        break;
      case 'series':
        if (b === undefined) return seriesRoute(db, query);
        break;
      case 'changes':
        if (b === undefined) return changesRoute(db, query);
        break;
    }
  }
  throw notFound(`no such route: ${path}`);
}

/** One request, answered from one consistent view of the store (ReadStore.read). */
export async function handleApiRequest(store: ReadStore, path: string, query: string): Promise<ApiResponse> {
  try {
    return { status: 200, body: JSON.stringify(await store.read((q) => route(q, path, query))) };
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, body: JSON.stringify({ error: err.message }) };
    if (err instanceof StoreNotReady) return { status: 503, body: JSON.stringify({ error: err.message }) };
    throw err;
  }
}
