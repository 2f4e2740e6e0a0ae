/**
 * Bytes end to end: what the API reports per service and signal, severity,
 * template, metric, span name and key equals the OTLP protobuf sizes this
 * test computes on its own with protobufjs (re-encoding each LogRecord, Span,
 * data point and KeyValue) — for protobuf and JSON requests alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogsReq, MetricsReq, TracesReq, encode, protoSize, toOtlpJson } from '../helpers/otlp-fixtures.js';
import { post, startKeytally, type Keytally } from '../helpers/server.js';

let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2', '--test-clock', 'on'] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const id = (n: number, len: number) => Uint8Array.from({ length: len }, (_, i) => (n * 31 + i) & 0xff);
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: String(v) } });

function resource(service: string) {
  return { attributes: [str('service.name', service), str('service.version', '1.4.3'), str('host.name', 'node-7')] };
}

function logsObj(service: string) {
  const logRecords = [];
  for (let i = 0; i < 12; i++) {
    const rec: Record<string, unknown> = {
      timeUnixNano: String(BigInt(T0) * 1_000_000n + BigInt(i)),
      severityNumber: i % 3 === 0 ? 17 : 9,
      severityText: i % 3 === 0 ? 'ERROR' : 'INFO',
      body: { stringValue: i % 2 === 0 ? `user ${1000 + i * 7919} logged in from 10.0.0.${i}` : `disk /dev/sd${'abc'[i % 3]} is ${50 + i}% full` },
      attributes: [str('user.id', 'u'.repeat(i + 1)), int('attempt', i * 1_000_003), { key: 'ok', value: { boolValue: i % 2 === 0 } }],
      traceId: id(i, 16),
      spanId: id(i, 8),
      flags: 1,
      droppedAttributesCount: 0,
    };
    if (i % 4 === 1) rec.observedTimeUnixNano = String(BigInt(T0) * 1_000_000n);
    logRecords.push(rec);
  }
  return { resourceLogs: [{ resource: resource(service), scopeLogs: [{ scope: { name: 'lib', version: '2' }, logRecords }] }] };
}

function metricsObj(service: string) {
  const points = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ attributes: [str('route', `/api/${i}`), int('code', 200 + i)], timeUnixNano: String(T0 * 1e6 + i), asDouble: i * 1.5 }));
  return {
    resourceMetrics: [
      {
        resource: resource(service),
        scopeMetrics: [
          {
            metrics: [
              { name: 'requests', unit: '1', sum: { dataPoints: points(5), aggregationTemporality: 2, isMonotonic: true } },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    { attributes: [str('route', '/a')], count: '9', sum: 12.5, bucketCounts: ['1', '2', '6'], explicitBounds: [5, 10], min: 1, max: 30, timeUnixNano: '7' },
                    { attributes: [str('otel.metric.overflow', 'true')], count: '1', bucketCounts: ['1', '0', '0'], explicitBounds: [5, 10] },
                  ],
                },
              },
              { name: 'queue', gauge: { dataPoints: [{ asInt: '-42', attributes: [] }] } },
            ],
          },
        ],
      },
    ],
  };
}

function tracesObj(service: string) {
  const spans = Array.from({ length: 6 }, (_, i) => ({
    traceId: id(i, 16),
    spanId: id(i + 1, 8),
    parentSpanId: i > 0 ? id(i, 8) : undefined,
    name: i % 2 === 0 ? 'GET /users/{id}' : 'SELECT users',
    kind: i % 2 === 0 ? 2 : 3,
    startTimeUnixNano: String(T0 * 1e6),
    endTimeUnixNano: String(T0 * 1e6 + 5e6),
    attributes: [str('http.route', '/users/' + i), int('rows', i)],
    events: i === 3 ? [{ name: 'exception', timeUnixNano: '5', attributes: [str('exception.message', 'boom '.repeat(i))] }] : [],
    links: i === 4 ? [{ traceId: id(9, 16), spanId: id(9, 8), attributes: [] }] : [],
    status: { code: i === 3 ? 2 : 0, message: i === 3 ? 'failed' : '' },
    flags: 257,
  }));
  return { resourceSpans: [{ resource: resource(service), scopeSpans: [{ scope: { name: 'http' }, spans }] }] };
}

/** Expected sums, computed from the protobufjs-decoded request. */
interface Expected {
  total: number;
  bySeverity: Map<string, number>;
  byName: Map<string, number>;
  byKey: Map<string, number>;
  /** Metric labels: `metric/key`. */
  byLabel: Map<string, number>;
}

