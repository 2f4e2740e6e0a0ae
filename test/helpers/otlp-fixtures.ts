/**
 * Test fixtures for the OTLP decoders: a seeded generator of varied OTLP
 * requests, the protobufjs-generated code from @opentelemetry/otlp-transformer
 * as the independent encoder/decoder, and an adapter from its decoded messages
 * to keytally's otlp.ts shape (with the same canonical value rules and limits,
 * written separately from the decoders under test).
 */
import { createRequire } from 'node:module';
import type { Attr, LogBody, LogsRequest, MetricsRequest, TracesRequest } from '../../src/model/otlp.js';
import { otlpRoot } from '../../bench/otlp-reference.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
export const root: Any = otlpRoot();
export const pb: Any = require('@opentelemetry/otlp-transformer/node_modules/protobufjs/minimal');
const v1 = root.opentelemetry.proto;
export const LogsReq: Any = v1.collector.logs.v1.ExportLogsServiceRequest;
export const MetricsReq: Any = v1.collector.metrics.v1.ExportMetricsServiceRequest;
export const TracesReq: Any = v1.collector.trace.v1.ExportTraceServiceRequest;

/**
 * Reference sizes: protobufjs re-encodes a decoded message and we take the
 * length. This is the size keytally must report for a record or attribute
 * (its length prefix on the wire), computed without any of keytally's code.
 */
const SIZE_TYPES = {
  keyValue: v1.common.v1.KeyValue,
  logRecord: v1.logs.v1.LogRecord,
  span: v1.trace.v1.Span,
  number: v1.metrics.v1.NumberDataPoint,
  histogram: v1.metrics.v1.HistogramDataPoint,
  exponentialHistogram: v1.metrics.v1.ExponentialHistogramDataPoint,
  summary: v1.metrics.v1.SummaryDataPoint,
};
export function protoSize(type: keyof typeof SIZE_TYPES, msg: Any): number {
  const T = SIZE_TYPES[type];
  return T.encode(T.fromObject(msg)).finish().length;
}
const POINT_SIZE_TYPE: Record<string, keyof typeof SIZE_TYPES> = {
  gauge: 'number', sum: 'number', histogram: 'histogram', exponentialHistogram: 'exponentialHistogram', summary: 'summary',
};

/** A decoded request without its `bytes` fields, for comparisons where the wire carries extra (unknown) fields. */
export function withoutSizes<T>(v: T): T {
  if (Array.isArray(v)) return v.map(withoutSizes) as T;
  if (v && typeof v === 'object') {
    const out: Any = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'bytes') out[k] = withoutSizes(x);
    return out;
  }
  return v;
}

// ------------------------------------------------------------------ generator

