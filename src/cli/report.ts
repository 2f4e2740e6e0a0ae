/**
 * `keytally report`: the top keys by cardinality, metrics by series and log
 * templates of a store, as text, JSON or Markdown — and a CI gate: exit 0
 * within limits, 1 past a warning limit, 2 past a failure limit.
 *
 * It reads through the same query code as the API (src/api), on its own
 * read-only connection, so it can run beside a live sidecar.
 */
import { parseArgs } from 'node:util';
import { handleApiRequest } from '../api/router.js';
import type { ReadStore } from '../store/store.js';
import { dbPath } from '../store/sqlite/connection.js';
import { SqliteReadStore } from '../store/sqlite/read.js';
import { checkSqliteStoreFile } from '../store/sqlite/check.js';
import { PathError } from '../util/paths.js';

const USAGE = `usage: keytally report [--data DIR | --store-url sqlite:PATH] [options]

Prints the top keys by cardinality, the top metrics by Prometheus series (prometheus_series, what
--max-series checks) and the top log templates by count; every metric and key is checked against the limits.

  --data DIR                  data directory of a keytally store (default ./keytally-data)
  --store-url URL             sqlite:/path/to/keytally.db (or a plain path to the .db file); not with --data
  --service NAME              only this service (exit 2 if the store has no such service)
  --top N                     rows per section, 1-10000 (default 10)
  --format text|json|markdown (default text)
  --warn-series N             warn when a metric's Prometheus series estimate exceeds N
  --max-series N              fail when a metric's Prometheus series estimate exceeds N
  --warn-key-cardinality N    warn when a key's cardinality estimate exceeds N
  --max-key-cardinality N     fail when a key's cardinality estimate exceeds N
  --since T                   report the window from T (unix ms or RFC 3339) to --until, and what changed in it
  --until T                   end of the window (default now)
  --warn-bytes-per-day N      warn when a service sends more than N protobuf bytes a day
  --max-bytes-per-day N       fail when a service sends more than N protobuf bytes a day
                              (a day's rate over the window: --since..--until, else the last 24 hours)

exit status: 0 within limits, 1 a warning limit crossed, 2 a failure limit crossed (or bad usage)
`;

export interface ReportLimits {
  warnSeries?: number | undefined;
  maxSeries?: number | undefined;
  warnKeyCardinality?: number | undefined;
  maxKeyCardinality?: number | undefined;
  warnBytesPerDay?: number | undefined;
  maxBytesPerDay?: number | undefined;
}

/** The report's window: the top lists and the bytes-per-day rates are of [from, to). */
export interface ReportWindow {
  from: number;
  to: number;
  /** --since was given: the lists are of the window and a Changes section is added. */
  since: boolean;
}

export interface ServiceCost {
  name: string;
  bytes: number;
  bytes_per_day: number;
  log_bytes: number;
  span_bytes: number;
  metric_bytes: number;
}

export interface ReportData {
  window?: ReportWindow | undefined;
  services?: ServiceCost[] | undefined;
  overflow?: Array<{ service: string; name: string; overflow_points: number }> | undefined;
  changes?: any;
  keys: Array<{ service: string; scope: string; key: string; sample_count: number; cardinality_estimate: number }>;
  metrics: Array<{ service: string; name: string; type: string; series_estimate: number; prometheus_series: number; sample_count: number }>;
  templates: Array<{ service: string; severity: string; template: string; count: number; percentage: number; bytes?: number; bytes_percentage?: number }>;
}

export interface Violation {
  level: 'warn' | 'fail';
  what: string;
  value: number;
  limit: number;
}

export interface Report extends ReportData {
  status: 'ok' | 'warn' | 'fail';
  violations: Violation[];
}