function add(m: Map<string, number>, k: string, v: number) {
  m.set(k, (m.get(k) ?? 0) + v);
}

function sumKeys(e: Expected, scope: string, attrs: any[] | undefined) {
  for (const kv of attrs ?? []) add(e.byKey, `${scope}/${kv.key}`, protoSize('keyValue', kv));
}

function expected(signal: 'logs' | 'metrics' | 'traces', bytes: Uint8Array): Expected {
  const e: Expected = { total: 0, bySeverity: new Map(), byName: new Map(), byKey: new Map(), byLabel: new Map() };
  if (signal === 'logs') {
    for (const rl of LogsReq.decode(bytes).resourceLogs) {
      sumKeys(e, 'resource', rl.resource.attributes);
      for (const sl of rl.scopeLogs) {
        for (const lr of sl.logRecords) {
          const size = protoSize('logRecord', lr);
          e.total += size;
          add(e.bySeverity, lr.severityText, size);
          add(e.byName, lr.body.stringValue.startsWith('user') ? 'user' : 'disk', size);
          sumKeys(e, 'log', lr.attributes);
        }
      }
    }
  } else if (signal === 'metrics') {
    for (const rm of MetricsReq.decode(bytes).resourceMetrics) {
      sumKeys(e, 'resource', rm.resource.attributes);
      for (const m of rm.scopeMetrics[0].metrics) {
        const type = m.data === 'gauge' || m.data === 'sum' ? 'number' : m.data;
        for (const p of m[m.data].dataPoints) {
          const size = protoSize(type, p);
          e.total += size;
          add(e.byName, m.name, size);
          sumKeys(e, 'metric', p.attributes);
          for (const kv of p.attributes ?? []) add(e.byLabel, `${m.name}/${kv.key}`, protoSize('keyValue', kv));
        }
      }
    }
  } else {
    for (const rs of TracesReq.decode(bytes).resourceSpans) {
      sumKeys(e, 'resource', rs.resource.attributes);
      for (const s of rs.scopeSpans[0].spans) {
        const size = protoSize('span', s);
        e.total += size;
        add(e.byName, s.name, size);
        sumKeys(e, 'span', s.attributes);
        for (const ev of s.events) sumKeys(e, 'span_event', ev.attributes);
      }
    }
  }
  return e;
}

const TYPES = { logs: LogsReq, metrics: MetricsReq, traces: TracesReq };
const BUILD = { logs: logsObj, metrics: metricsObj, traces: tracesObj };
const SIGNAL_BYTES = { logs: 'log_bytes', metrics: 'metric_bytes', traces: 'span_bytes' } as const;

async function send(signal: 'logs' | 'metrics' | 'traces', format: 'protobuf' | 'json', service: string): Promise<Expected> {
  const proto = encode(TYPES[signal], BUILD[signal](service));
  const body = format === 'protobuf' ? proto : JSON.stringify(toOtlpJson(TYPES[signal], proto));
  const r = await post(k, `/v1/${signal}`, body, {
    'content-type': format === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'x-keytally-received-at': String(T0 + 1234),
  });
  expect(r.status).toBe(200);
  return expected(signal, proto);
}

async function keyBytes(service: string): Promise<Map<string, number>> {
  const r = await k.get(`/api/v1/keys?service=${service}&limit=1000`);
  return new Map(r.body.items.map((i: any) => [`${i.scope}/${i.key}`, i.bytes]));
}

