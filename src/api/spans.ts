/** GET /api/v1/spans: span names per service and kind, their attribute keys and status counts. */
import type Database from 'better-sqlite3';
import { badRequest } from './errors.js';
import { bytesShare, keys, parsePage, runList, Where, type ListResult, type Page, type SortSpec } from './list.js';
import { LIST_PARAMS, Params } from './params.js';

/** SpanKind by its OTLP number. */
export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];

const SPAN_SORT: SortSpec = {
  fields: {
    service: { sql: 'service', text: true },
    name: { sql: 'name', text: true },
    kind: { sql: 'kind' },
    sample_count: { sql: 'sample_count' },
    bytes: { sql: 'bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
    status_ok: { sql: 'status_ok' },
    status_error: { sql: 'status_error' },
    status_unset: { sql: 'status_unset' },
    first_seen: { sql: 'first_seen' },
    last_seen: { sql: 'last_seen' },
  },
  defaultSort: 'sample_count',
  tiebreak: 'service ASC, name ASC, kind ASC',
};

export interface SpanItem {
  service: string;
  name: string;
  kind: SpanKindName;
  attribute_keys: string[];
  resource_keys: string[];
  event_names: string[];
  sample_count: number;
  /** Protobuf bytes of these spans, and their share (0-100) of the service's span bytes. */
  bytes: number;
  bytes_percentage: number;
  status_ok: number;
  status_error: number;
  status_unset: number;
  first_seen: number;
  last_seen: number;
}

/** Accepts the OTLP number (0-5) or the name, case-insensitively, with or without the proto's SPAN_KIND_ prefix. */
export function parseKind(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d$/.test(v) && Number(v) < SPAN_KINDS.length) return Number(v);
  const name = v.toLowerCase().replace(/^span_kind_/, '');
  const i = (SPAN_KINDS as readonly string[]).indexOf(name);
  if (i < 0) throw badRequest(`parameter 'kind' must be one of ${SPAN_KINDS.join(', ')} or 0-5, got '${v}'`);
  return i;
}

function toItem(r: Record<string, unknown>): SpanItem {
  return {
    service: r['service'] as string,
    name: r['name'] as string,
    kind: SPAN_KINDS[r['kind'] as number] ?? 'unspecified',
    attribute_keys: keys(r['attribute_keys']),
    resource_keys: keys(r['resource_keys']),
    event_names: keys(r['event_names']),
    sample_count: r['sample_count'] as number,
    bytes: r['bytes'] as number,
    bytes_percentage: r['bytes_percentage'] as number,
    status_ok: r['status_ok'] as number,
    status_error: r['status_error'] as number,
    status_unset: r['status_unset'] as number,
    first_seen: r['first_seen'] as number,
    last_seen: r['last_seen'] as number,
  };
}

export interface SpanFilter {
  service?: string | undefined;
  q?: string | undefined;
  kind?: number | undefined;
}

export function querySpans(db: Database.Database, f: SpanFilter, page: Page): ListResult<SpanItem> {
  const where = new Where().add('service = ?', f.service).contains('name', f.q).add('kind = ?', f.kind);
  const select = `service, name, kind, attribute_keys, resource_keys, event_names, sample_count, bytes,
    ${bytesShare('bytes', 'span_bytes', 'spans_metadata.service')} AS bytes_percentage,
    status_ok, status_error, status_unset, first_seen, last_seen`;
  return runList(db, { select, from: 'spans_metadata', where, spec: SPAN_SORT, page }, toItem);
}

export function listSpans(db: Database.Database, query: string): ListResult<SpanItem> {
  const p = new Params(query, ['service', 'q', 'kind', ...LIST_PARAMS]);
  return querySpans(db, { service: p.string('service'), q: p.string('q'), kind: parseKind(p.raw('kind')) }, parsePage(p, SPAN_SORT));
}