/** Checks every metric and key against the limits (not only the top N shown). */
export function evaluate(all: Pick<ReportData, 'keys' | 'metrics' | 'services'>, limits: ReportLimits): Violation[] {
  const out: Violation[] = [];
  const check = (what: string, value: number, warn: number | undefined, max: number | undefined) => {
    if (max !== undefined && value > max) out.push({ level: 'fail', what, value, limit: max });
    else if (warn !== undefined && value > warn) out.push({ level: 'warn', what, value, limit: warn });
  };
  for (const m of all.metrics) check(`metric ${m.service}/${m.name} series`, m.prometheus_series, limits.warnSeries, limits.maxSeries);
  for (const k of all.keys) check(`key ${k.service}/${k.scope}/${k.key} cardinality`, k.cardinality_estimate, limits.warnKeyCardinality, limits.maxKeyCardinality);
  for (const s of all.services ?? []) check(`service ${s.name} bytes per day`, s.bytes_per_day, limits.warnBytesPerDay, limits.maxBytesPerDay);
  return out;
}

export function statusOf(v: Violation[]): Report['status'] {
  return v.some((x) => x.level === 'fail') ? 'fail' : v.length > 0 ? 'warn' : 'ok';
}

async function query(db: ReadStore, path: string, params: Record<string, string | number | undefined>): Promise<any> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const r = await handleApiRequest(db, path, q.toString());
  if (r.status !== 200) throw new Error(`${path}: ${r.body}`);
  return JSON.parse(r.body);
}

/** Reads the report from a store; limits are checked on every row past the smallest limit, not only the top N. */
export async function buildReport(db: ReadStore, top: number, service: string | undefined, limits: ReportLimits, window?: ReportWindow): Promise<Report> {
  // With --since, every list is of the window; otherwise all-time (cardinality and series have no window: they are estimates of sets).
  const w = window?.since ? { from: window.from, to: window.to } : {};
  const keys = (await query(db, '/api/v1/keys', { service, sort: 'cardinality_estimate', order: 'desc', limit: top, ...w })).items;
  const metrics = (await query(db, '/api/v1/metrics', { service, sort: 'prometheus_series', order: 'desc', limit: top, ...w })).items;
  // Templates are ranked by what they cost.
  const templates = (await query(db, '/api/v1/logs/templates', { service, sort: 'bytes', order: 'desc', limit: top, ...w })).items;
  const services = window ? await serviceCosts(db, service, window) : undefined;
  const overflow = (await pageAll(db, '/api/v1/metrics', { service, sort: 'overflow_points', order: 'desc' }, (m) => m.overflow_points > 0)).map((m) => ({
    service: m.service, name: m.name, overflow_points: m.overflow_points,
  }));
  const changes = window?.since ? await query(db, '/api/v1/changes', { since: window.from, until: window.to, service, limit: top }) : undefined;
  // Limits apply to everything over the lowest threshold, so page through those rows only.
  const keyFloor = Math.min(limits.warnKeyCardinality ?? Infinity, limits.maxKeyCardinality ?? Infinity);
  const seriesFloor = Math.min(limits.warnSeries ?? Infinity, limits.maxSeries ?? Infinity);
  const overKeys = Number.isFinite(keyFloor) ? await pageAll(db, '/api/v1/keys', { service, min_cardinality: keyFloor + 1, sort: 'cardinality_estimate', order: 'desc' }) : [];
  const overMetrics = Number.isFinite(seriesFloor)
    ? await pageAll(db, '/api/v1/metrics', { service, sort: 'prometheus_series', order: 'desc' }, (m) => m.prometheus_series > seriesFloor)
    : [];
  const violations = evaluate({ keys: overKeys, metrics: overMetrics, services }, limits);
  return { window, services, overflow, changes, keys, metrics, templates, violations, status: statusOf(violations) };
}

/** Every service's bytes in the window and its rate per day, biggest first. */
async function serviceCosts(db: ReadStore, service: string | undefined, w: ReportWindow): Promise<ServiceCost[]> {
  const days = Math.max(w.to - w.from, 60_000) / 86_400_000;
  const rows = await pageAll(db, '/api/v1/services', { sort: 'bytes', order: 'desc', from: w.from, to: w.to });
  return rows
    .filter((s) => service === undefined || s.name === service)
    .map((s) => ({ name: s.name, bytes: s.bytes, bytes_per_day: Math.round(s.bytes / days), log_bytes: s.log_bytes, span_bytes: s.span_bytes, metric_bytes: s.metric_bytes }));
}

