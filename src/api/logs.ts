/** GET /api/v1/logs and /api/v1/logs/templates: log shapes per severity and the mined body templates. */
import type Database from 'better-sqlite3';
import { bytesShare, keys, parsePage, runList, Where, type ListResult, type Page, type SortSpec } from './list.js';
import { LIST_PARAMS, Params } from './params.js';

const LOG_SORT: SortSpec = {
  fields: {
    service: { sql: 'service', text: true },
    severity: { sql: 'severity', text: true },
    sample_count: { sql: 'sample_count' },
    bytes: { sql: 'bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
    first_seen: { sql: 'first_seen' },
    last_seen: { sql: 'last_seen' },
  },
  defaultSort: 'sample_count',
  tiebreak: 'service ASC, severity ASC',
};

export const TEMPLATE_SORT: SortSpec = {
  fields: {
    service: { sql: 'b.service', text: true },
    severity: { sql: 'b.severity', text: true },
    template: { sql: 'b.template', text: true },
    count: { sql: 'b.count' },
    percentage: { sql: 'percentage' },
    bytes: { sql: 'b.bytes' },
    bytes_percentage: { sql: 'bytes_percentage' },
    first_seen: { sql: 'b.first_seen' },
    last_seen: { sql: 'b.last_seen' },
  },
  defaultSort: 'count',
  tiebreak: 'b.service ASC, b.severity ASC, b.template_id ASC',
};

export interface LogItem {
  service: string;
  severity: string;
  attribute_keys: string[];
  resource_keys: string[];
  body_keys: string[];
  sample_count: number;
  /** Protobuf bytes of these records, and their share (0-100) of the service's log bytes. */
  bytes: number;
  bytes_percentage: number;
  first_seen: number;
  last_seen: number;
}

export interface TemplateItem {
  service: string;
  severity: string;
  template_id: number;
  template: string;
  count: number;
  percentage: number;
  /** Protobuf bytes of this template's records, and their share (0-100) of the service's log bytes. */
  bytes: number;
  bytes_percentage: number;
  example: string;
  first_seen: number;
  last_seen: number;
}

export function listLogs(db: Database.Database, query: string): ListResult<LogItem> {
  const p = new Params(query, ['service', 'severity', ...LIST_PARAMS]);
  const where = new Where().add('service = ?', p.string('service')).add('severity = ?', p.string('severity'));
  const select = `service, severity, attribute_keys, resource_keys, body_keys, sample_count, bytes, first_seen, last_seen,
    ${bytesShare('bytes', 'log_bytes', 'service')} AS bytes_percentage`;
  return runList(db, { select, from: 'logs_metadata', where, spec: LOG_SORT, page: parsePage(p, LOG_SORT) }, (r) => ({
    service: r['service'] as string,
    severity: r['severity'] as string,
    attribute_keys: keys(r['attribute_keys']),
    resource_keys: keys(r['resource_keys']),
    body_keys: keys(r['body_keys']),
    sample_count: r['sample_count'] as number,
    bytes: r['bytes'] as number,
    bytes_percentage: r['bytes_percentage'] as number,
    first_seen: r['first_seen'] as number,
    last_seen: r['last_seen'] as number,
  }));
}

export interface TemplateFilter {
  service?: string | undefined;
  severity?: string | undefined;
  q?: string | undefined;
}

/*
 * The percentage's denominator is the whole (service, severity), not the rows
 * left after `q`: a template is "40% of this service's ERROR logs" whatever the
 * search box says. A correlated sum rather than a window function for that
 * reason (a window only sees the filtered rows); the (service, severity, count)
 * index covers it, and SQLite evaluates it only for the rows returned unless
 * the sort is by percentage.
 */
const TEMPLATE_SELECT = `b.service, b.severity, b.template_id, b.template, b.count, b.bytes, b.example, b.first_seen, b.last_seen,
  COALESCE(100.0 * b.count / NULLIF((SELECT SUM(t.count) FROM body_templates t
    WHERE t.service = b.service AND t.severity = b.severity), 0), 0) AS percentage,
  ${bytesShare('b.bytes', 'log_bytes', 'b.service')} AS bytes_percentage`;

export function queryTemplates(db: Database.Database, f: TemplateFilter, page: Page): ListResult<TemplateItem> {
  const where = new Where().add('b.service = ?', f.service).add('b.severity = ?', f.severity).contains('b.template', f.q);
  return runList(db, { select: TEMPLATE_SELECT, from: 'body_templates b', where, spec: TEMPLATE_SORT, page }, (r) => ({
    service: r['service'] as string,
    severity: r['severity'] as string,
    template_id: r['template_id'] as number,
    template: r['template'] as string,
    count: r['count'] as number,
    percentage: r['percentage'] as number,
    bytes: r['bytes'] as number,
    bytes_percentage: r['bytes_percentage'] as number,
    example: r['example'] as string,
    first_seen: r['first_seen'] as number,
    last_seen: r['last_seen'] as number,
  }));
}

export function listTemplates(db: Database.Database, query: string): ListResult<TemplateItem> {
  const p = new Params(query, ['service', 'severity', 'q', ...LIST_PARAMS]);
  const filter: TemplateFilter = { service: p.string('service'), severity: p.string('severity'), q: p.string('q') };
  return queryTemplates(db, filter, parsePage(p, TEMPLATE_SORT));
}
