/** GET /api/v1/keys: every attribute/label key per (service, scope) with its sample count and estimated cardinality. */
import type Database from 'better-sqlite3';
import { KEY_SCOPES, type KeyScope } from '../model/delta.js';
import { parsePage, runList, Where, type ListResult, type Page, type SortSpec } from './list.js';
import { LIST_PARAMS, Params } from './params.js';

export const KEY_SORT: SortSpec = {
  fields: {
    service: { sql: 'service', text: true },
    scope: { sql: 'scope', text: true },
    key: { sql: 'key', text: true },
    sample_count: { sql: 'sample_count' },
    cardinality_estimate: { sql: 'cardinality_estimate' },
    first_seen: { sql: 'first_seen' },
    last_seen: { sql: 'last_seen' },
  },
  // The question this route answers first is "which key explodes", so highest cardinality leads.
  defaultSort: 'cardinality_estimate',
  tiebreak: 'service ASC, scope ASC, key ASC',
};

export interface KeyItem {
  service: string;
  scope: KeyScope;
  key: string;
  sample_count: number;
  cardinality_estimate: number;
  first_seen: number;
  last_seen: number;
}

export interface KeyFilter {
  service?: string | undefined;
  scope?: KeyScope | undefined;
  q?: string | undefined;
  minCardinality?: number | undefined;
}

export function queryKeys(db: Database.Database, f: KeyFilter, page: Page): ListResult<KeyItem> {
  const where = new Where()
    .add('service = ?', f.service)
    .add('scope = ?', f.scope)
    .contains('key', f.q)
    .add('cardinality_estimate >= ?', f.minCardinality);
  const select = 'service, scope, key, sample_count, cardinality_estimate, first_seen, last_seen';
  return runList(db, { select, from: 'key_metadata', where, spec: KEY_SORT, page }, (r) => r as unknown as KeyItem);
}

export function listKeys(db: Database.Database, query: string): ListResult<KeyItem> {
  const p = new Params(query, ['service', 'scope', 'q', 'min_cardinality', ...LIST_PARAMS]);
  const filter: KeyFilter = {
    service: p.string('service'),
    scope: p.oneOf('scope', KEY_SCOPES),
    q: p.string('q'),
    minCardinality: p.int('min_cardinality', undefined, 0, Number.MAX_SAFE_INTEGER),
  };
  return queryKeys(db, filter, parsePage(p, KEY_SORT));
}
