/** GET /api/v1/logs and /api/v1/logs/templates: log shapes per severity and the mined body templates. */
import { LOG_SORT, TEMPLATE_SORT, type ListResult, type LogItem, type SeverityItem, type TemplateItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { parsePage } from './page.js';
import { LIST_PARAMS, Params } from './params.js';
import { parseWindow } from './window.js';
import { knownSeverity } from '../extract/severity.js';

/** `severity=warning` finds WARN: a known spelling is the severity records are grouped under; others match in any case. */
function severityParam(p: Params): string | undefined {
  const v = p.string('severity');
  return v === undefined ? undefined : (knownSeverity(v) ?? v);
}

export function listLogs(store: StoreQueries, query: string): Promise<ListResult<LogItem>> {
  const p = new Params(query, ['service', 'severity', ...LIST_PARAMS]);
  return store.logs({ service: p.string('service'), severity: severityParam(p), window: parseWindow(p), page: parsePage(p, LOG_SORT) });
}

/**
 * GET /api/v1/logs/severities: the severities seen (of one service, or of all), all time, in code-point order. The
 * UI's severity choices: /logs answers the same with every shape's key lists, which at 100,000 keys are megabytes.
 */
export async function listSeverities(store: StoreQueries, query: string): Promise<{ items: SeverityItem[] }> {
  const p = new Params(query, ['service']);
  return { items: await store.severities(p.string('service')) };
}

export function listTemplates(store: StoreQueries, query: string): Promise<ListResult<TemplateItem>> {
  const p = new Params(query, ['service', 'severity', 'q', ...LIST_PARAMS]);
  return store.templates({ service: p.string('service'), severity: severityParam(p), q: p.string('q'), window: parseWindow(p), page: parsePage(p, TEMPLATE_SORT) });
}
