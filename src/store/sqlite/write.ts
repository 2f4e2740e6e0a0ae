/**
 * The SQLite store's write side: the writer's one write connection (WAL,
 * prepared UPSERTs, one transaction per commit, checkpoints).
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import type { Config } from '../../config.js';
import { Hll } from '../../sketch/hll.js';
import { randomSalt } from '../../sketch/hash.js';
import type { MetricType } from '../../model/otlp.js';
import type { ChangeSet, SketchLoader, StoredSketch, WriterState } from '../../writer/state.js';
import { NOTHING_MAINTAINED, type BackendTraits, type Maintained, type ReadStore, type StoreSize, type WriteStore } from '../store.js';
import { retentionCutoffs, type Retention } from '../history.js';
import { SqliteHistoryWriter } from './history-write.js';
import { retainEstimates, writeEstimates } from './series-estimates.js';
import { EstimateRecorder } from '../series-estimates.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { checkSalt, metricDerived, rounded } from '../derive.js';
import { migrateSqlite } from './migrations.js';
import { dbPath, tune, type SqliteTuning } from './connection.js';
import { MirrorFeed } from '../mirror-feed.js';

const json = (keys: string[]) => JSON.stringify(keys);

/** Creates the data directory, migrates the file and opens the write connection. */
export async function openSqliteWriteStore(config: Config): Promise<SqliteWriteStore> {
  mkdirSync(config.data, { recursive: true });
  await migrateSqlite(dbPath(config.data));
  return new SqliteWriteStore(config.data, config);
}

export class SqliteWriteStore implements WriteStore {
  readonly backend = 'sqlite' as const;
  readonly traits: BackendTraits = { durable: true, sharedReads: true };
  readonly db: Database.Database;
  readonly path: string;
  private readonly stmts;
  private readonly commitTx;
  private readonly history: SqliteHistoryWriter;
  /** Minute and hour bucket values of the commits since takeHistoryTotals(), once a mirror asked. */
  private readonly totals = new MirrorFeed<MirrorRow>();
  /** The series estimates last written (src/store/series-estimates.ts). */
  private readonly estimates = new EstimateRecorder();

