/**
 * The delta map: what workers learn between two flushes, and what the writer
 * folds into the store. One definition for both sides.
 *
 * Every field merges commutatively (counts add, key sets union, sketches merge
 * by register max, first_seen takes the min, last_seen the max, text fields
 * take the larger string), so any number of workers in any order produce the
 * same totals.
 *
 * Bytes (`bytes`, `logBytes`, …) are OTLP protobuf sizes of the records
 * counted beside them (see Attr.bytes and LogRecord.bytes in otlp.ts) and add
 * like counts. Time: every batch holds the records received in ONE minute
 * (`DeltaBatch.minute`; the worker flushes when the minute changes), so a
 * batch's counts and bytes are also that minute's bucket, and two batches of
 * the same minute merge by adding like everything else.
 */
import type { ThreadHeap } from '../util/thread-heap.js';
import type { MetricType } from './otlp.js';

/** Where a key was seen. */
export type KeyScope = 'resource' | 'metric' | 'span' | 'span_event' | 'log';
export const KEY_SCOPES: readonly KeyScope[] = ['resource', 'metric', 'span', 'span_event', 'log'];

/** An encoded sketch (see src/sketch/hll.ts); opaque to this module. */
export type SketchBytes = Uint8Array;

export interface ServiceDelta {
  name: string;
  logRecords: number;
  spans: number;
  metricPoints: number;
  /** Protobuf bytes of those log records, spans and data points. */
  logBytes: number;
  spanBytes: number;
  metricBytes: number;
  firstSeen: number;
  lastSeen: number;
}

export interface MetricDelta {
  service: string;
  name: string;
  type: MetricType;
  unit: string;
  description: string;
  monotonic: boolean;
  temporality: number;
  labelKeys: string[];
  resourceKeys: string[];
  points: number;
  /** Protobuf bytes of those data points. */
  bytes: number;
  /** Points carrying `otel.metric.overflow=true`: the SDK hit its cardinality limit and folded series into them. */
  overflowPoints: number;
  /** Largest bucket count (Prometheus series per point) seen. */
  buckets: number;
  /** Sketch over the fingerprint of each point's sorted resource+point label set. */
  series: SketchBytes;
  firstSeen: number;
  lastSeen: number;
}

export interface LabelDelta {
  service: string;
  metric: string;
  key: string;
  samples: number;
  /** Protobuf bytes of this label's KeyValues (key and value). */
  bytes: number;
  sketch: SketchBytes;
  firstSeen: number;
  lastSeen: number;
}

export interface SpanDelta {
  service: string;
  name: string;
  kind: number;
  attributeKeys: string[];
  resourceKeys: string[];
  eventNames: string[];
  count: number;
  /** Protobuf bytes of those spans (events and links included). */
  bytes: number;
  statusUnset: number;
  statusOk: number;
  statusError: number;
  firstSeen: number;
  lastSeen: number;
}

export interface LogDelta {
  service: string;
  severity: string;
  attributeKeys: string[];
  resourceKeys: string[];
  /** Keys of structured (map/JSON/logfmt) bodies: their shape. */
  bodyKeys: string[];
  count: number;
  /** Protobuf bytes of those log records. */
  bytes: number;
  firstSeen: number;
  lastSeen: number;
}

export interface KeyDelta {
  service: string;
  scope: KeyScope;
  key: string;
  samples: number;
  /** Protobuf bytes of this key's KeyValues (key and value), once per occurrence on the wire. */
  bytes: number;
  sketch: SketchBytes;
  firstSeen: number;
  lastSeen: number;
}

export interface TemplateDelta {
  service: string;
  severity: string;
  /** The worker miner's template text (wildcards and masks included). */
  template: string;
  count: number;
  /** Protobuf bytes of the log records of this template. */
  bytes: number;
  /** One masked example line. */
  example: string;
  firstSeen: number;
  lastSeen: number;
}

/** Counts the worker keeps about itself, for /metrics. */
export interface WorkerCounters {
  records: { logs: number; metrics: number; traces: number };
  rejected: number;
  truncatedAttributes: number;
  minerEvictions: number;
  minerOverflow: number;
}

/** One (service, service.version) pair: which versions a service sent, and when. */
export interface VersionDelta {
  service: string;
  version: string;
  /** Records (log records, spans, data points) sent under this version. */
  records: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
}

/** The start (unix ms) of the UTC minute that holds `ms`. */
export function minuteOf(ms: number): number {
  return ms - (((ms % 60_000) + 60_000) % 60_000);
}

/** One flush of one worker, as sent to the writer. */
export interface DeltaBatch {
  worker: number;
  seq: number;
  /**
   * Start (unix ms) of the minute in which every record of this batch was
   * received: the time bucket of all its counts and bytes.
   */
  minute: number;
  /** Ack tokens of the durable-mode requests whose records are all in this batch. */
  acks: number[];
  services: ServiceDelta[];
  metrics: MetricDelta[];
  labels: LabelDelta[];
  spans: SpanDelta[];
  logs: LogDelta[];
  keys: KeyDelta[];
  templates: TemplateDelta[];
  versions: VersionDelta[];
  counters: WorkerCounters;
  /** The sending worker's heap at flush time (set by the worker thread, for /metrics). */
  heap?: ThreadHeap;
}

// ------------------------------------------------------------ merge rules

export function unionSorted(a: string[], b: string[]): string[] {
  if (a.length === 0) return b;
  if (b.length === 0 || a === b) return a;
  // Usually nothing new: b ⊆ a. Check that without allocating (this runs per record).
  if (b.length <= a.length) {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) {
        i++;
        j++;
      } else if (a[i]! < b[j]!) i++;
      else break;
    }
    if (j === b.length) return a;
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Commutative choice between two texts: the larger one wins, empty loses. */
export function maxText(a: string, b: string): string {
  return a >= b ? a : b;
}

export function minTime(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return a < b ? a : b;
}

export function maxTime(a: number, b: number): number {
  return a > b ? a : b;
}

export function emptyCounters(): WorkerCounters {
  return {
    records: { logs: 0, metrics: 0, traces: 0 },
    rejected: 0,
    truncatedAttributes: 0,
    minerEvictions: 0,
    minerOverflow: 0,
  };
}

/** The map key of an entity: its identifying fields joined by NUL (which no OTLP key may carry usefully). */
export function entityKey(...parts: Array<string | number>): string {
  return parts.join('\u0000');
}
