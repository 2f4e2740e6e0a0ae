/**
 * OTLP protobuf decoders (ExportLogsServiceRequest, ExportMetricsServiceRequest,
 * ExportTraceServiceRequest — LogsData/MetricsData/TracesData share the same
 * field 1, so those decode too).
 *
 * Field numbers are those of opentelemetry-proto v1 (common, resource, logs,
 * metrics, trace). Each message has one function: a loop over tags with a
 * `switch` on the full tag (field << 3 | wire type), so the expected wire type
 * is checked for free; anything else goes to `skipUnknown`, which rejects a
 * known field with the wrong wire type and skips the rest without allocating.
 * Multiple occurrences of a singular message field replace the earlier one
 * (as protobufjs does) rather than merge.
 *
 * Sizes: every LogRecord, Span, data point and KeyValue carries `bytes`, the
 * length of its message on the wire (`end - pos` at its start: the value of
 * its length prefix, unknown fields included). That is what keytally sums as
 * cost; the JSON decoder computes the same figure for JSON requests.
 *
 * Two ways in: `decodeLogs` / `decodeMetrics` / `decodeTraces` build the
 * request's tree (the reference, and what tests compare against protobufjs);
 * `streamLogs` / `streamMetrics` / `streamTraces` are what workers run: check
 * the whole request (logs and traces in the walk that decodes them, into a
 * scratch, stream-scratch.ts; metrics with proto-validate.ts first), then
 * hand records, points and spans to a sink one at a time, read by the same
 * per-message readers as the tree, so the two agree field for field.
 */
import type {
  Attr,
  DataPoint,
  LogBody,
  LogRecord,
  LogsRequest,
  Metric,
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
  type DecodeStats,
  type Decoded,
} from './limits.js';
import { AttrPool, AttrScratch, LogsScratch, SCRATCH_CAP, SpansScratch, type Resources } from './stream-scratch.js';
import { validateKeyValue, validateLogs, validateMetrics, validateScope, validateTraces } from './proto-validate.js';
import { ProtoReader, int64ToString, sameBytes } from './proto-reader.js';

/** The reader plus the per-request limits and counters, in one monomorphic object. */
class OtlpReader extends ProtoReader {
  readonly maxAttrs: number;
  readonly maxKey: number;
  readonly maxVal: number;
  dropped = 0;
  truncated = 0;
  /** Set on the one-pass path: log record attribute values are hashed from their bytes (readAttr's hashPlain). */
  hashBytes: ((utf8: Uint8Array, out: Uint32Array) => void) | undefined = undefined;
  readonly hashOut = new Uint32Array(2);
  /**
   * Whether log record and span times are read. The one-pass path turns it off: nothing it folds looks at them (a
   * record counts under its receive minute), and reading two fixed64 nanosecond times into milliseconds was 3.5 % of
   * the CPU of decoding the load bench's log records (profile; 0.91-0.96x the decode's CPU without them, 3 alternating
   * runs of the bench's 512-record requests through streamLogs). Skipped, they read as 0.
   */
  times = true;
  /**
   * Set on the one-pass path when the sink takes raw bodies (LogsSink.rawBodies): a string_value body is handed over
   * as its bytes (bodyFrom, bodyTo of the last body read; -1 for none) and no string is made for it here.
   */
  rawBodies = false;
  bodyFrom = -1;
  bodyTo = -1;
  /** The last KeyValue read by readKeyValue. */
  kvKey = '';
  kvValue = '';
  kvHashed = false;
  /**
   * Set on the fused logs and traces walks, which check as they decode instead of validating first: the parts the
   * decoder skips unread (attributes past maxAttrs) are checked as proto-validate.ts checks them, so they reject what
   * validateLogs and validateTraces do.
   */
  strict = false;

  constructor(buf: Uint8Array, opts: DecodeOptions | undefined) {
    super(buf);
    this.maxAttrs = opts?.maxAttributes ?? DEFAULT_MAX_ATTRIBUTES;
    this.maxKey = opts?.maxKeyLength ?? DEFAULT_MAX_KEY_LENGTH;
    this.maxVal = opts?.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH;
  }

  /**
   * Decodes buf[start, end) cut to `max` code units, without decoding more than
   * needed: a UTF-16 code unit takes at most 3 UTF-8 bytes, so the first
   * 3 * max + 3 bytes always hold the first `max` units (a sequence cut at the
   * end of that prefix decodes past index `max`, where it is sliced off).
   */
  stringMax(start: number, end: number, max: number): string {
    const n = end - start;
    if (n <= max) return this.string(start, end);
    const s = this.string(start, start + Math.min(n, max * 3 + 3));
    if (s.length <= max) return s;
    this.truncated++;
    return s.slice(0, max);
  }
}

// Bit masks of the field numbers each message reads (for wrong-wire-type detection).
const F1 = 1 << 1;
const F2 = 1 << 2;
const F3 = 1 << 3;

// ------------------------------------------------------------------ common

/**
 * Decodes one KeyValue occupying [pos, end) into `attrs`, honouring the limits.
 * With `hashPlain` (a log record's own attributes on the one-pass path), a
 * value that is one ASCII string_value within the value limit (the common
 * case) is hashed straight from the request's bytes and no string is made for
 * it: its canonical string would be those very bytes, so the hash is the same.
 */
function readAttr(r: OtlpReader, end: number, attrs: Attr[], hashPlain = false): void {
  // The KeyValue's own length: what its key and value cost on the wire, whatever is cut below.
  const bytes = end - r.pos;
  if (attrs.length >= r.maxAttrs) {
    dropAttr(r, end);
    return;
  }
  readKeyValue(r, end, hashPlain);
  if (r.kvHashed) attrs.push({ key: r.kvKey, value: '', bytes, hashHi: r.hashOut[0]!, hashLo: r.hashOut[1]! });
  else attrs.push({ key: r.kvKey, value: r.kvValue, bytes });
}

/** An attribute past maxAttrs: counted and skipped unread (checked first on the fused path, see OtlpReader.strict). */
function dropAttr(r: OtlpReader, end: number): void {
  r.dropped++;
  if (r.strict) validateKeyValue(r, end);
  r.pos = end;
}