  constructor(
    dataDir: string,
    private readonly t: SqliteTuning,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = dbPath(dataDir);
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash or power loss can lose the last transactions.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`wal_autocheckpoint = ${t.walAutocheckpointPages}`);
    // After a checkpoint that resets the WAL, SQLite truncates the file back to this size, so it stays bounded.
    this.db.pragma(`journal_size_limit = ${t.walLimitMb * 1024 * 1024}`);
    tune(this.db, t);
    const db = this.db;
    this.stmts = {
      service: db.prepare(`INSERT INTO services (name, log_records, spans, metric_points, log_bytes, span_bytes, metric_bytes, first_seen, last_seen)
        VALUES (@name, @logRecords, @spans, @metricPoints, @logBytes, @spanBytes, @metricBytes, @firstSeen, @lastSeen)
        ON CONFLICT (name) DO UPDATE SET log_records = log_records + excluded.log_records,
          spans = spans + excluded.spans, metric_points = metric_points + excluded.metric_points,
          log_bytes = log_bytes + excluded.log_bytes, span_bytes = span_bytes + excluded.span_bytes,
          metric_bytes = metric_bytes + excluded.metric_bytes,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      metric: db.prepare(`INSERT INTO metrics_metadata (service, name, type, unit, description, monotonic, temporality,
          label_keys, resource_keys, sample_count, bytes, overflow_points, bucket_count, series_estimate, prometheus_series, series_sketch,
          first_seen, last_seen)
        VALUES (@service, @name, @type, @unit, @description, @monotonic, @temporality, @labelKeys, @resourceKeys,
          @points, @bytes, @overflowPoints, @buckets, @seriesEstimate, @prometheusSeries, @sketch, @firstSeen, @lastSeen)
        ON CONFLICT (service, name) DO UPDATE SET type = excluded.type, unit = excluded.unit,
          description = excluded.description, monotonic = excluded.monotonic, temporality = excluded.temporality,
          label_keys = excluded.label_keys, resource_keys = excluded.resource_keys,
          sample_count = sample_count + excluded.sample_count, bytes = bytes + excluded.bytes,
          overflow_points = overflow_points + excluded.overflow_points, bucket_count = excluded.bucket_count,
          series_estimate = excluded.series_estimate, prometheus_series = excluded.prometheus_series,
          series_sketch = excluded.series_sketch,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      label: db.prepare(`INSERT INTO metric_label_keys (service, metric, key, sample_count, bytes, cardinality_estimate, sketch, first_seen, last_seen)
        VALUES (@service, @metric, @key, @samples, @bytes, @estimate, @sketch, @firstSeen, @lastSeen)
        ON CONFLICT (service, metric, key) DO UPDATE SET sample_count = sample_count + excluded.sample_count, bytes = bytes + excluded.bytes,
          cardinality_estimate = excluded.cardinality_estimate, sketch = excluded.sketch,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      span: db.prepare(`INSERT INTO spans_metadata (service, name, kind, attribute_keys, resource_keys, event_names,
          sample_count, bytes, status_unset, status_ok, status_error, first_seen, last_seen)
        VALUES (@service, @name, @kind, @attributeKeys, @resourceKeys, @eventNames, @count, @bytes, @statusUnset, @statusOk, @statusError, @firstSeen, @lastSeen)
        ON CONFLICT (service, name, kind) DO UPDATE SET attribute_keys = excluded.attribute_keys,
          resource_keys = excluded.resource_keys, event_names = excluded.event_names,
          sample_count = sample_count + excluded.sample_count, bytes = bytes + excluded.bytes, status_unset = status_unset + excluded.status_unset,
          status_ok = status_ok + excluded.status_ok, status_error = status_error + excluded.status_error,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      log: db.prepare(`INSERT INTO logs_metadata (service, severity, attribute_keys, resource_keys, body_keys, sample_count, bytes, first_seen, last_seen)
        VALUES (@service, @severity, @attributeKeys, @resourceKeys, @bodyKeys, @count, @bytes, @firstSeen, @lastSeen)
        ON CONFLICT (service, severity) DO UPDATE SET attribute_keys = excluded.attribute_keys,
          resource_keys = excluded.resource_keys, body_keys = excluded.body_keys,
          sample_count = sample_count + excluded.sample_count, bytes = bytes + excluded.bytes,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      key: db.prepare(`INSERT INTO key_metadata (service, scope, key, sample_count, bytes, cardinality_estimate, sketch, first_seen, last_seen)
        VALUES (@service, @scope, @key, @samples, @bytes, @estimate, @sketch, @firstSeen, @lastSeen)
        ON CONFLICT (service, scope, key) DO UPDATE SET sample_count = sample_count + excluded.sample_count, bytes = bytes + excluded.bytes,
          cardinality_estimate = excluded.cardinality_estimate, sketch = excluded.sketch,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      template: db.prepare(`INSERT INTO body_templates (service, severity, template_id, template, count, bytes, example, first_seen, last_seen)
        VALUES (@service, @severity, @id, @template, @count, @bytes, @example, @firstSeen, @lastSeen)
        ON CONFLICT (service, severity, template_id) DO UPDATE SET template = excluded.template,
          count = count + excluded.count, bytes = bytes + excluded.bytes,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
      templateDelete: db.prepare(`DELETE FROM body_templates WHERE service = @service AND severity = @severity AND template_id = @id`),
      version: db.prepare(`INSERT INTO service_versions (service, version, records, bytes, first_seen, last_seen)
        VALUES (@service, @version, @records, @bytes, @firstSeen, @lastSeen)
        ON CONFLICT (service, version) DO UPDATE SET records = records + excluded.records, bytes = bytes + excluded.bytes,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
    };
    this.history = new SqliteHistoryWriter(db);
    this.commitTx = db.transaction((c: ChangeSet) => this.apply(c));
  }

  /** The install's hash salt: created once, kept in `meta` for ever (sketches are only comparable under one salt). */
  async salt(preferred?: bigint): Promise<bigint> {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'hash_salt'`).get() as { value: string } | undefined;
    if (row) return checkSalt(BigInt(row.value), preferred);
    const s = preferred ?? randomSalt();
    this.db.prepare(`INSERT INTO meta (key, value) VALUES ('hash_salt', ?)`).run(s.toString());
    return s;
  }

  async meta(key: string): Promise<string | undefined> {
    return (this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** Fills the writer's mirror from the store (key sets, sketches, canonical templates). */
  async load(state: WriterState): Promise<void> {
    const keysOf = (s: string) => JSON.parse(s) as string[];
    for (const r of this.db.prepare(`SELECT name, first_seen, last_seen FROM services`).iterate() as Iterable<{ name: string; first_seen: number; last_seen: number }>) {
      state.services.rows.set(r.name, {
        name: r.name, logRecords: 0, spans: 0, metricPoints: 0, logBytes: 0, spanBytes: 0, metricBytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of this.db.prepare(`SELECT * FROM metrics_metadata`).iterate() as Iterable<Record<string, any>>) {
      state.metrics.rows.set(`${r.service}\u0000${r.name}`, {
        service: r.service, name: r.name, type: r.type as MetricType, unit: r.unit, description: r.description,
        monotonic: r.monotonic === 1, temporality: r.temporality, labelKeys: keysOf(r.label_keys), resourceKeys: keysOf(r.resource_keys),
        points: 0, bytes: 0, overflowPoints: 0, buckets: r.bucket_count, series: Hll.deserialize(r.series_sketch), firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    // Span and log rows carry key sets that the UPSERT replaces with the mirror's: without them a restart
    // would forget the keys seen before it.
    for (const r of this.db.prepare(`SELECT * FROM spans_metadata`).iterate() as Iterable<Record<string, any>>) {
      state.spans.rows.set(`${r.service}\u0000${r.name}\u0000${r.kind}`, {
        service: r.service, name: r.name, kind: r.kind, attributeKeys: keysOf(r.attribute_keys), resourceKeys: keysOf(r.resource_keys),
        eventNames: keysOf(r.event_names), count: 0, bytes: 0, statusUnset: 0, statusOk: 0, statusError: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of this.db.prepare(`SELECT * FROM logs_metadata`).iterate() as Iterable<Record<string, any>>) {
      state.logs.rows.set(`${r.service}\u0000${r.severity}`, {
        service: r.service, severity: r.severity, attributeKeys: keysOf(r.attribute_keys), resourceKeys: keysOf(r.resource_keys),
        bodyKeys: keysOf(r.body_keys), count: 0, bytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    // Key and label rows are not loaded: the writer fetches them when a delta touches them (see loader()).
    state.keyCount = (this.db.prepare(`SELECT count(*) AS n FROM key_metadata`).get() as { n: number }).n;
    // Oldest first, so the canonical miner's LRU order after a restart follows what was seen last.
    for (const r of this.db.prepare(`SELECT * FROM body_templates ORDER BY last_seen ASC, template_id ASC`).iterate() as Iterable<Record<string, any>>) {
      const miner = state.miner(r.service, r.severity);
      miner.restore(r.template_id, r.template, r.count, r.bytes ?? 0);
      const cluster = miner.clusters().find((c) => c.id === r.template_id);
      if (!cluster) continue;
      state.templates.rows.set(`${r.service}\u0000${r.severity}\u0000${r.template_id}`, {
        service: r.service, severity: r.severity, cluster, count: 0, bytes: 0, example: r.example, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
  }

  /** Reads single key and label rows for the writer's bounded cache. */
  loader(): SketchLoader {
    const key = this.db.prepare(`SELECT sketch, first_seen, last_seen FROM key_metadata WHERE service = ? AND scope = ? AND key = ?`);
    const label = this.db.prepare(`SELECT sketch, first_seen, last_seen FROM metric_label_keys WHERE service = ? AND metric = ? AND key = ?`);
    const row = (r: { sketch: Uint8Array; first_seen: number; last_seen: number } | undefined): StoredSketch | undefined =>
      r && r.sketch ? { sketch: r.sketch, firstSeen: r.first_seen, lastSeen: r.last_seen } : undefined;
    return {
      key: (service, scope, k) => row(key.get(service, scope, k) as never),
      label: (service, metric, k) => row(label.get(service, metric, k) as never),
    };
  }

  /** Applies one ChangeSet in one transaction; returns the number of rows written. */
  async commit(c: ChangeSet): Promise<number> {
    try {
      const n = this.commitTx(c);
      this.history.committed();
      this.estimates.confirm(c);
      return n;
    } catch (err) {
      this.history.rolledBack();
      throw err;
    }
  }

  private apply(c: ChangeSet): number {
    const s = this.stmts;
    for (const r of c.services) s.service.run(r);
    for (const r of c.metrics) {
      const { seriesEstimate, prometheusSeries } = metricDerived(r);
      s.metric.run({
        service: r.service, name: r.name, type: r.type, unit: r.unit, description: r.description,
        monotonic: r.monotonic ? 1 : 0, temporality: r.temporality, labelKeys: json(r.labelKeys), resourceKeys: json(r.resourceKeys),
        points: r.points, bytes: r.bytes, overflowPoints: r.overflowPoints, buckets: r.buckets, seriesEstimate, prometheusSeries,
        sketch: r.series.serializeTransient(), firstSeen: r.firstSeen, lastSeen: r.lastSeen,
      });
    }
    for (const r of c.labels) {
      s.label.run({ service: r.service, metric: r.metric, key: r.key, samples: r.samples, bytes: r.bytes, estimate: rounded(r.sketch), sketch: r.sketch.serializeTransient(), firstSeen: r.firstSeen, lastSeen: r.lastSeen });
    }
    const estimates = writeEstimates(this.db, c, this.estimates);
    for (const r of c.spans) {
      s.span.run({ ...r, attributeKeys: json(r.attributeKeys), resourceKeys: json(r.resourceKeys), eventNames: json(r.eventNames) });
    }
    for (const r of c.logs) {
      s.log.run({ ...r, attributeKeys: json(r.attributeKeys), resourceKeys: json(r.resourceKeys), bodyKeys: json(r.bodyKeys) });
    }
    for (const r of c.keys) {
      s.key.run({ service: r.service, scope: r.scope, key: r.key, samples: r.samples, bytes: r.bytes, estimate: rounded(r.sketch), sketch: r.sketch.serializeTransient(), firstSeen: r.firstSeen, lastSeen: r.lastSeen });
    }
    for (const r of c.templates) {
      if (r.removed) {
        s.templateDelete.run({ service: r.service, severity: r.severity, id: r.cluster.id });
        continue;
      }
      s.template.run({ service: r.service, severity: r.severity, id: r.cluster.id, template: r.cluster.template(), count: r.count, bytes: r.bytes, example: r.example, firstSeen: r.firstSeen, lastSeen: r.lastSeen });
    }
    for (const r of c.versions) s.version.run(r);
    for (const [k, v] of Object.entries(c.meta ?? {})) this.setMeta(k, v);
    this.history.add(c.history, this.totals.sink);
    this.history.move(c.historyMoves, this.totals.sink);
    return c.services.length + c.metrics.length + c.labels.length + c.spans.length + c.logs.length + c.keys.length + c.templates.length +
      c.versions.length + c.history.length + estimates;
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

  async retain(now: number, retention: Retention, budgetMs: number): Promise<number> {
    return this.history.retain(now, retention, budgetMs);
  }

  async retainEstimates(now: number, retention: Retention, budgetMs: number): Promise<number> {
    return retainEstimates(this.db, retentionCutoffs(now, retention), budgetMs);
  }

  /** Readers can hold the WAL open past the autocheckpoint; once it is past the limit, wait for them and truncate it. */
  async maintain(): Promise<Maintained> {
    if (this.walBytes() <= this.t.walLimitMb * 1024 * 1024) return NOTHING_MAINTAINED;
    this.truncate();
    return { checkpointed: true, changed: false };
  }

  async checkpoint(): Promise<void> {
    this.truncate();
  }

  /** TRUNCATE waits for readers (PASSIVE, which never blocks, runs by itself at wal_autocheckpoint). */
  private truncate(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  size(): StoreSize {
    return { bytes: this.dbBytes(), walBytes: this.walBytes() };
  }

  unavailable(): boolean {
    return false;
  }

  evictions(): number {
    return 0;
  }

  localReader(): ReadStore | undefined {
    return undefined;
  }

  walBytes(): number {
    try {
      return statSync(this.path + '-wal').size;
    } catch {
      return 0;
    }
  }

  dbBytes(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
