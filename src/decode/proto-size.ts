/**
 * The OTLP protobuf size of records that arrived as OTLP/JSON, so that what
 * keytally counts as a record's cost does not depend on the client's encoding.
 *
 * Rule: a field present in the JSON object (not absent, not null) is counted
 * as protobuf would write it, zero values included. That is what a client
 * writes in either encoding: the OpenTelemetry JS exporters send the same
 * fields (zeros too) in protobuf and in JSON, and Go's protojson leaves out
 * exactly the zero values its protobuf encoder leaves out. Fields the JSON
 * decoder does not know are not counted (protobuf has no number for them).
 *
 * The sizer is table-driven: each message lists its fields with their proto
 * field number and wire kind; `sizeOf` walks an object against a table. It
 * never throws: a value of the wrong JSON type in a field the decoder reads
 * has already been rejected there, and in a field the decoder skips it is
 * counted as best it can be (never less than zero).
 */

type Obj = Record<string, unknown>;

/** How a field is written on the wire. */
const enum K {
  /** UTF-8 string. */
  Str,
  /** bytes given as hex in OTLP/JSON (trace and span ids). */
  Hex,
  /** bytes given as base64 (AnyValue.bytes_value). */
  B64,
  /** int32 or enum varint (negative: 10 bytes); enums may come as names. */
  Int32,
  /** uint32 varint. */
  Uint32,
  /** int64 varint. */
  Int64,
  /** sint32 zigzag varint. */
  Sint32,
  /** bool varint. */
  Bool,
  /** 8 fixed bytes: fixed64, sfixed64, double. */
  Fixed64,
  /** 4 fixed bytes: fixed32. */
  Fixed32,
  /** A nested message (`msg` names its table). */
  Msg,
  /** repeated nested message. */
  RepMsg,
  /** repeated fixed64/double, packed. */
  Packed8,
  /** repeated uint64 varint, packed. */
  PackedVarint,
}

interface Field {
  camel: string;
  snake: string;
  no: number;
  kind: K;
  msg?: Schema;
}

export interface Schema {
  fields: Field[];
}

function f(camel: string, no: number, kind: K, msg?: () => Schema): Field {
  let snake = '';
  for (const ch of camel) snake += ch >= 'A' && ch <= 'Z' ? '_' + ch.toLowerCase() : ch;
  const field: Field = { camel, snake, no, kind };
  if (msg !== undefined) Object.defineProperty(field, 'msg', { get: msg, enumerable: true });
  return field;
}

// Field numbers: opentelemetry-proto v1 (common, logs, metrics, trace).
export const ANY_VALUE: Schema = {
  fields: [
    f('stringValue', 1, K.Str),
    f('boolValue', 2, K.Bool),
    f('intValue', 3, K.Int64),
    f('doubleValue', 4, K.Fixed64),
    f('arrayValue', 5, K.Msg, () => ARRAY_VALUE),
    f('kvlistValue', 6, K.Msg, () => KEY_VALUE_LIST),
    f('bytesValue', 7, K.B64),
  ],
};
const ARRAY_VALUE: Schema = { fields: [f('values', 1, K.RepMsg, () => ANY_VALUE)] };
export const KEY_VALUE: Schema = { fields: [f('key', 1, K.Str), f('value', 2, K.Msg, () => ANY_VALUE)] };
const KEY_VALUE_LIST: Schema = { fields: [f('values', 1, K.RepMsg, () => KEY_VALUE)] };

export const LOG_RECORD: Schema = {
  fields: [
    f('timeUnixNano', 1, K.Fixed64),
    f('observedTimeUnixNano', 11, K.Fixed64),
    f('severityNumber', 2, K.Int32),
    f('severityText', 3, K.Str),
    f('body', 5, K.Msg, () => ANY_VALUE),
    f('attributes', 6, K.RepMsg, () => KEY_VALUE),
    f('droppedAttributesCount', 7, K.Uint32),
    f('flags', 8, K.Fixed32),
    f('traceId', 9, K.Hex),
    f('spanId', 10, K.Hex),
    f('eventName', 12, K.Str),
  ],
};

const EXEMPLAR: Schema = {
  fields: [
    f('filteredAttributes', 7, K.RepMsg, () => KEY_VALUE),
    f('timeUnixNano', 2, K.Fixed64),
    f('asDouble', 3, K.Fixed64),
    f('asInt', 6, K.Fixed64),
    f('spanId', 4, K.Hex),
    f('traceId', 5, K.Hex),
  ],
};

