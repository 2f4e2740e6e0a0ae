/**
 * Builds OTLP requests for tests, in the OTLP/JSON object shape, and encodes
 * them as protobuf with the protobufjs code generated inside
 * @opentelemetry/otlp-transformer (an implementation independent of ours) or
 * as JSON.
 */
import { encodeProto, exportType, kv, type AttrValue, type Obj } from '../../bench/otlp-reference.js';

export { encodeProto, kv, type AttrValue, type Obj };

export interface LogSpec {
  body?: string | Record<string, string>;
  severityText?: string;
  severityNumber?: number;
  attrs?: Record<string, AttrValue>;
}

export function logsRequest(resources: Array<{ resource: Record<string, AttrValue>; logs: LogSpec[] }>): Obj {
  return {
    resourceLogs: resources.map((r) => ({
      resource: { attributes: kv(r.resource) },
      scopeLogs: [
        {
          scope: { name: 'test' },
          logRecords: r.logs.map((l) => ({
            timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
            severityText: l.severityText ?? '',
            severityNumber: l.severityNumber ?? 0,
            body:
              l.body === undefined
                ? undefined
                : typeof l.body === 'string'
                  ? { stringValue: l.body }
                  : { kvlistValue: { values: kv(l.body) } },
            attributes: kv(l.attrs ?? {}),
          })),
        },
      ],
    })),
  };
}

export interface SpanSpec {
  name: string;
  kind?: number;
  attrs?: Record<string, AttrValue>;
  events?: Array<{ name: string; attrs?: Record<string, AttrValue> }>;
  status?: number;
}

export function tracesRequest(resources: Array<{ resource: Record<string, AttrValue>; spans: SpanSpec[] }>): Obj {
  return {
    resourceSpans: resources.map((r) => ({
      resource: { attributes: kv(r.resource) },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: r.spans.map((s, i) => ({
            traceId: Buffer.alloc(16, i + 1).toString('base64'),
            spanId: Buffer.alloc(8, i + 1).toString('base64'),
            name: s.name,
            kind: s.kind ?? 1,
            startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
            endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
            attributes: kv(s.attrs ?? {}),
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: kv(e.attrs ?? {}), timeUnixNano: '1' })),
            status: { code: s.status ?? 0 },
          })),
        },
      ],
    })),
  };
}

export interface MetricSpec {
  name: string;
  type: 'gauge' | 'sum' | 'histogram' | 'summary' | 'exponential_histogram';
  unit?: string;
  description?: string;
  points: Array<Record<string, AttrValue>>;
  bounds?: number[];
  quantiles?: number;
}

export function metricsRequest(resources: Array<{ resource: Record<string, AttrValue>; metrics: MetricSpec[] }>): Obj {
  const t = String(BigInt(Date.now()) * 1_000_000n);
  return {
    resourceMetrics: resources.map((r) => ({
      resource: { attributes: kv(r.resource) },
      scopeMetrics: [
        {
          scope: { name: 'test' },
          metrics: r.metrics.map((m) => {
            const base: Obj = { name: m.name, unit: m.unit ?? '', description: m.description ?? '' };
            const num = (p: Record<string, AttrValue>) => ({ attributes: kv(p), timeUnixNano: t, asDouble: 1.5 });
            switch (m.type) {
              case 'gauge':
                return { ...base, gauge: { dataPoints: m.points.map(num) } };
              case 'sum':
                return { ...base, sum: { dataPoints: m.points.map(num), aggregationTemporality: 2, isMonotonic: true } };
              case 'histogram': {
                const bounds = m.bounds ?? [1, 5, 10];
                return {
                  ...base,
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: m.points.map((p) => ({ attributes: kv(p), timeUnixNano: t, count: '3', sum: 4, explicitBounds: bounds, bucketCounts: [...bounds, 0].map(() => '1') })),
                  },
                };
              }
              case 'exponential_histogram':
                return {
                  ...base,
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: m.points.map((p) => ({ attributes: kv(p), timeUnixNano: t, count: '3', scale: 2, zeroCount: '1', positive: { offset: 0, bucketCounts: ['1', '1'] } })),
                  },
                };
              case 'summary':
                return {
                  ...base,
                  summary: {
                    dataPoints: m.points.map((p) => ({
                      attributes: kv(p),
                      timeUnixNano: t,
                      count: '3',
                      sum: 4,
                      quantileValues: Array.from({ length: m.quantiles ?? 3 }, (_, i) => ({ quantile: (i + 1) / 4, value: i })),
                    })),
                  },
                };
            }
          }),
        },
      ],
    })),
  };
}

export function encodeJson(obj: Obj): string {
  return JSON.stringify(obj);
}

export function decodeProtoResponse(signal: 'logs' | 'metrics' | 'traces', bytes: Uint8Array): Obj {
  const T = exportType(signal, true);
  return T.toObject(T.decode(bytes), { longs: Number });
}