/**
 * The KeyValue in [pos, end) into r.kvKey and r.kvValue (cut to the limits), or, when `hashPlain` and the value is
 * one plain ASCII string, r.kvHashed with its hash in r.hashOut and r.kvValue ''.
 */
function readKeyValue(r: OtlpReader, end: number, hashPlain: boolean): void {
  let key = '';
  let value = '';
  let hashed = false;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10: {
        const e = r.lenEnd(end);
        key = r.stringMax(r.pos, e, r.maxKey);
        r.pos = e;
        break;
      }
      case 18: {
        const e = r.lenEnd(end);
        hashed = hashPlain && hashPlainString(r, e);
        if (hashed) {
          value = '';
          r.pos = e;
        } else {
          value = readAnyValue(r, e, 0, r.maxVal);
        }
        break;
      }
      default:
        r.skipUnknown(tag, end, F1 | F2);
    }
  }
  r.finish(end);
  if (!hashed && value.length > r.maxVal) {
    value = value.slice(0, r.maxVal);
    r.truncated++;
  }
  r.kvKey = key;
  r.kvValue = value;
  r.kvHashed = hashed;
}

/** Values up to this many bytes go through the hash cache (see hashPlainString); longer ones are hashed each time. */
const CACHED_VALUE = 32;
const HASH_CACHE_BITS = 12;
const HASH_CACHE_SIZE = 1 << HASH_CACHE_BITS;
/**
 * Per-thread cache of the keyed hashes of short ASCII values, as the reader's intern table is for strings: attribute
 * values repeat (methods, routes, status codes, host and thread names), and a hit costs a byte compare instead of a
 * copy into wasm memory, a call and a BigInt. Slot by length and sampled bytes, a hit confirmed byte for byte; a
 * cached value is ASCII, so a hit also proves the bytes are. Bound to one hash function (one salt): another clears it.
 */
const hashCacheLen = new Int32Array(HASH_CACHE_SIZE).fill(-1);
const hashCacheBytes = new Uint8Array(HASH_CACHE_SIZE * CACHED_VALUE);
const hashCacheView = new DataView(hashCacheBytes.buffer);
const hashCacheOut = new Uint32Array(HASH_CACHE_SIZE * 2);
let hashCacheOwner: ((utf8: Uint8Array, out: Uint32Array) => void) | undefined;

/**
 * If the AnyValue in [pos, end) is exactly one string_value of ASCII bytes within the value limit, hashes those bytes
 * into r.hashOut and says so; otherwise leaves r.pos where it was and returns false.
 */
function hashPlainString(r: OtlpReader, end: number): boolean {
  const start = r.pos;
  const buf = r.buf;
  if (start >= end || buf[start] !== 10) return false;
  r.pos = start + 1;
  const n = r.uint32();
  const s = r.pos;
  if (s + n !== end || n > r.maxVal) {
    r.pos = start;
    return false;
  }
  const hashBytes = r.hashBytes!;
  let slot = -1;
  if (n <= CACHED_VALUE) {
    if (hashCacheOwner !== hashBytes) {
      hashCacheLen.fill(-1);
      hashCacheOwner = hashBytes;
    }
    slot = n === 0 ? 0 : Math.imul(n ^ (buf[s]! << 8) ^ (buf[end - 1]! << 16) ^ (buf[s + (n >> 1)]! << 4) ^ (buf[s + (n >> 2)]! << 24), 0x9e3779b1) >>> (32 - HASH_CACHE_BITS);
    if (hashCacheLen[slot] === n && sameBytes(hashCacheBytes, hashCacheView, slot * CACHED_VALUE, buf, r.view, s, n)) {
      r.hashOut[0] = hashCacheOut[slot * 2]!;
      r.hashOut[1] = hashCacheOut[slot * 2 + 1]!;
      return true;
    }
  }
  for (let i = s; i < end; i++) {
    if (buf[i]! >= 0x80) {
      r.pos = start;
      return false;
    }
  }
  hashBytes(buf.subarray(s, end), r.hashOut);
  if (slot >= 0) {
    hashCacheLen[slot] = n;
    // A loop, not set(subarray()): for at most 32 bytes the view and the call cost more than the copy (20 % of this
    // function's time on the load bench's spans, whose values miss the cache the most).
    const base = slot * CACHED_VALUE;
    for (let i = 0; i < n; i++) hashCacheBytes[base + i] = buf[s + i]!;
    hashCacheOut[slot * 2] = r.hashOut[0]!;
    hashCacheOut[slot * 2 + 1] = r.hashOut[1]!;
  }
  return true;
}

/**
 * Canonical string of a top-level AnyValue in [pos, end): strings as is (cut to
 * `maxStr`), ints in decimal, doubles as String(), bools, bytes as base64,
 * arrays and kvlists as compact JSON-ish text; '' when no value is set.
 */
function readAnyValue(r: OtlpReader, end: number, depth: number, maxStr: number): string {
  let out = '';
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      out = r.stringMax(r.pos, e, maxStr);
      r.pos = e;
    } else {
      const s = anyValueField(r, tag, end, depth, false);
      if (s !== undefined) out = s;
    }
  }
  r.finish(end);
  return out;
}

/**
 * One non-string field of an AnyValue (or, when `nested`, any field, with
 * strings and bytes JSON-quoted). Unknown fields are skipped and return
 * undefined, so they do not erase a value read before them.
 */
function anyValueField(r: OtlpReader, tag: number, end: number, depth: number, nested: boolean): string | undefined {
  switch (tag) {
    case 10: {
      const e = r.lenEnd(end);
      const s = r.string(r.pos, e);
      r.pos = e;
      return nested ? JSON.stringify(s) : s;
    }
    case 16:
      return r.bool() ? 'true' : 'false';
    case 24: {
      const lo = r.varint64();
      return int64ToString(lo, r.hi);
    }
    case 33:
      return String(r.double());
    case 42:
      return readArrayValue(r, r.lenEnd(end), depth + 1);
    case 50:
      return readKvlistValue(r, r.lenEnd(end), depth + 1);
    case 58: {
      const e = r.lenEnd(end);
      const s = r.base64(r.pos, e);
      r.pos = e;
      return nested ? '"' + s + '"' : s;
    }
    default:
      r.skipUnknown(tag, end, 0xfe);
      return undefined;
  }
}