describe('bytes per record are its OTLP protobuf size, whatever the request encoding', () => {
  for (const format of ['protobuf', 'json'] as const) {
    it(`${format}: logs per service, severity, template and key`, async () => {
      const service = `bytes-logs-${format}`;
      const e = await send('logs', format, service);
      const svc = (await k.get(`/api/v1/services?q=${service}`)).body.items[0];
      expect(svc).toMatchObject({ log_records: 12, log_bytes: e.total, bytes: e.total, span_bytes: 0, metric_bytes: 0 });
      const sev = (await k.get(`/api/v1/logs?service=${service}`)).body.items;
      expect(new Map(sev.map((s: any) => [s.severity, s.bytes]))).toEqual(e.bySeverity);
      const pct = sev.reduce((a: number, s: any) => a + s.bytes_percentage, 0);
      expect(pct).toBeCloseTo(100, 9);
      // Templates: the two body shapes, per severity; their bytes add up to each severity's.
      const tpl = (await k.get(`/api/v1/logs/templates?service=${service}&limit=100`)).body.items;
      const bySev = new Map<string, number>();
      for (const t of tpl) add(bySev, t.severity, t.bytes);
      expect(bySev).toEqual(e.bySeverity);
      const byShape = new Map<string, number>();
      for (const t of tpl) add(byShape, t.template.startsWith('user') ? 'user' : 'disk', t.bytes);
      expect(byShape).toEqual(e.byName);
      const keys = await keyBytes(service);
      for (const [key, bytes] of e.byKey) expect(keys.get(key), key).toBe(bytes);
    });

    it(`${format}: metrics per metric and label key, and the SDK overflow flag`, async () => {
      const service = `bytes-metrics-${format}`;
      const e = await send('metrics', format, service);
      const svc = (await k.get(`/api/v1/services?q=${service}`)).body.items[0];
      expect(svc).toMatchObject({ metric_points: 8, metric_bytes: e.total });
      const metrics = (await k.get(`/api/v1/metrics?service=${service}`)).body.items;
      expect(new Map(metrics.map((m: any) => [m.name, m.bytes]))).toEqual(e.byName);
      expect(metrics.find((m: any) => m.name === 'latency')).toMatchObject({ sdk_overflow: true, overflow_points: 1 });
      expect(metrics.find((m: any) => m.name === 'requests')).toMatchObject({ sdk_overflow: false, overflow_points: 0 });
      const keys = await keyBytes(service);
      for (const [key, bytes] of e.byKey) expect(keys.get(key), key).toBe(bytes);
      for (const name of ['requests', 'latency']) {
        const detail = (await k.get(`/api/v1/metrics/${name}?service=${service}`)).body.items[0];
        const want = new Map([...e.byLabel].filter(([key]) => key.startsWith(name + '/')));
        expect(new Map(detail.labels.map((l: any) => [`${name}/${l.key}`, l.bytes]))).toEqual(want);
      }
    });

    it(`${format}: spans per span name and attribute key (events' keys as span_event)`, async () => {
      const service = `bytes-traces-${format}`;
      const e = await send('traces', format, service);
      const svc = (await k.get(`/api/v1/services?q=${service}`)).body.items[0];
      expect(svc).toMatchObject({ spans: 6, span_bytes: e.total, bytes: e.total, bytes_percentage: expect.any(Number) });
      const spans = (await k.get(`/api/v1/spans?service=${service}`)).body.items;
      expect(new Map(spans.map((s: any) => [s.name, s.bytes]))).toEqual(e.byName);
      const keys = await keyBytes(service);
      for (const [key, bytes] of e.byKey) expect(keys.get(key), key).toBe(bytes);
      expect(keys.get('span_event/exception.message')).toBeGreaterThan(0);
    });
  }

  it('protobuf and JSON give the same figures for the same records', async () => {
    for (const signal of ['logs', 'metrics', 'traces'] as const) {
      const a = (await k.get(`/api/v1/services?q=bytes-${signal}-protobuf`)).body.items[0];
      const b = (await k.get(`/api/v1/services?q=bytes-${signal}-json`)).body.items[0];
      expect(a[SIGNAL_BYTES[signal]]).toBeGreaterThan(0);
      expect(b[SIGNAL_BYTES[signal]]).toBe(a[SIGNAL_BYTES[signal]]);
    }
  });

  it('the test clock sets the receive time; a malformed clock header is a 400 that changes nothing', async () => {
    const svc = (await k.get('/api/v1/services?q=bytes-logs-protobuf')).body.items[0];
    expect(svc.first_seen).toBe(T0 + 1234);
    const r = await post(k, '/v1/logs', encode(LogsReq, logsObj('bytes-bad-clock')), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': 'yesterday' });
    expect(r.status).toBe(400);
    expect((await k.get('/api/v1/services?q=bytes-bad-clock')).body.total).toBe(0);
  });
});
