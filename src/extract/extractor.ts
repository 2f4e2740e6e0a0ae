/**
 * Walks decoded OTLP requests and folds what they show into the worker-local
 * delta map. Never keeps a value: each attribute value is hashed into the
 * sketch of its (service, scope, key) and forgotten.
 *
 * One Extractor per worker thread; flush() turns what it holds into a
 * DeltaBatch and starts a fresh interval.
 *
 * Cost: each record's `bytes` (its protobuf size, from the decoders) is added
 * wherever its count is: service and signal, (service, severity), template,
 * metric, span name; each attribute's `bytes` to its key (and metric label).
 * Time: one interval holds one receive minute; fold*() refuses a `now` in
 * another minute while the interval has data (flush first: needsFlushFor()).
 */
import {
  emptyCounters,
  maxText,
  minuteOf,
  unionSorted,
  type DeltaBatch,
  type KeyScope,
  type VersionDelta,
  type WorkerCounters,
} from '../model/delta.js';
import type { Attr, DataPoint, LogRecord, LogsRequest, Metric, MetricsRequest, MetricType, Span, TracesRequest } from '../model/otlp.js';
import type { LogsSink, MetricsSink, TracesSink } from '../decode/otlp-proto.js';
import type { KeyedHasher } from '../sketch/hash.js';
import { Hll } from '../sketch/hll.js';
import { releaseView } from '../util/release.js';
import { TemplateMiner } from '../mine/miner.js';
import { bodyMessage, mayBeStructuredUtf8 } from '../mine/structured.js';
import { severityOf } from './severity.js';
import { SpanNames } from './span-names.js';
import { SortedKeys } from '../util/sorted-keys.js';
import { Table2, Table3 } from './tables.js';
import { SeriesHashes } from './series-hashes.js';
import { StringHashes } from './string-hashes.js';

export const UNKNOWN_SERVICE = 'unknown_service';

/** UTF-8 text of buf[start, end), invalid sequences as U+FFFD: what the decoder's reader.string() makes of them. */
function utf8Text(buf: Uint8Array, start: number, end: number): string {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.toString('utf8', start, end);
}
const MAX_SERVICE_NAME = 256;
/** Map keys for span kinds, made once. */
const KIND_KEYS = ['0', '1', '2', '3', '4', '5'];

export interface ExtractorOptions {
  workerId: number;
  precision: number;
  minerMaxClusters: number;
  minerMaxLineLength: number;
}

export interface FoldResult {
  accepted: number;
  rejected: number;
  message: string;
}

interface Seen {
  firstSeen: number;
  lastSeen: number;
}
interface SvcAcc extends Seen {
  name: string; logRecords: number; spans: number; metricPoints: number; logBytes: number; spanBytes: number; metricBytes: number;
}
export interface MetricAcc extends Seen {
  service: string; name: string; type: MetricType; unit: string; description: string; monotonic: boolean;
  temporality: number; labelKeys: string[]; resourceKeys: string[]; points: number; bytes: number; overflowPoints: number;
  buckets: number; series: Hll;
}
interface SketchAcc extends Seen {
  service: string; scopeOrMetric: string; key: string; samples: number; bytes: number; sketch: Hll;
  /** The sketch is the key's long-lived dense sketch (see denseKeys), not this interval's own. */
  longLived: boolean;
}

/**
 * Memory a worker gives long-lived dense sketches (2^p register bytes + 2^p / 8 change bits each: 227 sketches
 * at p=14). Every worker holds its own copy of a hot key's registers beside the writer's, so this is bounded
 * well below the key count: keys past it send their interval sketch each flush instead, which costs traffic
 * and writer merges, not correctness.
 */
