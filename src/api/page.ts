/** Parses the paging parameters every list route takes against the list's sort whitelist. */
import type { Page, SortSpec } from '../store/queries.js';
import { badRequest } from './errors.js';
import { DEFAULT_LIMIT, MAX_LIMIT, type Params } from './params.js';

export function parsePage(p: Params, spec: SortSpec): Page {
  const limit = p.int('limit', DEFAULT_LIMIT, 0, MAX_LIMIT);
  const offset = p.int('offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const sort = p.raw('sort') ?? spec.defaultSort;
  if (!Object.hasOwn(spec.fields, sort)) {
    throw badRequest(`parameter 'sort' must be one of ${Object.keys(spec.fields).join(', ')}, got '${sort}'`);
  }
  const order = p.oneOf('order', ['asc', 'desc'] as const) ?? (spec.fields[sort]!.text ? 'asc' : 'desc');
  return { limit, offset, sort, order };
}
