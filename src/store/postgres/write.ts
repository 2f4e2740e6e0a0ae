/**
 * The PostgreSQL store's write side, safe for many keytally instances on one
 * database (a fleet): every instance's commits merge, none is lost.
 *
 * Counts travel as increments and the database adds them. What SQL cannot
 * merge by itself here — sketches (register max) and key sets (sorted
 * unions) — is merged in code under row locks, in the commit's transaction.
 * Each row carries `writer`, the instance that wrote it last; a row whose
 * writer is this instance holds nothing its mirror lacks. So per table
 * (writeShared):
 *   1. write the new rows and this instance's own rows from the mirror in one
 *      statement (INSERT … ON CONFLICT DO UPDATE … WHERE writer is this one),
 *      which also locks, in key order, the rows it skips;
 *   2. only if it skipped some (another instance wrote them since): read
 *      those, merge them into the writer's mirror, compute the estimates from
 *      the merged registers, and write them (counts added).
 * A table whose rows other instances mostly hold goes the lock-everything way
 * for a while instead (make every row exist, lock all in key order, read what
 * others wrote, write all). Rows go in primary-key order in every statement,
 * so two instances lock in one order; a deadlock or serialization failure is
 * retried anyway. This
 * needs no extension (the `hll` extension is not used: see README "PostgreSQL").
 *
 * Templates are keyed by a hash of (service, severity, template text), which
 * every instance computes the same way, and written from the writer's
 * template log (templates.ts): adds and moves in miner order, each move
 * taking its amount from the stored row, so template totals stay exact.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import { entityKey, maxText, unionSorted } from '../../model/delta.js';
import type { MetricType } from '../../model/otlp.js';
import { randomSalt } from '../../sketch/hash.js';
import { Hll } from '../../sketch/hll.js';
import type { ChangeSet, HistoryMove, KeyRow, LabelRow, LogRow, MetricRow, ServiceRow, SpanRow, TemplateRow, VersionRow, WriterState } from '../../writer/state.js';
import { checkSalt, metricDerived, rounded } from '../derive.js';
import type { BackendTraits, Maintained, ReadStore, StoreSize, WriteStore } from '../store.js';
import { checkReachable, checkout, isConnectionError, openPool, type Pool, type PoolClient } from './connection.js';
import { migratePostgres } from './migrations.js';
import { PostgresHistoryWriter } from './history-write.js';
import { retainEstimates, writeEstimates } from './series-estimates.js';
import { EstimateRecorder } from '../series-estimates.js';
import type { Retention } from '../history.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { ensureRows, lockRows, readRows, upsertMine, upsertRows, type Column, type TableSpec } from './upsert.js';
import { templateHash, writeTemplateOps } from './templates.js';
import type { TemplateOp } from '../../writer/template-log.js';
import { MirrorFeed } from '../mirror-feed.js';

const bytes = (h: Hll) => {
  const b = h.serialize();
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
};

/** How a commit writes one table of rows shared with other instances (writeShared). */
interface SharedRows<R> {
  /** The columns merged in code, read back from the table. */
  content: string[];
  /** The mirror may lack what this instance itself stored in the row (its sketch was evicted and started again). */
  need?: (r: R) => boolean;
  /** Folds a stored row's content (`content` columns) into the commit's row (and the writer's mirror). */
  merge: (r: R, db: Record<string, any>) => void;
  cols: Array<Column<R>>;
  set: string;
}

/** Commits a table goes the lock-everything way after other instances held most of its rows (writeShared). */
const CONTENDED_COMMITS = 16;

const TEMPLATE_POLL_MS = 1000;
/** How often the template poll reads the whole table instead of the rows written since the last (pollTemplates). */
const FULL_POLL_MS = 10 * 60_000;
const SIZE_POLL_MS = 5000;

/** Serialization failure and deadlock: the transaction is rolled back and simply run again. */
const MAX_TX_RETRIES = 8;

export { templateHash } from './templates.js';

