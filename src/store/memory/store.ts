/**
 * The memory store: no files at all, bounded by a byte estimate. It lives in
 * the writer thread (the only thread that may touch its Maps); the API's
 * questions reach it over a port (src/store/remote.ts) and are answered
 * between commits.
 *
 * A commit applies the same merge as the SQL backends' UPSERTs (counts add,
 * key sets and sketches replaced by the writer's merged values, first/last
 * seen min/max, a template's first example kept), then evicts the least
 * recently updated rows while the estimate is over the bound.
 */
import { entityKey } from '../../model/delta.js';
import type { MetricType } from '../../model/otlp.js';
import { randomSalt } from '../../sketch/hash.js';
import { Hll } from '../../sketch/hll.js';
import type { ChangeSet, SketchLoader, StoredSketch, WriterState } from '../../writer/state.js';
import { checkSalt, metricDerived, rounded } from '../derive.js';
import { NOTHING_MAINTAINED, type BackendTraits, type Maintained, type ReadStore, type StoreQueries, type StoreSize, type WriteStore } from '../store.js';
import { MemoryQueries } from './read.js';
import type { DumpSource } from '../dump.js';
import { rowToItem } from '../dump-rows.js';
import { compareCodePoints } from '../queries.js';
import { MemoryHistory } from './history.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import type { Retention, VersionItem } from '../history.js';
import { Tables, type Records } from './tables.js';
import { MemoryEstimates } from './series-estimates.js';
import { MirrorFeed } from '../mirror-feed.js';

/** A stored row's first/last seen after a delta: min and max with what the delta saw. */
/**
 * A key or metric-label row: its counts add, its sketch and estimate become the writer's merged ones (updated in
 * place, as every row: Tables.updated); a new row gets `names` (its key columns) with them.
 */
function sketchRow<T extends 'labels' | 'keys'>(
  t: Tables, table: T, key: string, r: { samples: number; bytes: number; sketch: Hll; firstSeen: number; lastSeen: number },
  names: Omit<Records[T], 'sample_count' | 'bytes' | 'cardinality_estimate' | 'sketch' | 'first_seen' | 'last_seen'>,
): void {
  const e = t.entry(table, key);
  if (!e) {
    t.put(table, key, {
      ...names, sample_count: r.samples, bytes: r.bytes, cardinality_estimate: rounded(r.sketch), sketch: r.sketch.serialize(),
      first_seen: r.firstSeen, last_seen: r.lastSeen,
    } as Records[T]);
    return;
  }
  const o = e.row;
  o.sample_count += r.samples;
  o.bytes += r.bytes;
  o.cardinality_estimate = rounded(r.sketch);
  o.sketch = r.sketch.serialize();
  seenRange(o, r);
  t.updated(e);
}

function seenRange(o: { first_seen: number; last_seen: number }, r: { firstSeen: number; lastSeen: number }): void {
  if (r.firstSeen < o.first_seen) o.first_seen = r.firstSeen;
  if (r.lastSeen > o.last_seen) o.last_seen = r.lastSeen;
}

export interface MemoryStoreOptions {
  maxBytes: number;
}

export class MemoryStore implements WriteStore {
  readonly backend = 'memory' as const;
  readonly traits: BackendTraits = { durable: false, sharedReads: false };
  readonly tables: Tables;
  /** The `meta` table: salt, imported dump ids. */
  readonly meta_ = new Map<string, string>();
  readonly history = new MemoryHistory();
  readonly versions = new Map<string, VersionItem>();
  readonly estimates: MemoryEstimates;
  private readonly totals = new MirrorFeed<MirrorRow>();
  private readonly queries: MemoryQueries;

  private readonly maxBytes: number;
  /** History buckets dropped to stay within the bound (not retention). */
  historyEvictions = 0;

  constructor(opts: MemoryStoreOptions) {
    this.maxBytes = opts.maxBytes;
    this.tables = new Tables(opts.maxBytes);
    // Series estimates over time may take an eighth of the bound (a few rows per metric and label key per minute).
    this.estimates = new MemoryEstimates(opts.maxBytes / 8);
    this.queries = new MemoryQueries(this.tables, this.history, this.versions, this.estimates);
  }