/** mulberry32: small, seeded, good enough to vary fixtures reproducibly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  string(): string {
    switch (this.int(9)) {
      case 0:
        return '';
      case 1:
        return 'héllo wörld ' + this.int(1000);
      case 2:
        return '日本語テキスト🎉' + this.int(10);
      case 3:
        return 'x'.repeat(4000 + this.int(200)); // around the 4096 value limit
      case 4:
        return '€'.repeat(4090 + this.int(20)); // multi-byte around the limit
      case 5:
        return '😀'.repeat(2040 + this.int(20)); // surrogate pairs around the limit
      case 6:
        return 'quote " back\\slash \n newline \u0001 ctl';
      default:
        return this.pick(['GET', 'POST', 'checkout', 'user-' + this.int(100000), '200', '10.0.0.' + this.int(255), 'a'.repeat(this.int(40))]);
    }
  }
  key(): string {
    if (this.chance(0.03)) return 'k'.repeat(250 + this.int(20)); // around the key limit
    if (this.chance(0.03)) return 'ключ.' + this.int(5);
    return this.pick(['http.method', 'http.status_code', 'service.name', 'user.id', 'net.peer.ip', 'k8s.pod.name', 'a', '']);
  }
  anyValue(depth = 0): Any {
    const kinds = depth > 3 ? 6 : 9;
    switch (this.int(kinds)) {
      case 0:
        return { stringValue: this.string() };
      case 1:
        return { boolValue: this.chance(0.5) };
      case 2:
        return {
          intValue: this.pick([
            '0',
            '1',
            '-1',
            String(this.int(1e9)),
            '-' + String(this.int(1e9)),
            '9007199254740993',
            '-9007199254740993',
            '9223372036854775807',
            '-9223372036854775808',
            '4294967296',
            '-4294967296',
            '123456789012345',
          ]),
        };
      case 3:
        return { doubleValue: this.pick([0, -0, 0.1, -2.5, 1e300, 5e-324, NaN, Infinity, -Infinity, 12345.678, 1e21, this.r()]) };
      case 4:
        return { bytesValue: this.bytes(this.int(20)) };
      case 5:
        return {}; // no value set
      case 6:
      case 7: {
        const n = this.int(4);
        const values = [];
        for (let i = 0; i < n; i++) values.push(this.anyValue(depth + 1));
        return { arrayValue: { values } };
      }
      default: {
        const n = this.int(4);
        const values = [];
        for (let i = 0; i < n; i++) values.push(this.chance(0.1) ? { key: this.key() } : { key: this.key(), value: this.anyValue(depth + 1) });
        return { kvlistValue: { values } };
      }
    }
  }
  attrs(max = 6): Any[] {
    const n = this.chance(0.02) ? 260 + this.int(20) : this.int(max + 1);
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.chance(0.03) ? { key: this.key() } : { key: this.key(), value: this.anyValue() });
    return out;
  }
  nanos(): string {
    return this.pick(['0', '1', '999999', '1000000', '1700000000123456789', '1700000000999999999', '18446744073709551615', String(this.int(2 ** 31) * 1_000_037)]);
  }
  resource(): Any {
    if (this.chance(0.15)) return undefined;
    const attrs = this.attrs(5);
    if (this.chance(0.1)) attrs.unshift({ key: 'service.name', value: { stringValue: 's'.repeat(10_000) } });
    return { attributes: attrs, droppedAttributesCount: this.int(3) };
  }
  scope(): Any {
    if (this.chance(0.15)) return undefined;
    return { name: this.pick(['', 'io.opentelemetry.jdbc', 'my-lib', 'лог']), version: '1.2.3', attributes: this.attrs(2) };
  }
  logs(): Any {
    const resourceLogs = [];
    for (let i = this.int(4); i > 0; i--) {
      const scopeLogs = [];
      for (let j = this.int(4); j > 0; j--) {
        const logRecords = [];
        for (let k = this.int(6); k > 0; k--) {
          const rec: Any = {
            severityNumber: this.int(25),
            severityText: this.pick(['', 'INFO', 'ERROR', 'warn']),
            attributes: this.attrs(),
            traceId: this.bytes(16),
            spanId: this.bytes(8),
            flags: this.int(3),
            droppedAttributesCount: this.int(2),
          };
          if (this.chance(0.8)) rec.timeUnixNano = this.nanos();
          if (this.chance(0.7)) rec.observedTimeUnixNano = this.nanos();
          if (this.chance(0.85)) rec.body = this.chance(0.5) ? { stringValue: this.string() } : this.anyValue();
          if (this.chance(0.2)) rec.eventName = 'evt';
          logRecords.push(rec);
        }
        scopeLogs.push({ scope: this.scope(), logRecords, schemaUrl: this.chance(0.3) ? 'https://x/1.0' : undefined });
      }
      resourceLogs.push({ resource: this.resource(), scopeLogs, schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' });
    }
    return { resourceLogs };
  }
  exemplars(): Any[] {
    return this.chance(0.3)
      ? [{ timeUnixNano: this.nanos(), asDouble: 1.5, spanId: this.bytes(8), traceId: this.bytes(16), filteredAttributes: this.attrs(2) }]
      : [];
  }
  numberPoint(): Any {
    const p: Any = { attributes: this.attrs(), startTimeUnixNano: this.nanos(), timeUnixNano: this.nanos(), exemplars: this.exemplars(), flags: this.int(2) };
    if (this.chance(0.5)) p.asDouble = this.r() * 100;
    else p.asInt = String(this.int(1e6));
    return p;
  }
  points(make: () => Any): Any[] {
    const out = [];
    for (let i = this.int(4); i > 0; i--) out.push(make());
    return out;
  }
  metric(): Any {
    const m: Any = { name: this.pick(['http.server.duration', 'queue.depth', 'cpu', '']), description: this.pick(['', 'how long']), unit: this.pick(['', 'ms', '{request}']) };
    switch (this.int(6)) {
      case 0:
        m.gauge = { dataPoints: this.points(() => this.numberPoint()) };
        break;
      case 1:
        m.sum = { dataPoints: this.points(() => this.numberPoint()), aggregationTemporality: this.int(3), isMonotonic: this.chance(0.5) };
        break;
      case 2:
        m.histogram = {
          aggregationTemporality: this.int(3),
          dataPoints: this.points(() => {
            const nb = this.int(12);
            const bounds = [];
            for (let i = 0; i < nb; i++) bounds.push(i * 10);
            const counts = [];
            for (let i = 0; i <= (this.chance(0.1) ? -1 : nb); i++) counts.push(String(this.int(100)));
            return { attributes: this.attrs(), count: '10', sum: 12.5, bucketCounts: counts, explicitBounds: bounds, min: 1, max: 9, exemplars: this.exemplars(), timeUnixNano: this.nanos() };
          }),
        };
        break;
      case 3:
        m.exponentialHistogram = {
          aggregationTemporality: this.int(3),
          dataPoints: this.points(() => {
            const counts = (n: number): string[] => Array.from({ length: n }, () => String(this.pick([0, 1, 127, 128, 300, 2 ** 40])));
            const p: Any = { attributes: this.attrs(), count: '5', sum: 3, scale: this.int(20) - 10, zeroCount: '1', zeroThreshold: 0.001, timeUnixNano: this.nanos() };
            if (this.chance(0.8)) p.positive = { offset: this.int(10) - 5, bucketCounts: counts(this.int(20)) };
            if (this.chance(0.5)) p.negative = { offset: -3, bucketCounts: counts(this.int(5)) };
            return p;
          }),
        };
        break;
      case 4:
        m.summary = {
          dataPoints: this.points(() => ({
            attributes: this.attrs(),
            count: '3',
            sum: 9,
            quantileValues: Array.from({ length: this.int(5) }, (_, i) => ({ quantile: i / 4, value: i })),
            timeUnixNano: this.nanos(),
          })),
        };
        break;
      default:
        break; // no data: type undefined
    }
    if (this.chance(0.2)) m.metadata = this.attrs(2);
    return m;
  }
  metrics(): Any {
    const resourceMetrics = [];
    for (let i = this.int(4); i > 0; i--) {
      const scopeMetrics = [];
      for (let j = this.int(4); j > 0; j--) {
        const metrics = [];
        for (let k = this.int(6); k > 0; k--) metrics.push(this.metric());
        scopeMetrics.push({ scope: this.scope(), metrics });
      }
      resourceMetrics.push({ resource: this.resource(), scopeMetrics });
    }
    return { resourceMetrics };
  }
  traces(): Any {
    const resourceSpans = [];
    for (let i = this.int(4); i > 0; i--) {
      const scopeSpans = [];
      for (let j = this.int(4); j > 0; j--) {
        const spans = [];
        for (let k = this.int(6); k > 0; k--) {
          const span: Any = {
            traceId: this.bytes(16),
            spanId: this.bytes(8),
            parentSpanId: this.chance(0.5) ? this.bytes(8) : undefined,
            traceState: this.chance(0.2) ? 'a=b' : undefined,
            name: this.pick(['GET /api/users/{id}', 'SELECT', '', 'операция']),
            kind: this.int(6),
            endTimeUnixNano: this.nanos(),
            attributes: this.attrs(),
            droppedAttributesCount: 1,
            events: Array.from({ length: this.int(3) }, () => ({ timeUnixNano: this.nanos(), name: this.pick(['exception', 'retry', '']), attributes: this.attrs(3) })),
            links: Array.from({ length: this.int(2) }, () => ({ traceId: this.bytes(16), spanId: this.bytes(8), attributes: this.attrs(2), flags: 1 })),
            flags: 257,
          };
          if (this.chance(0.9)) span.startTimeUnixNano = this.nanos();
          if (this.chance(0.7)) span.status = { code: this.int(3), message: this.chance(0.5) ? 'boom' : '' };
          spans.push(span);
        }
        scopeSpans.push({ scope: this.scope(), spans });
      }
      resourceSpans.push({ resource: this.resource(), scopeSpans });
    }
    return { resourceSpans };
  }
}

// ------------------------------------------------------------------ protobufjs encode with unknown fields

/** Every generated message type (anything with encode and decode). */
function messageTypes(ns: Any, out: Any[] = []): Any[] {
  for (const k of Object.keys(ns)) {
    const v = ns[k];
    if (typeof v === 'function' && typeof v.encode === 'function' && typeof v.decode === 'function') {
      out.push(v);
      messageTypes(v, out); // nested types (Span.Event, ...)
    } else if (v && typeof v === 'object') {
      messageTypes(v, out);
    }
  }
  return out;
}