export const NUMBER_POINT: Schema = {
  fields: [
    f('attributes', 7, K.RepMsg, () => KEY_VALUE),
    f('startTimeUnixNano', 2, K.Fixed64),
    f('timeUnixNano', 3, K.Fixed64),
    f('asDouble', 4, K.Fixed64),
    f('asInt', 6, K.Fixed64),
    f('exemplars', 5, K.RepMsg, () => EXEMPLAR),
    f('flags', 8, K.Uint32),
  ],
};

export const HISTOGRAM_POINT: Schema = {
  fields: [
    f('attributes', 9, K.RepMsg, () => KEY_VALUE),
    f('startTimeUnixNano', 2, K.Fixed64),
    f('timeUnixNano', 3, K.Fixed64),
    f('count', 4, K.Fixed64),
    f('sum', 5, K.Fixed64),
    f('bucketCounts', 6, K.Packed8),
    f('explicitBounds', 7, K.Packed8),
    f('exemplars', 8, K.RepMsg, () => EXEMPLAR),
    f('flags', 10, K.Uint32),
    f('min', 11, K.Fixed64),
    f('max', 12, K.Fixed64),
  ],
};

const EXP_BUCKETS: Schema = { fields: [f('offset', 1, K.Sint32), f('bucketCounts', 2, K.PackedVarint)] };

export const EXP_HISTOGRAM_POINT: Schema = {
  fields: [
    f('attributes', 1, K.RepMsg, () => KEY_VALUE),
    f('startTimeUnixNano', 2, K.Fixed64),
    f('timeUnixNano', 3, K.Fixed64),
    f('count', 4, K.Fixed64),
    f('sum', 5, K.Fixed64),
    f('scale', 6, K.Sint32),
    f('zeroCount', 7, K.Fixed64),
    f('positive', 8, K.Msg, () => EXP_BUCKETS),
    f('negative', 9, K.Msg, () => EXP_BUCKETS),
    f('flags', 10, K.Uint32),
    f('exemplars', 11, K.RepMsg, () => EXEMPLAR),
    f('min', 12, K.Fixed64),
    f('max', 13, K.Fixed64),
    f('zeroThreshold', 14, K.Fixed64),
  ],
};

const VALUE_AT_QUANTILE: Schema = { fields: [f('quantile', 1, K.Fixed64), f('value', 2, K.Fixed64)] };

export const SUMMARY_POINT: Schema = {
  fields: [
    f('attributes', 7, K.RepMsg, () => KEY_VALUE),
    f('startTimeUnixNano', 2, K.Fixed64),
    f('timeUnixNano', 3, K.Fixed64),
    f('count', 4, K.Fixed64),
    f('sum', 5, K.Fixed64),
    f('quantileValues', 6, K.RepMsg, () => VALUE_AT_QUANTILE),
    f('flags', 8, K.Uint32),
  ],
};

const SPAN_EVENT: Schema = {
  fields: [
    f('timeUnixNano', 1, K.Fixed64),
    f('name', 2, K.Str),
    f('attributes', 3, K.RepMsg, () => KEY_VALUE),
    f('droppedAttributesCount', 4, K.Uint32),
  ],
};

const SPAN_LINK: Schema = {
  fields: [
    f('traceId', 1, K.Hex),
    f('spanId', 2, K.Hex),
    f('traceState', 3, K.Str),
    f('attributes', 4, K.RepMsg, () => KEY_VALUE),
    f('droppedAttributesCount', 5, K.Uint32),
    f('flags', 6, K.Fixed32),
  ],
};

const STATUS: Schema = { fields: [f('message', 2, K.Str), f('code', 3, K.Int32)] };

export const SPAN: Schema = {
  fields: [
    f('traceId', 1, K.Hex),
    f('spanId', 2, K.Hex),
    f('traceState', 3, K.Str),
    f('parentSpanId', 4, K.Hex),
    f('flags', 16, K.Fixed32),
    f('name', 5, K.Str),
    f('kind', 6, K.Int32),
    f('startTimeUnixNano', 7, K.Fixed64),
    f('endTimeUnixNano', 8, K.Fixed64),
    f('attributes', 9, K.RepMsg, () => KEY_VALUE),
    f('droppedAttributesCount', 10, K.Uint32),
    f('events', 11, K.RepMsg, () => SPAN_EVENT),
    f('droppedEventsCount', 12, K.Uint32),
    f('links', 13, K.RepMsg, () => SPAN_LINK),
    f('droppedLinksCount', 14, K.Uint32),
    f('status', 15, K.Msg, () => STATUS),
  ],
};

