import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleApiRequest } from '../../src/api/router.js';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { dbPath } from '../../src/store/sqlite/connection.js';
import { SqliteReadStore } from '../../src/store/sqlite/read.js';

const TUNING = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 16 };

let dir: string;
let db: SqliteReadStore;

/** A small but varied store: three services, every table, names with dots and slashes, LIKE metacharacters. */
function seed(w: Database.Database): void {
  const svc = w.prepare(`INSERT INTO services (name, log_records, spans, metric_points, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)`);
  svc.run('checkout', 100, 50, 3500, 1000, 9000);
  svc.run('cart', 5, 1, 100, 2000, 3000);
  svc.run('web/frontend', 0, 0, 0, 500, 600);

  const metric = w.prepare(`INSERT INTO metrics_metadata (service, name, type, unit, description, monotonic, temporality,
    label_keys, resource_keys, sample_count, bucket_count, series_estimate, prometheus_series, series_sketch, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`);
  metric.run('checkout', 'http.server.duration', 'histogram', 'ms', 'request latency', 0, 2, '["http.method","http.route"]', '["service.name"]', 1000, 10, 120, 1440, 1000, 9000);
  metric.run('checkout', 'app/jobs/queue_depth', 'gauge', '1', '', 0, 0, '["queue"]', '[]', 300, 0, 5, 5, 1100, 8000);
  metric.run('checkout', 'rpc.calls', 'sum', '{call}', 'calls', 1, 2, '[]', '[]', 2000, 0, 40, 40, 1200, 8500);
  metric.run('cart', 'http.server.duration', 'histogram', 'ms', '', 0, 1, '["http.method"]', '[]', 100, 10, 10, 120, 2000, 3000);

  const label = w.prepare(`INSERT INTO metric_label_keys (service, metric, key, sample_count, cardinality_estimate, sketch, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`);
  label.run('checkout', 'http.server.duration', 'http.method', 1000, 5, 1000, 9000);
  label.run('checkout', 'http.server.duration', 'http.route', 1000, 100, 1000, 9000);
  label.run('cart', 'http.server.duration', 'http.method', 100, 3, 2000, 3000);

  const span = w.prepare(`INSERT INTO spans_metadata (service, name, kind, attribute_keys, resource_keys, event_names, sample_count,
    status_unset, status_ok, status_error, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  span.run('checkout', 'GET /checkout', 2, '["http.method"]', '["service.name"]', '["exception"]', 30, 25, 3, 2, 1000, 9000);
  span.run('checkout', 'db.query', 3, '["db.system"]', '[]', '[]', 15, 15, 0, 0, 1000, 9000);
  span.run('checkout', 'process_order', 1, '[]', '[]', '[]', 5, 5, 0, 0, 1000, 9000);
  span.run('cart', 'GET /cart', 2, '[]', '[]', '[]', 1, 1, 0, 0, 2000, 3000);

  const log = w.prepare(`INSERT INTO logs_metadata (service, severity, attribute_keys, resource_keys, body_keys, sample_count, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  log.run('checkout', 'INFO', '["user.id"]', '["service.name"]', '[]', 90, 1000, 9000);
  log.run('checkout', 'ERROR', '[]', '[]', '["msg"]', 10, 1000, 9000);
  log.run('cart', 'INFO', '[]', '[]', '[]', 5, 2000, 3000);

  const tpl = w.prepare(`INSERT INTO body_templates (service, severity, template_id, template, count, example, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  tpl.run('checkout', 'INFO', 1, 'user <*> logged in', 60, 'user 42 logged in', 1000, 9000);
  tpl.run('checkout', 'INFO', 2, 'order <*> placed', 20, 'order 7 placed', 1000, 9000);
  tpl.run('checkout', 'INFO', 3, 'cache 100% hit_rate', 10, 'cache 100% hit_rate', 1000, 9000);
  tpl.run('checkout', 'INFO', 4, 'cache 1000 hitXrate', 10, 'cache 1000 hitXrate', 1000, 9000);
  tpl.run('checkout', 'ERROR', 1, 'payment failed for <*>', 7, 'payment failed for 9', 1000, 9000);
  tpl.run('checkout', 'ERROR', 2, 'timeout after <*>', 3, 'timeout after 5s', 1000, 9000);
  tpl.run('cart', 'INFO', 1, 'cart <*> updated', 5, 'cart 1 updated', 2000, 3000);

  const key = w.prepare(`INSERT INTO key_metadata (service, scope, key, sample_count, cardinality_estimate, sketch, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`);
  key.run('checkout', 'resource', 'service.name', 3500, 1, 1000, 9000);
  key.run('checkout', 'metric', 'http.route', 1000, 100, 1000, 9000);
  key.run('checkout', 'metric', 'http.method', 1000, 5, 1000, 9000);
  key.run('checkout', 'span', 'http_method', 30, 5, 1000, 9000);
  key.run('checkout', 'log', 'user.id', 90, 80, 1000, 9000);
  key.run('cart', 'resource', 'service.name', 100, 1, 2000, 3000);

  // Bytes: checkout's logs are 10,000 (INFO 9,000 = templates 5,000 + 2,000 + 1,000 + 1,000; ERROR 1,000), spans 3,000, metrics 6,000.
  w.exec(`UPDATE services SET log_bytes = 10000, span_bytes = 3000, metric_bytes = 6000 WHERE name = 'checkout';
    UPDATE services SET log_bytes = 500, span_bytes = 100, metric_bytes = 400 WHERE name = 'cart';
    UPDATE logs_metadata SET bytes = 9000 WHERE service = 'checkout' AND severity = 'INFO';
    UPDATE logs_metadata SET bytes = 1000 WHERE service = 'checkout' AND severity = 'ERROR';
    UPDATE body_templates SET bytes = CASE template_id WHEN 1 THEN 5000 WHEN 2 THEN 2000 ELSE 1000 END WHERE service = 'checkout' AND severity = 'INFO';
    UPDATE body_templates SET bytes = 500 WHERE service = 'checkout' AND severity = 'ERROR';
    UPDATE spans_metadata SET bytes = 1500 WHERE service = 'checkout' AND name = 'GET /checkout';
    UPDATE metrics_metadata SET bytes = 4500, overflow_points = 3 WHERE service = 'checkout' AND name = 'http.server.duration';
    UPDATE metrics_metadata SET bytes = 1500 WHERE service = 'checkout' AND name = 'rpc.calls';
    UPDATE key_metadata SET bytes = 1900 WHERE service = 'checkout' AND scope = 'resource';
    UPDATE key_metadata SET bytes = 600 WHERE service = 'checkout' AND scope = 'metric' AND key = 'http.route';
    UPDATE metric_label_keys SET bytes = 600 WHERE service = 'checkout' AND key = 'http.route';`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keytally-api-'));
  await migrateSqlite(dbPath(dir));
  const w = new Database(dbPath(dir));
  seed(w);
  w.close();
  db = new SqliteReadStore(dir, TUNING);
});

afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, query = ''): Promise<{ status: number; json: any }> {
  const r = await handleApiRequest(db, path, query);
  return { status: r.status, json: JSON.parse(r.body) };
}

async function ok(path: string, query = ''): Promise<any> {
  const r = (await get(path, query));
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

describe('services', () => {
  it('lists every service by name with per-signal totals', async () => {
    const r = (await ok('/api/v1/services'));
    expect(r.total).toBe(3);
    expect(r.items.map((s: any) => s.name)).toEqual(['cart', 'checkout', 'web/frontend']);
    // checkout 19,000 of 20,000 bytes (cart 1,000, web/frontend none).
    expect(r.items[1]).toEqual({
      name: 'checkout', log_records: 100, spans: 50, metric_points: 3500, log_bytes: 10000, span_bytes: 3000, metric_bytes: 6000,
      bytes: 19000, bytes_percentage: 95, first_seen: 1000, last_seen: 9000,
    });
    expect(r.items[2]).toMatchObject({ bytes: 0, bytes_percentage: 0 });
  });

  it('ranks by bytes', async () => {
    expect((await ok('/api/v1/services', 'sort=bytes')).items.map((s: any) => [s.name, s.bytes])).toEqual([['checkout', 19000], ['cart', 1000], ['web/frontend', 0]]);
    expect((await ok('/api/v1/services', 'sort=bytes_percentage')).items.map((s: any) => s.bytes_percentage)).toEqual([95, 5, 0]);
  });

  it('filters by a case-insensitive substring', async () => {
    const r = (await ok('/api/v1/services', 'q=CHECK'));
    expect(r.items.map((s: any) => s.name)).toEqual(['checkout']);
    expect(r.total).toBe(1);
  });

  it('sorts numeric fields biggest first unless asked otherwise', async () => {
    expect((await ok('/api/v1/services', 'sort=log_records')).items.map((s: any) => s.name)).toEqual(['checkout', 'cart', 'web/frontend']);
    expect((await ok('/api/v1/services', 'sort=log_records&order=asc')).items.map((s: any) => s.name)).toEqual(['web/frontend', 'cart', 'checkout']);
    expect((await ok('/api/v1/services', 'order=desc')).items.map((s: any) => s.name)).toEqual(['web/frontend', 'checkout', 'cart']);
  });
});

describe('service overview', () => {
  it('answers totals per signal and the three top lists', async () => {
    const r = (await ok('/api/v1/services/checkout/overview'));
    expect(r.name).toBe('checkout');
    expect(r.totals).toEqual({
      logs: { records: 100, bytes: 10000, severities: 2, templates: 6 },
      metrics: { points: 3500, bytes: 6000, metrics: 3, series_estimate: 165, prometheus_series: 1485 },
      traces: { spans: 50, bytes: 3000, span_names: 3 },
      keys: { keys: 5 },
    });
    // Templates, metrics and spans ranked by bytes; keys by cardinality.
    expect(r.top_templates[0]).toMatchObject({ template: 'user <*> logged in', count: 60, percentage: 60, bytes: 5000, bytes_percentage: 50 });
    expect(r.top_templates.map((t: any) => t.bytes)).toEqual([5000, 2000, 1000, 1000, 500, 500]);
    expect(r.top_metrics.map((m: any) => m.bytes_percentage)).toEqual([75, 25, 0]);
    expect(r.top_spans.map((m: any) => [m.name, m.bytes, m.bytes_percentage])).toEqual([['GET /checkout', 1500, 50], ['db.query', 0, 0], ['process_order', 0, 0]]);
    expect(r.top_keys.map((k: any) => k.key)).toEqual(['http.route', 'user.id', 'http.method', 'http_method', 'service.name']);
    expect(r.top_metrics.map((m: any) => m.name)).toEqual(['http.server.duration', 'rpc.calls', 'app/jobs/queue_depth']);
  });

  it('bounds the top lists with top=', async () => {
    const r = (await ok('/api/v1/services/checkout/overview', 'top=1'));
    expect(r.top_templates).toHaveLength(1);
    expect(r.top_keys).toHaveLength(1);
    expect(r.top_metrics).toHaveLength(1);
  });

  it('decodes a service name with an encoded slash', async () => {
    const r = (await ok('/api/v1/services/web%2Ffrontend/overview'));
    expect(r.name).toBe('web/frontend');
    expect(r.top_templates).toEqual([]);
    expect(r.totals.metrics.series_estimate).toBe(0);
  });

  it('is 404 for an unknown service', async () => {
    const r = (await get('/api/v1/services/nope/overview'));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/nope/);
  });
});

describe('metrics', () => {
  it('lists metrics by sample count with every field, key lists as arrays', async () => {
    const r = (await ok('/api/v1/metrics'));
    expect(r.total).toBe(4);
    expect(r.items.map((m: any) => `${m.service}:${m.name}`)).toEqual([
      'checkout:rpc.calls', 'checkout:http.server.duration', 'checkout:app/jobs/queue_depth', 'cart:http.server.duration',
    ]);
    expect(r.items[1]).toEqual({
      service: 'checkout', name: 'http.server.duration', type: 'histogram', unit: 'ms', description: 'request latency',
      monotonic: false, temporality: 'cumulative', label_keys: ['http.method', 'http.route'], resource_keys: ['service.name'],
      sample_count: 1000, bytes: 4500, bytes_percentage: 75, sdk_overflow: true, overflow_points: 3,
      bucket_count: 10, series_estimate: 120, prometheus_series: 1440, first_seen: 1000, last_seen: 9000,
    });
    expect(r.items[0]).toMatchObject({ bytes: 1500, bytes_percentage: 25, sdk_overflow: false, overflow_points: 0 });
    expect(r.items[0]).toMatchObject({ monotonic: true, temporality: 'cumulative' });
    expect(r.items[3]).toMatchObject({ temporality: 'delta' });
    expect(r.items[2]).toMatchObject({ temporality: 'unspecified' });
    expect(r.items[0]).not.toHaveProperty('series_sketch');
  });

  it('filters by service, q, type and min_cardinality', async () => {
    expect((await ok('/api/v1/metrics', 'service=cart')).total).toBe(1);
    expect((await ok('/api/v1/metrics', 'q=SERVER')).items.map((m: any) => m.service)).toEqual(['checkout', 'cart']);
    expect((await ok('/api/v1/metrics', 'type=gauge')).items.map((m: any) => m.name)).toEqual(['app/jobs/queue_depth']);
    expect((await ok('/api/v1/metrics', 'min_cardinality=40')).items.map((m: any) => m.name)).toEqual(['rpc.calls', 'http.server.duration']);
    expect((await ok('/api/v1/metrics', 'service=checkout&type=histogram&q=duration')).total).toBe(1);
  });

  it('sorts by series estimate and by name', async () => {
    expect((await ok('/api/v1/metrics', 'sort=series_estimate')).items.map((m: any) => m.series_estimate)).toEqual([120, 40, 10, 5]);
    expect((await ok('/api/v1/metrics', 'sort=name')).items.map((m: any) => m.name)).toEqual([
      'app/jobs/queue_depth', 'http.server.duration', 'http.server.duration', 'rpc.calls',
    ]);
  });

  it('answers one metric per service with its labels, highest cardinality first', async () => {
    const r = (await ok('/api/v1/metrics/http.server.duration'));
    expect(r.total).toBe(2);
    const checkout = r.items.find((m: any) => m.service === 'checkout');
    expect(checkout.labels).toEqual([
      { key: 'http.route', sample_count: 1000, bytes: 600, bytes_percentage: 10, cardinality_estimate: 100, first_seen: 1000, last_seen: 9000 },
      { key: 'http.method', sample_count: 1000, bytes: 0, bytes_percentage: 0, cardinality_estimate: 5, first_seen: 1000, last_seen: 9000 },
    ]);
    const only = (await ok('/api/v1/metrics/http.server.duration', 'service=cart'));
    expect(only.total).toBe(1);
    expect(only.items[0].labels.map((l: any) => l.key)).toEqual(['http.method']);
  });

  it('decodes encoded slashes and dots in the metric name', async () => {
    const r = (await ok(`/api/v1/metrics/${encodeURIComponent('app/jobs/queue_depth')}`));
    expect(r.items[0]).toMatchObject({ name: 'app/jobs/queue_depth', labels: [] });
    expect((await ok('/api/v1/metrics/http%2Eserver%2Eduration', 'service=checkout')).total).toBe(1);
  });

  it('is 404 for an unknown metric, or one the service does not send', async () => {
    expect((await get('/api/v1/metrics/nope')).status).toBe(404);
    const r = (await get('/api/v1/metrics/rpc.calls', 'service=cart'));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/rpc\.calls/);
    // An unencoded slash is a different (unknown) route, not a name.
    expect((await get('/api/v1/metrics/app/jobs/queue_depth')).status).toBe(404);
  });
});

describe('spans', () => {
  it('lists spans by count with the kind as a name', async () => {
    const r = (await ok('/api/v1/spans'));
    expect(r.total).toBe(4);
    expect(r.items[0]).toEqual({
      service: 'checkout', name: 'GET /checkout', kind: 'server', attribute_keys: ['http.method'], resource_keys: ['service.name'],
      event_names: ['exception'], sample_count: 30, bytes: 1500, bytes_percentage: 50, status_ok: 3, status_error: 2, status_unset: 25, first_seen: 1000, last_seen: 9000,
    });
    expect(r.items.map((s: any) => s.kind)).toEqual(['server', 'client', 'internal', 'server']);
  });

  it('filters by kind given as a name or a number', async () => {
    for (const kind of ['server', 'SERVER', '2', 'SPAN_KIND_SERVER']) {
      expect((await ok('/api/v1/spans', `kind=${kind}`)).items.map((s: any) => s.name)).toEqual(['GET /checkout', 'GET /cart']);
    }
    expect((await ok('/api/v1/spans', 'kind=client')).items.map((s: any) => s.name)).toEqual(['db.query']);
    expect((await ok('/api/v1/spans', 'kind=0')).total).toBe(0);
  });

  it('filters by service and q, sorts by status', async () => {
    expect((await ok('/api/v1/spans', 'service=checkout&q=get')).items.map((s: any) => s.name)).toEqual(['GET /checkout']);
    expect((await ok('/api/v1/spans', 'sort=status_error')).items[0].name).toBe('GET /checkout');
    expect((await ok('/api/v1/spans', 'sort=kind&order=asc')).items.map((s: any) => s.kind)).toEqual(['internal', 'server', 'server', 'client']);
  });
});

describe('logs', () => {
  it('lists (service, severity) shapes by count', async () => {
    const r = (await ok('/api/v1/logs'));
    expect(r.total).toBe(3);
    expect(r.items[0]).toEqual({
      service: 'checkout', severity: 'INFO', attribute_keys: ['user.id'], resource_keys: ['service.name'], body_keys: [],
      sample_count: 90, bytes: 9000, bytes_percentage: 90, first_seen: 1000, last_seen: 9000,
    });
    expect((await ok('/api/v1/logs', 'severity=ERROR')).items.map((l: any) => l.body_keys)).toEqual([['msg']]);
    expect((await ok('/api/v1/logs', 'service=cart')).total).toBe(1);
  });

  it('lists the severities seen, with their records, without key lists', async () => {
    expect(await ok('/api/v1/logs/severities')).toEqual({ items: [{ severity: 'ERROR', sample_count: 10 }, { severity: 'INFO', sample_count: 95 }] });
    expect(await ok('/api/v1/logs/severities', 'service=cart')).toEqual({ items: [{ severity: 'INFO', sample_count: 5 }] });
    // An unknown service has none: an empty list, not a 404 (a service may not have sent logs yet).
    expect(await ok('/api/v1/logs/severities', 'service=nope')).toEqual({ items: [] });
    expect(await ok('/api/v1/logs/severities', 'service=')).toEqual(await ok('/api/v1/logs/severities'));
  });
});

describe('log templates', () => {
  it('lists templates by count with every field', async () => {
    const r = (await ok('/api/v1/logs/templates'));
    expect(r.total).toBe(7);
    expect(r.items[0]).toEqual({
      service: 'checkout', severity: 'INFO', template_id: 1, template: 'user <*> logged in', count: 60, percentage: 60,
      bytes: 5000, bytes_percentage: 50, example: 'user 42 logged in', first_seen: 1000, last_seen: 9000,
    });
  });

  it('gives percentages that sum to 100 within each (service, severity)', async () => {
    const r = (await ok('/api/v1/logs/templates', 'limit=10000'));
    const sums = new Map<string, number>();
    for (const t of r.items) sums.set(`${t.service}/${t.severity}`, (sums.get(`${t.service}/${t.severity}`) ?? 0) + t.percentage);
    expect([...sums.keys()].sort()).toEqual(['cart/INFO', 'checkout/ERROR', 'checkout/INFO']);
    for (const s of sums.values()) expect(s).toBeCloseTo(100, 9);
    const err = (await ok('/api/v1/logs/templates', 'service=checkout&severity=ERROR'));
    expect(err.items.map((t: any) => t.percentage)).toEqual([70, 30]);
  });

  it('keeps the whole (service, severity) as the denominator when q narrows the list', async () => {
    const r = (await ok('/api/v1/logs/templates', 'q=order'));
    expect(r.items).toHaveLength(1);
    expect(r.items[0].percentage).toBe(20);
  });

  it('treats % and _ in q literally', async () => {
    expect((await ok('/api/v1/logs/templates', `q=${encodeURIComponent('100%')}`)).items.map((t: any) => t.template_id)).toEqual([3]);
    expect((await ok('/api/v1/logs/templates', 'q=hit_rate')).items.map((t: any) => t.template)).toEqual(['cache 100% hit_rate']);
    expect((await ok('/api/v1/logs/templates', `q=${encodeURIComponent('\\')}`)).total).toBe(0);
  });

  it('sorts by bytes; bytes_percentage is of the service\'s log bytes', async () => {
    const r = await ok('/api/v1/logs/templates', 'sort=bytes&service=checkout');
    expect(r.items.map((t: any) => t.bytes_percentage)).toEqual([50, 20, 10, 10, 5, 5]);
    expect((await ok('/api/v1/logs/templates', 'sort=bytes&order=asc&limit=1')).items[0].bytes).toBe(0);
  });

  it('sorts by percentage', async () => {
    const r = (await ok('/api/v1/logs/templates', 'sort=percentage&order=asc&service=checkout'));
    const p = r.items.map((t: any) => t.percentage);
    expect(p).toEqual([...p].sort((a: number, b: number) => a - b));
    expect((await ok('/api/v1/logs/templates', 'sort=percentage')).items[0].percentage).toBe(100);
  });
});

describe('keys', () => {
  it('lists keys by cardinality, highest first', async () => {
    const r = (await ok('/api/v1/keys'));
    expect(r.total).toBe(6);
    expect(r.items[0]).toEqual({
      service: 'checkout', scope: 'metric', key: 'http.route', sample_count: 1000, bytes: 600, bytes_percentage: 10,
      cardinality_estimate: 100, first_seen: 1000, last_seen: 9000,
    });
    // A resource key's share is of all three signals' bytes (19,000).
    expect((await ok('/api/v1/keys', 'sort=bytes&limit=1')).items[0]).toMatchObject({ scope: 'resource', bytes: 1900, bytes_percentage: 10 });
    expect(r.items.map((k: any) => k.cardinality_estimate)).toEqual([100, 80, 5, 5, 1, 1]);
  });

  it('filters by service, scope, q and min_cardinality', async () => {
    expect((await ok('/api/v1/keys', 'scope=resource')).items.map((k: any) => k.service)).toEqual(['cart', 'checkout']);
    expect((await ok('/api/v1/keys', 'service=checkout&scope=metric&min_cardinality=6')).items.map((k: any) => k.key)).toEqual(['http.route']);
    expect((await ok('/api/v1/keys', 'q=HTTP_')).items.map((k: any) => k.key)).toEqual(['http_method']);
    expect((await ok('/api/v1/keys', 'min_cardinality=0')).total).toBe(6);
  });

  it('pages with limit and offset while total counts every match', async () => {
    const all = (await ok('/api/v1/keys', 'sort=key&order=asc')).items.map((k: any) => `${k.service}/${k.scope}/${k.key}`);
    const pages: string[] = [];
    for (let offset = 0; offset < 6; offset += 4) {
      const r = (await ok('/api/v1/keys', `sort=key&order=asc&limit=4&offset=${offset}`));
      expect(r.total).toBe(6);
      pages.push(...r.items.map((k: any) => `${k.service}/${k.scope}/${k.key}`));
    }
    expect(pages).toEqual(all);
    expect((await ok('/api/v1/keys', 'offset=100'))).toEqual({ items: [], total: 6 });
    expect((await ok('/api/v1/keys', 'limit=0'))).toEqual({ items: [], total: 6 });
    expect((await ok('/api/v1/keys', 'limit=10000')).items).toHaveLength(6);
  });
});

describe('routing', () => {
  it('is 404 with an error for unknown routes', async () => {
    for (const path of ['/api/v1', '/api/v1/nope', '/api/v2/services', '/api/v1/services/checkout', '/api/v1/services/checkout/overview/x',
      '/api/v1/logs/nope', '/api/v1/spans/x', '/api/v1/keys/x', '/metrics', 'api/v1/services']) {
      const r = (await get(path));
      expect(r.status, path).toBe(404);
      expect(r.json.error, path).toMatch(/no such route/);
    }
  });

  it('tolerates a trailing slash', async () => {
    expect((await ok('/api/v1/services/')).total).toBe(3);
  });

  it('treats values that look like SQL as plain values', async () => {
    expect((await ok('/api/v1/services', `q=${encodeURIComponent("'; DROP TABLE services; --")}`)).total).toBe(0);
    expect((await ok('/api/v1/metrics', `service=${encodeURIComponent("x' OR '1'='1")}`)).total).toBe(0);
    expect((await ok('/api/v1/services')).total).toBe(3);
  });
});