async function pageAll(db: ReadStore, path: string, params: Record<string, string | number | undefined>, keepGoing: (row: any) => boolean = () => true): Promise<any[]> {
  const out: any[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const page = await query(db, path, { ...params, limit: 10_000, offset });
    for (const row of page.items) {
      if (!keepGoing(row)) return out;
      out.push(row);
    }
    if (page.items.length < 10_000) return out;
  }
}

/**
 * Text as markdown inline content that renders as itself: a backslash before every character GFM could
 * read as markup (`<NUM>` would be raw HTML and vanish, `*x*` emphasis, `&amp;` an entity, `|` a cell
 * break, `~` strikethrough, `$` math). A newline would end a table row; it is shown as a space.
 */
export function markdownText(s: string): string {
  return s.replace(/[\\`*_{}[\]<>()#+!|~&$]/g, '\\$&').replace(/\r?\n|\r/g, ' ');
}

function table(headers: string[], rows: Array<Array<string | number>>, markdown: boolean): string {
  const cells = rows.map((r) => r.map(String));
  if (markdown) {
    return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...cells.map((r) => `| ${r.map(markdownText).join(' | ')} |`)].join('\n') + '\n';
  }
  const widths = headers.map((h, i) => Math.min(80, Math.max(h.length, ...cells.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

export function render(r: Report, format: 'text' | 'json' | 'markdown'): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  const md = format === 'markdown';
  const h = (s: string) => (md ? `## ${s}\n\n` : `${s}\n${'='.repeat(s.length)}\n`);
  let out = md ? '# keytally report\n\n' : '';
  if (r.window) out += `window: ${new Date(r.window.from).toISOString()} .. ${new Date(r.window.to).toISOString()}\n\n`;
  if (r.services) {
    out += h('Services by bytes');
    out += table(['service', 'bytes', 'bytes/day', 'logs', 'spans', 'metrics'], r.services.map((s) => [s.name, s.bytes, s.bytes_per_day, s.log_bytes, s.span_bytes, s.metric_bytes]), md);
    out += '\n';
  }
  out += h('Top keys by cardinality');
  out += table(['service', 'scope', 'key', 'cardinality', 'samples'], r.keys.map((k) => [k.service, k.scope, k.key, k.cardinality_estimate, k.sample_count]), md);
  out += '\n' + h('Top metrics by Prometheus series');
  out += table(['service', 'metric', 'type', 'series', 'prometheus series', 'points'], r.metrics.map((m) => [m.service, m.name, m.type, m.series_estimate, m.prometheus_series, m.sample_count]), md);
  out += '\n' + h('Top log templates by bytes');
  out += table(
    ['service', 'severity', 'bytes', 'bytes %', 'count', '%', 'template'],
    r.templates.map((t) => [t.service, t.severity, t.bytes ?? 0, (t.bytes_percentage ?? 0).toFixed(1), t.count, t.percentage.toFixed(1), t.template]),
    md,
  );
  if (r.overflow && r.overflow.length > 0) {
    out += '\n' + h('SDK overflow (otel.metric.overflow=true: the SDK hit its cardinality limit)');
    out += table(['service', 'metric', 'overflow points'], r.overflow.map((m) => [m.service, m.name, m.overflow_points]), md);
  }
  if (r.changes) {
    const c = r.changes;
    out += '\n' + h('Changes in the window');
    const fresh = [
      ...c.new.templates.map((t: any) => ['new template', t.service, t.template, t.bytes]),
      ...c.new.keys.map((x: any) => ['new key', x.service, `${x.scope}/${x.key}`, x.bytes]),
      ...c.new.metrics.map((x: any) => ['new metric', x.service, x.name, x.bytes]),
      ...c.new.spans.map((x: any) => ['new span', x.service, x.name, x.bytes]),
      ...c.rose.map((x: any) => ['rose', x.service, x.label, x.bytes_change]),
      ...c.fell.map((x: any) => ['fell', x.service, x.label, x.bytes_change]),
    ];
    out += fresh.length === 0 ? 'nothing new, nothing moved\n' : table(['change', 'service', 'what', 'bytes'], fresh, md);
  }
  out += '\n' + h(`Limits: ${r.status.toUpperCase()}`);
  out += r.violations.length === 0 ? 'all within limits\n' : r.violations.map((v) => (md ? `- ${markdownText(`${v.level.toUpperCase()}: ${v.what} ${v.value} > ${v.limit}`)}` : `${v.level.toUpperCase()}: ${v.what} ${v.value} > ${v.limit}`)).join('\n') + '\n';
  return out;
}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

class UsageError extends Error {}

/** A --since/--until value: unix ms or RFC 3339. */
function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || !Number.isFinite(ms)) throw new UsageError(`--${name} must be unix milliseconds or an RFC 3339 time, got "${v}"`);
  return ms;
}