const LONG_LIVED_BYTES = 4 * 1024 * 1024;
interface SpanAcc extends Seen {
  service: string; name: string; kind: number; attributeKeys: string[]; resourceKeys: string[]; eventNames: string[];
  count: number; bytes: number; statusUnset: number; statusOk: number; statusError: number;
}
/** One resource's part of a logs fold, while its records arrive. */
export interface LogsResourceFold {
  service: string;
  attrs: Attr[];
  resourceKeys: string[];
  bySeverity: Map<string, LogAcc>;
  logKeys: Map<string, SketchAcc>;
  miners: Map<string, { service: string; severity: string; miner: TemplateMiner }>;
  n: number;
  bytes: number;
}
/** One resource's part of a metrics fold, while its metrics arrive. */
export interface MetricsResourceFold {
  service: string;
  attrs: Attr[];
  resourceKeys: string[];
  /** The resource's series fingerprint and its separator, made once per resource. */
  fingerprint: string;
  /** The fingerprint's number in the cache of series hashes (series-hashes.ts). */
  resourceId: number;
  byName: Map<string, MetricAcc>;
  metricKeys: Map<string, SketchAcc>;
  n: number;
  bytes: number;
}
/** One resource's part of a traces fold, while its spans arrive. */
export interface TracesResourceFold {
  service: string;
  attrs: Attr[];
  resourceKeys: string[];
  spanKeys: Map<string, SketchAcc>;
  n: number;
  bytes: number;
}
interface LogAcc extends Seen {
  service: string; severity: string; attributeKeys: string[]; resourceKeys: string[]; bodyKeys: string[]; count: number; bytes: number;
}

/** The attribute an SDK puts on the point into which it folded series past its cardinality limit. */
const OVERFLOW_KEY = 'otel.metric.overflow';

function isOverflowPoint(attrs: Attr[]): boolean {
  for (const a of attrs) if (a.key === OVERFLOW_KEY && a.value === 'true') return true;
  return false;
}

function serviceVersion(resource: Attr[]): string {
  for (const a of resource) if (a.key === 'service.version') return a.value;
  return '';
}

function serviceName(resource: Attr[], counters: WorkerCounters): string {
  for (const a of resource) {
    if (a.key === 'service.name' && a.value !== '') {
      if (a.value.length <= MAX_SERVICE_NAME) return a.value;
      // A cut service.name is a truncated value like any other (keytally_truncated_attributes_total).
      counters.truncatedAttributes++;
      return a.value.slice(0, MAX_SERVICE_NAME);
    }
  }
  return UNKNOWN_SERVICE;
}

/** Rejection reasons with their counts, most frequent first; past MAX_REASONS, how many more. */
const MAX_REASONS = 5;
function reasonList(why: Map<string, number>): string {
  const all = [...why].sort((a, b) => b[1] - a[1]);
  const shown = all.slice(0, MAX_REASONS).map(([reason, n]) => `${n} from ${reason}`);
  if (all.length > MAX_REASONS) shown.push(`${all.length - MAX_REASONS} more reasons`);
  return shown.join(', ');
}

export class Extractor {
  private services = new Map<string, SvcAcc>();
  private metrics = new Table2<MetricAcc>();
  private labels = new Table3<SketchAcc>();
  private spans = new Table3<SpanAcc>();
  private logs = new Table2<LogAcc>();
  private keys = new Table3<SketchAcc>();
  private versions = new Table2<VersionDelta>();
  /** Start of the receive minute of everything held now (0 while empty). */
  private minute = 0;
  /** One cache per kind of key list, so each sees a stream of similar lists. */
  private readonly resourceKeysOf = new SortedKeys();
  /**
   * Keys whose interval sketch went dense keep one sketch for the life of the
   * worker and send only the registers that rose (Hll.serializeChanges): a
   * fresh 16 KiB sketch per key per flush was most of the traffic and garbage
   * of high-cardinality keys. Keyed table → service → scope/metric → key.
   */
  private readonly denseKeys = { keys: new Table3<Hll>(), labels: new Table3<Hll>() };
  private longLived = 0;
  private readonly maxLongLived: number;
  private readonly recordKeysOf = new SortedKeys();
  /** Miners live across flushes (their clusters are the worker's template memory); keyed service → severity. */
  private readonly miners = new Table2<{ service: string; severity: string; miner: TemplateMiner }>();
  /** Span names masked as the miner masks a line (ids and numbers out of the inventory's names). */
  private readonly spanNames: SpanNames;
  private acks: number[] = [];
  private counters: WorkerCounters = emptyCounters();
  private seq = 0;
  private readonly hashOut = new Uint32Array(2);
  /** Hashes of values and series fingerprints seen lately (string-hashes.ts). */
  private readonly strings: StringHashes;
  /** Hashes of series seen lately, by their attributes' bytes (series-hashes.ts). */
  private readonly seriesHashes = new SeriesHashes();
  private lastMinerEvictions = 0;
  private lastMinerOverflow = 0;

