/**
 * The PostgreSQL schema, through kysely's Migrator like SQLite's: the same
 * migration names, one set per dialect. Kysely takes a session advisory lock
 * while it migrates, so several instances starting at once apply each
 * migration once (the others find nothing to do).
 *
 * Differences from SQLite: counts are bigint (INTEGER is 32-bit here); key
 * lists are text[]; every row that the writers merge in code (sketches, key
 * sets) carries `writer`, the instance that wrote it last, so an instance
 * knows when another one has changed a row since (src/store/postgres/write.ts);
 * templates are keyed by a hash of (service, severity, template text), which
 * every instance computes the same way.
 */
import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import { openPool } from './connection.js';
import { runningTotalsSql } from '../history-schema.js';
import { FLEET_NEWEST_KEY, HISTORY_SENTINEL } from '../history.js';
import { historyLastSql } from './history-last.js';
import { foldedAscii } from './text-search.js';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      const seen = `first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL`;
      const statements = [
        `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
        `CREATE TABLE services (
           name TEXT COLLATE "C" PRIMARY KEY,
           log_records BIGINT NOT NULL DEFAULT 0,
           spans BIGINT NOT NULL DEFAULT 0,
           metric_points BIGINT NOT NULL DEFAULT 0,
           ${seen})`,
        `CREATE TABLE metrics_metadata (
           service TEXT COLLATE "C" NOT NULL,
           name TEXT COLLATE "C" NOT NULL,
           type TEXT COLLATE "C" NOT NULL DEFAULT '',
           unit TEXT COLLATE "C" NOT NULL DEFAULT '',
           description TEXT COLLATE "C" NOT NULL DEFAULT '',
           monotonic BOOLEAN NOT NULL DEFAULT false,
           temporality INTEGER NOT NULL DEFAULT 0,
           label_keys JSONB NOT NULL DEFAULT '[]',
           resource_keys JSONB NOT NULL DEFAULT '[]',
           sample_count BIGINT NOT NULL DEFAULT 0,
           bucket_count INTEGER NOT NULL DEFAULT 0,
           series_estimate BIGINT NOT NULL DEFAULT 0,
           prometheus_series BIGINT NOT NULL DEFAULT 0,
           series_sketch BYTEA,
           writer TEXT NOT NULL DEFAULT '',
           ${seen},
           PRIMARY KEY (service, name))`,
        `CREATE TABLE metric_label_keys (
           service TEXT COLLATE "C" NOT NULL,
           metric TEXT COLLATE "C" NOT NULL,
           key TEXT COLLATE "C" NOT NULL,
           sample_count BIGINT NOT NULL DEFAULT 0,
           cardinality_estimate BIGINT NOT NULL DEFAULT 0,
           sketch BYTEA,
           writer TEXT NOT NULL DEFAULT '',
           ${seen},
           PRIMARY KEY (service, metric, key))`,
        `CREATE TABLE spans_metadata (
           service TEXT COLLATE "C" NOT NULL,
           name TEXT COLLATE "C" NOT NULL,
           kind INTEGER NOT NULL,
           attribute_keys JSONB NOT NULL DEFAULT '[]',
           resource_keys JSONB NOT NULL DEFAULT '[]',
           event_names JSONB NOT NULL DEFAULT '[]',
           sample_count BIGINT NOT NULL DEFAULT 0,
           status_unset BIGINT NOT NULL DEFAULT 0,
           status_ok BIGINT NOT NULL DEFAULT 0,
           status_error BIGINT NOT NULL DEFAULT 0,
           writer TEXT NOT NULL DEFAULT '',
           ${seen},
           PRIMARY KEY (service, name, kind))`,
        `CREATE TABLE logs_metadata (
           service TEXT COLLATE "C" NOT NULL,
           severity TEXT COLLATE "C" NOT NULL,
           attribute_keys JSONB NOT NULL DEFAULT '[]',
           resource_keys JSONB NOT NULL DEFAULT '[]',
           body_keys JSONB NOT NULL DEFAULT '[]',
           sample_count BIGINT NOT NULL DEFAULT 0,
           writer TEXT NOT NULL DEFAULT '',
           ${seen},
           PRIMARY KEY (service, severity))`,
        `CREATE TABLE body_templates (
           service TEXT COLLATE "C" NOT NULL,
           severity TEXT COLLATE "C" NOT NULL,
           template_hash TEXT NOT NULL,
           template_id INTEGER NOT NULL,
           template TEXT COLLATE "C" NOT NULL,
           count BIGINT NOT NULL DEFAULT 0,
           example TEXT NOT NULL DEFAULT '',
           updated BIGSERIAL,
           ${seen},
           PRIMARY KEY (service, severity, template_hash))`,
        `CREATE TABLE key_metadata (
           service TEXT COLLATE "C" NOT NULL,
           scope TEXT COLLATE "C" NOT NULL,
           key TEXT COLLATE "C" NOT NULL,
           sample_count BIGINT NOT NULL DEFAULT 0,
           cardinality_estimate BIGINT NOT NULL DEFAULT 0,
           sketch BYTEA,
           writer TEXT NOT NULL DEFAULT '',
           ${seen},
           PRIMARY KEY (service, scope, key))`,
        `CREATE INDEX key_metadata_cardinality ON key_metadata (cardinality_estimate)`,
        `CREATE INDEX body_templates_count ON body_templates (service, severity, count)`,
        `CREATE INDEX body_templates_updated ON body_templates (updated)`,
      ];
      for (const s of statements) await sql.raw(s).execute(db);
    },
  },
  /* History and cost (DESIGN §9), as SQLite's 0002_history: bytes beside every count, service versions, minute/hour/day buckets. */
  '0002_history': {
    async up(db: Kysely<unknown>) {
      const statements = [
        `ALTER TABLE services ADD COLUMN log_bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE services ADD COLUMN span_bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE services ADD COLUMN metric_bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE metrics_metadata ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE metrics_metadata ADD COLUMN overflow_points BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE metric_label_keys ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE spans_metadata ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE logs_metadata ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE key_metadata ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `ALTER TABLE body_templates ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0`,
        `CREATE TABLE service_versions (
           service TEXT COLLATE "C" NOT NULL,
           version TEXT COLLATE "C" NOT NULL,
           records BIGINT NOT NULL DEFAULT 0,
           bytes BIGINT NOT NULL DEFAULT 0,
           first_seen BIGINT NOT NULL,
           last_seen BIGINT NOT NULL,
           PRIMARY KEY (service, version))`,
      ];
      for (const level of ['minute', 'hour', 'day']) {
        statements.push(`CREATE TABLE history_${level} (
           kind TEXT COLLATE "C" NOT NULL,
           service TEXT COLLATE "C" NOT NULL,
           name TEXT COLLATE "C" NOT NULL,
           sub TEXT COLLATE "C" NOT NULL,
           bucket BIGINT NOT NULL,
           count BIGINT NOT NULL DEFAULT 0,
           bytes BIGINT NOT NULL DEFAULT 0,
           PRIMARY KEY (kind, service, name, sub, bucket))`);
        statements.push(`CREATE INDEX history_${level}_bucket ON history_${level} (kind, bucket)`);
      }
      for (const s of statements) await sql.raw(s).execute(db);
    },
  },
  /* Series estimates over time, as SQLite's 0004_series_estimates. */
  '0004_series_estimates': {
    async up(db: Kysely<unknown>) {
      await sql.raw(`CREATE TABLE metric_series_estimates (
         service TEXT COLLATE "C" NOT NULL,
         metric TEXT COLLATE "C" NOT NULL,
         kind TEXT COLLATE "C" NOT NULL,
         label TEXT COLLATE "C" NOT NULL,
         level TEXT COLLATE "C" NOT NULL,
         bucket BIGINT NOT NULL,
         estimate BIGINT NOT NULL,
         PRIMARY KEY (service, metric, kind, label, level, bucket))`).execute(db);
      await sql.raw(`CREATE INDEX metric_series_estimates_bucket ON metric_series_estimates (level, bucket)`).execute(db);
    },
  },
  /* The history as running totals, as SQLite's 0005_running_totals (the same SQL, PostgreSQL's types). */
  '0005_running_totals': {
    async up(db: Kysely<unknown>) {
      for (const s of runningTotalsSql('BIGSERIAL PRIMARY KEY', 'TEXT COLLATE "C"', 'BIGINT', '')) await sql.raw(s).execute(db);
      // Templates' history is kept under the hash of their text from now on, as their rows (ids are an instance's own):
      // each id that names one row moves to that row's hash.
      await sql.raw(`UPDATE history_entity e SET sub = m.template_hash
        FROM (SELECT service, severity, template_id::text AS id, MIN(template_hash) AS template_hash FROM body_templates
              GROUP BY 1, 2, 3 HAVING COUNT(*) = 1) m
        WHERE e.kind = 'template' AND m.service = e.service AND m.severity = e.name AND m.id = e.sub`).execute(db);
    },
  },
  /*
   * Room on each page for the next version of its rows (PostgreSQL only: SQLite updates in place; named after
   * SQLite's 0006, so a later migration of both dialects is 0008 or on). Every commit rewrites the rows it
   * touches, and an update whose new version fits on the row's page and changes no indexed column is a HOT
   * update: no new index entries. Measured in `npm run bench -- --store postgres` (pg_stat_user_tables,
   * pg_stat_statements): at the default fillfactor of 100, 34 % of history and 10 % of key_metadata updates were
   * HOT; at 80, 90 % and 85 % (at 60, 98 % and 96 %: a fifth more room for little more), and the history UPDATE
   * cost 5.2 µs a row instead of 9.2. Not body_templates: its updates change `count` and `updated`, both indexed, so none is HOT.
   * Pages filled before the migration keep their rows until they are rewritten.
   */
  '0007_fillfactor': {
    async up(db: Kysely<unknown>) {
      for (const t of ['history', 'key_metadata', 'metric_label_keys', 'metrics_metadata', 'logs_metadata', 'spans_metadata', 'services', 'service_versions']) {
        await sql.raw(`ALTER TABLE ${t} SET (fillfactor = ${HOT_FILLFACTOR})`).execute(db);
      }
    },
  },
  /*
   * Each entity row's newest history minute (src/store/postgres/history-last.ts), as SQLite's 0006_history_last.
   * Numbered 0009 (PostgreSQL only): 0008 is SQLite's.
   */
  '0009_history_last': {
    async up(db: Kysely<unknown>) {
      for (const s of historyLastSql()) await sql.raw(s).execute(db);
    },
  },
  /*
   * The lists' text filter (`q`: a substring, ASCII letters folded, read.ts Where.contains) through trigram indexes on
   * the folded text of the columns with many rows: 100,000 keys by `q=attr.0999` read every row (170–190 ms), with the
   * index a few. pg_trgm ships with PostgreSQL but creating it needs the CREATE privilege on the database: where it
   * cannot be created (or is not installed) the lists filter as before, only slower; nothing else depends on it.
   */
  '0010_text_search': {
    async up(db: Kysely<unknown>) {
      await sql.raw(`SAVEPOINT kt_trgm`).execute(db);
      try {
        await sql.raw(`CREATE EXTENSION IF NOT EXISTS pg_trgm`).execute(db);
      } catch {
        await sql.raw(`ROLLBACK TO SAVEPOINT kt_trgm`).execute(db);
        return;
      }
      for (const [table, column] of [['key_metadata', 'key'], ['body_templates', 'template']]) {
        await sql.raw(`CREATE INDEX ${table}_${column}_trgm ON ${table} USING gin (${foldedAscii(column)} gin_trgm_ops)`).execute(db);
      }
    },
  },
  /*
   * The fleet's newest history minute (FLEET_NEWEST_KEY, src/store/postgres/history-write.ts, seal), which every
   * commit adding history compares its minutes with (a backfill bumps the backfill epoch) and readers keep the totals
   * at older edges under (src/store/postgres/changes.ts). Seeded from the rows: an instance of an older version, which
   * neither reads nor raises it, cannot start on a database migrated past it (the migrator refuses a schema it does
   * not know).
   */
  '0011_history_newest': {
    async up(db: Kysely<unknown>) {
      await sql.raw(`INSERT INTO meta (key, value) SELECT '${FLEET_NEWEST_KEY}', MAX(bucket)::text FROM history
        WHERE bucket < ${HISTORY_SENTINEL} HAVING MAX(bucket) IS NOT NULL ON CONFLICT (key) DO NOTHING`).execute(db);
    },
  },
};

/** Percent of a page new rows fill (0007_fillfactor). */
const HOT_FILLFACTOR = 80;

/** Brings the database at `url` to the newest schema, on a connection of its own (kysely ends its pool). */
export async function migratePostgres(url: string): Promise<{ applied: string[] }> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: openPool(url, { max: 1, name: 'keytally-migrate' }) }) });
  try {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  } finally {
    await db.destroy();
  }
}