export async function openPostgresWriteStore(config: Config): Promise<PostgresWriteStore> {
  const url = config.postgresUrl!;
  const pool = openPool(url, { max: 2, name: 'keytally-writer' });
  try {
    await checkReachable(pool, url);
    await migratePostgres(url);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new PostgresWriteStore(pool);
}

const seen = <R extends { firstSeen: number; lastSeen: number }>(): Array<Column<R>> => [
  { name: 'first_seen', type: 'bigint', get: (r) => r.firstSeen },
  { name: 'last_seen', type: 'bigint', get: (r) => r.lastSeen },
];
const SEEN_SET = (t: string) => `first_seen = LEAST(${t}.first_seen, excluded.first_seen), last_seen = GREATEST(${t}.last_seen, excluded.last_seen)`;

const METRICS: TableSpec<MetricRow> = {
  table: 'metrics_metadata',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'name', type: 'text', get: (r) => r.name },
  ],
};
const LABELS: TableSpec<LabelRow> = {
  table: 'metric_label_keys',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'metric', type: 'text', get: (r) => r.metric },
    { name: 'key', type: 'text', get: (r) => r.key },
  ],
};
const KEYS: TableSpec<KeyRow> = {
  table: 'key_metadata',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'scope', type: 'text', get: (r) => r.scope },
    { name: 'key', type: 'text', get: (r) => r.key },
  ],
};
const SPANS: TableSpec<SpanRow> = {
  table: 'spans_metadata',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'name', type: 'text', get: (r) => r.name },
    { name: 'kind', type: 'int', get: (r) => r.kind },
  ],
};
const LOGS: TableSpec<LogRow> = {
  table: 'logs_metadata',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'severity', type: 'text', get: (r) => r.severity },
  ],
};
const VERSIONS: TableSpec<VersionRow> = {
  table: 'service_versions',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'version', type: 'text', get: (r) => r.version },
  ],
};
const SERVICES: TableSpec<ServiceRow> = { table: 'services', pk: [{ name: 'name', type: 'text', get: (r) => r.name }] };

export class PostgresWriteStore implements WriteStore {
  readonly backend = 'postgres' as const;
  readonly traits: BackendTraits = { durable: true, sharedReads: true };
  /** This process's mark in `writer`: a row whose writer is another (or an earlier run of this one) is read before it is written. */
  readonly me = randomUUID();
  private state: WriterState | undefined;
  /** Sketches whose registers include everything the database held when this instance last wrote them. */
  private readonly synced = new WeakSet<Hll>();
  private sizeBytes = 0;
  private sizeCheckedAt = 0;
  private polledAt = 0;
  /** The template poll's horizon (pollTemplates): undefined, the next poll reads every row. */
  private pollHorizon: string | undefined;
  private fullPolledAt = 0;
  /** Template hashes this instance has folded into its miners or written. */
  private readonly knownTemplates = new Set<string>();
  /** The series estimates last written by this instance (src/store/series-estimates.ts). */
  private readonly estimates = new EstimateRecorder();
  /** Transactions retried after a deadlock or serialization failure, since start. */
  retries = 0;
  /** Tables whose rows other instances mostly wrote at a recent commit: commits left that go the lock-everything way (writeShared). */
  private readonly contended = new Map<string, number>();

  private readonly history: PostgresHistoryWriter;
  /** The mirror's bucket values: those of committed transactions, and those of the attempt under way. */
  private readonly totals = new MirrorFeed<MirrorRow>();
  private attemptTotals: MirrorRow[] | undefined;

  constructor(readonly pool: Pool) {
    this.history = new PostgresHistoryWriter(pool);
  }

  async salt(preferred?: bigint): Promise<bigint> {
    // Racing instances all get the first one's salt: the losers' inserts turn into a no-op update that returns it.
    const res = await this.pool.query(
      `INSERT INTO meta (key, value) VALUES ('hash_salt', $1) ON CONFLICT (key) DO UPDATE SET value = meta.value RETURNING value`,
      [(preferred ?? randomSalt()).toString()],
    );
    return checkSalt(BigInt(res.rows[0].value as string), preferred);
  }