// ------------------------------------------------------------------ sizes

/** Bytes of an unsigned varint of a non-negative safe integer. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a uint64/int64 varint given as a bigint (two's complement for negatives). */
function varintSizeBig(b: bigint): number {
  if (b < 0n) return 10;
  let size = 1;
  while (b >= 128n) {
    b >>= 7n;
    size++;
  }
  return size;
}

function tagSize(no: number): number {
  return varintSize(no << 3);
}

function int32Size(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? (ENUMS.get(v) ?? Number(v)) : 0;
  if (!Number.isFinite(n)) return 1;
  return n < 0 ? 10 : varintSize(Math.trunc(n));
}

function int64Size(v: unknown): number {
  try {
    if (typeof v === 'number') return Number.isSafeInteger(v) ? (v < 0 ? 10 : varintSize(v)) : varintSizeBig(BigInt(Math.trunc(v)));
    if (typeof v === 'string') return varintSizeBig(BigInt(v));
  } catch {
    // Not an integer: the decoder rejects it where it reads the field.
  }
  return 1;
}

function sint32Size(v: unknown): number {
  const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' ? Math.trunc(Number(v)) : 0;
  if (!Number.isFinite(n)) return 1;
  return varintSize(n >= 0 ? n * 2 : -n * 2 - 1);
}

function strBytes(v: unknown): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
}

/** Enum names OTLP/JSON may carry instead of numbers; only their varint size matters here. */
const ENUMS = new Map<string, number>();
for (const [i, n] of ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].entries()) ENUMS.set('SPAN_KIND_' + n, i);
for (const [i, n] of ['UNSET', 'OK', 'ERROR'].entries()) ENUMS.set('STATUS_CODE_' + n, i);
ENUMS.set('SEVERITY_NUMBER_UNSPECIFIED', 0);
for (const [i, n] of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].entries()) {
  for (let j = 0; j < 4; j++) ENUMS.set(`SEVERITY_NUMBER_${n}${j === 0 ? '' : j + 1}`, i * 4 + j + 1);
}

/** Size of one present field's value, without its tag (length prefix included for length-delimited kinds). */
function valueSize(field: Field, v: unknown): number {
  switch (field.kind) {
    case K.Str:
      return withLength(strBytes(v));
    case K.Hex:
      return withLength(typeof v === 'string' ? v.length >>> 1 : 0);
    case K.B64:
      return withLength(typeof v === 'string' ? Buffer.from(v, 'base64').length : 0);
    case K.Int32:
      return int32Size(v);
    case K.Uint32:
      return typeof v === 'number' && v >= 0 ? varintSize(Math.trunc(v)) : int64Size(v);
    case K.Int64:
      return int64Size(v);
    case K.Sint32:
      return sint32Size(v);
    case K.Bool:
      return 1;
    case K.Fixed64:
      return 8;
    case K.Fixed32:
      return 4;
    case K.Msg:
      return withLength(isObj(v) ? sizeOf(field.msg!, v) : 0);
    default:
      return 0;
  }
}

function withLength(n: number): number {
  return varintSize(n) + n;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The protobuf size of `o` as a message of `schema` (the content only: what
 * its length prefix would say when nested). Field names in lowerCamelCase or
 * snake_case, as the JSON decoder accepts them.
 */
export function sizeOf(schema: Schema, o: Obj): number {
  let size = 0;
  for (const field of schema.fields) {
    let v = o[field.camel];
    if (v === undefined) v = o[field.snake];
    if (v === undefined || v === null) continue;
    const tag = tagSize(field.no);
    switch (field.kind) {
      case K.RepMsg: {
        if (!Array.isArray(v)) break;
        for (const item of v) size += tag + withLength(isObj(item) ? sizeOf(field.msg!, item) : 0);
        break;
      }
      case K.Packed8: {
        if (Array.isArray(v) && v.length > 0) size += tag + withLength(8 * v.length);
        break;
      }
      case K.PackedVarint: {
        if (!Array.isArray(v) || v.length === 0) break;
        let n = 0;
        for (const x of v) n += int64Size(x);
        size += tag + withLength(n);
        break;
      }
      default:
        size += tag + valueSize(field, v);
    }
  }
  return size;
}