/** Appends unknown fields of every wire type (including a group) to a message being written. */
function writeUnknowns(w: Any): void {
  w.uint32((1000 << 3) | 0).uint64('18446744073709551615');
  w.uint32((1001 << 3) | 1).fixed64('123456789');
  w.uint32((1002 << 3) | 5).fixed32(7);
  w.uint32((1003 << 3) | 2).bytes(new Uint8Array([1, 2, 3, 0xff]));
  w.uint32((30 << 3) | 0).uint32(5); // unknown, but below 32
  w.uint32((1004 << 3) | 3); // start group
  w.uint32((1 << 3) | 0).uint32(300);
  w.uint32((2 << 3) | 2).string('in a group');
  w.uint32((3 << 3) | 3).uint32((3 << 3) | 4); // empty nested group
  w.uint32((1004 << 3) | 4); // end group
}

/**
 * Encodes `obj` with protobufjs, inserting unknown fields at the start and the
 * end of every message in the tree when `unknowns` is set (by wrapping each
 * generated encode, which nested messages call through the type object).
 */
export function encode(type: Any, obj: Any, unknowns = false): Uint8Array {
  const msg = type.fromObject(obj);
  if (!unknowns) return type.encode(msg).finish();
  const types = messageTypes(root);
  const originals = types.map((t) => t.encode);
  try {
    types.forEach((t, i) => {
      const orig = originals[i];
      t.encode = (m: Any, w?: Any) => {
        w = w ?? pb.Writer.create();
        writeUnknowns(w);
        orig.call(t, m, w);
        writeUnknowns(w);
        return w;
      };
    });
    return type.encode(msg).finish();
  } finally {
    types.forEach((t, i) => {
      t.encode = originals[i];
    });
  }
}

