/**
 * Structural validation of an ExportLogsServiceRequest before it is folded in
 * one pass (src/decode/proto-logs-fold.ts): every length, tag, wire type of a
 * field the decoder reads, nesting depth and message end is checked, and
 * nothing is allocated. The one-pass path folds each record as it is read, so
 * it cannot take a half-folded request back: validating first is what makes a
 * request malformed half-way leave nothing behind.
 *
 * The checks are those of the tree decoder (src/decode/otlp-proto.ts), field
 * for field, so that whatever passes here decodes there
 * (test/unit/decode-validate.test.ts mutates valid requests at random and
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
