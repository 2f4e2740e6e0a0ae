/**
 * Structural validation of an ExportLogsServiceRequest, ExportMetricsServiceRequest
 * or ExportTraceServiceRequest before it is folded in one pass (streamMetrics
 * in src/decode/otlp-proto.ts always; streamLogs and streamTraces for a request
 * too big for their scratch, and for the attributes their fused walks drop
 * past --max-attributes, validateKeyValue): every length, tag, wire type of a
 * field the decoder reads, nesting depth and message end is checked, and
 * nothing is allocated. The one-pass path folds each record as it is read, so
 * it cannot take a half-folded request back: validating first is what makes a
 * request malformed half-way leave nothing behind.
 *
 * The checks are those of the tree decoder (src/decode/otlp-proto.ts), field
 * for field, so that whatever passes here decodes there
 * (test/unit/decode-stream.test.ts mutates valid requests at random and
 * holds both to that). It is stricter in one place: attributes past
 * --max-attributes, which the decoder skips unread, are validated too.
 */
import { DecodeError } from './errors.js';
import { MAX_ANYVALUE_DEPTH } from './limits.js';
import type { ProtoReader } from './proto-reader.js';

const F1 = 1 << 1;
const F2 = 1 << 2;

/** Scalar fields: the tag already fixes the wire type, so skipping checks the value's extent. */
function scalar(r: ProtoReader, tag: number, end: number): void {
  r.skip(tag, end, 0);
}

function message(r: ProtoReader, end: number, body: (r: ProtoReader, end: number) => void): void {
  body(r, r.lenEnd(end));
}

function checkDepth(depth: number): void {
  if (depth > MAX_ANYVALUE_DEPTH) throw new DecodeError(`AnyValue nested deeper than ${MAX_ANYVALUE_DEPTH} levels`);
}

/** One AnyValue field other than string_value (shared by top-level and nested values). */
function anyValueField(r: ProtoReader, tag: number, end: number, depth: number): void {
  switch (tag) {
    case 10: // string_value
    case 16: // bool_value
    case 24: // int_value
    case 33: // double_value
    case 58: // bytes_value
      scalar(r, tag, end);
      return;
    case 42:
      arrayValue(r, r.lenEnd(end), depth + 1);
      return;
    case 50:
      kvlistValue(r, r.lenEnd(end), depth + 1);
      return;
    default:
      r.skipUnknown(tag, end, 0xfe);
  }
}

function anyValue(r: ProtoReader, end: number, depth: number): void {
  while (r.pos < end) anyValueField(r, r.tag(), end, depth);
  r.finish(end);
}

function arrayValue(r: ProtoReader, end: number, depth: number): void {
  checkDepth(depth);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) anyValue(r, r.lenEnd(end), depth);
    else r.skipUnknown(tag, end, F1);
  }
  r.finish(end);
}

function kvlistValue(r: ProtoReader, end: number, depth: number): void {
  checkDepth(depth);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) keyValue(r, r.lenEnd(end), depth);
    else r.skipUnknown(tag, end, F1);
  }
  r.finish(end);
}

function keyValue(r: ProtoReader, end: number, depth: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) scalar(r, tag, end);
    else if (tag === 18) anyValue(r, r.lenEnd(end), depth);
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
}

/** A list of KeyValue in field 1 (Resource; InstrumentationScope reads only its name). */
function attrsIn(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) keyValue(r, r.lenEnd(end), 0);
    else r.skipUnknown(tag, end, F1);
  }
  r.finish(end);
}

function scope(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) scalar(r, tag, end);
    else r.skipUnknown(tag, end, F1);
  }
  r.finish(end);
}

/** A log body: string, kvlist (read as attributes, values at depth 0), or any other AnyValue. */
function body(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 50) {
      const kvEnd = r.lenEnd(end);
      while (r.pos < kvEnd) {
        const t = r.tag();
        if (t === 10) keyValue(r, r.lenEnd(kvEnd), 0);
        else r.skipUnknown(t, kvEnd, F1);
      }
      r.finish(kvEnd);
    } else {
      anyValueField(r, tag, end, 0);
    }
  }
  r.finish(end);
}

const LOG_RECORD_FIELDS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 11);

function logRecord(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 9: // time_unix_nano
      case 89: // observed_time_unix_nano
      case 16: // severity_number
      case 26: // severity_text
        scalar(r, tag, end);
        break;
      case 42:
        message(r, end, body);
        break;
      case 50:
        keyValue(r, r.lenEnd(end), 0);
        break;
      default:
        r.skipUnknown(tag, end, LOG_RECORD_FIELDS);
    }
  }
  r.finish(end);
}

function scopeLogs(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) logRecord(r, r.lenEnd(end));
    else if (tag === 10) scope(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
}

function resourceLogs(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) scopeLogs(r, r.lenEnd(end));
    else if (tag === 10) attrsIn(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
}

/**
 * Throws DecodeError where decoding `r`'s buffer as an ExportLogsServiceRequest
 * would; leaves `r.pos` at the end. Allocates nothing.
 */
export function validateLogs(r: ProtoReader): void {
  const end = r.len;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) resourceLogs(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1);
  }
}

// ------------------------------------------------------------------ metrics

const KIND_NUMBER = 0;
const KIND_HISTOGRAM = 1;
const KIND_EXP_HISTOGRAM = 2;
const KIND_SUMMARY = 3;
/** As in otlp-proto.ts: the attributes tag and the known fields of each point kind. */
const POINT_ATTR_TAG = [58, 74, 10, 58];
const POINT_KNOWN = [1 << 7, (1 << 9) | (1 << 7), (1 << 1) | (1 << 8) | (1 << 9), (1 << 7) | (1 << 6)];