/** An AnyValue inside an array or kvlist: JSON-ish, `null` when no value is set. */
function readNestedAnyValue(r: OtlpReader, end: number, depth: number): string {
  let out = 'null';
  while (r.pos < end) {
    const tag = r.tag();
    const s = anyValueField(r, tag, end, depth, true);
    if (s !== undefined) out = s;
  }
  r.finish(end);
  return out;
}

function checkDepth(depth: number): void {
  if (depth > MAX_ANYVALUE_DEPTH) throw new DecodeError(`AnyValue nested deeper than ${MAX_ANYVALUE_DEPTH} levels`);
}

/** ArrayValue → `[v1,v2]`. */
function readArrayValue(r: OtlpReader, end: number, depth: number): string {
  checkDepth(depth);
  let out = '[';
  let first = true;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      const v = readNestedAnyValue(r, e, depth);
      out += first ? v : ',' + v;
      first = false;
    } else {
      r.skipUnknown(tag, end, F1);
    }
  }
  r.finish(end);
  return out + ']';
}

/** KeyValueList → `{"k1":v1,"k2":v2}` in wire order. */
function readKvlistValue(r: OtlpReader, end: number, depth: number): string {
  checkDepth(depth);
  let out = '{';
  let first = true;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const kvEnd = r.lenEnd(end);
      let key = '';
      let value = 'null';
      while (r.pos < kvEnd) {
        const t = r.tag();
        if (t === 10) {
          const e = r.lenEnd(kvEnd);
          key = r.string(r.pos, e);
          r.pos = e;
        } else if (t === 18) {
          value = readNestedAnyValue(r, r.lenEnd(kvEnd), depth);
        } else {
          r.skipUnknown(t, kvEnd, F1 | F2);
        }
      }
      r.finish(kvEnd);
      const pair = JSON.stringify(key) + ':' + value;
      out += first ? pair : ',' + pair;
      first = false;
    } else {
      r.skipUnknown(tag, end, F1);
    }
  }
  r.finish(end);
  return out + '}';
}

/** Resource → its attributes. */
function readResource(r: OtlpReader, end: number): Attr[] {
  const attrs: Attr[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) readAttr(r, r.lenEnd(end), attrs);
    else r.skipUnknown(tag, end, F1);
  }
  r.finish(end);
  return attrs;
}

/** InstrumentationScope → its name (version and attributes are not kept). */
function readScopeName(r: OtlpReader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      name = r.string(r.pos, e);
      r.pos = e;
    } else {
      r.skipUnknown(tag, end, F1);
    }
  }
  r.finish(end);
  return name;
}

// ------------------------------------------------------------------ logs

/** Log body: string → string, kvlist → Attr[], other kinds → canonical string, unset → undefined. */
function readBody(r: OtlpReader, end: number): LogBody {
  let body: LogBody = undefined;
  r.bodyFrom = -1;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      // Bodies are not cut here: the miner has its own line-length bound.
      const e = r.lenEnd(end);
      if (r.rawBodies) {
        r.bodyFrom = r.pos;
        r.bodyTo = e;
        body = undefined;
      } else body = r.string(r.pos, e);
      r.pos = e;
    } else if (tag === 50) {
      r.bodyFrom = -1;
      const kvEnd = r.lenEnd(end);
      const attrs: Attr[] = [];
      while (r.pos < kvEnd) {
        const t = r.tag();
        if (t === 10) readAttr(r, r.lenEnd(kvEnd), attrs);
        else r.skipUnknown(t, kvEnd, F1);
      }
      r.finish(kvEnd);
      body = attrs;
    } else {
      const s = anyValueField(r, tag, end, 0, false);
      if (s !== undefined) {
        body = s;
        r.bodyFrom = -1;
      }
    }
  }
  r.finish(end);
  return body;
}

function readLogRecord(r: OtlpReader, end: number): LogRecord {
  const bytes = end - r.pos;
  let time = 0;
  let observed = 0;
  let severityNumber = 0;
  let severityText = '';
  let body: LogBody = undefined;
  const attrs: Attr[] = [];
  r.bodyFrom = -1;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 9:
        if (r.times) time = r.fixed64NanosToMs();
        else r.pos += 8;
        break;
      case 89:
        if (r.times) observed = r.fixed64NanosToMs();
        else r.pos += 8;
        break;
      case 16:
        severityNumber = r.int32();
        break;
      case 26: {
        const e = r.lenEnd(end);
        severityText = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 42:
        body = readBody(r, r.lenEnd(end));
        break;
      case 50:
        readAttr(r, r.lenEnd(end), attrs, r.hashBytes !== undefined);
        break;
      default:
        r.skipUnknown(tag, end, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 11));
    }
  }
  r.finish(end);
  if (r.rawBodies) {
    const from = r.bodyFrom;
    return { timeUnixMs: time !== 0 ? time : observed, severityNumber, severityText, body, attrs, bytes, bodyUtf8: from < 0 ? undefined : r.nbuf, bodyFrom: from, bodyTo: r.bodyTo };
  }
  return { timeUnixMs: time !== 0 ? time : observed, severityNumber, severityText, body, attrs, bytes };
}