/** A one-shot reader: SQLite's own defaults are right for it. */
const READ_TUNING = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 5000, walAutocheckpointPages: 1000, walLimitMb: 64 };

export async function runReport(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        'store-url': { type: 'string' },
        service: { type: 'string' },
        top: { type: 'string' },
        format: { type: 'string' },
        'warn-series': { type: 'string' },
        'max-series': { type: 'string' },
        'warn-key-cardinality': { type: 'string' },
        'max-key-cardinality': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'warn-bytes-per-day': { type: 'string' },
        'max-bytes-per-day': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json' && format !== 'markdown') throw new UsageError(`--format must be text, json or markdown, got "${format}"`);
    let file: string;
    const url = values['store-url'];
    if (url !== undefined && values.data !== undefined) throw new UsageError('--data and --store-url both name a store: give one');
    if (url !== undefined) {
      if (/^(postgres|postgresql|clickhouse):/.test(url)) throw new UsageError(`only SQLite stores are supported by this version, not ${url.split(':')[0]}`);
      file = url.replace(/^sqlite:(\/\/)?/, '');
    } else {
      file = dbPath(values.data ?? './keytally-data');
    }
    checkSqliteStoreFile(file, url !== undefined ? '--store-url' : '--data');
    const limits: ReportLimits = {
      warnSeries: positive('warn-series', values['warn-series']),
      maxSeries: positive('max-series', values['max-series']),
      warnKeyCardinality: positive('warn-key-cardinality', values['warn-key-cardinality']),
      maxKeyCardinality: positive('max-key-cardinality', values['max-key-cardinality']),
      warnBytesPerDay: positive('warn-bytes-per-day', values['warn-bytes-per-day']),
      maxBytesPerDay: positive('max-bytes-per-day', values['max-bytes-per-day']),
    };
    const until = time('until', values.until) ?? Date.now();
    const since = time('since', values.since);
    if (since !== undefined && since >= until) throw new UsageError(`--since must be before --until`);
    const byBytes = limits.warnBytesPerDay !== undefined || limits.maxBytesPerDay !== undefined;
    // Bytes per day need a window: --since..--until, else the last 24 hours.
    const window: ReportWindow | undefined =
      since !== undefined ? { from: since, to: until, since: true } : byBytes || values.until !== undefined ? { from: until - 86_400_000, to: until, since: false } : undefined;
    const top = positive('top', values.top) ?? 10;
    if (top < 1 || top > 10_000) throw new UsageError(`--top must be between 1 and 10000, got ${top}`);
    const db = new SqliteReadStore('', READ_TUNING, file);
    try {
      // A misspelt service must not pass a gate with empty tables.
      if (values.service !== undefined && (await handleApiRequest(db, `/api/v1/services/${encodeURIComponent(values.service)}/overview`, 'top=0')).status !== 200) {
        throw new UsageError(`no service "${values.service}" in the store ${file}`);
      }
      const report = await buildReport(db, top, values.service, limits, window);
      process.stdout.write(render(report, format));
      return report.status === 'fail' ? 2 : report.status === 'warn' ? 1 : 0;
    } finally {
      await db.close();
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof PathError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keytally report: ${(err as Error).message} (keytally report --help for usage)\n`);
      return 2;
    }
    throw err;
  }
}
