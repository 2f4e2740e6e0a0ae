/**
 * The memory store's answers: each question is a filter, a sort and a slice
 * over one table's Map, computed exactly as the SQL of the SQLite backend
 * (same columns, same tie-breaks, code-point text order, ASCII-folded `q`).
 * This backend is the reference of the conformance suite.
 */
import {
  compareCodePoints,
  foldAscii,
  keySignalBytes,
  share,
  KEY_SORT,
  LOG_SORT,
  METRIC_SORT,
  SERVICE_SORT,
  SPAN_KINDS,
  SPAN_SORT,
  TEMPLATE_SORT,
  TEMPORALITY,
  type KeyItem,
  type KeyQuery,
  type LabelItem,
  type ListResult,
  type LogItem,
  type LogQuery,
  type SeverityItem,
  type MetricItem,
  type MetricQuery,
  type Page,
  type ServiceItem,
  type ServiceQuery,
  type ServiceTotals,
  type SortSpec,
  type SpanItem,
  type SpanQuery,
  type TemplateItem,
  type TemplateQuery,
  type Windowed,
} from '../queries.js';
import type { StoreQueries } from '../store.js';
import type { SeriesEstimateQuery, SeriesEstimateRaw } from '../series-estimates.js';
import type { MemoryEstimates } from './series-estimates.js';
import { type ChangeLists, type ChangesQuery, type HistoryKind, type HistorySum, type SeriesPoint, type SeriesQuery, type VersionItem, type Window } from '../history.js';
import { entityKey } from '../../model/delta.js';
import type { MemoryHistory } from './history.js';
import type { KeyRec, LogRec, MetricRec, Records, ServiceRec, SpanRec, TableName, Tables, TemplateRec } from './tables.js';
import { list, tieComparator } from './list.js';
import { TieOrder } from './tie-order.js';
import { TextIndex } from './text-index.js';
import { windowList, windowView, type WindowView, type WindowedSpec } from './window-view.js';
import { freshList, freshListAnswers } from './fresh-list.js';
import { EntryColumns } from './entry-columns.js';

const HAS_CAPITAL = /[A-Z]/;

/** `q` as SQLite's `LIKE '%q%'`: a substring, ASCII letters compared case-insensitively. */
function matcher(q: string | undefined): (s: string) => boolean {
  if (q === undefined) return () => true;
  const needle = foldAscii(q);
  // The needle is folded, so where `s` holds it as is, its fold does too; only a text with capitals is folded first
  // (100,000 keys matched through a fold each: 78 ms a list, most of it the regular expression's replace).
  return (s) => s.includes(needle) || (HAS_CAPITAL.test(s) && foldAscii(s).includes(needle));
}

/** No filter given: a list keeps every row without asking each. */
const none = (...filters: unknown[]) => filters.every((f) => f === undefined);

const eq = <V>(want: V | undefined) => (v: V) => want === undefined || v === want;
/** The severity filter matches whatever the case (ASCII), as SQLite's COLLATE NOCASE. */
const eqNoCase = (want: string | undefined) => {
  const w = want === undefined ? undefined : foldAscii(want);
  return (v: string) => w === undefined || foldAscii(v) === w;
};

/** Window views kept for one store state (cachedView). */
const KEPT_VIEWS = 6;
/** Answers of freshList kept for one store state: /changes asks four (each a page of at most 1,000 rows). */
const KEPT_ANSWERS = 16;

const NO_BYTES = { log_bytes: 0, span_bytes: 0, metric_bytes: 0 };
type Bytes = typeof NO_BYTES;