  constructor(
    private readonly hasher: KeyedHasher,
    private readonly opts: ExtractorOptions,
  ) {
    this.spanNames = new SpanNames(opts.minerMaxLineLength);
    this.strings = new StringHashes(hasher);
    this.maxLongLived = Math.floor(LONG_LIVED_BYTES / ((1 << opts.precision) * 1.125));
  }

  /** Entities held now; the worker flushes early past a bound. */
  size(): number {
    return this.services.size + this.metrics.size + this.labels.size + this.spans.size + this.logs.size + this.keys.size;
  }

  /** Whether records received at `now` belong to another minute than those held: flush() before folding them. */
  needsFlushFor(now: number): boolean {
    return this.size() > 0 && minuteOf(now) !== this.minute;
  }

  /** Pins the interval's minute; a fold in another minute over held data is a caller bug, not a silent mix. */
  private enterMinute(now: number): void {
    const m = minuteOf(now);
    if (m === this.minute) return;
    // Every log record also lands in `logs`, so size() covers the miners' pending templates too.
    if (this.size() > 0) throw new Error(`fold at ${now} outside the interval's minute ${this.minute}: flush first`);
    this.minute = m;
  }

  /** Sums service.version per resource: records and bytes under (service, version). */
  private version(service: string, resource: Attr[], records: number, bytes: number, now: number): void {
    const version = serviceVersion(resource);
    if (version === '' || records === 0) return;
    const byVersion = this.versions.inner(service);
    let v = byVersion.get(version);
    if (!v) {
      v = { service, version, records: 0, bytes: 0, firstSeen: now, lastSeen: now };
      byVersion.set(version, v);
      this.versions.added();
    }
    v.records += records;
    v.bytes += bytes;
    v.lastSeen = now;
  }

  isEmpty(): boolean {
    return this.size() === 0 && this.acks.length === 0;
  }

  addAck(token: number): void {
    this.acks.push(token);
  }

  countTruncated(n: number): void {
    this.counters.truncatedAttributes += n;
  }

  // ------------------------------------------------------------ logs

  foldLogs(req: LogsRequest, now: number): FoldResult {
    const sink = this.logsSink(now);
    for (const rl of req.resources) {
      const state = sink.resource(rl.attrs);
      for (const sl of rl.scopes) for (const rec of sl.records) sink.record(state, rec);
      sink.endResource(state);
    }
    return sink.result();
  }

  /**
   * Folds logs record by record, as a decoder reads them: the one-pass path
   * (streamLogs) feeds it straight from the bytes, foldLogs from a decoded
   * tree (JSON). Both end in the same delta map. `beforeFirst` runs before
   * the first resource is folded (the worker flushes there at a new minute).
   */
  logsSink(now: number, beforeFirst?: () => void): LogsSink<LogsResourceFold> & { result(): FoldResult } {
    let accepted = 0;
    let started = false;
    return {
      resource: (attrs) => {
        if (!started) {
          // Called only once the request is known to be valid (streamLogs checks the whole request first): a flush here loses nothing.
          started = true;
          beforeFirst?.();
          this.enterMinute(now);
        }
        return this.beginLogsResource(attrs, now);
      },
      record: (f, rec) => this.foldLogRecord(f, rec, now),
      endResource: (f) => {
        this.endLogsResource(f, now);
        accepted += f.n;
      },
      rawBodies: true,
      result: () => {
        this.counters.records.logs += accepted;
        return { accepted, rejected: 0, message: '' };
      },
    };
  }

