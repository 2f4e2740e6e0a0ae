/**
 * OTLP/JSON decoders (the OTLP/HTTP JSON encoding).
 *
 * The mapping is proto3 JSON with OTLP's exceptions: field names in
 * lowerCamelCase (the snake_case proto names are accepted too, as proto3 JSON
 * parsers must), int64/fixed64 as decimal strings or numbers, enums as integers
 * (their names are accepted too), `bytes` values as base64, trace/span ids as
 * hex (never read here). Unknown fields are ignored; `null` means unset.
 *
 * The output is exactly what the protobuf decoder yields for the same request
 * (same canonical attribute strings, same limits and counters), so the
 * extractor cannot tell the formats apart. Type errors throw DecodeError
 * naming the offending field.
 *
 * Sizes (`bytes` on records, points and attributes) are the protobuf size of
 * the same message, computed from the JSON object by src/decode/proto-size.ts
 * before any limit cuts it, so cost does not depend on the client's encoding.
 */
import type {
  Attr,
  DataPoint,
  LogBody,
  LogRecord,
  LogsRequest,
  Metric,
  MetricType,
  MetricsRequest,
  ResourceLogs,
  ResourceMetrics,
  ResourceSpans,
  ScopeLogs,
  ScopeMetrics,
  ScopeSpans,
  Span,
  SpanEvent,
  TracesRequest,
} from '../model/otlp.js';
import { DecodeError } from './errors.js';
import {
  DEFAULT_MAX_ATTRIBUTES,
  DEFAULT_MAX_KEY_LENGTH,
  DEFAULT_MAX_VALUE_LENGTH,
  MAX_ANYVALUE_DEPTH,
  type DecodeOptions,
  type Decoded,
} from './limits.js';
import { EXP_HISTOGRAM_POINT, HISTOGRAM_POINT, KEY_VALUE, LOG_RECORD, NUMBER_POINT, SPAN, SUMMARY_POINT, sizeOf, type Schema } from './proto-size.js';

type Obj = Record<string, unknown>;

/** Per-request limits and counters. */
class Ctx {
  readonly maxAttrs: number;
  readonly maxKey: number;
  readonly maxVal: number;
  dropped = 0;
  truncated = 0;
  constructor(opts: DecodeOptions | undefined) {
    this.maxAttrs = opts?.maxAttributes ?? DEFAULT_MAX_ATTRIBUTES;
    this.maxKey = opts?.maxKeyLength ?? DEFAULT_MAX_KEY_LENGTH;
    this.maxVal = opts?.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH;
  }
}

// ------------------------------------------------------------------ primitives

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function fail(what: string, expected: string, v: unknown): never {
  throw new DecodeError(`${what}: expected ${expected}, got ${typeName(v)}`);
}

function parseJson(bytes: Uint8Array): unknown {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text = b.toString('utf8');
  // A UTF-8 byte order mark is legal at the start of a JSON text but JSON.parse rejects it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DecodeError(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The value of a field under its lowerCamelCase or snake_case name. */
function field(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

/** An object, or undefined for absent/null. */
function optObj(v: unknown, what: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(what, 'an object', v);
  return v as Obj;
}

/** An array, or undefined for absent/null. */
function optArr(v: unknown, what: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(what, 'an array', v);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  fail(what, 'a string', v);
}

function isDigits(s: string, from: number): boolean {
  if (s.length <= from) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Enum names accepted in place of their numbers (OTLP says integers; names cost nothing to accept). */
const ENUM_NAMES = new Map<string, number>([
  ['SPAN_KIND_UNSPECIFIED', 0],
  ['SPAN_KIND_INTERNAL', 1],
  ['SPAN_KIND_SERVER', 2],
  ['SPAN_KIND_CLIENT', 3],
  ['SPAN_KIND_PRODUCER', 4],
  ['SPAN_KIND_CONSUMER', 5],
  ['STATUS_CODE_UNSET', 0],
  ['STATUS_CODE_OK', 1],
  ['STATUS_CODE_ERROR', 2],
  ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 0],
  ['AGGREGATION_TEMPORALITY_DELTA', 1],
  ['AGGREGATION_TEMPORALITY_CUMULATIVE', 2],
  ['SEVERITY_NUMBER_UNSPECIFIED', 0],
]);
{
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  for (let i = 0; i < levels.length; i++) {
    for (let j = 0; j < 4; j++) ENUM_NAMES.set(`SEVERITY_NUMBER_${levels[i]}${j === 0 ? '' : j + 1}`, i * 4 + j + 1);
  }
}

/** An enum or int32: integer number, decimal string, or (enums) its name; 0 when unset. */
function enumOrInt(v: unknown, what: string): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
    fail(what, 'an int32', v);
  }
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') {
    const named = ENUM_NAMES.get(v);
    if (named !== undefined) return named;
    if (isDigits(v, v.charCodeAt(0) === 45 ? 1 : 0)) {
      const n = Number(v);
      if (n >= -2147483648 && n <= 2147483647) return n;
    }
    throw new DecodeError(`${what}: unknown enum value ${JSON.stringify(v.length > 64 ? v.slice(0, 64) : v)}`);
  }
  fail(what, 'an integer', v);
}