/** How a table's rows meet the history: the kind, the entity's (name, sub) and the count column a window replaces. */
const WINDOWED: { [T in Exclude<TableName, 'services' | 'labels'>]: { kind: HistoryKind; entity: (r: Records[T]) => [string, string]; count: 'count' | 'sample_count' } } = {
  logs: { kind: 'log', entity: (r) => [r.severity, ''], count: 'sample_count' },
  templates: { kind: 'template', entity: (r) => [r.severity, String(r.template_id)], count: 'count' },
  metrics: { kind: 'metric', entity: (r) => [r.name, ''], count: 'sample_count' },
  spans: { kind: 'span', entity: (r) => [r.name, String(r.kind)], count: 'sample_count' },
  keys: { kind: 'key', entity: (r) => [r.scope, r.key], count: 'sample_count' },
};

export class MemoryQueries implements StoreQueries {
  /** Window views of the current store state (cachedView), by question, oldest first; and that state. */
  private readonly views = new Map<string, WindowView<Records[TableName]>>();
  private viewsAt = '';
  /** Lists of what is new (freshList) of the current store state, by question: a page refreshed in the same state asks again. */
  private readonly answers = new Map<string, ListResult<unknown>>();
  /** Per windowed table, its rows' tie-break order (src/store/memory/tie-order.ts), made on its first windowed list. */
  private readonly orders = new Map<TableName, TieOrder<TableName>>();
  /** Per windowed table, its entries' first_seen and entity slots in tie-break order (entry-columns.ts), made on its first windowed walk. */
  private readonly entryColumns = new Map<TableName, EntryColumns<TableName>>();
  /** Per table, its text filter's index (src/store/memory/text-index.ts), made on its first windowed list filtered by text. */
  private readonly texts = new Map<TableName, TextIndex>();
  /** The denominators of bytes_percentage for the query being answered: all-time, or the window's. */
  private denominators: (name: string) => Bytes = (name) => this.t.get('services', name) ?? NO_BYTES;

  constructor(
    private readonly t: Tables,
    private readonly h: MemoryHistory,
    private readonly versionRows: Map<string, VersionItem>,
    private readonly estimates: MemoryEstimates,
    /** The plain form of windowed lists (every active row copied with its sums): the reference the tests compare with. */
    private readonly plain = false,
  ) {}

  async seriesEstimates(q: SeriesEstimateQuery): Promise<SeriesEstimateRaw> {
    return this.estimates.query(q);
  }

  private service(name: string): Bytes {
    return this.denominators(name);
  }

  /**
   * A table's rows for query `q`: all of them, or (with a window) those active
   * in it with their counts and bytes replaced by the window's sums; and
   * first_seen >= firstSeenFrom. Also sets the denominators for the window.
   */
  private view<T extends Exclude<TableName, 'labels'>>(table: T, q: Windowed, service?: string): Records[T][] {
    const min = q.firstSeenFrom;
    const keep = (r: { first_seen: number }) => min === undefined || r.first_seen >= min;
    if (!q.window) {
      this.denominators = (name) => this.t.get('services', name) ?? NO_BYTES;
      const rows = this.t.rowArray(table);
      return min === undefined ? rows : rows.filter(keep);
    }
    const services = this.windowServices(q.window, service);
    this.denominators = (name) => services.get(name) ?? NO_BYTES;
    if (table === 'services') return [...services.values()].filter(keep) as Records[T][];
    const spec = WINDOWED[table as Exclude<T, 'services'>] as unknown as { kind: HistoryKind; entity: (r: Records[T]) => [string, string]; count: string };
    const out: Records[T][] = [];
    if (min !== undefined) {
      // What is new since `min` (/changes): few rows pass first_seen, so only their entities' sums are read (100,000
      // keys: every entity's sums and a Map of them were ~100 ms a list, for none of them new on a steady store).
      if (!this.t.mayHaveFirstSeenFrom(table, min)) return out;
      const r = this.h.resolve(q.window);
      for (const row of this.t.rowArray(table)) {
        if (row.first_seen < min || (service !== undefined && (row as { service: string }).service !== service)) continue;
        const [name, sub] = spec.entity(row);
        const s = this.h.sumOf(spec.kind, (row as { service: string }).service, name, sub, r);
        if (s) out.push({ ...row, [spec.count]: s.count, bytes: s.bytes });
      }
      return out;
    }
    const sums = new Map<string, HistorySum>();
    for (const s of this.h.sums({ kind: spec.kind, service }, q.window)) sums.set(entityKey(s.service, s.name, s.sub), s);
    for (const r of this.t.rows(table)) {
      const [name, sub] = spec.entity(r);
      const s = sums.get(entityKey((r as { service: string }).service, name, sub));
      if (s && keep(r)) out.push({ ...r, [spec.count]: s.count, bytes: s.bytes });
    }
    return out;
  }