  private beginLogsResource(attrs: Attr[], now: number): LogsResourceFold {
    const service = serviceName(attrs, this.counters);
    this.sketchAttrs(this.keys, service, 'resource', attrs, now, 0);
    return {
      service,
      attrs,
      resourceKeys: this.resourceKeysOf.of(attrs),
      bySeverity: this.logs.inner(service),
      logKeys: this.keys.inner(service, 'log'),
      miners: this.miners.inner(service),
      n: 0,
      bytes: 0,
    };
  }

  private foldLogRecord(f: LogsResourceFold, rec: LogRecord, now: number): void {
    const service = f.service;
    f.n++;
    f.bytes += rec.bytes;
    const severity = severityOf(rec.severityText, rec.severityNumber);
    let la = f.bySeverity.get(severity);
    if (!la) {
      la = { service, severity, attributeKeys: [], resourceKeys: [], bodyKeys: [], count: 0, bytes: 0, firstSeen: now, lastSeen: now };
      f.bySeverity.set(severity, la);
      this.logs.added();
    }
    la.count++;
    la.bytes += rec.bytes;
    la.lastSeen = now;
    la.resourceKeys = unionSorted(la.resourceKeys, f.resourceKeys);
    if (rec.attrs.length > 0) {
      la.attributeKeys = unionSorted(la.attributeKeys, this.recordKeysOf.of(rec.attrs));
      this.sketchInto(this.keys, f.logKeys, service, 'log', rec.attrs, now, 1);
    }
    const raw = rec.bodyUtf8;
    if (raw !== undefined) {
      // A string body as its bytes (the one-pass path): a plain line is mined from them, a known shape with no
      // string made (TemplateMiner.addUtf8); one that may be JSON or logfmt is decoded and goes the tree's way.
      const from = rec.bodyFrom!;
      const to = rec.bodyTo!;
      if (!mayBeStructuredUtf8(raw, from, to)) {
        this.minerFor(f.miners, service, severity).addUtf8(raw, from, to, utf8Text, now, rec.bytes);
        return;
      }
      rec.body = utf8Text(raw, from, to);
    }
    const body = bodyMessage(rec.body);
    if (body.keys !== undefined) la.bodyKeys = unionSorted(la.bodyKeys, body.keys);
    this.minerFor(f.miners, service, severity).add(body.message, now, rec.bytes);
  }

  private endLogsResource(f: LogsResourceFold, now: number): void {
    // Resource keys are sampled once per record that carried them.
    this.bumpResourceSamples(f.service, f.attrs, f.n - 1);
    const svc = this.service(f.service, now);
    svc.logRecords += f.n;
    svc.logBytes += f.bytes;
    this.version(f.service, f.attrs, f.n, f.bytes, now);
  }

  // ------------------------------------------------------------ metrics

  foldMetrics(req: MetricsRequest, now: number): FoldResult {
    const sink = this.metricsSink(now);
    for (const rm of req.resources) {
      const state = sink.resource(rm.attrs);
      for (const sm of rm.scopes) {
        for (const m of sm.metrics) {
          const ma = sink.metric(state, m, m.points.length);
          if (ma !== undefined) for (const p of m.points) sink.point(state, ma, p);
        }
      }
      sink.endResource(state);
    }
    return sink.result();
  }