/** fixed64 unix nanoseconds (decimal string or number) → whole ms; 0 when unset. */
function nanosToMs(v: unknown, what: string): number {
  if (typeof v === 'string') {
    if (!isDigits(v, 0)) throw new DecodeError(`${what}: expected unsigned decimal nanoseconds, got ${JSON.stringify(v.slice(0, 64))}`);
    const n = v.length;
    // Exact: drop the last six digits instead of dividing a rounded double.
    return n <= 6 ? 0 : Number(v.slice(0, n - 6));
  }
  if (typeof v === 'number') {
    if (v >= 0 && Number.isFinite(v)) return Math.floor(v / 1e6);
    fail(what, 'unsigned nanoseconds', v);
  }
  if (v === undefined || v === null) return 0;
  fail(what, 'a decimal string or number', v);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** int64 (decimal string or number) → canonical decimal text, as the protobuf path prints it. */
function int64Text(v: unknown, what: string): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) fail(what, 'an integer', v);
    // String() switches to exponent notation at 1e21.
    return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
  }
  if (typeof v === 'string') {
    const neg = v.charCodeAt(0) === 45;
    if (!isDigits(v, neg ? 1 : 0)) throw new DecodeError(`${what}: expected an int64, got ${JSON.stringify(v.slice(0, 64))}`);
    if (v.length - (neg ? 1 : 0) <= 15) return String(Number(v)); // < 2^53: exact, and normalises "-0", "007"
    const b = BigInt(v);
    if (b < INT64_MIN || b > INT64_MAX) throw new DecodeError(`${what}: ${v} is outside the int64 range`);
    return b.toString();
  }
  fail(what, 'an int64', v);
}

/** double (number, or "NaN"/"Infinity"/"-Infinity"/a numeric string) → String(). */
function doubleText(v: unknown, what: string): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    if (v === 'NaN') return 'NaN';
    const n = Number(v);
    if (v.length > 0 && !Number.isNaN(n)) return String(n);
  }
  fail(what, 'a double', v);
}

// ------------------------------------------------------------------ common

/**
 * Canonical string of an AnyValue (see otlp-proto.ts): at top level strings and
 * base64 bytes as is and '' when unset; nested in arrays/kvlists strings and
 * bytes JSON-quoted and `null` when unset.
 */
function anyValue(v: unknown, depth: number, nested: boolean, what: string): string {
  const o = optObj(v, what);
  if (o === undefined) return nested ? 'null' : '';
  let x = field(o, 'stringValue', 'string_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'string') fail(what + '.stringValue', 'a string', x);
    return nested ? JSON.stringify(x) : x;
  }
  x = field(o, 'boolValue', 'bool_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'boolean') fail(what + '.boolValue', 'a boolean', x);
    return x ? 'true' : 'false';
  }
  x = field(o, 'intValue', 'int_value');
  if (x !== undefined && x !== null) return int64Text(x, what + '.intValue');
  x = field(o, 'doubleValue', 'double_value');
  if (x !== undefined && x !== null) return doubleText(x, what + '.doubleValue');
  x = field(o, 'arrayValue', 'array_value');
  if (x !== undefined && x !== null) return arrayText(x, depth + 1, what + '.arrayValue');
  x = field(o, 'kvlistValue', 'kvlist_value');
  if (x !== undefined && x !== null) return kvlistText(x, depth + 1, what + '.kvlistValue');
  x = field(o, 'bytesValue', 'bytes_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'string') fail(what + '.bytesValue', 'a base64 string', x);
    // Re-encode so URL-safe or unpadded base64 hashes like the protobuf path's bytes.
    const b64 = Buffer.from(x, 'base64').toString('base64');
    return nested ? '"' + b64 + '"' : b64;
  }
  return nested ? 'null' : '';
}

function checkDepth(depth: number): void {
  if (depth > MAX_ANYVALUE_DEPTH) throw new DecodeError(`AnyValue nested deeper than ${MAX_ANYVALUE_DEPTH} levels`);
}