  /**
   * A list of `table`'s rows that `keep` passes (undefined: all) and whose `text` column holds `text.q` (matcher()):
   * in a window through windowList (src/store/memory/window-view.ts), the text matched in the table's TextIndex when
   * the column is one of the row's key (never changes while the row lives), else (or `plain`) over view()'s rows.
   * `keep` reads only the rows' own columns, never a window's sums.
   */
  private listOf<T extends Exclude<TableName, 'services' | 'labels'>, R extends object, I>(
    table: T, q: Windowed & { page: Page }, service: string | undefined, only: ((r: Records[T]) => boolean) | undefined,
    text: { column: string; q: string | undefined; key: boolean }, spec: SortSpec,
    derive: (r: Records[T]) => R, derived: readonly string[], map: (r: R) => I,
  ): ListResult<I> {
    const like = matcher(text.q);
    const column = text.column;
    const keep = text.q === undefined ? only : (r: Records[T]) => like((r as unknown as Record<string, string>)[column]!) && (!only || only(r));
    if (!q.window && !this.plain && service !== undefined) {
      // One service's rows, from the table's entries by service (Tables.serviceEntries): reading each row's own
      // field, among their sketches, took a service's overview on 100,000 keys ~125 ms; each entry's copy of the
      // service, 15–22 ms a list in the server.
      this.denominators = (name) => this.t.get('services', name) ?? NO_BYTES;
      const min = q.firstSeenFrom;
      const rows: Array<Records[T]> = [];
      for (const e of this.t.serviceEntries(table, service)) if (min === undefined || e.firstSeen >= min) rows.push(e.row);
      return list(keep ? rows.filter(keep) : rows, spec, q.page, derive, derived, map);
    }
    if (!q.window || this.plain) {
      const rows = this.view(table, q, service);
      return list(keep ? rows.filter(keep) : rows, spec, q.page, derive, derived, map);
    }
    const services = this.windowServices(q.window, service);
    this.denominators = (name) => services.get(name) ?? NO_BYTES;
    const min = q.firstSeenFrom;
    const windowed = WINDOWED[table] as unknown as WindowedSpec<Records[T]>;
    if (min !== undefined && text.q === undefined && freshListAnswers(spec, q.page, windowed.count)) {
      // What is new in the window (/changes), by its count or bytes: one walk, sums from the kept edges (fresh-list.ts).
      // The question (its page and filters; no text) with its window as resolved is the key: `keep` and the
      // denominators are made of it. Not the window as asked: /changes' `until` is now + 1 min, another at every call.
      this.atState();
      const r = this.h.resolve(q.window);
      const key = JSON.stringify([table, { ...q, window: r }]);
      const hit = this.answers.get(key);
      if (hit) return hit as ListResult<I>;
      const order = this.tieOrder(table, spec);
      order.number();
      const answer = freshList(this.t, this.h, table, windowed, r, service, min, keep, spec, q.page, derive, map, order, this.columns(table));
      this.answers.set(key, answer);
      if (this.answers.size > KEPT_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
      return answer;
    }
    const v = this.cachedView(table, spec, q.window, service, min);
    const needle = text.q === undefined ? undefined : foldAscii(text.q);
    if (needle !== undefined && text.key && TextIndex.answers(needle)) {
      // cachedView numbered the tie order just now: the index's ranks are the view's.
      const order = this.orders.get(table)!;
      let index = this.texts.get(table);
      if (!index) this.texts.set(table, (index = new TextIndex(column)));
      return windowList(v, only, spec, q.page, derive, derived, map, index.matches(needle, order.entries(), order.generation));
    }
    return windowList(v, keep, spec, q.page, derive, derived, map);
  }

  /** Drops the kept views and answers when the store's state moved since they were made. */
  private atState(): void {
    const state = `${this.t.version}:${this.h.version}`;
    if (state !== this.viewsAt) {
      this.views.clear();
      this.answers.clear();
      this.viewsAt = state;
    }
  }

  /**
   * A window view (src/store/memory/window-view.ts), computed once per store state: a page asks several lists of
   * one table in one window (the overview: the total, the top by cardinality, the newest), and ingest changes the
   * state at most once a commit. Keyed by the question and valid while neither the rows (Tables.version) nor the
   * history (MemoryHistory.version) changed; a few kept (each is three arrays the table's length).
   */
  private cachedView<T extends Exclude<TableName, 'services' | 'labels'>>(table: T, spec: SortSpec, w: Window, service: string | undefined, min: number | undefined): WindowView<Records[T]> {
    const r = this.h.resolve(w);
    this.atState();
    // A window ending after the newest minute (the UI's: up to now) has the same sums whatever its end, so its view
    // outlives the minute's turn: each new `to` made all 100,000 keys' view again (40–90 ms for the call that met it).
    const to = r.to > this.h.newest ? 'open' : r.to;
    const key = JSON.stringify([table, r.from, to, service ?? null, min ?? null]);
    const hit = this.views.get(key);
    if (hit) return hit as WindowView<Records[T]>;
    const order = this.tieOrder(table, spec);
    order.number();
    const v = windowView(this.t, this.h, table, WINDOWED[table] as unknown as WindowedSpec<Records[T]>, r, service, min, order, this.columns(table));
    this.views.set(key, v as WindowView<Records[TableName & keyof Records]>);
    if (this.views.size > KEPT_VIEWS) this.views.delete(this.views.keys().next().value!);
    return v;
  }

  /** A table's entry columns (src/store/memory/entry-columns.ts), made on its first windowed walk. */
  private columns<T extends Exclude<TableName, 'services' | 'labels'>>(table: T): EntryColumns<T> {
    let cols = this.entryColumns.get(table) as EntryColumns<T> | undefined;
    if (!cols) this.entryColumns.set(table, (cols = new EntryColumns<T>()) as unknown as EntryColumns<TableName>);
    return cols;
  }

  /** A table's tie order (src/store/memory/tie-order.ts), made on its first windowed list. */
  private tieOrder<T extends Exclude<TableName, 'services' | 'labels'>>(table: T, spec: SortSpec): TieOrder<T> {
    let order = this.orders.get(table) as TieOrder<T> | undefined;
    if (!order) {
      order = new TieOrder<T>(this.t, table, tieComparator(spec));
      this.orders.set(table, order as unknown as TieOrder<TableName>);
    }
    return order;
  }

  /** Each service's counts and bytes per signal in a window (only services active in it). */
  private windowServices(w: Window, service: string | undefined): Map<string, ServiceRec> {
    const out = new Map<string, ServiceRec>();
    const fields = { log: ['log_records', 'log_bytes'], span: ['spans', 'span_bytes'], metric: ['metric_points', 'metric_bytes'] } as const;
    for (const kind of ['log', 'span', 'metric'] as const) {
      for (const s of this.h.sums({ kind, service }, w)) {
        const base = this.t.get('services', s.service);
        if (!base) continue;
        let r = out.get(s.service);
        if (!r) {
          r = { ...base, log_records: 0, spans: 0, metric_points: 0, log_bytes: 0, span_bytes: 0, metric_bytes: 0 };
          out.set(s.service, r);
        }
        const [c, b] = fields[kind];
        r[c] += s.count;
        r[b] += s.bytes;
      }
    }
    return out;
  }

  async historyChanges(q: ChangesQuery): Promise<ChangeLists> {
    const lists = this.plain ? this.h.changesPlain(q) : this.h.changes(q);
    if (q.kind === 'template') {
      for (const c of [...lists.rose, ...lists.fell]) {
        const t = this.t.get('templates', entityKey(c.service, c.name, Number(c.sub)));
        if (t) c.template = t.template;
      }
    }
    return lists;
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    return this.h.series(q);
  }

  async versions(service: string): Promise<VersionItem[]> {
    return [...this.versionRows.values()]
      .filter((v) => v.service === service)
      .sort((a, b) => a.first_seen - b.first_seen || compareCodePoints(a.version, b.version))
      .map((v) => ({ ...v }));
  }

  async services(q: ServiceQuery): Promise<ListResult<ServiceItem>> {
    const name = eq(q.name);
    const like = matcher(q.q);
    const view = this.view('services', q, q.name);
    let all = 0;
    for (const r of view) all += r.log_bytes + r.span_bytes + r.metric_bytes;
    const rows = view.filter((r) => name(r.name) && like(r.name));
    const derive = (r: ServiceRec) => {
      const bytes = r.log_bytes + r.span_bytes + r.metric_bytes;
      return { ...r, bytes, bytes_percentage: share(bytes, all) };
    };
    return list(rows, SERVICE_SORT, q.page, derive, ['bytes', 'bytes_percentage'], (s) => {
      return {
        name: s.name, log_records: s.log_records, spans: s.spans, metric_points: s.metric_points,
        log_bytes: s.log_bytes, span_bytes: s.span_bytes, metric_bytes: s.metric_bytes, bytes: s.bytes, bytes_percentage: s.bytes_percentage,
        first_seen: s.first_seen, last_seen: s.last_seen,
      };
    });
  }

  async serviceTotals(service: string): Promise<ServiceTotals> {
    const count = <T extends { service: string }>(it: Iterable<T>, f: (r: T) => number = () => 1) => {
      let n = 0;
      for (const r of it) if (r.service === service) n += f(r);
      return n;
    };
    if (this.plain) {
      return {
        severities: count(this.t.rows('logs')),
        templates: count(this.t.rows('templates')),
        metrics: count(this.t.rows('metrics')),
        series_estimate: count(this.t.rows('metrics'), (r) => r.series_estimate),
        prometheus_series: count(this.t.rows('metrics'), (r) => r.prometheus_series),
        span_names: count(this.t.rows('spans')),
        keys: count(this.t.rows('keys')),
      };
    }
    // The service's own entries (Tables.serviceEntries): counted by their sets' sizes, its metrics' estimates summed.
    let series = 0;
    let prometheus = 0;
    for (const e of this.t.serviceEntries('metrics', service)) {
      series += e.row.series_estimate;
      prometheus += e.row.prometheus_series;
    }
    return {
      severities: this.t.serviceCount('logs', service),
      templates: this.t.serviceCount('templates', service),
      metrics: this.t.serviceCount('metrics', service),
      series_estimate: series,
      prometheus_series: prometheus,
      span_names: this.t.serviceCount('spans', service),
      keys: this.t.serviceCount('keys', service),
    };
  }

  async metrics(q: MetricQuery): Promise<ListResult<MetricItem>> {
    const service = eq(q.service);
    const name = eq(q.name);
    const type = eq<string>(q.type);
    const min = q.minCardinality;
    const keep = none(q.service, q.name, q.type, min) ? undefined : (r: MetricRec) => service(r.service) && name(r.name) && type(r.type) && (min === undefined || r.series_estimate >= min);
    const derive = (r: MetricRec) => ({ ...r, bytes_percentage: share(r.bytes, this.service(r.service).metric_bytes) });
    return this.listOf('metrics', q, q.service, keep, { column: 'name', q: q.q, key: true }, METRIC_SORT, derive, ['bytes_percentage'], (r) => {
      return {
        service: r.service,
        name: r.name,
        type: r.type,
        unit: r.unit,
        description: r.description,
        monotonic: r.monotonic,
        temporality: TEMPORALITY[r.temporality] ?? 'unspecified',
        label_keys: [...r.label_keys],
        resource_keys: [...r.resource_keys],
        sample_count: r.sample_count,
        bytes: r.bytes,
        bytes_percentage: r.bytes_percentage,
        sdk_overflow: r.overflow_points > 0,
        overflow_points: r.overflow_points,
        bucket_count: r.bucket_count,
        series_estimate: r.series_estimate,
        prometheus_series: r.prometheus_series,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      };
    });
  }

  async metricLabels(service: string, metric: string): Promise<LabelItem[]> {
    const rows = [...this.t.rows('labels')].filter((r) => r.service === service && r.metric === metric);
    rows.sort((a, b) => b.cardinality_estimate - a.cardinality_estimate || compareCodePoints(a.key, b.key));
    // Labels are all-time (not windowed), so their denominator is too.
    const whole = (this.t.get('services', service) ?? NO_BYTES).metric_bytes;
    return rows.map((r) => ({
      key: r.key, sample_count: r.sample_count, bytes: r.bytes, bytes_percentage: share(r.bytes, whole),
      cardinality_estimate: r.cardinality_estimate, first_seen: r.first_seen, last_seen: r.last_seen,
    }));
  }

  async spans(q: SpanQuery): Promise<ListResult<SpanItem>> {
    const service = eq(q.service);
    const kind = eq(q.kind);
    const keep = none(q.service, q.kind) ? undefined : (r: SpanRec) => service(r.service) && kind(r.kind);
    const derive = (r: SpanRec) => ({ ...r, bytes_percentage: share(r.bytes, this.service(r.service).span_bytes) });
    return this.listOf('spans', q, q.service, keep, { column: 'name', q: q.q, key: true }, SPAN_SORT, derive, ['bytes_percentage'], (r) => {
      return {
        service: r.service,
        name: r.name,
        kind: SPAN_KINDS[r.kind] ?? 'unspecified',
        attribute_keys: [...r.attribute_keys],
        resource_keys: [...r.resource_keys],
        event_names: [...r.event_names],
        sample_count: r.sample_count,
        bytes: r.bytes,
        bytes_percentage: r.bytes_percentage,
        status_ok: r.status_ok,
        status_error: r.status_error,
        status_unset: r.status_unset,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      };
    });
  }

  async logs(q: LogQuery): Promise<ListResult<LogItem>> {
    const service = eq(q.service);
    const severity = eqNoCase(q.severity);
    const keep = none(q.service, q.severity) ? undefined : (r: LogRec) => service(r.service) && severity(r.severity);
    const derive = (r: LogRec) => ({ ...r, bytes_percentage: share(r.bytes, this.service(r.service).log_bytes) });
    return this.listOf('logs', q, q.service, keep, { column: 'severity', q: undefined, key: true }, LOG_SORT, derive, ['bytes_percentage'], (r) => {
      return {
        service: r.service,
        severity: r.severity,
        attribute_keys: [...r.attribute_keys],
        resource_keys: [...r.resource_keys],
        body_keys: [...r.body_keys],
        sample_count: r.sample_count,
        bytes: r.bytes,
        bytes_percentage: r.bytes_percentage,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      };
    });
  }

  async severities(service: string | undefined): Promise<SeverityItem[]> {
    const sums = new Map<string, number>();
    // One service's rows from its entries (Tables.serviceEntries); the plain reference reads every row.
    const rows = service === undefined || this.plain ? this.t.rows('logs') : [...this.t.serviceEntries('logs', service)].map((e) => e.row);
    for (const r of rows) if (service === undefined || r.service === service) sums.set(r.severity, (sums.get(r.severity) ?? 0) + r.sample_count);
    return [...sums].sort((a, b) => compareCodePoints(a[0], b[0])).map(([severity, sample_count]) => ({ severity, sample_count }));
  }

  async templates(q: TemplateQuery): Promise<ListResult<TemplateItem>> {
    // The denominator is the whole (service, severity), whatever `q` leaves (as in the SQL backends): first_seen
    // too is a filter of the rows, not of the denominator (/changes' new templates: 25% of 4 new lines was shown
    // where SQLite said 5% of the severity's 20). In a window it is the severity's window sum (its `log` entity,
    // which its templates add up to, as SQLite's `severities`): the rows can then be only those first seen since.
    const seen = q.firstSeenFrom;
    // By service, then severity: no key string built per row.
    const sums = new Map<string, Map<string, number>>();
    const add = (service: string, severity: string, n: number) => {
      let bySeverity = sums.get(service);
      if (!bySeverity) sums.set(service, (bySeverity = new Map()));
      bySeverity.set(severity, (bySeverity.get(severity) ?? 0) + n);
    };
    if (q.window) for (const s of this.h.sums({ kind: 'log', service: q.service }, q.window)) add(s.service, s.name, s.count);
    else if (q.service !== undefined && !this.plain) {
      // Only that service's rows are listed: only its severities' sums are needed (its 1,000 rows, not 20,000).
      for (const e of this.t.serviceEntries('templates', q.service)) add(e.row.service, e.row.severity, e.row.count);
    } else for (const r of this.t.rows('templates')) add(r.service, r.severity, r.count);
    const service = eq(q.service);
    const severity = eqNoCase(q.severity);
    const keep = none(q.service, q.severity, q.templateId, seen) ? undefined : (r: TemplateRec) => service(r.service) && severity(r.severity) && (q.templateId === undefined || r.template_id === q.templateId) &&
      (seen === undefined || r.first_seen >= seen);
    const derive = (r: TemplateRec) => {
      const sum = sums.get(r.service)?.get(r.severity) ?? 0;
      return { ...r, percentage: sum === 0 ? 0 : (100.0 * r.count) / sum, bytes_percentage: share(r.bytes, this.service(r.service).log_bytes) };
    };
    // A template's text can change while its row lives (the miner generalizes it): matched row by row, no index.
    return this.listOf('templates', q, q.service, keep, { column: 'template', q: q.q, key: false }, TEMPLATE_SORT, derive, ['percentage', 'bytes_percentage'], (r) => {
      return {
        service: r.service,
        severity: r.severity,
        template_id: r.template_id,
        template: r.template,
        count: r.count,
        percentage: r.percentage,
        bytes: r.bytes,
        bytes_percentage: r.bytes_percentage,
        example: r.example,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      };
    });
  }

  async keys(q: KeyQuery): Promise<ListResult<KeyItem>> {
    const service = eq(q.service);
    const scope = eq<string>(q.scope);
    const min = q.minCardinality;
    const keep = none(q.service, q.scope, min) ? undefined : (r: KeyRec) => service(r.service) && scope(r.scope) && (min === undefined || r.cardinality_estimate >= min);
    const derive = (r: KeyRec) => ({ ...r, bytes_percentage: share(r.bytes, keySignalBytes(r.scope, this.service(r.service))) });
    return this.listOf('keys', q, q.service, keep, { column: 'key', q: q.q, key: true }, KEY_SORT, derive, ['bytes_percentage'], (r) => {
      return {
        service: r.service, scope: r.scope, key: r.key, sample_count: r.sample_count, bytes: r.bytes, bytes_percentage: r.bytes_percentage,
        cardinality_estimate: r.cardinality_estimate, first_seen: r.first_seen, last_seen: r.last_seen,
      };
    });
  }
}