function readScopeLogs(r: OtlpReader, end: number): ScopeLogs {
  let scopeName = '';
  const records: LogRecord[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) records.push(readLogRecord(r, r.lenEnd(end)));
    else if (tag === 10) scopeName = readScopeName(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { scopeName, records };
}

function readResourceLogs(r: OtlpReader, end: number): ResourceLogs {
  let attrs: Attr[] = [];
  const scopes: ScopeLogs[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) scopes.push(readScopeLogs(r, r.lenEnd(end)));
    else if (tag === 10) attrs = readResource(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { attrs, scopes };
}

/** Receives a logs request record by record (the one-pass path: no request-sized tree). */
export interface LogsSink<R> {
  /** A ResourceLogs begins; its resource attributes are read before its records, wherever they sit in it. */
  resource(attrs: Attr[]): R;
  /** One record of that resource. Nothing keeps it: it is garbage once this returns. */
  record(resource: R, rec: LogRecord): void;
  endResource(resource: R): void;
  /**
   * The sink reads a string_value body from its bytes: such a record arrives with body undefined and
   * bodyUtf8[bodyFrom, bodyTo) its UTF-8 (the buffer is the request's, valid only during record()).
   */
  readonly rawBodies?: boolean;
}

/**
 * One pass from bytes to the sink. The request is decoded and checked in one walk into the thread's scratch
 * (stream-scratch.ts: typed arrays, no object per record), and only once its last byte has passed are its records
 * handed to the sink, one at a time: a request malformed half-way reaches the sink not at all. It rejects exactly
 * what validateLogs rejects. A request whose scratch would outgrow its own size (records or attributes of a few bytes
 * each) or SCRATCH_CAP is validated first and decoded a second time instead (streamValidatedLogs), as all requests
 * were before.
 * With `hashBytes` (the keyed hasher's), a record attribute whose value is a plain ASCII string arrives hashed
 * (Attr.hashHi/hashLo, value ''), its string never made.
 * The record and its attributes are the same objects for every record: the sink must not keep them.
 * Record times are not read (timeUnixMs 0): nothing folds them.
 */
export function streamLogs<R>(
  buf: Uint8Array,
  opts: DecodeOptions | undefined,
  sink: LogsSink<R>,
  hashBytes?: (utf8: Uint8Array, out: Uint32Array) => void,
): DecodeStats {
  const r = streamReader(buf, opts, sink, hashBytes);
  r.strict = true;
  const s = logsScratch;
  s.reset(buf.length);
  try {
    if (buf.length <= SCRATCH_CAP && scanLogs(r, s)) {
      replayLogs(r, s, sink);
      return { truncated: r.dropped, truncatedStrings: r.truncated };
    }
  } finally {
    s.clear();
  }
  // Too big or too many small parts for the scratch: the counts of a walk given up on are dropped with its reader.
  const again = streamReader(buf, opts, sink, hashBytes);
  validateLogs(again);
  return streamValidatedLogs(again, sink);
}

function streamReader<R>(buf: Uint8Array, opts: DecodeOptions | undefined, sink: LogsSink<R>, hashBytes: ((utf8: Uint8Array, out: Uint32Array) => void) | undefined): OtlpReader {
  const r = new OtlpReader(buf, opts);
  r.hashBytes = hashBytes;
  r.times = false;
  r.rawBodies = sink.rawBodies === true;
  return r;
}

/** The thread's logs scratch: one request at a time (streamLogs does not nest). */
const logsScratch = new LogsScratch();

/**
 * The walk logs and traces share, checked as decodeLogs' and decodeTraces' (plus validateLogs' and validateTraces'
 * checks of what the decoders skip unread): each Resource<Signal> (field 1) of the request, its resource (1) and its
 * scopes (2), each scope's scope (1) and items (2), every item scanned into `s` by `item`; `count` is how many items
 * `s` holds (where a resource's end). False, with the walk given up, once the scratch outgrows the request's budget.
 */
function scanResources<S extends { readonly resources: Resources; fits(): boolean }>(
  r: OtlpReader, s: S, item: (r: OtlpReader, end: number, s: S) => void, count: (s: S) => number,
): boolean {
  const end = r.len;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== 10) {
      r.skipUnknown(tag, end, F1);
      continue;
    }
    const rEnd = r.lenEnd(end);
    const res = s.resources.begin();
    while (r.pos < rEnd) {
      const t = r.tag();
      if (t === 18) {
        const sEnd = r.lenEnd(rEnd);
        while (r.pos < sEnd) {
          const u = r.tag();
          if (u === 18) {
            item(r, r.lenEnd(sEnd), s);
            if (!s.fits()) return false;
          } else if (u === 10) validateScope(r, r.lenEnd(sEnd));
          else r.skipUnknown(u, sEnd, F1 | F2);
        }
        r.finish(sEnd);
      } else if (t === 10) s.resources.attrs[res] = readResource(r, r.lenEnd(rEnd));
      else r.skipUnknown(t, rEnd, F1 | F2);
    }
    r.finish(rEnd);
    s.resources.itemEnd[res] = count(s);
  }
  return true;
}

/** Decodes and checks the whole logs request into `s` (scanResources); false once over budget. */
function scanLogs(r: OtlpReader, s: LogsScratch): boolean {
  return scanResources(r, s, scanLogRecord, (x) => x.records);
}

/** readLogRecord into the scratch, with validateLogs' bounds on the fields it skips. */
function scanLogRecord(r: OtlpReader, end: number, s: LogsScratch): void {
  const bytes = end - r.pos;
  let severityNumber = 0;
  let severityText = '';
  let body: LogBody = undefined;
  const attrs = s.attrs;
  const first = attrs.n;
  const maxAttrs = r.maxAttrs;
  const hashPlain = r.hashBytes !== undefined;
  r.bodyFrom = -1;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 9:
      case 89:
        r.skip(tag, end, 0);
        break;
      case 16: {
        // Bounded by the record, as validateLogs bounds it; then read.
        const p = r.pos;
        r.skip(tag, end, 0);
        const q = r.pos;
        r.pos = p;
        severityNumber = r.int32();
        r.pos = q;
        break;
      }
      case 26: {
        const e = r.lenEnd(end);
        severityText = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 42:
        body = readBody(r, r.lenEnd(end));
        break;
      case 50:
        scanAttr(r, r.lenEnd(end), attrs, first, maxAttrs, hashPlain);
        break;
      default:
        r.skipUnknown(tag, end, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 11));
    }
  }
  r.finish(end);
  s.record(bytes, severityNumber, severityText, r.bodyFrom < 0 ? body : undefined, r.bodyFrom, r.bodyTo);
}

/** One attribute of a record, span or event (its list began at `first`) into the scratch, as readAttr reads it. */
function scanAttr(r: OtlpReader, end: number, attrs: AttrScratch, first: number, maxAttrs: number, hashPlain: boolean): void {
  const bytes = end - r.pos;
  if (attrs.n - first >= maxAttrs) {
    dropAttr(r, end);
    return;
  }
  readKeyValue(r, end, hashPlain);
  attrs.add(bytes, r.kvKey, r.kvValue, r.kvHashed, r.hashOut[0]!, r.hashOut[1]!);
}

