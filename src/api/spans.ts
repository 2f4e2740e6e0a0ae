/** GET /api/v1/spans: span names per service and kind, their attribute keys and status counts. */
import { SPAN_KINDS, SPAN_SORT, type ListResult, type SpanItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { badRequest } from './errors.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';
import { parseWindow } from './window.js';

export { SPAN_KINDS, type SpanKindName } from '../store/queries.js';

/** Accepts the OTLP number (0-5) or the name, case-insensitively, with or without the proto's SPAN_KIND_ prefix. */
export function parseKind(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d$/.test(v) && Number(v) < SPAN_KINDS.length) return Number(v);
  const name = v.toLowerCase().replace(/^span_kind_/, '');
  const i = (SPAN_KINDS as readonly string[]).indexOf(name);
  if (i < 0) throw badRequest(`parameter 'kind' must be one of ${SPAN_KINDS.join(', ')} or 0-5, got '${v}'`);
  return i;
}

export function listSpans(store: StoreQueries, query: string): Promise<ListResult<SpanItem>> {
  const p = new Params(query, ['service', 'q', 'kind', ...LIST_PARAMS]);
  return store.spans({ service: p.string('service'), q: p.string('q'), kind: parseKind(p.raw('kind')), window: parseWindow(p), page: parsePage(p, SPAN_SORT) });
}