function arrayText(v: unknown, depth: number, what: string): string {
  checkDepth(depth);
  const o = optObj(v, what)!;
  const values = optArr(o.values, what + '.values');
  if (values === undefined) return '[]';
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += anyValue(values[i], depth, true, what + '.values[]');
  }
  return out + ']';
}

function kvlistText(v: unknown, depth: number, what: string): string {
  checkDepth(depth);
  const o = optObj(v, what)!;
  const values = optArr(o.values, what + '.values');
  if (values === undefined) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const kv = optObj(values[i], what + '.values[]');
    if (i > 0) out += ',';
    if (kv === undefined) {
      out += '"":null';
      continue;
    }
    out += JSON.stringify(str(kv.key, what + '.values[].key')) + ':' + anyValue(kv.value, depth, true, what + '.values[].value');
  }
  return out + '}';
}

/** A KeyValue list → attributes, keeping the first maxAttrs and cutting keys and values. */
function attrs(ctx: Ctx, v: unknown, what: string): Attr[] {
  const out: Attr[] = [];
  const list = optArr(v, what);
  if (list === undefined) return out;
  for (let i = 0; i < list.length; i++) {
    if (out.length >= ctx.maxAttrs) {
      ctx.dropped += list.length - i;
      break;
    }
    const kv = optObj(list[i], what + '[]');
    let key = '';
    let value = '';
    let bytes = 0;
    if (kv !== undefined) {
      key = str(kv.key, what + '[].key');
      value = anyValue(kv.value, 0, false, what + '[].value');
      bytes = sizeOf(KEY_VALUE, kv);
    }
    if (key.length > ctx.maxKey) {
      key = key.slice(0, ctx.maxKey);
      ctx.truncated++;
    }
    if (value.length > ctx.maxVal) {
      value = value.slice(0, ctx.maxVal);
      ctx.truncated++;
    }
    out.push({ key, value, bytes });
  }
  return out;
}

function resourceAttrs(ctx: Ctx, o: Obj, what: string): Attr[] {
  const res = optObj(o.resource, what + '.resource');
  return res === undefined ? [] : attrs(ctx, res.attributes, what + '.resource.attributes');
}

function scopeName(o: Obj, what: string): string {
  const scope = optObj(o.scope, what + '.scope');
  return scope === undefined ? '' : str(scope.name, what + '.scope.name');
}

function rootObj(bytes: Uint8Array): Obj {
  const root = parseJson(bytes);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) fail('request', 'an object', root);
  return root as Obj;
}

// ------------------------------------------------------------------ logs

const W_RL = 'resourceLogs[]';
const W_SL = 'resourceLogs[].scopeLogs[]';
const W_LR = 'resourceLogs[].scopeLogs[].logRecords[]';

function body(ctx: Ctx, v: unknown): LogBody {
  const o = optObj(v, W_LR + '.body');
  if (o === undefined) return undefined;
  const s = field(o, 'stringValue', 'string_value');
  if (s !== undefined && s !== null) {
    if (typeof s !== 'string') fail(W_LR + '.body.stringValue', 'a string', s);
    return s;
  }
  const kv = field(o, 'kvlistValue', 'kvlist_value');
  if (kv !== undefined && kv !== null) {
    const kvo = optObj(kv, W_LR + '.body.kvlistValue')!;
    return attrs(ctx, kvo.values, W_LR + '.body.kvlistValue.values');
  }
  const text = anyValue(o, 0, false, W_LR + '.body');
  // anyValue gives '' both for "no value" and for an empty bytes value; tell them apart.
  if (text === '' && field(o, 'bytesValue', 'bytes_value') == null) return undefined;
  return text;
}