// ------------------------------------------------------------------ adapter: protobufjs message → otlp.ts

export interface Limits {
  maxAttributes: number;
  maxKeyLength: number;
  maxValueLength: number;
}
export const DEFAULT_LIMITS: Limits = { maxAttributes: 256, maxKeyLength: 256, maxValueLength: 4096 };

export interface Stats {
  truncated: number;
  truncatedStrings: number;
}

function b64(u: Uint8Array): string {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
}

/** Reference canonical text of an AnyValue, from protobufjs's oneof getter. */
export function canon(av: Any, nested: boolean): string {
  const which = av == null ? undefined : av.value;
  switch (which) {
    case 'stringValue':
      return nested ? JSON.stringify(av.stringValue) : av.stringValue;
    case 'boolValue':
      return String(av.boolValue);
    case 'intValue':
      return pb.util.Long.fromValue(av.intValue).toString();
    case 'doubleValue':
      return String(av.doubleValue);
    case 'bytesValue':
      return nested ? `"${b64(av.bytesValue)}"` : b64(av.bytesValue);
    case 'arrayValue':
      return '[' + (av.arrayValue.values ?? []).map((x: Any) => canon(x, true)).join(',') + ']';
    case 'kvlistValue':
      return '{' + (av.kvlistValue.values ?? []).map((kv: Any) => JSON.stringify(kv.key ?? '') + ':' + canon(kv.value, true)).join(',') + '}';
    default:
      return nested ? 'null' : '';
  }
}

function nanosMs(v: Any): number {
  if (v == null) return 0;
  return pb.util.Long.fromValue(v).toUnsigned().div(1000000).toNumber();
}

export class Adapter {
  stats: Stats = { truncated: 0, truncatedStrings: 0 };
  constructor(readonly limits: Limits = DEFAULT_LIMITS) {}

  attrs(list: Any[] | undefined): Attr[] {
    const out: Attr[] = [];
    for (const kv of list ?? []) {
      if (out.length >= this.limits.maxAttributes) {
        this.stats.truncated++;
        continue;
      }
      let key: string = kv.key ?? '';
      let value = canon(kv.value, false);
      if (key.length > this.limits.maxKeyLength) {
        key = key.slice(0, this.limits.maxKeyLength);
        this.stats.truncatedStrings++;
      }
      if (value.length > this.limits.maxValueLength) {
        value = value.slice(0, this.limits.maxValueLength);
        this.stats.truncatedStrings++;
      }
      out.push({ key, value, bytes: protoSize('keyValue', kv) });
    }
    return out;
  }

  body(av: Any): LogBody {
    if (av == null || av.value === undefined) return undefined;
    if (av.value === 'stringValue') return av.stringValue;
    if (av.value === 'kvlistValue') return this.attrs(av.kvlistValue.values);
    return canon(av, false);
  }

  logs(m: Any): LogsRequest & Stats {
    const resources = (m.resourceLogs ?? []).map((rl: Any) => ({
      attrs: this.attrs(rl.resource?.attributes),
      scopes: (rl.scopeLogs ?? []).map((sl: Any) => ({
        scopeName: sl.scope?.name ?? '',
        records: (sl.logRecords ?? []).map((lr: Any) => {
          const t = nanosMs(lr.timeUnixNano);
          return {
            timeUnixMs: t !== 0 ? t : nanosMs(lr.observedTimeUnixNano),
            severityNumber: lr.severityNumber ?? 0,
            severityText: lr.severityText ?? '',
            body: this.body(lr.body),
            attrs: this.attrs(lr.attributes),
            bytes: protoSize('logRecord', lr),
          };
        }),
      })),
    }));
    return { resources, ...this.stats };
  }

