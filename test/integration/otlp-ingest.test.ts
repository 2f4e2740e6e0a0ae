import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brotliCompressSync, gzipSync, deflateSync } from 'node:zlib';
import { startKeytally, post, type Keytally } from '../helpers/server.js';
import { decodeProtoResponse, encodeJson, encodeProto, logsRequest, metricsRequest, tracesRequest } from '../helpers/otlp-build.js';

// Durable acks: a 200 means the request's deltas are committed, so the test reads the API right after.
let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2'] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

const logs = (service: string, n: number, severity = 'INFO') =>
  logsRequest([
    {
      resource: { 'service.name': service, 'host.name': 'h1' },
      logs: Array.from({ length: n }, (_, i) => ({ body: `user ${i} logged in from 10.0.0.${i % 250}`, severityText: severity, attrs: { 'user.id': `u${i}`, 'http.method': 'GET' } })),
    },
  ]);

describe('OTLP/HTTP ingest, all signals and encodings', () => {
  it('takes protobuf logs and answers an empty ExportLogsServiceResponse', async () => {
    const r = await post(k, '/v1/logs', encodeProto('logs', logs('svc-proto', 10)));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect(decodeProtoResponse('logs', r.body)).toEqual({});
    const s = await k.get('/api/v1/services?q=svc-proto');
    expect(s.body.items).toHaveLength(1);
    expect(s.body.items[0]).toMatchObject({ name: 'svc-proto', log_records: 10, spans: 0, metric_points: 0 });
  });

  it('takes gzip, deflate and br protobuf, and JSON (plain and gzip)', async () => {
    expect((await post(k, '/v1/logs', gzipSync(encodeProto('logs', logs('svc-gz', 3))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post(k, '/v1/logs', deflateSync(encodeProto('logs', logs('svc-gz', 4))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' })).status).toBe(200);
    const j = await post(k, '/v1/logs', encodeJson(logs('svc-gz', 5)), { 'content-type': 'application/json' });
    expect(j.status).toBe(200);
    expect(j.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(Buffer.from(j.body).toString())).toEqual({});
    expect((await post(k, '/v1/logs', gzipSync(encodeJson(logs('svc-gz', 6))), { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post(k, '/v1/logs', brotliCompressSync(encodeProto('logs', logs('svc-gz', 7))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' })).status).toBe(200);
    const s = await k.get('/api/v1/services?q=svc-gz');
    expect(s.body.items[0].log_records).toBe(3 + 4 + 5 + 6 + 7);
  });

  it('extracts log shape: severities, keys, templates with percentages', async () => {
    await post(k, '/v1/logs', encodeProto('logs', logs('svc-shape', 30, 'INFO')));
    await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'svc-shape' }, logs: [{ body: 'disk full', severityNumber: 17 }] }])));
    const l = await k.get('/api/v1/logs?service=svc-shape&sort=severity&order=asc');
    expect(l.body.items.map((i: any) => [i.severity, i.sample_count])).toEqual([
      ['ERROR', 1],
      ['INFO', 30],
    ]);
    expect(l.body.items[1].attribute_keys).toEqual(['http.method', 'user.id']);
    expect(l.body.items[1].resource_keys).toEqual(['host.name', 'service.name']);
    const t = await k.get('/api/v1/logs/templates?service=svc-shape&severity=INFO');
    expect(t.body.items).toHaveLength(1);
    expect(t.body.items[0].count).toBe(30);
    expect(t.body.items[0].percentage).toBeCloseTo(100);
    expect(t.body.items[0].template).toContain('logged in from <IP>');
    const keys = await k.get('/api/v1/keys?service=svc-shape&scope=log&sort=cardinality_estimate&order=desc');
    const byKey = Object.fromEntries(keys.body.items.map((i: any) => [i.key, i]));
    expect(byKey['user.id'].sample_count).toBe(30);
    expect(byKey['user.id'].cardinality_estimate).toBe(30);
    expect(byKey['http.method'].cardinality_estimate).toBe(1);
  });

  it('takes traces: names, kinds, attribute and event keys, status counts', async () => {
    const req = tracesRequest([
      {
        resource: { 'service.name': 'svc-trace' },
        spans: [
          { name: 'GET /users', kind: 2, attrs: { 'http.route': '/users', 'http.status_code': 200 }, status: 1 },
          { name: 'GET /users', kind: 2, attrs: { 'http.route': '/users', 'user.id': 'x' }, status: 2, events: [{ name: 'exception', attrs: { 'exception.type': 'E' } }] },
          { name: 'SELECT users', kind: 3, attrs: { 'db.system': 'postgresql' } },
        ],
      },
    ]);
    const r = await post(k, '/v1/traces', encodeJson(req), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    const s = await k.get('/api/v1/spans?service=svc-trace&sort=name&order=asc');
    expect(s.body.total).toBe(2);
    expect(s.body.items[0]).toMatchObject({ name: 'GET /users', kind: 'server', sample_count: 2, attribute_keys: ['http.route', 'http.status_code', 'user.id'], event_names: ['exception'] });
    expect(s.body.items[0].status_ok).toBe(1);
    expect(s.body.items[0].status_error).toBe(1);
    expect(s.body.items[1]).toMatchObject({ name: 'SELECT users', kind: 'client', sample_count: 1 });
    const ev = await k.get('/api/v1/keys?service=svc-trace&scope=span_event');
    expect(ev.body.items.map((i: any) => i.key)).toEqual(['exception.type']);
  });

  it('takes metrics of every type with label keys, series and Prometheus series estimates', async () => {
    const req = metricsRequest([
      {
        resource: { 'service.name': 'svc-metric', 'k8s.pod.name': 'p1' },
        metrics: [
          { name: 'http.requests', type: 'sum', unit: '1', points: [{ route: '/a', code: '200' }, { route: '/b', code: '200' }, { route: '/a', code: '500' }] },
          { name: 'http.duration', type: 'histogram', unit: 's', points: [{ route: '/a' }, { route: '/b' }], bounds: [0.1, 0.5, 1, 5] },
          { name: 'queue.depth', type: 'gauge', points: [{}] },
          { name: 'rpc.latency', type: 'summary', points: [{ method: 'x' }], quantiles: 3 },
          { name: 'exp.hist', type: 'exponential_histogram', points: [{ a: '1' }] },
        ],
      },
    ]);
    const r = await post(k, '/v1/metrics', encodeProto('metrics', req));
    expect(r.status).toBe(200);
    const m = await k.get('/api/v1/metrics?service=svc-metric&sort=name&order=asc');
    const byName = Object.fromEntries(m.body.items.map((i: any) => [i.name, i]));
    expect(m.body.total).toBe(5);
    expect(byName['http.requests']).toMatchObject({ type: 'sum', unit: '1', label_keys: ['code', 'route'], resource_keys: ['k8s.pod.name', 'service.name'], sample_count: 3, series_estimate: 3, monotonic: true });
    // A histogram with 4 bounds has 5 buckets: Prometheus shows 5 + _sum + _count per series.
    expect(byName['http.duration']).toMatchObject({ type: 'histogram', series_estimate: 2, prometheus_series: 2 * (5 + 2) });
    expect(byName['rpc.latency']).toMatchObject({ type: 'summary', prometheus_series: 1 * (3 + 2) });
    expect(byName['queue.depth']).toMatchObject({ type: 'gauge', label_keys: [], series_estimate: 1 });
    expect(byName['exp.hist'].type).toBe('exponential_histogram');
    const d = await k.get('/api/v1/metrics/http.requests?service=svc-metric');
    const labels = Object.fromEntries(d.body.items[0].labels.map((l: any) => [l.key, l]));
    expect(labels['route']).toMatchObject({ sample_count: 3, cardinality_estimate: 2 });
    expect(labels['code']).toMatchObject({ sample_count: 3, cardinality_estimate: 2 });
    const svc = await k.get('/api/v1/services?q=svc-metric');
    expect(svc.body.items[0].metric_points).toBe(3 + 2 + 1 + 1 + 1);
  });

  it('answers partial_success with the rejected count when some records are invalid', async () => {
    const req = metricsRequest([{ resource: { 'service.name': 'svc-partial' }, metrics: [{ name: 'ok.metric', type: 'gauge', points: [{ a: '1' }] }] }]);
    // A metric with no name is invalid: its points are rejected, the rest is kept.
    req.resourceMetrics[0].scopeMetrics[0].metrics.push({ name: '', gauge: { dataPoints: [{ asInt: 1 }, { asInt: 2 }] } });
    const r = await post(k, '/v1/metrics', encodeProto('metrics', req));
    expect(r.status).toBe(200);
    const body = decodeProtoResponse('metrics', r.body);
    expect(body.partialSuccess.rejectedDataPoints).toBe(2);
    expect(body.partialSuccess.errorMessage).toMatch(/without a name/);
    const j = await post(k, '/v1/metrics', encodeJson(req), { 'content-type': 'application/json' });
    expect(JSON.parse(Buffer.from(j.body).toString())).toEqual({ partialSuccess: { rejectedDataPoints: '2', errorMessage: expect.stringMatching(/without a name/) } });
    const svc = await k.get('/api/v1/services?q=svc-partial');
    expect(svc.body.items[0].metric_points).toBe(2);
    const spans = tracesRequest([{ resource: { 'service.name': 'svc-partial' }, spans: [{ name: 'ok' }, { name: '' }] }]);
    const t = await post(k, '/v1/traces', encodeProto('traces', spans));
    expect(decodeProtoResponse('traces', t.body).partialSuccess.rejectedSpans).toBe(1);
  });

  it('counts records without service.name under unknown_service', async () => {
    const r = await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'host.name': 'x' }, logs: [{ body: 'hello' }] }])));
    expect(r.status).toBe(200);
    const s = await k.get('/api/v1/services?q=unknown_service');
    expect(s.body.items[0]).toMatchObject({ name: 'unknown_service', log_records: 1 });
  });

  it('serves /health, /ready and a service overview', async () => {
    expect((await k.get('/health')).status).toBe(200);
    const ready = await k.get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    const o = await k.get('/api/v1/services/svc-shape/overview');
    expect(o.status).toBe(200);
    expect(JSON.stringify(o.body)).toContain('logged in from');
  });
});
