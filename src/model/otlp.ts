/**
 * The decoded shape of an OTLP request, as far as keytally needs it.
 *
 * Both decoders (protobuf and JSON) produce exactly these objects, so the
 * extractor never knows which wire format a request came in. Attribute values
 * are kept only as a canonical string so the worker can hash them; they never
 * leave the worker thread.
 */

/** One attribute: its key and a canonical string of its value (hashed in the worker, never stored). */
export interface Attr {
  key: string;
  value: string;
  /**
   * Size in bytes of this attribute's KeyValue message in OTLP protobuf (its
   * length prefix: key and value as sent, before any truncation). For JSON
   * requests, the size the same KeyValue has in protobuf (src/decode/proto-size.ts).
   */
  bytes: number;
  /**
   * The value's keyed hash, when the one-pass path hashed it straight from the request's bytes (then `value` is '':
   * no string was made). Both halves are set together.
   */
  hashHi?: number;
  hashLo?: number;
}

// ---------------------------------------------------------------- logs

/** A log body: a string, a map (kvlist) flattened to attributes, or absent. */
export type LogBody = string | Attr[] | undefined;

export interface LogRecord {
  /** time_unix_nano (or observed time) in ms; 0 when unset. */
  timeUnixMs: number;
  severityNumber: number;
  severityText: string;
  body: LogBody;
  attrs: Attr[];
  /** Size of this LogRecord in OTLP protobuf (its length prefix); for JSON, its protobuf size. What a bill counts. */
  bytes: number;
  /**
   * One-pass path with a raw-bodies sink (LogsSink.rawBodies) only: a string_value body as its UTF-8 bytes,
   * bodyUtf8[bodyFrom, bodyTo), with `body` undefined. Unset (or bodyFrom -1) otherwise.
   */
  bodyUtf8?: Uint8Array | undefined;
  bodyFrom?: number;
  bodyTo?: number;
}

export interface ScopeLogs {
  scopeName: string;
  records: LogRecord[];
}

export interface ResourceLogs {
  attrs: Attr[];
  scopes: ScopeLogs[];
}

export interface LogsRequest {
  resources: ResourceLogs[];
}

// ---------------------------------------------------------------- metrics

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

export interface DataPoint {
  attrs: Attr[];
  /**
   * Buckets this point adds to a Prometheus-style series count:
   * histogram: explicit bucket count (bounds + 1); exponential histogram:
   * positive + negative bucket counts (+1 for zero); summary: quantile count;
   * 0 for gauge and sum.
   */
  buckets: number;
  /** Size of this data point message in OTLP protobuf (its length prefix); for JSON, its protobuf size. */
  bytes: number;
  /**
   * The one-pass path only (streamMetrics): the request's bytes and the range [attrsFrom, attrsTo) its attribute
   * fields take on the wire, when they are one run with nothing else between them (-1 otherwise, and for no
   * attributes). Equal bytes decode to equal attributes, so the extractor keys its cache of series hashes on them.
   */
  attrsUtf8?: Uint8Array;
  /** A DataView of attrsUtf8's memory (the decoder's), so a compare reads four bytes at a time without one per point. */
  attrsView?: DataView;
  attrsFrom?: number;
  attrsTo?: number;
}

export interface Metric {
  name: string;
  description: string;
  unit: string;
  /** undefined when the metric carried no data field (invalid). */
  type: MetricType | undefined;
  /** Sums only. */
  monotonic: boolean;
  /** AggregationTemporality: 0 unspecified, 1 delta, 2 cumulative (sums and histograms). */
  temporality: number;
  points: DataPoint[];
}

export interface ScopeMetrics {
  scopeName: string;
  metrics: Metric[];
}

export interface ResourceMetrics {
  attrs: Attr[];
  scopes: ScopeMetrics[];
}

export interface MetricsRequest {
  resources: ResourceMetrics[];
}

// ---------------------------------------------------------------- traces

export interface SpanEvent {
  name: string;
  attrs: Attr[];
}

export interface Span {
  name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** start_time_unix_nano in ms; 0 when unset. */
  startUnixMs: number;
  attrs: Attr[];
  events: SpanEvent[];
  /** Status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** Size of this Span in OTLP protobuf (its length prefix, events and links included); for JSON, its protobuf size. */
  bytes: number;
}

export interface ScopeSpans {
  scopeName: string;
  spans: Span[];
}

export interface ResourceSpans {
  attrs: Attr[];
  scopes: ScopeSpans[];
}

export interface TracesRequest {
  resources: ResourceSpans[];
}

export type Signal = 'logs' | 'metrics' | 'traces';
export type WireFormat = 'protobuf' | 'json';
