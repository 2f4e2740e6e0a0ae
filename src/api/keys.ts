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
    bytes: { sql: 'bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
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
  /** Protobuf bytes of this key's KeyValues, and their share (0-100) of the service's bytes of the key's signal. */
  bytes: number;
  bytes_percentage: number;
  cardinality_estimate: number;
  first_seen: number;
  last_seen: number;
}

/*
 * The signal a key's bytes are a share of: log, metric and span keys of their
 * signal; resource keys ride on every signal, so of all three.
 */
const KEY_SIGNAL_BYTES = `CASE scope WHEN 'log' THEN log_bytes WHEN 'metric' THEN metric_bytes
  WHEN 'resource' THEN log_bytes + span_bytes + metric_bytes ELSE span_bytes END`;

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
  const select = `service, scope, key, sample_count, bytes, cardinality_estimate, first_seen, last_seen,
    COALESCE(100.0 * bytes / NULLIF((SELECT ${KEY_SIGNAL_BYTES} FROM services s WHERE s.name = key_metadata.service), 0), 0) AS bytes_percentage`;
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