/** The records of a scanned request to the sink, through one record object and pooled attributes. */
function replayLogs<R>(r: OtlpReader, s: LogsScratch, sink: LogsSink<R>): void {
  const rec = replayRecord;
  const res = s.resources;
  let j = 0;
  let a = 0;
  for (let i = 0; i < res.n; i++) {
    const state = sink.resource(res.attrs[i] ?? []);
    const recEnd = res.itemEnd[i]!;
    for (; j < recEnd; j++) {
      const attrEnd = s.recAttrEnd[j]!;
      const attrs = recordAttrs.list(attrEnd - a);
      s.attrs.copy(a, attrEnd, attrs);
      a = attrEnd;
      rec.severityNumber = s.recSeverity[j]!;
      rec.severityText = s.recSeverityText[j]!;
      rec.body = s.recBody[j];
      rec.attrs = attrs;
      rec.bytes = s.recBytes[j]!;
      const from = s.recBodyFrom[j]!;
      rec.bodyFrom = from;
      rec.bodyTo = s.recBodyTo[j]!;
      rec.bodyUtf8 = r.rawBodies && from >= 0 ? r.nbuf : undefined;
      sink.record(state, rec);
    }
    sink.endResource(state);
  }
}

/** The one record object replayLogs hands over, its shape fixed (bodyUtf8 and the range present even when unused). */
const replayRecord: LogRecord = { timeUnixMs: 0, severityNumber: 0, severityText: '', body: undefined, attrs: [], bytes: 0, bodyUtf8: undefined, bodyFrom: -1, bodyTo: -1 };
const recordAttrs = new AttrPool();

/** The walk over a request validateLogs has passed: resource first, then records as they come (the fallback). */
function streamValidatedLogs<R>(r: OtlpReader, sink: LogsSink<R>): DecodeStats {
  r.pos = 0;
  const end = r.len;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== 10) {
      r.skip(tag, end, 0);
      continue;
    }
    const rlEnd = r.lenEnd(end);
    const rlStart = r.pos;
    // The resource first (the last one wins, as in decodeLogs), then the records.
    let attrs: Attr[] = [];
    while (r.pos < rlEnd) {
      const t = r.tag();
      if (t === 10) attrs = readResource(r, r.lenEnd(rlEnd));
      else r.skip(t, rlEnd, 0);
    }
    const state = sink.resource(attrs);
    r.pos = rlStart;
    while (r.pos < rlEnd) {
      const t = r.tag();
      if (t !== 18) {
        r.skip(t, rlEnd, 0);
        continue;
      }
      const slEnd = r.lenEnd(rlEnd);
      while (r.pos < slEnd) {
        const u = r.tag();
        if (u === 18) sink.record(state, readLogRecord(r, r.lenEnd(slEnd)));
        else r.skip(u, slEnd, 0);
      }
    }
    sink.endResource(state);
  }
  return { truncated: r.dropped, truncatedStrings: r.truncated };
}

/** Decodes an ExportLogsServiceRequest (or LogsData). */
export function decodeLogs(buf: Uint8Array, opts?: DecodeOptions): Decoded<LogsRequest> {
  const r = new OtlpReader(buf, opts);
  const end = r.len;
  const resources: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) resources.push(readResourceLogs(r, r.lenEnd(end)));
    else r.skipUnknown(tag, end, F1);
  }
  return { resources, truncated: r.dropped, truncatedStrings: r.truncated };
}

// ------------------------------------------------------------------ metrics

/**
 * A data point of any metric type. `attrTag` is the tag of its attributes
 * field, which differs per type; the bucket-count fields are only present in
 * the types that have them, so one loop serves all five.
 */
function readPoint(r: OtlpReader, end: number, kind: number, withRange = false): DataPoint {
  const bytes = end - r.pos;
  const attrs: Attr[] = [];
  let buckets = 0;
  // The attributes' run on the wire: from the first one's tag to the last one's end; broken by any field between.
  let attrsFrom = -1;
  let attrsTo = -1;
  let broken = false;
  const attrTag = POINT_ATTR_TAG[kind];
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.tag();
    if (tag === attrTag) {
      if (attrsFrom < 0) attrsFrom = at;
      else if (attrsTo !== at) broken = true;
      readAttr(r, r.lenEnd(end), attrs);
      attrsTo = r.pos;
      continue;
    }
    switch (kind) {
      case KIND_HISTOGRAM:
        if (tag === 58) {
          // explicit_bounds, packed doubles
          const e = r.lenEnd(end);
          if ((e - r.pos) % 8 !== 0) throw new DecodeError(`packed explicit_bounds length not a multiple of 8 at offset ${r.pos}`);
          buckets += (e - r.pos) / 8;
          r.pos = e;
          continue;
        }
        if (tag === 57) {
          // explicit_bounds, unpacked
          r.skip(tag, end, 0);
          buckets++;
          continue;
        }
        break;
      case KIND_EXP_HISTOGRAM:
        if (tag === 66 || tag === 74) {
          // positive / negative Buckets
          buckets += readExpBuckets(r, r.lenEnd(end));
          continue;
        }
        break;
      case KIND_SUMMARY:
        if (tag === 50) {
          // quantile_values
          r.pos = r.lenEnd(end);
          buckets++;
          continue;
        }
        break;
    }
    r.skipUnknown(tag, end, POINT_KNOWN[kind]);
  }
  r.finish(end);
  if (kind === KIND_HISTOGRAM) buckets += 1;
  else if (kind === KIND_EXP_HISTOGRAM) buckets += 1;
  if (!withRange) return { attrs, buckets, bytes };
  if (broken) attrsFrom = attrsTo = -1;
  return { attrs, buckets, bytes, attrsUtf8: r.buf, attrsView: r.view, attrsFrom, attrsTo };
}

const KIND_NUMBER = 0;
const KIND_HISTOGRAM = 1;
const KIND_EXP_HISTOGRAM = 2;
const KIND_SUMMARY = 3;
/** Attributes tag per point kind: Number 7, Histogram 9, ExponentialHistogram 1, Summary 7 (all wire type 2). */
const POINT_ATTR_TAG = [58, 74, 10, 58];
const POINT_KNOWN = [1 << 7, (1 << 9) | (1 << 7), (1 << 1) | (1 << 8) | (1 << 9), (1 << 7) | (1 << 6)];

