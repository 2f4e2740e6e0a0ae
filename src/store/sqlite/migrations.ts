/**
 * Schema migrations, run through kysely's Migrator so SQLite (and later
 * PostgreSQL) share one runner and one history table. Each migration is plain
 * SQL that both engines accept.
 */
import { Kysely, Migrator, SqliteDialect, sql, type Migration } from 'kysely';
import Database from 'better-sqlite3';
import { runningTotalsSql } from '../history-schema.js';
import { historyLastSql } from './history-last.js';
import { HISTORY_SENTINEL } from '../history.js';

export const SCHEMA_VERSION = 3;

export const SQLITE_MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      const statements = [
        `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
        `CREATE TABLE services (
           name TEXT PRIMARY KEY,
           log_records INTEGER NOT NULL DEFAULT 0,
           spans INTEGER NOT NULL DEFAULT 0,
           metric_points INTEGER NOT NULL DEFAULT 0,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL)`,
        `CREATE TABLE metrics_metadata (
           service TEXT NOT NULL,
           name TEXT NOT NULL,
           type TEXT NOT NULL,
           unit TEXT NOT NULL DEFAULT '',
           description TEXT NOT NULL DEFAULT '',
           monotonic INTEGER NOT NULL DEFAULT 0,
           temporality INTEGER NOT NULL DEFAULT 0,
           label_keys TEXT NOT NULL DEFAULT '[]',
           resource_keys TEXT NOT NULL DEFAULT '[]',
           sample_count INTEGER NOT NULL DEFAULT 0,
           bucket_count INTEGER NOT NULL DEFAULT 0,
           series_estimate INTEGER NOT NULL DEFAULT 0,
           prometheus_series INTEGER NOT NULL DEFAULT 0,
           series_sketch BLOB,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, name))`,
        `CREATE TABLE metric_label_keys (
           service TEXT NOT NULL,
           metric TEXT NOT NULL,
           key TEXT NOT NULL,
           sample_count INTEGER NOT NULL DEFAULT 0,
           cardinality_estimate INTEGER NOT NULL DEFAULT 0,
           sketch BLOB,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, metric, key))`,
        `CREATE TABLE spans_metadata (
           service TEXT NOT NULL,
           name TEXT NOT NULL,
           kind INTEGER NOT NULL,
           attribute_keys TEXT NOT NULL DEFAULT '[]',
           resource_keys TEXT NOT NULL DEFAULT '[]',
           event_names TEXT NOT NULL DEFAULT '[]',
           sample_count INTEGER NOT NULL DEFAULT 0,
           status_unset INTEGER NOT NULL DEFAULT 0,
           status_ok INTEGER NOT NULL DEFAULT 0,
           status_error INTEGER NOT NULL DEFAULT 0,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, name, kind))`,
        `CREATE TABLE logs_metadata (
           service TEXT NOT NULL,
           severity TEXT NOT NULL,
           attribute_keys TEXT NOT NULL DEFAULT '[]',
           resource_keys TEXT NOT NULL DEFAULT '[]',
           body_keys TEXT NOT NULL DEFAULT '[]',
           sample_count INTEGER NOT NULL DEFAULT 0,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, severity))`,
        `CREATE TABLE body_templates (
           service TEXT NOT NULL,
           severity TEXT NOT NULL,
           template_id INTEGER NOT NULL,
           template TEXT NOT NULL,
           count INTEGER NOT NULL DEFAULT 0,
           example TEXT NOT NULL DEFAULT '',
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, severity, template_id))`,
        `CREATE TABLE key_metadata (
           service TEXT NOT NULL,
           scope TEXT NOT NULL,
           key TEXT NOT NULL,
           sample_count INTEGER NOT NULL DEFAULT 0,
           cardinality_estimate INTEGER NOT NULL DEFAULT 0,
           sketch BLOB,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, scope, key))`,
        `CREATE INDEX key_metadata_cardinality ON key_metadata (cardinality_estimate)`,
        `CREATE INDEX body_templates_count ON body_templates (service, severity, count)`,
      ];
      for (const s of statements) await sql.raw(s).execute(db);
    },
  },
  /*
   * History and cost (DESIGN §9): protobuf bytes beside every count, which
   * service.version values each service sent, and counts and bytes per
   * minute, hour and day (one table per level, so retention drops whole
   * buckets of one level; bucket = start of the UTC minute/hour/day in unix ms).
   * The entity of a history row is (kind, service, name, sub): see HistoryRow.
   */
  '0002_history': {
    async up(db: Kysely<unknown>) {
      const statements = [
        `ALTER TABLE services ADD COLUMN log_bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE services ADD COLUMN span_bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE services ADD COLUMN metric_bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE metrics_metadata ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE metrics_metadata ADD COLUMN overflow_points INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE metric_label_keys ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE spans_metadata ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE logs_metadata ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE key_metadata ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `ALTER TABLE body_templates ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
        `CREATE TABLE service_versions (
           service TEXT NOT NULL,
           version TEXT NOT NULL,
           records INTEGER NOT NULL DEFAULT 0,
           bytes INTEGER NOT NULL DEFAULT 0,
           first_seen INTEGER NOT NULL,
           last_seen INTEGER NOT NULL,
           PRIMARY KEY (service, version))`,
      ];
      for (const level of ['minute', 'hour', 'day']) {
        // WITHOUT ROWID: the primary key is the table (no second copy of the key columns in a rowid index).
        statements.push(`CREATE TABLE history_${level} (
           kind TEXT NOT NULL,
           service TEXT NOT NULL,
           name TEXT NOT NULL,
           sub TEXT NOT NULL,
           bucket INTEGER NOT NULL,
           count INTEGER NOT NULL DEFAULT 0,
           bytes INTEGER NOT NULL DEFAULT 0,
           PRIMARY KEY (kind, service, name, sub, bucket)) WITHOUT ROWID`);
        // Retention drops the oldest bucket; windowed lists scan one kind's buckets in a time range.
        statements.push(`CREATE INDEX history_${level}_bucket ON history_${level} (kind, bucket)`);
      }
      for (const s of statements) await sql.raw(s).execute(db);
    },
  },
  /*
   * Indexes that let the list routes read a page straight from an index instead of sorting the table (the web UI
   * asks for these on every load: 100,000 keys by cardinality, newest keys and templates, keys by name). Each holds
   * the sort column in the direction the UI asks for by default, then the primary key ascending, as ties are broken
   * (ORDER BY cardinality_estimate DESC, service, scope, key: 37 ms sorting 100,000 keys, 0.06 ms from this index).
   * first_seen and key never change after a row is inserted, so their indexes cost the writer nothing on updates;
   * the cardinality index replaces the old one-column index.
   */
  '0003_list_indexes': {
    async up(db: Kysely<unknown>) {
      const statements = [
        `DROP INDEX IF EXISTS key_metadata_cardinality`,
        `CREATE INDEX key_metadata_cardinality_desc ON key_metadata (cardinality_estimate DESC, service, scope, key)`,
        `CREATE INDEX key_metadata_first_seen_desc ON key_metadata (first_seen DESC, service, scope, key)`,
        `CREATE INDEX key_metadata_key ON key_metadata (key, service, scope)`,
        `CREATE INDEX body_templates_first_seen_desc ON body_templates (first_seen DESC, service, severity, template_id)`,
      ];
      for (const s of statements) await sql.raw(s).execute(db);
    },
  },
  /*
   * Series estimates over time (src/store/series-estimates.ts): per metric (kind 'series', label '') and per label
   * key (kind 'label'), the largest estimate committed in each minute, hour and day bucket. Its own table, so the
   * history tables' layout can change without it. Retention drops a level's oldest bucket: the (level, bucket) index.
   */
  '0004_series_estimates': {
    async up(db: Kysely<unknown>) {
      await sql.raw(`CREATE TABLE metric_series_estimates (
         service TEXT NOT NULL,
         metric TEXT NOT NULL,
         kind TEXT NOT NULL,
         label TEXT NOT NULL,
         level TEXT NOT NULL,
         bucket INTEGER NOT NULL,
         estimate INTEGER NOT NULL,
         PRIMARY KEY (service, metric, kind, label, level, bucket)) WITHOUT ROWID`).execute(db);
      await sql.raw(`CREATE INDEX metric_series_estimates_bucket ON metric_series_estimates (level, bucket)`).execute(db);
    },
  },
  /*
   * The history as running totals (src/store/history.ts): one row per entity and minute it had records in,
   * holding its totals before that minute, plus a sentinel row holding its all-time totals. A window's sum is
   * two index seeks per entity (a week of 20,000 templates: 2.8 s over bucket rows, ~35 ms over these). Entities
   * get integer ids (history_entity): seeks on an integer key are twice as fast as on the four text columns.
   * WITHOUT ROWID: the primary key is the table, so a seek lands on the totals.
   */
  '0005_running_totals': {
    async up(db: Kysely<unknown>) {
      for (const s of runningTotalsSql('INTEGER PRIMARY KEY', 'TEXT', 'INTEGER', ' WITHOUT ROWID')) await sql.raw(s).execute(db);
    },
  },
  /*
   * Each entity table's newest history minute (src/store/sqlite/history-last.ts), so a window up to now asks a row,
   * not a join and a seek, whether it was active (SQLite only: PostgreSQL's lists keep the join).
   */
  '0006_history_last': {
    async up(db: Kysely<unknown>) {
      for (const s of historyLastSql()) await sql.raw(s).execute(db);
    },
  },
  /*
   * Every entity's all-time totals (its sentinel row) in one partial index, so /changes reads them for 100,000
   * entities as one scan (~5 ms) instead of a seek each (~40 ms; src/store/sqlite/changes.ts). The writer updates
   * the entry with the sentinel row, once per entity and commit.
   */
  '0008_history_totals': {
    async up(db: Kysely<unknown>) {
      await sql.raw(`CREATE INDEX history_totals ON history (id, count, bytes) WHERE bucket = ${HISTORY_SENTINEL}`).execute(db);
    },
  },
};

/** Brings the SQLite file at `path` to the newest schema. Uses (and closes) its own connection. */
export async function migrateSqlite(path: string): Promise<{ applied: string[] }> {
  const conn = new Database(path);
  conn.pragma('journal_mode = WAL');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: conn }) });
  try {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => SQLITE_MIGRATIONS } });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  } finally {
    await db.destroy();
  }
}