  async salt(preferred?: bigint): Promise<bigint> {
    const s = this.meta_.get('hash_salt');
    if (s !== undefined) return checkSalt(BigInt(s), preferred);
    const fresh = preferred ?? randomSalt();
    this.meta_.set('hash_salt', fresh.toString());
    return fresh;
  }

  async load(state: WriterState): Promise<void> {
    const t = this.tables;
    for (const r of t.rows('services')) {
      state.services.rows.set(r.name, {
        name: r.name, logRecords: 0, spans: 0, metricPoints: 0, logBytes: 0, spanBytes: 0, metricBytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of t.rows('metrics')) {
      state.metrics.rows.set(entityKey(r.service, r.name), {
        service: r.service, name: r.name, type: r.type as MetricType, unit: r.unit, description: r.description,
        monotonic: r.monotonic, temporality: r.temporality, labelKeys: [...r.label_keys], resourceKeys: [...r.resource_keys],
        points: 0, bytes: 0, overflowPoints: 0, buckets: r.bucket_count, series: Hll.deserialize(r.series_sketch), firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of t.rows('spans')) {
      state.spans.rows.set(entityKey(r.service, r.name, r.kind), {
        service: r.service, name: r.name, kind: r.kind, attributeKeys: [...r.attribute_keys], resourceKeys: [...r.resource_keys],
        eventNames: [...r.event_names], count: 0, bytes: 0, statusUnset: 0, statusOk: 0, statusError: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of t.rows('logs')) {
      state.logs.rows.set(entityKey(r.service, r.severity), {
        service: r.service, severity: r.severity, attributeKeys: [...r.attribute_keys], resourceKeys: [...r.resource_keys],
        bodyKeys: [...r.body_keys], count: 0, bytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    state.keyCount = t.count('keys');
    const templates = [...t.rows('templates')].sort((a, b) => a.last_seen - b.last_seen || a.template_id - b.template_id);
    for (const r of templates) {
      const miner = state.miner(r.service, r.severity);
      miner.restore(r.template_id, r.template, r.count, r.bytes ?? 0);
      const cluster = miner.clusters().find((c) => c.id === r.template_id);
      if (!cluster) continue;
      state.templates.rows.set(entityKey(r.service, r.severity, r.template_id), {
        service: r.service, severity: r.severity, cluster, count: 0, bytes: 0, example: r.example, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
  }

  async meta(key: string): Promise<string | undefined> {
    return this.meta_.get(key);
  }

  loader(): SketchLoader {
    const t = this.tables;
    const row = (r: { sketch: Uint8Array; first_seen: number; last_seen: number } | undefined): StoredSketch | undefined =>
      r ? { sketch: r.sketch, firstSeen: r.first_seen, lastSeen: r.last_seen } : undefined;
    return {
      key: (service, scope, k) => row(t.get('keys', entityKey(service, scope, k))),
      label: (service, metric, k) => row(t.get('labels', entityKey(service, metric, k))),
    };
  }

  /**
   * Rows already stored are updated in place (Tables.updated), new ones
   * inserted: the merge is that of the SQL UPSERTs, field by field.
   */
  async commit(c: ChangeSet): Promise<number> {
    const t = this.tables;
    for (const r of c.services) {
      const e = t.entry('services', r.name);
      if (!e) {
        t.put('services', r.name, {
          name: r.name, log_records: r.logRecords, spans: r.spans, metric_points: r.metricPoints,
          log_bytes: r.logBytes, span_bytes: r.spanBytes, metric_bytes: r.metricBytes, first_seen: r.firstSeen, last_seen: r.lastSeen,
        });
        continue;
      }
      const o = e.row;
      o.log_records += r.logRecords;
      o.spans += r.spans;
      o.metric_points += r.metricPoints;
      o.log_bytes += r.logBytes;
      o.span_bytes += r.spanBytes;
      o.metric_bytes += r.metricBytes;
      seenRange(o, r);
      t.updated(e);
    }
    for (const r of c.metrics) {
      const k = entityKey(r.service, r.name);
      const e = t.entry('metrics', k);
      const { seriesEstimate, prometheusSeries } = metricDerived(r);
      if (!e) {
        t.put('metrics', k, {
          service: r.service, name: r.name, type: r.type, unit: r.unit, description: r.description,
          monotonic: r.monotonic, temporality: r.temporality, label_keys: r.labelKeys, resource_keys: r.resourceKeys,
          sample_count: r.points, bytes: r.bytes, overflow_points: r.overflowPoints, bucket_count: r.buckets,
          series_estimate: seriesEstimate, prometheus_series: prometheusSeries, series_sketch: r.series.serialize(),
          first_seen: r.firstSeen, last_seen: r.lastSeen,
        });
        continue;
      }
      const o = e.row;
      o.type = r.type;
      o.unit = r.unit;
      o.description = r.description;
      o.monotonic = r.monotonic;
      o.temporality = r.temporality;
      o.label_keys = r.labelKeys;
      o.resource_keys = r.resourceKeys;
      o.sample_count += r.points;
      o.bytes += r.bytes;
      o.overflow_points += r.overflowPoints;
      o.bucket_count = r.buckets;
      o.series_estimate = seriesEstimate;
      o.prometheus_series = prometheusSeries;
      o.series_sketch = r.series.serialize();
      seenRange(o, r);
      t.updated(e);
    }
    for (const r of c.labels) {
      sketchRow(t, 'labels', entityKey(r.service, r.metric, r.key), r, { service: r.service, metric: r.metric, key: r.key });
    }
    const estimates = this.estimates.write(c);
    for (const r of c.spans) {
      const k = entityKey(r.service, r.name, r.kind);
      const e = t.entry('spans', k);
      if (!e) {
        t.put('spans', k, {
          service: r.service, name: r.name, kind: r.kind, attribute_keys: r.attributeKeys, resource_keys: r.resourceKeys, event_names: r.eventNames,
          sample_count: r.count, bytes: r.bytes, status_unset: r.statusUnset, status_ok: r.statusOk, status_error: r.statusError,
          first_seen: r.firstSeen, last_seen: r.lastSeen,
        });
        continue;
      }
      const o = e.row;
      o.attribute_keys = r.attributeKeys;
      o.resource_keys = r.resourceKeys;
      o.event_names = r.eventNames;
      o.sample_count += r.count;
      o.bytes += r.bytes;
      o.status_unset += r.statusUnset;
      o.status_ok += r.statusOk;
      o.status_error += r.statusError;
      seenRange(o, r);
      t.updated(e);
    }
    for (const r of c.logs) {
      const k = entityKey(r.service, r.severity);
      const e = t.entry('logs', k);
      if (!e) {
        t.put('logs', k, {
          service: r.service, severity: r.severity, attribute_keys: r.attributeKeys, resource_keys: r.resourceKeys, body_keys: r.bodyKeys,
          sample_count: r.count, bytes: r.bytes, first_seen: r.firstSeen, last_seen: r.lastSeen,
        });
        continue;
      }
      const o = e.row;
      o.attribute_keys = r.attributeKeys;
      o.resource_keys = r.resourceKeys;
      o.body_keys = r.bodyKeys;
      o.sample_count += r.count;
      o.bytes += r.bytes;
      seenRange(o, r);
      t.updated(e);
    }
    for (const r of c.keys) {
      sketchRow(t, 'keys', entityKey(r.service, r.scope, r.key), r, { service: r.service, scope: r.scope, key: r.key });
    }
    for (const r of c.templates) {
      const id = r.cluster.id;
      const k = entityKey(r.service, r.severity, id);
      if (r.removed) {
        // Merged into another template, which took its count (as the SQL store's DELETE).
        t.remove('templates', k);
        continue;
      }
      const e = t.entry('templates', k);
      if (!e) {
        t.put('templates', k, {
          service: r.service, severity: r.severity, template_id: id, template: r.cluster.template(),
          count: r.count, bytes: r.bytes, example: r.example, first_seen: r.firstSeen, last_seen: r.lastSeen,
        });
        continue;
      }
      const o = e.row;
      o.template = r.cluster.template();
      o.count += r.count;
      o.bytes += r.bytes;
      // As the SQL UPSERT: the first example stored stays.
      seenRange(o, r);
      t.updated(e);
    }
    for (const [k, v] of Object.entries(c.meta ?? {})) this.meta_.set(k, v);
    for (const r of c.versions) {
      const k = entityKey(r.service, r.version);
      const o = this.versions.get(k);
      if (!o) {
        this.versions.set(k, { service: r.service, version: r.version, records: r.records, bytes: r.bytes, first_seen: r.firstSeen, last_seen: r.lastSeen });
        continue;
      }
      o.records += r.records;
      o.bytes += r.bytes;
      seenRange(o, r);
    }
    this.history.add(c.history, this.totals.sink);
    this.history.move(c.historyMoves, this.totals.sink);
    // The bound covers the history too: it may take at most half, thinning its oldest stretch (minutes first) past
    // that, and the rows are evicted to fit beside it. (Dropped buckets are counted apart from the rows' evictions.)
    while (this.history.bytes > this.maxBytes / 2) {
      const n = this.history.dropOldest();
      if (n === 0) break;
      this.historyEvictions += n;
    }
    t.evict(this.history.bytes);
    return estimates + c.versions.length + c.history.length + c.services.length + c.metrics.length + c.labels.length + c.spans.length + c.logs.length + c.keys.length + c.templates.length;
  }

  async maintain(): Promise<Maintained> {
    return NOTHING_MAINTAINED;
  }

  trackHistoryTotals(): void {
    this.totals.track();
  }

  takeHistoryTotals(): MirrorRow[] {
    return this.totals.take();
  }

  async historyPage(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): Promise<MirrorRow[]> {
    return this.history.page(level, from, limit, after);
  }

  async retain(now: number, retention: Retention): Promise<number> {
    return this.history.retain(now, retention);
  }

  async retainEstimates(now: number, retention: Retention): Promise<number> {
    return this.estimates.retain(now, retention);
  }

  async checkpoint(): Promise<void> {}

  size(): StoreSize {
    return { bytes: this.tables.bytes + this.history.bytes + this.estimates.bytes, walBytes: 0 };
  }

  unavailable(): boolean {
    return false;
  }

  evictions(): number {
    return this.tables.evictions;
  }

  /** Runs synchronously underneath: a read is one turn of the writer's event loop, so it sees one state. */
  localReader(): ReadStore {
    const q: StoreQueries = this.queries;
    return {
      backend: 'memory',
      dumpSource: () => this.dumpSource(),
      read: (fn) => fn(q),
      ping: async () => undefined,
      close: async () => undefined,
    };
  }

  /** Its rows as dump items, in the same order as the SQL backends'. */
  dumpSource(): DumpSource {
    const t = this.tables;
    const salt = this.meta_.get('hash_salt');
    const sorted = <R>(rows: Iterable<R>, key: (r: R) => string) => [...rows].sort((a, b) => compareCodePoints(key(a), key(b)));
    const k = (...p: Array<string | number>) => p.map(String).join('\u0000');
    const shape = { keys: (v: unknown) => [...(v as string[])] };
    const versions = this.versions;
    const history = this.history;
    const estimates = this.estimates;
    return {
      salt: async () => (salt === undefined ? undefined : BigInt(salt)),
      rows: async function* () {
        // Taken whole before the first row is yielded: commits update rows in place, and a dump is one snapshot.
        const copy = <R extends object>(rows: R[]) => rows.map((r) => ({ ...r }));
        const snapshot: Array<[Parameters<typeof rowToItem>[0], object[]]> = [
          ['services', copy(sorted(t.rows('services'), (r) => r.name))],
          ['metrics', copy(sorted(t.rows('metrics'), (r) => k(r.service, r.name)))],
          ['labels', copy(sorted(t.rows('labels'), (r) => k(r.service, r.metric, r.key)))],
          ['spans', copy(sorted(t.rows('spans'), (r) => k(r.service, r.name, r.kind)))],
          ['logs', copy(sorted(t.rows('logs'), (r) => k(r.service, r.severity)))],
          ['keys', copy(sorted(t.rows('keys'), (r) => k(r.service, r.scope, r.key)))],
          ['templates', copy([...t.rows('templates')].sort((a, b) => a.template_id - b.template_id))],
          ['versions', copy(sorted(versions.values(), (r) => k(r.service, r.version)))],
          ['history', history.dumpRows()],
          ['estimates', [...estimates.rows()]],
        ];
        for (const [table, rows] of snapshot) for (const r of rows) yield rowToItem(table, r as Parameters<typeof rowToItem>[1], shape);
      },
    };
  }

  async close(): Promise<void> {}
}