function expBuckets(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) {
      const e = r.lenEnd(end);
      if (e > r.pos && r.buf[e - 1]! >= 0x80) throw new DecodeError(`truncated packed varint at offset ${e - 1}`);
      r.pos = e;
    } else if (tag === 16) scalar(r, tag, end);
    else r.skipUnknown(tag, end, F2);
  }
  r.finish(end);
}

function point(r: ProtoReader, end: number, kind: number): void {
  const attrTag = POINT_ATTR_TAG[kind];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === attrTag) {
      keyValue(r, r.lenEnd(end), 0);
      continue;
    }
    if (kind === KIND_HISTOGRAM) {
      if (tag === 58) {
        const e = r.lenEnd(end);
        if ((e - r.pos) % 8 !== 0) throw new DecodeError(`packed explicit_bounds length not a multiple of 8 at offset ${r.pos}`);
        r.pos = e;
        continue;
      }
      if (tag === 57) {
        scalar(r, tag, end);
        continue;
      }
    } else if (kind === KIND_EXP_HISTOGRAM) {
      if (tag === 66 || tag === 74) {
        expBuckets(r, r.lenEnd(end));
        continue;
      }
    } else if (kind === KIND_SUMMARY && tag === 50) {
      r.pos = r.lenEnd(end);
      continue;
    }
    r.skipUnknown(tag, end, POINT_KNOWN[kind]!);
  }
  r.finish(end);
}

function metricData(r: ProtoReader, end: number, kind: number, hasTemporality: boolean, isSum: boolean): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) point(r, r.lenEnd(end), kind);
    else if ((tag === 16 && hasTemporality) || (tag === 24 && isSum)) scalar(r, tag, end);
    else r.skipUnknown(tag, end, hasTemporality ? F1 | F2 | (isSum ? 1 << 3 : 0) : F1);
  }
  r.finish(end);
}

const METRIC_FIELDS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10) | (1 << 11);

function metric(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10: // name
      case 18: // description
      case 26: // unit
        scalar(r, tag, end);
        break;
      case 42:
        metricData(r, r.lenEnd(end), KIND_NUMBER, false, false);
        break;
      case 58:
        metricData(r, r.lenEnd(end), KIND_NUMBER, true, true);
        break;
      case 74:
        metricData(r, r.lenEnd(end), KIND_HISTOGRAM, true, false);
        break;
      case 82:
        metricData(r, r.lenEnd(end), KIND_EXP_HISTOGRAM, true, false);
        break;
      case 90:
        metricData(r, r.lenEnd(end), KIND_SUMMARY, false, false);
        break;
      default:
        r.skipUnknown(tag, end, METRIC_FIELDS);
    }
  }
  r.finish(end);
}

/** Throws DecodeError where decodeMetrics would on `r`'s buffer; allocates nothing. */
export function validateMetrics(r: ProtoReader): void {
  resourceAnd(r, metric);
}

// ------------------------------------------------------------------ traces

function event(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 26) keyValue(r, r.lenEnd(end), 0);
    else if (tag === 18) scalar(r, tag, end);
    else r.skipUnknown(tag, end, F2 | (1 << 3));
  }
  r.finish(end);
}

function status(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 24) scalar(r, tag, end);
    else r.skipUnknown(tag, end, 1 << 3);
  }
  r.finish(end);
}

const SPAN_FIELDS = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 15);

function span(r: ProtoReader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 42: // name
      case 48: // kind
      case 57: // start_time_unix_nano
        scalar(r, tag, end);
        break;
      case 74:
        keyValue(r, r.lenEnd(end), 0);
        break;
      case 90:
        event(r, r.lenEnd(end));
        break;
      case 122:
        status(r, r.lenEnd(end));
        break;
      default:
        r.skipUnknown(tag, end, SPAN_FIELDS);
    }
  }
  r.finish(end);
}

/** Throws DecodeError where decodeTraces would on `r`'s buffer; allocates nothing. */
export function validateTraces(r: ProtoReader): void {
  resourceAnd(r, span);
}

/** Request → Resource* (field 1) → { resource (1), Scope* (2) → { scope (1), item* (2) } }: metrics and traces alike. */
function resourceAnd(r: ProtoReader, item: (r: ProtoReader, end: number) => void): void {
  const end = r.len;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== 10) {
      r.skipUnknown(tag, end, F1);
      continue;
    }
    const rEnd = r.lenEnd(end);
    while (r.pos < rEnd) {
      const t = r.tag();
      if (t === 10) attrsIn(r, r.lenEnd(rEnd));
      else if (t === 18) {
        const sEnd = r.lenEnd(rEnd);
        while (r.pos < sEnd) {
          const u = r.tag();
          if (u === 18) item(r, r.lenEnd(sEnd));
          else if (u === 10) scope(r, r.lenEnd(sEnd));
          else r.skipUnknown(u, sEnd, F1 | F2);
        }
        r.finish(sEnd);
      } else r.skipUnknown(t, rEnd, F1 | F2);
    }
    r.finish(rEnd);
  }
}

/** One KeyValue in [pos, end) as validateLogs checks it (the fused logs path's attributes past maxAttributes). */
export function validateKeyValue(r: ProtoReader, end: number): void {
  keyValue(r, end, 0);
}

/** One InstrumentationScope in [pos, end) as validateLogs checks it. */
export function validateScope(r: ProtoReader, end: number): void {
  scope(r, end);
}
