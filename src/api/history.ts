/**
 * The history routes (DESIGN §9): GET /api/v1/series (a sparkline's points),
 * GET /api/v1/changes (what is new, what rose and fell) and
 * GET /api/v1/services/{name}/versions (which service.version values, when).
 */
import { MINUTE_MS } from '../model/history.js';
import type { ChangeSum, HistoryKind, SeriesPoint, VersionItem, Window } from '../store/history.js';
import { compareCodePoints } from '../store/queries.js';
import type { KeyItem, MetricItem, Page, SpanItem, TemplateItem } from '../store/queries.js';
import type { StoreQueries } from '../store/store.js';
import { badRequest, notFound } from './errors.js';
import { parseStepWindow } from './step-window.js';
import { Params } from './params.js';

const SIGNALS = ['logs', 'metrics', 'traces'] as const;

export interface SeriesAnswer {
  items: SeriesPoint[];
  from: number;
  to: number;
  step: number;
}

/**
 * `signal` and `service` are required; at most one entity: `severity`
 * (logs, optionally with `template`), `metric` or `span`. `step` in seconds,
 * a multiple of 60; every bucket of the window is answered, empty ones as zeros.
 */
export async function seriesRoute(store: StoreQueries, query: string, now = Date.now()): Promise<SeriesAnswer> {
  const p = new Params(query, ['signal', 'service', 'template', 'metric', 'span', 'severity', 'from', 'to', 'step']);
  const signal = p.oneOf('signal', SIGNALS);
  if (signal === undefined) throw badRequest(`parameter 'signal' is required: one of ${SIGNALS.join(', ')}`);
  const service = p.string('service');
  if (service === undefined) throw badRequest(`parameter 'service' is required`);
  const only = (allowed: string[]) => {
    for (const name of ['template', 'metric', 'span', 'severity']) {
      if (!allowed.includes(name) && p.string(name) !== undefined) throw badRequest(`parameter '${name}' does not apply to signal ${signal}`);
    }
  };
  let kind: HistoryKind;
  let name: string | undefined;
  let sub: string | undefined;
  if (signal === 'logs') {
    only(['template', 'severity']);
    name = p.string('severity');
    const template = p.int('template', undefined, 0, Number.MAX_SAFE_INTEGER);
    if (template !== undefined && name === undefined) throw badRequest(`parameter 'template' needs 'severity' (template ids are per service and severity)`);
    kind = template !== undefined ? 'template' : 'log';
    sub = template !== undefined ? String(template) : undefined;
  } else if (signal === 'metrics') {
    only(['metric']);
    kind = 'metric';
    name = p.string('metric');
  } else {
    only(['span']);
    kind = 'span';
    name = p.string('span');
  }
  const { from, to, step } = parseStepWindow(p, now);
  const got = await store.series({ kind, service, name, sub, from, to, step });
  const byT = new Map(got.map((x) => [x.t, x]));
  const items: SeriesPoint[] = [];
  for (let t = from; t < to; t += step) {
    const x = byT.get(t);
    items.push({ t, count: x?.count ?? 0, bytes: x?.bytes ?? 0 });
  }
  return { items, from, to, step: step / 1000 };
}

export async function versionsRoute(store: StoreQueries, service: string, query: string): Promise<{ items: VersionItem[]; total: number }> {
  new Params(query, []);
  const items = await store.versions(service);
  if (items.length === 0 && (await store.services({ name: service, page: { limit: 1, offset: 0, sort: 'name', order: 'asc' } })).total === 0) {
    throw notFound(`no service '${service}'`);
  }
  return { items, total: items.length };
}

/** One entity whose counts or bytes moved between the window before `since` and the window after. */
export interface Change extends ChangeSum {
  kind: HistoryKind;
  /** What the entity is called: the template text, metric or span name, `scope/key`, or the severity. */
  label: string;
  bytes_change: number;
}

export interface ChangesAnswer {
  since: number;
  until: number;
  /** The window compared against: the same length, right before `since`. */
  before: Window;
  version?: VersionItem | undefined;
  new: { templates: TemplateItem[]; keys: KeyItem[]; metrics: MetricItem[]; spans: SpanItem[] };
  rose: Change[];
  fell: Change[];
}

const CHANGE_KINDS: HistoryKind[] = ['template', 'metric', 'span', 'key'];

/**
 * `since` (or `service` + `version`: since that version was first seen) up
 * to `until` (default now): what was first seen in that window, and the
 * entities whose bytes rose or fell most against the window of the same
 * length right before it. `limit` (default 20) bounds each list.
 */
export async function changesRoute(store: StoreQueries, query: string, now = Date.now()): Promise<ChangesAnswer> {
  const p = new Params(query, ['since', 'until', 'service', 'version', 'limit']);
  const service = p.string('service');
  const versionName = p.string('version');
  const limit = p.int('limit', 20, 1, 1000);
  let since = p.time('since');
  let version: VersionItem | undefined;
  if (versionName !== undefined) {
    if (service === undefined) throw badRequest(`parameter 'version' needs 'service'`);
    version = (await store.versions(service)).find((v) => v.version === versionName);
    if (!version) throw notFound(`service '${service}' has not sent service.version '${versionName}'`);
    since ??= version.first_seen;
  }
  if (since === undefined) throw badRequest(`parameter 'since' is required (or 'service' and 'version')`);
  const until = p.time('until') ?? now + MINUTE_MS;
  if (since >= until) throw badRequest(`parameter 'since' (${since}) must be before 'until' (${until})`);
  const after: Window = { from: since, to: until };
  const before: Window = { from: Math.max(0, since - (until - since)), to: since };
  // Only the lists' items are answered: no store need count them (count: false).
  const page = (sort: string): Page => ({ limit, offset: 0, sort, order: 'desc', count: false });
  const fresh = { window: after, firstSeenFrom: since, service };
  const answer: ChangesAnswer = {
    since,
    until,
    before,
    version,
    new: {
      templates: (await store.templates({ ...fresh, page: page('bytes') })).items,
      keys: (await store.keys({ ...fresh, page: page('bytes') })).items,
      metrics: (await store.metrics({ ...fresh, page: page('bytes') })).items,
      spans: (await store.spans({ ...fresh, page: page('bytes') })).items,
    },
    rose: [],
    fell: [],
  };
  // Each kind's largest rises and falls (the store ranks them), then the largest of all kinds.
  const changes: Change[] = [];
  for (const kind of CHANGE_KINDS) {
    const lists = await store.historyChanges({ kind, service, before, after, limit });
    for (const { template, ...s } of [...lists.rose, ...lists.fell]) {
      changes.push({ ...s, kind, label: template ?? labelOf(kind, s), bytes_change: s.bytes_after - s.bytes_before });
    }
  }
  const tie = (x: Change, y: Change) => compareCodePoints(x.service, y.service) || compareCodePoints(x.label, y.label);
  answer.rose = changes.filter((c) => c.bytes_change > 0).sort((x, y) => y.bytes_change - x.bytes_change || tie(x, y)).slice(0, limit);
  answer.fell = changes.filter((c) => c.bytes_change < 0).sort((x, y) => x.bytes_change - y.bytes_change || tie(x, y)).slice(0, limit);
  return answer;
}

function labelOf(kind: HistoryKind, s: { name: string; sub: string }): string {
  switch (kind) {
    case 'key':
      return `${s.name}/${s.sub}`;
    case 'template':
      return `${s.name} #${s.sub}`;
    default:
      return s.name;
  }
}