  /**
   * Folds metrics metric by metric, point by point: streamMetrics feeds it from the bytes, foldMetrics from a
   * decoded tree (JSON). `beforeFirst` as in logsSink.
   */
  metricsSink(now: number, beforeFirst?: () => void): MetricsSink<MetricsResourceFold, MetricAcc> & { result(): FoldResult } {
    let accepted = 0;
    let rejected = 0;
    let started = false;
    const why = new Map<string, number>();
    return {
      resource: (attrs) => {
        if (!started) {
          started = true;
          beforeFirst?.();
          this.enterMinute(now);
        }
        const service = serviceName(attrs, this.counters);
        this.sketchAttrs(this.keys, service, 'resource', attrs, now, 0);
        // The resource part of every series fingerprint: sorted key=value pairs.
        const fingerprint = this.fingerprint(attrs) + '\u0001';
        return {
          service, attrs, resourceKeys: this.resourceKeysOf.of(attrs), fingerprint, resourceId: this.seriesHashes.resourceId(fingerprint),
          byName: this.metrics.inner(service), metricKeys: this.keys.inner(service, 'metric'), n: 0, bytes: 0,
        };
      },
      metric: (f, m, points) => {
        if (m.name === '' || m.type === undefined) {
          const bad = Math.max(1, points);
          rejected += bad;
          const reason = m.name === '' ? 'metric without a name' : `metric ${JSON.stringify(m.name)} without data`;
          why.set(reason, (why.get(reason) ?? 0) + bad);
          return undefined;
        }
        return this.metricAcc(f, m, now);
      },
      point: (f, ma, p) => {
        f.n++;
        ma.points++;
        ma.bytes += p.bytes;
        f.bytes += p.bytes;
        if (p.buckets > ma.buckets) ma.buckets = p.buckets;
        if (p.attrs.length > 0) {
          ma.labelKeys = unionSorted(ma.labelKeys, this.recordKeysOf.of(p.attrs));
          if (isOverflowPoint(p.attrs)) ma.overflowPoints++;
          // Each value hashed once for both sketches it goes into (the label's and the key's).
          this.hashValues(p.attrs);
          this.sketchAttrs(this.labels, f.service, ma.name, p.attrs, now, 1);
          this.sketchInto(this.keys, f.metricKeys, f.service, 'metric', p.attrs, now, 1);
        }
        this.seriesHash(f, p, this.hashOut);
        ma.series.add(this.hashOut[0]!, this.hashOut[1]!);
      },
      endResource: (f) => {
        this.bumpResourceSamples(f.service, f.attrs, f.n - 1);
        const svc = this.service(f.service, now);
        svc.metricPoints += f.n;
        svc.metricBytes += f.bytes;
        this.version(f.service, f.attrs, f.n, f.bytes, now);
        accepted += f.n;
      },
      result: () => {
        this.counters.records.metrics += accepted;
        this.counters.rejected += rejected;
        return { accepted, rejected, message: rejected > 0 ? `${rejected} data points rejected: ${reasonList(why)}` : '' };
      },
    };
  }

  private metricAcc(f: MetricsResourceFold, m: Metric, now: number): MetricAcc {
    const type = m.type!;
    let ma = f.byName.get(m.name);
    if (!ma) {
      ma = {
        service: f.service, name: m.name, type, unit: m.unit, description: m.description, monotonic: m.monotonic,
        temporality: m.temporality, labelKeys: [], resourceKeys: f.resourceKeys, points: 0, bytes: 0, overflowPoints: 0, buckets: 0,
        series: new Hll(this.opts.precision), firstSeen: now, lastSeen: now,
      };
      f.byName.set(m.name, ma);
      this.metrics.added();
    } else {
      ma.type = maxText(ma.type, type) as MetricType;
      ma.unit = maxText(ma.unit, m.unit);
      ma.description = maxText(ma.description, m.description);
      ma.monotonic ||= m.monotonic;
      ma.temporality = Math.max(ma.temporality, m.temporality);
      ma.resourceKeys = unionSorted(ma.resourceKeys, f.resourceKeys);
      ma.lastSeen = now;
    }
    return ma;
  }

