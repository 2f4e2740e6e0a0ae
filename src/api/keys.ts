/** GET /api/v1/keys: every attribute/label key per (service, scope) with its sample count and estimated cardinality. */
import { KEY_SCOPES } from '../model/delta.js';
import { KEY_SORT, type KeyItem, type ListResult } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';
import { parseWindow } from './window.js';

export function listKeys(store: StoreQueries, query: string): Promise<ListResult<KeyItem>> {
  const p = new Params(query, ['service', 'scope', 'q', 'min_cardinality', ...LIST_PARAMS]);
  return store.keys({
    service: p.string('service'),
    scope: p.oneOf('scope', KEY_SCOPES),
    q: p.string('q'),
    minCardinality: p.int('min_cardinality', undefined, 0, Number.MAX_SAFE_INTEGER),
    window: parseWindow(p),
    page: parsePage(p, KEY_SORT),
  });
}