/** ExponentialHistogramDataPoint.Buckets → number of bucket_counts entries. */
function readExpBuckets(r: OtlpReader, end: number): number {
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) {
      // packed uint64: count the varints by their last bytes (MSB clear).
      const e = r.lenEnd(end);
      const buf = r.buf;
      for (let p = r.pos; p < e; p++) if (buf[p] < 0x80) n++;
      if (e > r.pos && buf[e - 1] >= 0x80) throw new DecodeError(`truncated packed varint at offset ${e - 1}`);
      r.pos = e;
    } else if (tag === 16) {
      r.skip(tag, end, 0);
      n++;
    } else {
      r.skipUnknown(tag, end, F2);
    }
  }
  r.finish(end);
  return n;
}

/**
 * Gauge/Sum/Histogram/ExponentialHistogram/Summary body into `m`: points
 * (field 1), aggregation_temporality (2), is_monotonic (3, sums only).
 */
function readMetricData(r: OtlpReader, end: number, m: Metric, kind: number, hasTemporality: boolean): void {
  const points: DataPoint[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) points.push(readPoint(r, r.lenEnd(end), kind));
    else if (tag === 16 && hasTemporality) m.temporality = r.int32();
    else if (tag === 24 && m.type === 'sum') m.monotonic = r.bool();
    else r.skipUnknown(tag, end, hasTemporality ? F1 | F2 | (m.type === 'sum' ? F3 : 0) : F1);
  }
  r.finish(end);
  m.points = points;
}

function readMetric(r: OtlpReader, end: number): Metric {
  const m: Metric = { name: '', description: '', unit: '', type: undefined, monotonic: false, temporality: 0, points: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10: {
        const e = r.lenEnd(end);
        m.name = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 18: {
        const e = r.lenEnd(end);
        m.description = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 26: {
        const e = r.lenEnd(end);
        m.unit = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      // The data oneof: the last one present wins; each resets the data fields.
      case 42:
        resetData(m, 'gauge');
        readMetricData(r, r.lenEnd(end), m, KIND_NUMBER, false);
        break;
      case 58:
        resetData(m, 'sum');
        readMetricData(r, r.lenEnd(end), m, KIND_NUMBER, true);
        break;
      case 74:
        resetData(m, 'histogram');
        readMetricData(r, r.lenEnd(end), m, KIND_HISTOGRAM, true);
        break;
      case 82:
        resetData(m, 'exponential_histogram');
        readMetricData(r, r.lenEnd(end), m, KIND_EXP_HISTOGRAM, true);
        break;
      case 90:
        resetData(m, 'summary');
        readMetricData(r, r.lenEnd(end), m, KIND_SUMMARY, false);
        break;
      default:
        r.skipUnknown(tag, end, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10) | (1 << 11));
    }
  }
  r.finish(end);
  return m;
}

function resetData(m: Metric, type: Metric['type']): void {
  m.type = type;
  m.monotonic = false;
  m.temporality = 0;
}

function readScopeMetrics(r: OtlpReader, end: number): ScopeMetrics {
  let scopeName = '';
  const metrics: Metric[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) metrics.push(readMetric(r, r.lenEnd(end)));
    else if (tag === 10) scopeName = readScopeName(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { scopeName, metrics };
}

function readResourceMetrics(r: OtlpReader, end: number): ResourceMetrics {
  let attrs: Attr[] = [];
  const scopes: ScopeMetrics[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) scopes.push(readScopeMetrics(r, r.lenEnd(end)));
    else if (tag === 10) attrs = readResource(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { attrs, scopes };
}

/** Receives a metrics request metric by metric, point by point (the one-pass path). */
export interface MetricsSink<R, M> {
  /** A ResourceMetrics begins; its resource attributes are read before its metrics, wherever they sit in it. */
  resource(attrs: Attr[]): R;
  /**
   * One Metric of that resource, its fields read but `points` left empty; `points` is how many data points its data
   * field holds (the last data field, as in decodeMetrics). undefined: the sink takes none of them (rejected).
   */
  metric(resource: R, m: Metric, points: number): M | undefined;
  /** One data point of that metric. Nothing keeps it. */
  point(resource: R, metric: M, p: DataPoint): void;
  endResource(resource: R): void;
}

/** Data field tag of a Metric → the point kind its points are read as. */
function dataKind(tag: number): number {
  switch (tag) {
    case 42:
    case 58:
      return KIND_NUMBER;
    case 74:
      return KIND_HISTOGRAM;
    case 82:
      return KIND_EXP_HISTOGRAM;
    default:
      return KIND_SUMMARY;
  }
}
const DATA_TYPE: Record<number, Metric['type']> = { 42: 'gauge', 58: 'sum', 74: 'histogram', 82: 'exponential_histogram', 90: 'summary' };

/**
 * One pass from bytes to a metrics sink, like streamLogs: validated first, then each Metric's own fields are read
 * (skipping its data), handed to the sink, and its points decoded one at a time. The live set is one point.
 */
export function streamMetrics<R, M>(buf: Uint8Array, opts: DecodeOptions | undefined, sink: MetricsSink<R, M>): DecodeStats {
  const r = new OtlpReader(buf, opts);
  validateMetrics(r);
  eachResource(r, (attrs, scopesAt) => {
    const state = sink.resource(attrs);
    scopesAt((end) => {
      const mEnd = r.lenEnd(end);
      const m: Metric = { name: '', description: '', unit: '', type: undefined, monotonic: false, temporality: 0, points: [] };
      let dataTag = 0;
      let dataStart = 0;
      let dataEnd = 0;
      while (r.pos < mEnd) {
        const tag = r.tag();
        if (tag === 10 || tag === 18 || tag === 26) {
          const e = r.lenEnd(mEnd);
          const v = r.string(r.pos, e);
          if (tag === 10) m.name = v;
          else if (tag === 18) m.description = v;
          else m.unit = v;
          r.pos = e;
        } else if (DATA_TYPE[tag] !== undefined) {
          // The data oneof: the last one present wins (decodeMetrics' resetData).
          dataTag = tag;
          dataEnd = r.lenEnd(mEnd);
          dataStart = r.pos;
          r.pos = dataEnd;
        } else r.skip(tag, mEnd, 0);
      }
      let points = 0;
      if (dataTag !== 0) {
        m.type = DATA_TYPE[dataTag];
        const hasTemporality = dataTag !== 42 && dataTag !== 90;
        r.pos = dataStart;
        while (r.pos < dataEnd) {
          const tag = r.tag();
          if (tag === 10) {
            points++;
            r.pos = r.lenEnd(dataEnd);
          } else if (tag === 16 && hasTemporality) m.temporality = r.int32();
          else if (tag === 24 && dataTag === 58) m.monotonic = r.bool();
          else r.skip(tag, dataEnd, 0);
        }
      }
      const ms = sink.metric(state, m, points);
      if (ms !== undefined && points > 0) {
        const kind = dataKind(dataTag);
        r.pos = dataStart;
        while (r.pos < dataEnd) {
          const tag = r.tag();
          if (tag === 10) sink.point(state, ms, readPoint(r, r.lenEnd(dataEnd), kind, true));
          else r.skip(tag, dataEnd, 0);
        }
      }
      r.pos = mEnd;
    });
    sink.endResource(state);
  });
  return { truncated: r.dropped, truncatedStrings: r.truncated };
}

/**
 * The walk the metrics and traces streams share, over a request already validated: for each Resource* (field 1)
 * its resource's attributes (the last one wins), then `scopesAt(each)` calls `each(end)` with r.pos at the tag-2
 * item (metric or span) of every scope (field 2) in wire order; `each` reads it and leaves r.pos at its end.
 */
function eachResource(r: OtlpReader, body: (attrs: Attr[], scopesAt: (each: (end: number) => void) => void) => void): void {
  r.pos = 0;
  const end = r.len;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== 10) {
      r.skip(tag, end, 0);
      continue;
    }
    const rEnd = r.lenEnd(end);
    const rStart = r.pos;
    let attrs: Attr[] = [];
    while (r.pos < rEnd) {
      const t = r.tag();
      if (t === 10) attrs = readResource(r, r.lenEnd(rEnd));
      else r.skip(t, rEnd, 0);
    }
    body(attrs, (each) => {
      r.pos = rStart;
      while (r.pos < rEnd) {
        const t = r.tag();
        if (t !== 18) {
          r.skip(t, rEnd, 0);
          continue;
        }
        const sEnd = r.lenEnd(rEnd);
        while (r.pos < sEnd) {
          const u = r.tag();
          if (u === 18) each(sEnd);
          else r.skip(u, sEnd, 0);
        }
      }
    });
    r.pos = rEnd;
  }
}

/** Decodes an ExportMetricsServiceRequest (or MetricsData). */
export function decodeMetrics(buf: Uint8Array, opts?: DecodeOptions): Decoded<MetricsRequest> {
  const r = new OtlpReader(buf, opts);
  const end = r.len;
  const resources: ResourceMetrics[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) resources.push(readResourceMetrics(r, r.lenEnd(end)));
    else r.skipUnknown(tag, end, F1);
  }
  return { resources, truncated: r.dropped, truncatedStrings: r.truncated };
}