  async meta(key: string): Promise<string | undefined> {
    const r = await this.pool.query(`SELECT value FROM meta WHERE key = $1`, [key]);
    return r.rows[0]?.value as string | undefined;
  }

  async load(state: WriterState): Promise<void> {
    this.state = state;
    state.shareTemplates();
    await this.history.load();
    const q = (sql: string) => this.pool.query(sql).then((r) => r.rows as Array<Record<string, any>>);
    for (const r of await q(`SELECT name, first_seen, last_seen FROM services`)) {
      state.services.rows.set(r.name, { name: r.name, logRecords: 0, spans: 0, metricPoints: 0, logBytes: 0, spanBytes: 0, metricBytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen });
    }
    for (const r of await q(`SELECT * FROM metrics_metadata`)) {
      state.metrics.rows.set(entityKey(r.service, r.name), {
        service: r.service, name: r.name, type: r.type as MetricType, unit: r.unit, description: r.description,
        monotonic: r.monotonic, temporality: r.temporality, labelKeys: r.label_keys, resourceKeys: r.resource_keys,
        points: 0, bytes: 0, overflowPoints: 0, buckets: r.bucket_count, series: r.series_sketch ? Hll.deserialize(r.series_sketch) : new Hll(), firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of await q(`SELECT * FROM spans_metadata`)) {
      state.spans.rows.set(entityKey(r.service, r.name, r.kind), {
        service: r.service, name: r.name, kind: r.kind, attributeKeys: r.attribute_keys, resourceKeys: r.resource_keys, eventNames: r.event_names,
        count: 0, bytes: 0, statusUnset: 0, statusOk: 0, statusError: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    for (const r of await q(`SELECT * FROM logs_metadata`)) {
      state.logs.rows.set(entityKey(r.service, r.severity), {
        service: r.service, severity: r.severity, attributeKeys: r.attribute_keys, resourceKeys: r.resource_keys, bodyKeys: r.body_keys,
        count: 0, bytes: 0, firstSeen: r.first_seen, lastSeen: r.last_seen,
      });
    }
    state.keyCount = Number((await q(`SELECT count(*) AS n FROM key_metadata`))[0]!.n);
    this.learnTemplates(await q(`SELECT service, severity, template_hash, template, last_seen FROM body_templates ORDER BY last_seen ASC, template_hash ASC`));
  }

  /**
   * Folds stored templates (this instance's from an earlier run, or another
   * instance's) into the canonical miners with count 0, so that lines of one
   * template end in one stored row whichever instance mined them. Merges this
   * causes are in the state's template log: the next commit makes them.
   */
  private learnTemplates(rows: Array<Record<string, any>>): boolean {
    const state = this.state;
    if (!state) return false;
    let changed = false;
    for (const r of rows) {
      if (this.knownTemplates.has(r.template_hash)) continue;
      this.knownTemplates.add(r.template_hash);
      if (state.learnTemplate(r.service, r.severity, r.template, Number(r.last_seen))) changed = true;
    }
    return changed;
  }

  /** Key and label rows the writer does not hold are read when committed (step 2 above), not looked up: there is no synchronous read here. */
  loader(): undefined {
    return undefined;
  }

  /**
   * A ChangeSet retried after a lost connection may in fact have committed (the
   * COMMIT reached the server, its answer did not): each commit records its
   * sequence number under this instance's row in `meta`, in the same
   * transaction, and a retry first checks whether it is already there.
   */
  private readonly seqOf = new WeakMap<ChangeSet, number>();
  private nextSeq = 1;

  private async alreadyCommitted(client: PoolClient, seq: number): Promise<boolean> {
    const r = await client.query(`SELECT value FROM meta WHERE key = $1`, [`commit:${this.me}`]);
    return r.rows.length > 0 && Number(r.rows[0].value) >= seq;
  }

  async commit(c: ChangeSet): Promise<number> {
    const retried = this.seqOf.has(c);
    if (!retried) this.seqOf.set(c, this.nextSeq++);
    const seq = this.seqOf.get(c)!;
    for (let attempt = 0; ; attempt++) {
      const client = await checkout(this.pool);
      let broken: Error | undefined;
      try {
        if (retried && attempt === 0 && (await this.alreadyCommitted(client, seq))) {
          this.estimates.confirm(c);
          return 0;
        }
        await client.query('BEGIN');
        this.attemptTotals = this.totals.attempt();
        await this.apply(client, c);
        await client.query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [`commit:${this.me}`, String(seq)]);
        await client.query('COMMIT');
        this.history.committed();
        this.totals.keep(this.attemptTotals);
        for (const r of c.keys) this.synced.add(r.sketch);
        for (const r of c.labels) this.synced.add(r.sketch);
        for (const r of c.metrics) this.synced.add(r.series);
        this.estimates.confirm(c);
        return c.services.length + c.metrics.length + c.labels.length + c.spans.length + c.logs.length + c.keys.length + c.templates.length +
          c.versions.length + c.history.length;
      } catch (err) {
        this.history.rolledBack();
        if (isConnectionError(err)) broken = err as Error;
        else await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if ((code === '40P01' || code === '40001') && attempt < MAX_TX_RETRIES) {
          this.retries++;
          continue;
        }
        throw err;
      } finally {
        // A client whose connection broke is destroyed, not put back in the pool.
        client.release(broken);
      }
    }
  }

  private async apply(client: PoolClient, c: ChangeSet): Promise<void> {
    const me = this.me;
    const state = this.state;
    await upsertRows(client, SERVICES, [
      { name: 'log_records', type: 'bigint', get: (r) => r.logRecords },
      { name: 'spans', type: 'bigint', get: (r) => r.spans },
      { name: 'metric_points', type: 'bigint', get: (r) => r.metricPoints },
      { name: 'log_bytes', type: 'bigint', get: (r) => r.logBytes },
      { name: 'span_bytes', type: 'bigint', get: (r) => r.spanBytes },
      { name: 'metric_bytes', type: 'bigint', get: (r) => r.metricBytes },
      ...seen<ServiceRow>(),
    ], `log_records = services.log_records + excluded.log_records, spans = services.spans + excluded.spans,
      metric_points = services.metric_points + excluded.metric_points, log_bytes = services.log_bytes + excluded.log_bytes,
      span_bytes = services.span_bytes + excluded.span_bytes, metric_bytes = services.metric_bytes + excluded.metric_bytes,
      ${SEEN_SET('services')}`, c.services);

    // ---- metrics: every field but the point count is merged in code
    await this.writeShared(client, METRICS, c.metrics, {
      content: ['series_sketch', 'type', 'unit', 'description', 'monotonic', 'temporality', 'label_keys', 'resource_keys', 'bucket_count'],
      need: (r) => !this.synced.has(r.series),
      merge: (r, db) => {
        const mirror = state?.metrics.rows.get(entityKey(r.service, r.name)) ?? r;
        for (const x of mirror === r ? [r] : [r, mirror]) {
          x.type = (db.type === '' ? x.type : maxText(x.type, db.type)) as MetricType;
          x.unit = maxText(x.unit, db.unit);
          x.description = maxText(x.description, db.description);
          x.monotonic = x.monotonic || db.monotonic;
          x.temporality = Math.max(x.temporality, db.temporality);
          x.labelKeys = unionSorted(x.labelKeys, db.label_keys);
          x.resourceKeys = unionSorted(x.resourceKeys, db.resource_keys);
          x.buckets = Math.max(x.buckets, db.bucket_count);
        }
        if (db.series_sketch) r.series.mergeSerialized(db.series_sketch);
      },
      cols: [
        { name: 'type', type: 'text', get: (r) => r.type },
        { name: 'unit', type: 'text', get: (r) => r.unit },
        { name: 'description', type: 'text', get: (r) => r.description },
        { name: 'monotonic', type: 'bool', get: (r) => r.monotonic },
        { name: 'temporality', type: 'int', get: (r) => r.temporality },
        { name: 'label_keys', type: 'jsonb', get: (r) => r.labelKeys },
        { name: 'resource_keys', type: 'jsonb', get: (r) => r.resourceKeys },
        { name: 'sample_count', type: 'bigint', get: (r) => r.points },
        { name: 'bytes', type: 'bigint', get: (r) => r.bytes },
        { name: 'overflow_points', type: 'bigint', get: (r) => r.overflowPoints },
        { name: 'bucket_count', type: 'int', get: (r) => r.buckets },
        { name: 'series_estimate', type: 'bigint', get: (r) => metricDerived(r).seriesEstimate },
        { name: 'prometheus_series', type: 'bigint', get: (r) => metricDerived(r).prometheusSeries },
        { name: 'series_sketch', type: 'bytea', get: (r) => bytes(r.series) },
        { name: 'writer', type: 'text', get: () => me },
        ...seen<MetricRow>(),
      ],
      set: `type = excluded.type, unit = excluded.unit, description = excluded.description, monotonic = excluded.monotonic,
      temporality = excluded.temporality, label_keys = excluded.label_keys, resource_keys = excluded.resource_keys,
      sample_count = metrics_metadata.sample_count + excluded.sample_count, bytes = metrics_metadata.bytes + excluded.bytes,
      overflow_points = metrics_metadata.overflow_points + excluded.overflow_points, bucket_count = excluded.bucket_count,
      series_estimate = excluded.series_estimate, prometheus_series = excluded.prometheus_series, series_sketch = excluded.series_sketch,
      writer = excluded.writer, ${SEEN_SET('metrics_metadata')}`,
    });

    // ---- sketched key rows: labels and keys
    await this.mergeSketched(client, LABELS, c.labels, 'metric_label_keys');
    await this.mergeSketched(client, KEYS, c.keys, 'key_metadata');
    // After the merges above: the estimates are those of the merged sketches.
    await writeEstimates(client, c, this.estimates);

    // ---- spans and logs: key sets merged in code
    await this.writeShared(client, SPANS, c.spans, {
      content: ['attribute_keys', 'resource_keys', 'event_names'],
      merge: (r, db) => {
        const mirror = state?.spans.rows.get(entityKey(r.service, r.name, r.kind));
        for (const x of mirror ? [r, mirror] : [r]) {
          x.attributeKeys = unionSorted(x.attributeKeys, db.attribute_keys);
          x.resourceKeys = unionSorted(x.resourceKeys, db.resource_keys);
          x.eventNames = unionSorted(x.eventNames, db.event_names);
        }
      },
      cols: [
        { name: 'attribute_keys', type: 'jsonb', get: (r) => r.attributeKeys },
        { name: 'resource_keys', type: 'jsonb', get: (r) => r.resourceKeys },
        { name: 'event_names', type: 'jsonb', get: (r) => r.eventNames },
        { name: 'sample_count', type: 'bigint', get: (r) => r.count },
        { name: 'bytes', type: 'bigint', get: (r) => r.bytes },
        { name: 'status_unset', type: 'bigint', get: (r) => r.statusUnset },
        { name: 'status_ok', type: 'bigint', get: (r) => r.statusOk },
        { name: 'status_error', type: 'bigint', get: (r) => r.statusError },
        { name: 'writer', type: 'text', get: () => me },
        ...seen<SpanRow>(),
      ],
      set: `attribute_keys = excluded.attribute_keys, resource_keys = excluded.resource_keys, event_names = excluded.event_names,
      sample_count = spans_metadata.sample_count + excluded.sample_count, bytes = spans_metadata.bytes + excluded.bytes, status_unset = spans_metadata.status_unset + excluded.status_unset,
      status_ok = spans_metadata.status_ok + excluded.status_ok, status_error = spans_metadata.status_error + excluded.status_error,
      writer = excluded.writer, ${SEEN_SET('spans_metadata')}`,
    });

    await this.writeShared(client, LOGS, c.logs, {
      content: ['attribute_keys', 'resource_keys', 'body_keys'],
      merge: (r, db) => {
        const mirror = state?.logs.rows.get(entityKey(r.service, r.severity));
        for (const x of mirror ? [r, mirror] : [r]) {
          x.attributeKeys = unionSorted(x.attributeKeys, db.attribute_keys);
          x.resourceKeys = unionSorted(x.resourceKeys, db.resource_keys);
          x.bodyKeys = unionSorted(x.bodyKeys, db.body_keys);
        }
      },
      cols: [
        { name: 'attribute_keys', type: 'jsonb', get: (r) => r.attributeKeys },
        { name: 'resource_keys', type: 'jsonb', get: (r) => r.resourceKeys },
        { name: 'body_keys', type: 'jsonb', get: (r) => r.bodyKeys },
        { name: 'sample_count', type: 'bigint', get: (r) => r.count },
        { name: 'bytes', type: 'bigint', get: (r) => r.bytes },
        { name: 'writer', type: 'text', get: () => me },
        ...seen<LogRow>(),
      ],
      set: `attribute_keys = excluded.attribute_keys, resource_keys = excluded.resource_keys, body_keys = excluded.body_keys,
      sample_count = logs_metadata.sample_count + excluded.sample_count, bytes = logs_metadata.bytes + excluded.bytes, writer = excluded.writer, ${SEEN_SET('logs_metadata')}`,
    });

    for (const h of await writeTemplateOps(client, c.templateOps ?? [])) this.knownTemplates.add(h);
    for (const [k, v] of Object.entries(c.meta ?? {})) {
      await client.query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [k, v]);
    }

    await upsertRows(client, VERSIONS, [
      { name: 'records', type: 'bigint', get: (r) => r.records },
      { name: 'bytes', type: 'bigint', get: (r) => r.bytes },
      ...seen<VersionRow>(),
    ], `records = service_versions.records + excluded.records, bytes = service_versions.bytes + excluded.bytes,
      ${SEEN_SET('service_versions')}`, c.versions);
    // A template's history is keyed by the hash of its text, as its row (cluster ids are this instance's own, and
    // change at a restart), and follows the template log's moves: every instance's, applied to the shared rows.
    const rows = c.history.map((h) => (h.kind === 'template' ? { ...h, sub: templateHash(h.service, h.name, h.template ?? h.sub) } : h));
    await this.history.add(client, rows, this.attemptTotals);
    await this.history.move(client, historyMovesOf(c.templateOps ?? []), this.attemptTotals);
    // Last: it may lock the fleet's newest minute (seal), and nothing after it waits for a lock another commit holds.
    await this.history.seal(client);
  }

  /** A table of (…, sketch, sample count) rows: labels and keys. */
  private async mergeSketched<R extends (LabelRow | KeyRow)>(client: PoolClient, spec: TableSpec<R>, rows: R[], table: string): Promise<void> {
    const me = this.me;
    await this.writeShared(client, spec, rows, {
      content: ['sketch'],
      need: (r) => !this.synced.has(r.sketch),
      merge: (r, db) => {
        if (db.sketch) r.sketch.mergeSerialized(db.sketch);
      },
      cols: [
        { name: 'sample_count', type: 'bigint', get: (r) => r.samples },
        { name: 'bytes', type: 'bigint', get: (r) => r.bytes },
        { name: 'cardinality_estimate', type: 'bigint', get: (r) => rounded(r.sketch) },
        { name: 'sketch', type: 'bytea', get: (r) => bytes(r.sketch) },
        { name: 'writer', type: 'text', get: () => me },
        ...seen<R>(),
      ],
      set: `sample_count = ${table}.sample_count + excluded.sample_count, bytes = ${table}.bytes + excluded.bytes, cardinality_estimate = excluded.cardinality_estimate,
      sketch = excluded.sketch, writer = excluded.writer, ${SEEN_SET(table)}`,
    });
  }

  /**
   * One table's rows of a commit: what the writer's mirror holds, merged with what other instances stored
   * (the header). Usually one statement:
   *   1. rows whose mirror may lack what this instance itself stored (`need`: a sketch evicted from the
   *      writer's cache and started again) first read it (a plain read: while the row's writer is this
   *      instance, no one else has changed it);
   *   2. upsertMine: new rows and this instance's own rows, written from the mirror;
   *   3. only if some row was skipped (another instance wrote it since, and it is now locked): read those,
   *      merge them in code, write them.
   * Measured (`npm run bench -- --store postgres`, pg_stat_statements): the lock-everything way's ensure and
   * lock of key_metadata took 58 ms of PostgreSQL's 241 ms for that table over 12 commits, and a round trip each.
   * A fleet whose instances share most rows would pay step 2 for nothing at every commit; after a commit where
   * other instances held most of a table's rows, that table goes the lock-everything way for the next
   * CONTENDED_COMMITS commits: make the rows exist, lock all in key order, merge what others wrote, write.
   */
  private async writeShared<R extends { firstSeen: number; lastSeen: number }>(client: PoolClient, spec: TableSpec<R>, rows: R[], how: SharedRows<R>): Promise<void> {
    if (rows.length === 0) return;
    const me = this.me;
    const need = how.need ?? (() => false);
    const keyOf = (x: Record<string, any>) => spec.pk.map((c) => String(x[c.name])).join('\u0000');
    const byKey = new Map(rows.map((r) => [spec.pk.map((c) => String(c.get(r))).join('\u0000'), r]));
    const fields = how.content.map((f) => `t.${f}`).join(', ');
    const contended = this.contended.get(spec.table) ?? 0;
    if (contended > 0) {
      this.contended.set(spec.table, contended - 1);
      await ensureRows(client, spec, seen<R>(), rows);
      const needCol: Column<R> = { name: 'need', type: 'bool', get: need };
      // Content only of the rows it is needed of: another instance's, or this one's whose mirror may lack it.
      const read = how.content.map((f) => `CASE WHEN t.writer = $1 AND u.need = false THEN NULL ELSE t.${f} END AS ${f}`).join(', ');
      for (const db of await lockRows(client, spec, `NOT (t.writer = $1 AND u.need = false) AS read, ${read}`, me, rows, [needCol])) {
        if (db.read) how.merge(byKey.get(keyOf(db))!, db);
      }
      await upsertRows(client, spec, how.cols, how.set, rows);
      return;
    }
    const unsynced = rows.filter(need);
    for (const db of await readRows(client, spec, 'mine', fields, me, unsynced)) how.merge(byKey.get(keyOf(db))!, db);
    const written = await upsertMine(client, spec, how.cols, how.set, rows);
    if (written === rows.length) return;
    const theirs: R[] = [];
    for (const db of await readRows(client, spec, 'theirs', fields, me, rows)) {
      const r = byKey.get(keyOf(db))!;
      how.merge(r, db);
      theirs.push(r);
    }
    await upsertRows(client, spec, how.cols, how.set, theirs);
    if (2 * theirs.length > rows.length) this.contended.set(spec.table, CONTENDED_COMMITS);
  }

  /** Refreshes the size figure now and then and learns the templates other instances stored (off the commit path). */
  async maintain(): Promise<Maintained> {
    const now = Date.now();
    let changed = false;
    if (now - this.polledAt >= TEMPLATE_POLL_MS) {
      this.polledAt = now;
      try {
        changed = await this.pollTemplates();
      } catch {
        // The next poll tries again; an outage shows in the commits.
      }
    }
    if (now - this.sizeCheckedAt >= SIZE_POLL_MS) {
      this.sizeCheckedAt = now;
      try {
        const r = await this.pool.query(`SELECT pg_database_size(current_database()) AS n`);
        this.sizeBytes = Number(r.rows[0].n);
      } catch {
        // The size is a gauge: a failed refresh keeps the last figure.
      }
    }
    return { checkpointed: false, changed };
  }

  /**
   * Folds every stored template this instance has not seen under that text
   * into its canonical miner (count 0): the instances converge on one set of
   * templates. A template of its own that generalises because of it, or a
   * stored row its miner places under a more general template, becomes a
   * move in the next commit.
   *
   * Only rows written since the last poll are sent: those whose xmin (the
   * transaction that wrote this version of the row) is at or after the
   * horizon taken before the last poll read, the oldest transaction still
   * running then. A transaction that last poll could not see was running then
   * or began later, so its xid is at or after that horizon, whatever order the
   * transactions committed in (an `updated` sequence would miss a row whose
   * number was drawn before the last poll and committed after it). PostgreSQL
   * still reads every row, but the 20,000 rows of a busy store no longer go to
   * every instance every second (27 ms a poll, and the writer's time to look
   * each one up). Every FULL_POLL_MS, and after an error, the whole table is
   * read again, so an xid age past 2^31 (an instance idle that long) cannot
   * hide a row for good.
   */
  private async pollTemplates(): Promise<boolean> {
    if (!this.state) return false;
    const now = Date.now();
    const since = now - this.fullPolledAt < FULL_POLL_MS ? this.pollHorizon : undefined;
    this.pollHorizon = undefined;
    // A snapshot taken before the read's: its oldest running xid is at or before the read's (xids only grow).
    const horizon = (await this.pool.query(`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text AS x`)).rows[0].x as string;
    const select = `SELECT service, severity, template_hash, template, last_seen FROM body_templates`;
    // age() is counted back from one xid for the whole statement: `age(xmin) <= age(horizon)` is `xmin at or after it`, across wraparound.
    const rows = (since === undefined
      ? await this.pool.query(`${select} ORDER BY updated`)
      : await this.pool.query(`${select} WHERE age(xmin) <= age($1::xid) ORDER BY updated`, [since])).rows as Array<Record<string, any>>;
    if (since === undefined) this.fullPolledAt = now;
    this.pollHorizon = horizon;
    return this.learnTemplates(rows);
  }

  async retain(now: number, retention: Retention, budgetMs: number): Promise<number> {
    return this.history.retain(now, retention, budgetMs);
  }

  async retainEstimates(now: number, retention: Retention, budgetMs: number): Promise<number> {
    return retainEstimates(this.pool, now, retention, budgetMs);
  }

  /** The ClickHouse mirror's input: each commit's bucket values, read back in its transaction (after its locks). */
  trackHistoryTotals(): void {
    this.totals.track();
  }

  takeHistoryTotals(): MirrorRow[] {
    return this.totals.take();
  }

  async historyPage(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): Promise<MirrorRow[]> {
    return this.history.page(level, from, limit, after);
  }

  async checkpoint(): Promise<void> {}

  size(): StoreSize {
    return { bytes: this.sizeBytes, walBytes: 0 };
  }

  unavailable(err: unknown): boolean {
    return isConnectionError(err);
  }

  evictions(): number {
    return 0;
  }

  localReader(): ReadStore | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The template log's moves as history moves between template hashes (in order; a move to the same text is none). */
function historyMovesOf(ops: readonly TemplateOp[]): HistoryMove[] {
  const out: HistoryMove[] = [];
  for (const op of ops) {
    if (op.op !== 'move' || op.from === op.to) continue;
    out.push({
      service: op.service, severity: op.severity, from: templateHash(op.service, op.severity, op.from), to: templateHash(op.service, op.severity, op.to),
      merged: op.count === null, count: op.count ?? 0, bytes: op.bytes ?? 0,
    });
  }
  return out;
}