  // ------------------------------------------------------------ traces

  foldTraces(req: TracesRequest, now: number): FoldResult {
    const sink = this.tracesSink(now);
    for (const rs of req.resources) {
      const state = sink.resource(rs.attrs);
      for (const ss of rs.scopes) for (const span of ss.spans) sink.span(state, span);
      sink.endResource(state);
    }
    return sink.result();
  }

  /** Folds traces span by span: streamTraces feeds it from the bytes, foldTraces from a decoded tree (JSON). */
  tracesSink(now: number, beforeFirst?: () => void): TracesSink<TracesResourceFold> & { result(): FoldResult } {
    let accepted = 0;
    let rejected = 0;
    let started = false;
    return {
      resource: (attrs) => {
        if (!started) {
          started = true;
          beforeFirst?.();
          this.enterMinute(now);
        }
        const service = serviceName(attrs, this.counters);
        this.sketchAttrs(this.keys, service, 'resource', attrs, now, 0);
        return { service, attrs, resourceKeys: this.resourceKeysOf.of(attrs), spanKeys: this.keys.inner(service, 'span'), n: 0, bytes: 0 };
      },
      span: (f, span) => {
        if (span.name === '') {
          rejected++;
          return;
        }
        this.foldSpan(f, span, now);
      },
      endResource: (f) => {
        this.bumpResourceSamples(f.service, f.attrs, f.n - 1);
        const svc = this.service(f.service, now);
        svc.spans += f.n;
        svc.spanBytes += f.bytes;
        this.version(f.service, f.attrs, f.n, f.bytes, now);
        accepted += f.n;
      },
      result: () => {
        this.counters.records.traces += accepted;
        this.counters.rejected += rejected;
        return { accepted, rejected, message: rejected > 0 ? `${rejected} spans rejected: span without a name` : '' };
      },
    };
  }

  private foldSpan(f: TracesResourceFold, span: Span, now: number): void {
    const service = f.service;
    f.n++;
    f.bytes += span.bytes;
    const name = this.spanNames.of(span.name);
    const byKind = this.spans.inner(service, name);
    const kindKey = KIND_KEYS[span.kind] ?? String(span.kind);
    let sa = byKind.get(kindKey);
    if (!sa) {
      sa = {
        service, name, kind: span.kind, attributeKeys: [], resourceKeys: [], eventNames: [],
        count: 0, bytes: 0, statusUnset: 0, statusOk: 0, statusError: 0, firstSeen: now, lastSeen: now,
      };
      byKind.set(kindKey, sa);
      this.spans.added();
    }
    sa.count++;
    sa.bytes += span.bytes;
    sa.lastSeen = now;
    if (span.statusCode === 1) sa.statusOk++;
    else if (span.statusCode === 2) sa.statusError++;
    else sa.statusUnset++;
    sa.resourceKeys = unionSorted(sa.resourceKeys, f.resourceKeys);
    if (span.attrs.length > 0) {
      sa.attributeKeys = unionSorted(sa.attributeKeys, this.recordKeysOf.of(span.attrs));
      this.sketchInto(this.keys, f.spanKeys, service, 'span', span.attrs, now, 1);
    }
    if (span.events.length > 0) {
      const names: string[] = [];
      for (const ev of span.events) {
        names.push(ev.name);
        if (ev.attrs.length > 0) this.sketchAttrs(this.keys, service, 'span_event', ev.attrs, now, 1);
      }
      sa.eventNames = unionSorted(sa.eventNames, [...new Set(names)].sort());
    }
  }

  // ------------------------------------------------------------ flush