// ------------------------------------------------------------------ traces

function readEvent(r: OtlpReader, end: number): SpanEvent {
  let name = '';
  const attrs: Attr[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 26) readAttr(r, r.lenEnd(end), attrs, r.hashBytes !== undefined);
    else if (tag === 18) {
      const e = r.lenEnd(end);
      name = r.string(r.pos, e);
      r.pos = e;
    } else r.skipUnknown(tag, end, F2 | F3);
  }
  r.finish(end);
  return { name, attrs };
}

/** Status → code (field 3). */
function readStatusCode(r: OtlpReader, end: number): number {
  let code = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 24) code = r.int32();
    else r.skipUnknown(tag, end, F3);
  }
  r.finish(end);
  return code;
}

function readSpan(r: OtlpReader, end: number): Span {
  const bytes = end - r.pos;
  let name = '';
  let kind = 0;
  let startUnixMs = 0;
  let statusCode = 0;
  const attrs: Attr[] = [];
  const events: SpanEvent[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 42: {
        const e = r.lenEnd(end);
        name = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 48:
        kind = r.int32();
        break;
      case 57:
        if (r.times) startUnixMs = r.fixed64NanosToMs();
        else r.pos += 8;
        break;
      case 74:
        readAttr(r, r.lenEnd(end), attrs, r.hashBytes !== undefined);
        break;
      case 90:
        events.push(readEvent(r, r.lenEnd(end)));
        break;
      case 122:
        statusCode = readStatusCode(r, r.lenEnd(end));
        break;
      default:
        r.skipUnknown(tag, end, (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 15));
    }
  }
  r.finish(end);
  return { name, kind, startUnixMs, attrs, events, statusCode, bytes };
}

function readScopeSpans(r: OtlpReader, end: number): ScopeSpans {
  let scopeName = '';
  const spans: Span[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) spans.push(readSpan(r, r.lenEnd(end)));
    else if (tag === 10) scopeName = readScopeName(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { scopeName, spans };
}

function readResourceSpans(r: OtlpReader, end: number): ResourceSpans {
  let attrs: Attr[] = [];
  const scopes: ScopeSpans[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) scopes.push(readScopeSpans(r, r.lenEnd(end)));
    else if (tag === 10) attrs = readResource(r, r.lenEnd(end));
    else r.skipUnknown(tag, end, F1 | F2);
  }
  r.finish(end);
  return { attrs, scopes };
}

/** Receives a traces request span by span (the one-pass path). */
export interface TracesSink<R> {
  /** A ResourceSpans begins; its resource attributes are read before its spans, wherever they sit in it. */
  resource(attrs: Attr[]): R;
  /** One span of that resource. Nothing keeps it. */
  span(resource: R, span: Span): void;
  endResource(resource: R): void;
}

/**
 * One pass from bytes to a traces sink, like streamLogs: decoded and checked in one walk into the thread's scratch,
 * then handed over span by span once the whole request has passed (a request of parts too small for the scratch is
 * validated first and decoded again). With `hashBytes`, span and event attribute values that are plain ASCII strings
 * arrive hashed (Attr.hashHi/hashLo, value ''). The span and its attributes are the same objects for every span: the
 * sink must not keep them. Span start times are not read (startUnixMs 0).
 */