  metrics(m: Any): MetricsRequest & Stats {
    const resources = (m.resourceMetrics ?? []).map((rm: Any) => ({
      attrs: this.attrs(rm.resource?.attributes),
      scopes: (rm.scopeMetrics ?? []).map((sm: Any) => ({
        scopeName: sm.scope?.name ?? '',
        metrics: (sm.metrics ?? []).map((mt: Any) => {
          const which: string | undefined = mt.data;
          const data = which ? mt[which] : undefined;
          const type = which === 'exponentialHistogram' ? 'exponential_histogram' : which;
          return {
            name: mt.name ?? '',
            description: mt.description ?? '',
            unit: mt.unit ?? '',
            type,
            monotonic: which === 'sum' ? Boolean(data.isMonotonic) : false,
            temporality: which === 'sum' || which === 'histogram' || which === 'exponentialHistogram' ? (data.aggregationTemporality ?? 0) : 0,
            points: (data?.dataPoints ?? []).map((p: Any) => ({
              attrs: this.attrs(p.attributes),
              buckets:
                which === 'histogram'
                  ? (p.explicitBounds ?? []).length + 1
                  : which === 'exponentialHistogram'
                    ? (p.positive?.bucketCounts ?? []).length + (p.negative?.bucketCounts ?? []).length + 1
                    : which === 'summary'
                      ? (p.quantileValues ?? []).length
                      : 0,
              bytes: protoSize(POINT_SIZE_TYPE[which!]!, p),
            })),
          };
        }),
      })),
    }));
    return { resources, ...this.stats };
  }

  traces(m: Any): TracesRequest & Stats {
    const resources = (m.resourceSpans ?? []).map((rs: Any) => ({
      attrs: this.attrs(rs.resource?.attributes),
      scopes: (rs.scopeSpans ?? []).map((ss: Any) => ({
        scopeName: ss.scope?.name ?? '',
        spans: (ss.spans ?? []).map((s: Any) => ({
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startUnixMs: nanosMs(s.startTimeUnixNano),
          attrs: this.attrs(s.attributes),
          events: (s.events ?? []).map((e: Any) => ({ name: e.name ?? '', attrs: this.attrs(e.attributes) })),
          statusCode: s.status?.code ?? 0,
          bytes: protoSize('span', s),
        })),
      })),
    }));
    return { resources, ...this.stats };
  }
}

// ------------------------------------------------------------------ OTLP/JSON from protobufjs

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** OTLP/JSON text for a protobufjs-encoded request: proto3 JSON with hex ids. */
export function toOtlpJson(type: Any, bytes: Uint8Array): Any {
  const obj = type.toObject(type.decode(bytes), { longs: String, bytes: String, json: true });
  return fixIds(obj);
}

function fixIds(v: Any): Any {
  if (Array.isArray(v)) return v.map(fixIds);
  if (v && typeof v === 'object') {
    const out: Any = {};
    for (const [k, x] of Object.entries(v)) out[k] = ID_FIELDS.has(k) && typeof x === 'string' ? Buffer.from(x, 'base64').toString('hex') : fixIds(x);
    return out;
  }
  return v;
}

/** Renames every field to its snake_case proto name. */
export function toSnake(v: Any): Any {
  if (Array.isArray(v)) return v.map(toSnake);
  if (v && typeof v === 'object') {
    const out: Any = {};
    for (const [k, x] of Object.entries(v)) {
      let s = '';
      for (const ch of k) s += ch >= 'A' && ch <= 'Z' ? '_' + ch.toLowerCase() : ch;
      out[s] = toSnake(x);
    }
    return out;
  }
  return v;
}

/** Turns int64 strings into JSON numbers where that is exact, and enums into names where known. */
export function toNumbersAndNames(v: Any, key = ''): Any {
  if (Array.isArray(v)) return v.map((x) => toNumbersAndNames(x, key));
  if (v && typeof v === 'object') {
    const out: Any = {};
    for (const [k, x] of Object.entries(v)) out[k] = toNumbersAndNames(x, k);
    return out;
  }
  if (typeof v === 'string' && (key === 'intValue' || key.endsWith('UnixNano'))) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
  }
  if (typeof v === 'number' && key === 'kind') return ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'][v] ?? v;
  return v;
}