function logRecord(ctx: Ctx, v: unknown): LogRecord {
  const o = optObj(v, W_LR) ?? {};
  const time = nanosToMs(field(o, 'timeUnixNano', 'time_unix_nano'), W_LR + '.timeUnixNano');
  const record: LogRecord = {
    timeUnixMs:
      time !== 0 ? time : nanosToMs(field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), W_LR + '.observedTimeUnixNano'),
    severityNumber: enumOrInt(field(o, 'severityNumber', 'severity_number'), W_LR + '.severityNumber'),
    severityText: str(field(o, 'severityText', 'severity_text'), W_LR + '.severityText'),
    body: body(ctx, o.body),
    attrs: attrs(ctx, o.attributes, W_LR + '.attributes'),
    bytes: sizeOf(LOG_RECORD, o),
  };
  return record;
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest. */
export function decodeLogs(bytes: Uint8Array, opts?: DecodeOptions): Decoded<LogsRequest> {
  const ctx = new Ctx(opts);
  const root = rootObj(bytes);
  const resources: ResourceLogs[] = [];
  const rls = optArr(field(root, 'resourceLogs', 'resource_logs'), 'resourceLogs') ?? [];
  for (let i = 0; i < rls.length; i++) {
    const rl = optObj(rls[i], W_RL) ?? {};
    const scopes: ScopeLogs[] = [];
    const sls = optArr(field(rl, 'scopeLogs', 'scope_logs'), W_RL + '.scopeLogs') ?? [];
    for (let j = 0; j < sls.length; j++) {
      const sl = optObj(sls[j], W_SL) ?? {};
      const records: LogRecord[] = [];
      const lrs = optArr(field(sl, 'logRecords', 'log_records'), W_SL + '.logRecords') ?? [];
      for (let k = 0; k < lrs.length; k++) records.push(logRecord(ctx, lrs[k]));
      scopes.push({ scopeName: scopeName(sl, W_SL), records });
    }
    resources.push({ attrs: resourceAttrs(ctx, rl, W_RL), scopes });
  }
  return { resources, truncated: ctx.dropped, truncatedStrings: ctx.truncated };
}

// ------------------------------------------------------------------ metrics

const W_RM = 'resourceMetrics[]';
const W_SM = 'resourceMetrics[].scopeMetrics[]';
const W_M = 'resourceMetrics[].scopeMetrics[].metrics[]';

function countOf(v: unknown, what: string): number {
  const a = optArr(v, what);
  return a === undefined ? 0 : a.length;
}

function expBuckets(v: unknown, what: string): number {
  const o = optObj(v, what);
  return o === undefined ? 0 : countOf(field(o, 'bucketCounts', 'bucket_counts'), what + '.bucketCounts');
}

function points(ctx: Ctx, data: Obj, type: MetricType, what: string): DataPoint[] {
  const out: DataPoint[] = [];
  const list = optArr(field(data, 'dataPoints', 'data_points'), what + '.dataPoints') ?? [];
  const pw = what + '.dataPoints[]';
  const schema = POINT_SCHEMA[type];
  for (let i = 0; i < list.length; i++) {
    const p = optObj(list[i], pw) ?? {};
    let buckets = 0;
    if (type === 'histogram') {
      buckets = countOf(field(p, 'explicitBounds', 'explicit_bounds'), pw + '.explicitBounds') + 1;
    } else if (type === 'exponential_histogram') {
      buckets = expBuckets(p.positive, pw + '.positive') + expBuckets(p.negative, pw + '.negative') + 1;
    } else if (type === 'summary') {
      buckets = countOf(field(p, 'quantileValues', 'quantile_values'), pw + '.quantileValues');
    }
    out.push({ attrs: attrs(ctx, p.attributes, pw + '.attributes'), buckets, bytes: sizeOf(schema, p) });
  }
  return out;
}

const POINT_SCHEMA: Record<MetricType, Schema> = {
  gauge: NUMBER_POINT,
  sum: NUMBER_POINT,
  histogram: HISTOGRAM_POINT,
  exponential_histogram: EXP_HISTOGRAM_POINT,
  summary: SUMMARY_POINT,
};

function metric(ctx: Ctx, v: unknown): Metric {
  const o = optObj(v, W_M) ?? {};
  const m: Metric = {
    name: str(o.name, W_M + '.name'),
    description: str(o.description, W_M + '.description'),
    unit: str(o.unit, W_M + '.unit'),
    type: undefined,
    monotonic: false,
    temporality: 0,
    points: [],
  };
  let data: Obj | undefined;
  if ((data = optObj(o.gauge, W_M + '.gauge')) !== undefined) {
    m.type = 'gauge';
    m.points = points(ctx, data, 'gauge', W_M + '.gauge');
  } else if ((data = optObj(o.sum, W_M + '.sum')) !== undefined) {
    m.type = 'sum';
    m.temporality = enumOrInt(field(data, 'aggregationTemporality', 'aggregation_temporality'), W_M + '.sum.aggregationTemporality');
    const mono = field(data, 'isMonotonic', 'is_monotonic');
    if (mono !== undefined && mono !== null && typeof mono !== 'boolean') fail(W_M + '.sum.isMonotonic', 'a boolean', mono);
    m.monotonic = mono === true;
    m.points = points(ctx, data, 'sum', W_M + '.sum');
  } else if ((data = optObj(o.histogram, W_M + '.histogram')) !== undefined) {
    m.type = 'histogram';
    m.temporality = enumOrInt(field(data, 'aggregationTemporality', 'aggregation_temporality'), W_M + '.histogram.aggregationTemporality');
    m.points = points(ctx, data, 'histogram', W_M + '.histogram');
  } else if ((data = optObj(field(o, 'exponentialHistogram', 'exponential_histogram'), W_M + '.exponentialHistogram')) !== undefined) {
    m.type = 'exponential_histogram';
    m.temporality = enumOrInt(
      field(data, 'aggregationTemporality', 'aggregation_temporality'),
      W_M + '.exponentialHistogram.aggregationTemporality',
    );
    m.points = points(ctx, data, 'exponential_histogram', W_M + '.exponentialHistogram');
  } else if ((data = optObj(o.summary, W_M + '.summary')) !== undefined) {
    m.type = 'summary';
    m.points = points(ctx, data, 'summary', W_M + '.summary');
  }
  return m;
}