export function streamTraces<R>(
  buf: Uint8Array,
  opts: DecodeOptions | undefined,
  sink: TracesSink<R>,
  hashBytes?: (utf8: Uint8Array, out: Uint32Array) => void,
): DecodeStats {
  const r = spansReader(buf, opts, hashBytes);
  r.strict = true;
  const s = spansScratch;
  s.reset(buf.length);
  try {
    if (buf.length <= SCRATCH_CAP && scanTraces(r, s)) {
      replayTraces(s, sink);
      return { truncated: r.dropped, truncatedStrings: r.truncated };
    }
  } finally {
    s.clear();
  }
  const again = spansReader(buf, opts, hashBytes);
  validateTraces(again);
  eachResource(again, (attrs, scopesAt) => {
    const state = sink.resource(attrs);
    scopesAt((end) => sink.span(state, readSpan(again, again.lenEnd(end))));
    sink.endResource(state);
  });
  return { truncated: again.dropped, truncatedStrings: again.truncated };
}

function spansReader(buf: Uint8Array, opts: DecodeOptions | undefined, hashBytes: ((utf8: Uint8Array, out: Uint32Array) => void) | undefined): OtlpReader {
  const r = new OtlpReader(buf, opts);
  r.hashBytes = hashBytes;
  r.times = false;
  return r;
}

const spansScratch = new SpansScratch();

/** scanLogs for traces: the walk of decodeTraces with validateTraces' checks, into `s`; false once over budget. */
function scanTraces(r: OtlpReader, s: SpansScratch): boolean {
  return scanResources(r, s, scanSpan, (x) => x.spans);
}

/** readSpan into the scratch. */
function scanSpan(r: OtlpReader, end: number, s: SpansScratch): void {
  const bytes = end - r.pos;
  let name = '';
  let kind = 0;
  let statusCode = 0;
  const attrs = s.attrs;
  const first = attrs.n;
  const hashPlain = r.hashBytes !== undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 42: {
        const e = r.lenEnd(end);
        name = r.string(r.pos, e);
        r.pos = e;
        break;
      }
      case 48: {
        // Bounded by the span, as validateTraces bounds it; then read.
        const p = r.pos;
        r.skip(tag, end, 0);
        const q = r.pos;
        r.pos = p;
        kind = r.int32();
        r.pos = q;
        break;
      }
      case 57:
        r.skip(tag, end, 0);
        break;
      case 74:
        scanAttr(r, r.lenEnd(end), attrs, first, r.maxAttrs, hashPlain);
        break;
      case 90:
        scanEvent(r, r.lenEnd(end), s, hashPlain);
        break;
      case 122:
        statusCode = readStatusCode(r, r.lenEnd(end));
        break;
      default:
        r.skipUnknown(tag, end, (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 15));
    }
  }
  r.finish(end);
  s.span(bytes, name, kind, statusCode);
}

/** readEvent into the scratch. */
function scanEvent(r: OtlpReader, end: number, s: SpansScratch, hashPlain: boolean): void {
  let name = '';
  const attrs = s.eventAttrs;
  const first = attrs.n;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 26) scanAttr(r, r.lenEnd(end), attrs, first, r.maxAttrs, hashPlain);
    else if (tag === 18) {
      const e = r.lenEnd(end);
      name = r.string(r.pos, e);
      r.pos = e;
    } else r.skipUnknown(tag, end, F2 | F3);
  }
  r.finish(end);
  s.event(name);
}

/** The spans of a scanned request to the sink: one span object and pooled attributes; events made per span (rare). */
function replayTraces<R>(s: SpansScratch, sink: TracesSink<R>): void {
  const sp = replaySpan;
  const res = s.resources;
  let j = 0;
  let a = 0;
  let ev = 0;
  let ea = 0;
  for (let i = 0; i < res.n; i++) {
    const state = sink.resource(res.attrs[i] ?? []);
    const spanEnd = res.itemEnd[i]!;
    for (; j < spanEnd; j++) {
      const attrEnd = s.spanAttrEnd[j]!;
      const attrs = spanAttrs.list(attrEnd - a);
      s.attrs.copy(a, attrEnd, attrs);
      a = attrEnd;
      const eventEnd = s.spanEventEnd[j]!;
      let events = NO_EVENTS;
      if (eventEnd > ev) {
        events = [];
        for (; ev < eventEnd; ev++) {
          const eaEnd = s.eventAttrEnd[ev]!;
          const eAttrs: Attr[] = [];
          for (; ea < eaEnd; ea++) {
            const e = s.eventAttrs;
            if (e.hashed[ea] === 1) eAttrs.push({ key: e.key[ea]!, value: '', bytes: e.bytes[ea]!, hashHi: e.hashHi[ea]!, hashLo: e.hashLo[ea]! });
            else eAttrs.push({ key: e.key[ea]!, value: e.value[ea]!, bytes: e.bytes[ea]! });
          }
          events.push({ name: s.eventName[ev]!, attrs: eAttrs });
        }
      }
      sp.name = s.spanName[j]!;
      sp.kind = s.spanKind[j]!;
      sp.attrs = attrs;
      sp.events = events;
      sp.statusCode = s.spanStatus[j]!;
      sp.bytes = s.spanBytes[j]!;
      sink.span(state, sp);
    }
    sink.endResource(state);
  }
}

const replaySpan: Span = { name: '', kind: 0, startUnixMs: 0, attrs: [], events: [], statusCode: 0, bytes: 0 };
const spanAttrs = new AttrPool();
const NO_EVENTS: SpanEvent[] = [];

/** Decodes an ExportTraceServiceRequest (or TracesData). */
export function decodeTraces(buf: Uint8Array, opts?: DecodeOptions): Decoded<TracesRequest> {
  const r = new OtlpReader(buf, opts);
  const end = r.len;
  const resources: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) resources.push(readResourceSpans(r, r.lenEnd(end)));
    else r.skipUnknown(tag, end, F1);
  }
  return { resources, truncated: r.dropped, truncatedStrings: r.truncated };
}