  /** Everything learned since the last flush, as one batch; resets the interval. */
  flush(): DeltaBatch {
    let evictions = 0;
    let overflow = 0;
    const templates: DeltaBatch['templates'] = [];
    for (const { service, severity, miner } of this.miners.values()) {
      for (const t of miner.drain()) {
        templates.push({
          service, severity, template: t.template, count: t.count, bytes: t.bytes, example: t.example, firstSeen: t.firstSeen, lastSeen: t.lastSeen,
        });
      }
      evictions += miner.stats.evictions;
      overflow += miner.stats.overflow;
    }
    this.counters.minerEvictions = evictions - this.lastMinerEvictions;
    this.counters.minerOverflow = overflow - this.lastMinerOverflow;
    this.lastMinerEvictions = evictions;
    this.lastMinerOverflow = overflow;

    const batch: DeltaBatch = {
      worker: this.opts.workerId,
      seq: ++this.seq,
      minute: this.minute,
      acks: this.acks,
      services: [...this.services.values()],
      metrics: [...this.metrics.values()].map((m) => ({ ...m, series: m.series.serialize() })),
      labels: [...this.labels.values()].map((l) => ({
        service: l.service, metric: l.scopeOrMetric, key: l.key, samples: l.samples, bytes: l.bytes, sketch: this.sketchBytes(l, this.denseKeys.labels),
        firstSeen: l.firstSeen, lastSeen: l.lastSeen,
      })),
      spans: [...this.spans.values()],
      logs: [...this.logs.values()],
      keys: [...this.keys.values()].map((k) => ({
        service: k.service, scope: k.scopeOrMetric as KeyScope, key: k.key, samples: k.samples, bytes: k.bytes,
        sketch: this.sketchBytes(k, this.denseKeys.keys),
        firstSeen: k.firstSeen, lastSeen: k.lastSeen,
      })),
      templates,
      versions: [...this.versions.values()],
      counters: this.counters,
    };
    // Serialized above: this interval's own sketches are done with (long-lived ones carry on).
    for (const m of this.metrics.values()) m.series.dispose();
    for (const l of this.labels.values()) if (!l.longLived) l.sketch.dispose();
    for (const k of this.keys.values()) if (!k.longLived) k.sketch.dispose();
    this.services = new Map();
    this.metrics = new Table2();
    this.labels = new Table3();
    this.spans = new Table3();
    this.logs = new Table2();
    this.keys = new Table3();
    this.versions = new Table2();
    this.minute = 0;
    this.acks = [];
    this.counters = emptyCounters();
    return batch;
  }

  /** Frees the sketch bytes of a batch from flush() once it has been encoded for the writer. */
  static releaseBatch(batch: DeltaBatch): void {
    for (const m of batch.metrics) releaseView(m.series);
    for (const l of batch.labels) releaseView(l.sketch);
    for (const k of batch.keys) releaseView(k.sketch);
  }

  // ------------------------------------------------------------ helpers

  /** The bytes a key's sketch sends this flush; an interval sketch that went dense becomes long-lived. */
  private sketchBytes(acc: SketchAcc, dense: Table3<Hll>): Uint8Array {
    if (acc.longLived) return acc.sketch.serializeChanges();
    if (this.longLived < this.maxLongLived && acc.sketch.isDense) {
      dense.inner(acc.service, acc.scopeOrMetric).set(acc.key, acc.sketch);
      this.longLived++;
      // Kept past this flush (flush() disposes only the interval's own sketches).
      acc.longLived = true;
      return acc.sketch.serializeChanges();
    }
    return acc.sketch.serialize();
  }

  private service(name: string, now: number): SvcAcc {
    let s = this.services.get(name);
    if (!s) {
      s = { name, logRecords: 0, spans: 0, metricPoints: 0, logBytes: 0, spanBytes: 0, metricBytes: 0, firstSeen: now, lastSeen: now };
      this.services.set(name, s);
    }
    s.lastSeen = now;
    return s;
  }