/** Decodes an OTLP/JSON ExportMetricsServiceRequest. */
export function decodeMetrics(bytes: Uint8Array, opts?: DecodeOptions): Decoded<MetricsRequest> {
  const ctx = new Ctx(opts);
  const root = rootObj(bytes);
  const resources: ResourceMetrics[] = [];
  const rms = optArr(field(root, 'resourceMetrics', 'resource_metrics'), 'resourceMetrics') ?? [];
  for (let i = 0; i < rms.length; i++) {
    const rm = optObj(rms[i], W_RM) ?? {};
    const scopes: ScopeMetrics[] = [];
    const sms = optArr(field(rm, 'scopeMetrics', 'scope_metrics'), W_RM + '.scopeMetrics') ?? [];
    for (let j = 0; j < sms.length; j++) {
      const sm = optObj(sms[j], W_SM) ?? {};
      const metrics: Metric[] = [];
      const ms = optArr(sm.metrics, W_SM + '.metrics') ?? [];
      for (let k = 0; k < ms.length; k++) metrics.push(metric(ctx, ms[k]));
      scopes.push({ scopeName: scopeName(sm, W_SM), metrics });
    }
    resources.push({ attrs: resourceAttrs(ctx, rm, W_RM), scopes });
  }
  return { resources, truncated: ctx.dropped, truncatedStrings: ctx.truncated };
}

// ------------------------------------------------------------------ traces

const W_RS = 'resourceSpans[]';
const W_SS = 'resourceSpans[].scopeSpans[]';
const W_S = 'resourceSpans[].scopeSpans[].spans[]';

function span(ctx: Ctx, v: unknown): Span {
  const o = optObj(v, W_S) ?? {};
  const events: SpanEvent[] = [];
  const evs = optArr(o.events, W_S + '.events') ?? [];
  for (let i = 0; i < evs.length; i++) {
    const e = optObj(evs[i], W_S + '.events[]') ?? {};
    events.push({ name: str(e.name, W_S + '.events[].name'), attrs: attrs(ctx, e.attributes, W_S + '.events[].attributes') });
  }
  const status = optObj(o.status, W_S + '.status');
  return {
    name: str(o.name, W_S + '.name'),
    kind: enumOrInt(o.kind, W_S + '.kind'),
    startUnixMs: nanosToMs(field(o, 'startTimeUnixNano', 'start_time_unix_nano'), W_S + '.startTimeUnixNano'),
    attrs: attrs(ctx, o.attributes, W_S + '.attributes'),
    events,
    statusCode: status === undefined ? 0 : enumOrInt(status.code, W_S + '.status.code'),
    bytes: sizeOf(SPAN, o),
  };
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest. */
export function decodeTraces(bytes: Uint8Array, opts?: DecodeOptions): Decoded<TracesRequest> {
  const ctx = new Ctx(opts);
  const root = rootObj(bytes);
  const resources: ResourceSpans[] = [];
  const rss = optArr(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans') ?? [];
  for (let i = 0; i < rss.length; i++) {
    const rs = optObj(rss[i], W_RS) ?? {};
    const scopes: ScopeSpans[] = [];
    const sss = optArr(field(rs, 'scopeSpans', 'scope_spans'), W_RS + '.scopeSpans') ?? [];
    for (let j = 0; j < sss.length; j++) {
      const ss = optObj(sss[j], W_SS) ?? {};
      const spans: Span[] = [];
      const sp = optArr(ss.spans, W_SS + '.spans') ?? [];
      for (let k = 0; k < sp.length; k++) spans.push(span(ctx, sp[k]));
      scopes.push({ scopeName: scopeName(ss, W_SS), spans });
    }
    resources.push({ attrs: resourceAttrs(ctx, rs, W_RS), scopes });
  }
  return { resources, truncated: ctx.dropped, truncatedStrings: ctx.truncated };
}