  private minerFor(bySeverity: Map<string, { service: string; severity: string; miner: TemplateMiner }>, service: string, severity: string): TemplateMiner {
    let m = bySeverity.get(severity);
    if (!m) {
      m = { service, severity, miner: new TemplateMiner({ maxClusters: this.opts.minerMaxClusters, maxLineLength: this.opts.minerMaxLineLength }) };
      bySeverity.set(severity, m);
      this.miners.added();
    }
    return m.miner;
  }

  /** Hashes each attribute value into the sketch of its key; adds `samples` to the key's sample count. */
  private sketchAttrs(table: Table3<SketchAcc>, service: string, scopeOrMetric: string, attrs: Attr[], now: number, samples: number): void {
    if (attrs.length > 0) this.sketchInto(table, table.inner(service, scopeOrMetric), service, scopeOrMetric, attrs, now, samples);
  }

  /** sketchAttrs with the (service, scope) map already looked up, for loops over the records of one resource. */
  private sketchInto(table: Table3<SketchAcc>, byKey: Map<string, SketchAcc>, service: string, scopeOrMetric: string, attrs: Attr[], now: number, samples: number): void {
    const out = this.hashOut;
    for (const a of attrs) {
      let acc = byKey.get(a.key);
      if (!acc) {
        const dense = (table === this.labels ? this.denseKeys.labels : this.denseKeys.keys).inner(service, scopeOrMetric).get(a.key);
        acc = {
          service, scopeOrMetric, key: a.key, samples: 0, bytes: 0, sketch: dense ?? new Hll(this.opts.precision), longLived: dense !== undefined,
          firstSeen: now, lastSeen: now,
        };
        byKey.set(a.key, acc);
        table.added();
      }
      acc.samples += samples;
      acc.bytes += a.bytes;
      acc.lastSeen = now;
      if (a.hashHi !== undefined) {
        acc.sketch.add(a.hashHi, a.hashLo!);
        continue;
      }
      this.strings.hash(a.value, out);
      acc.sketch.add(out[0]!, out[1]!);
    }
  }

  /** Resource keys: one sample per record of the resource (sketchAttrs counted none, so add the records). */
  private bumpResourceSamples(service: string, attrs: Attr[], extra: number): void {
    const add = extra + 1;
    if (add <= 0) return;
    const byKey = this.keys.inner(service, 'resource');
    for (const a of attrs) {
      const acc = byKey.get(a.key);
      if (acc) acc.samples += add;
    }
  }

  /** Gives every attribute without one the hash of its value (hashHi, hashLo), from the value hash cache. */
  private hashValues(attrs: Attr[]): void {
    const out = this.hashOut;
    for (const a of attrs) {
      if (a.hashHi !== undefined) continue;
      this.strings.hash(a.value, out);
      a.hashHi = out[0]!;
      a.hashLo = out[1]!;
    }
  }

  /**
   * The hash of a point's series (its resource's and its own fingerprint) into out: from the cache of series hashes
   * when the point comes with its attributes' bytes (the one-pass path) and they were seen under this resource lately.
   */
  private seriesHash(f: MetricsResourceFold, p: DataPoint, out: Uint32Array): void {
    const buf = p.attrsUtf8;
    const from = p.attrsFrom ?? -1;
    const cached = buf !== undefined && from >= 0;
    if (cached && this.seriesHashes.lookup(f.resourceId, buf, p.attrsView!, from, p.attrsTo!, out)) return;
    this.hasher.hash(f.fingerprint + this.fingerprint(p.attrs), out);
    if (cached) this.seriesHashes.store(f.resourceId, buf, from, p.attrsTo!, out[0]!, out[1]!);
  }

  private fingerprint(attrs: Attr[]): string {
    if (attrs.length === 0) return '';
    if (attrs.length === 1) return attrs[0]!.key + '=' + attrs[0]!.value;
    const sorted = attrs.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let s = '';
    for (const a of sorted) s += a.key + '=' + a.value + '\u0000';
    return s;
  }
}
