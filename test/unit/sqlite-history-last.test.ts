/**
 * Migration 0006_history_last (src/store/sqlite/history-last.ts) on a store
 * made at 0005: each entity table's row gets its history entity's newest
 * minute row (not the sentinel), -1 where it has none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { HISTORY_SENTINEL } from '../../src/store/history.js';

const dir = mkdtempSync(join(tmpdir(), 'keytally-history-last-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0006_history_last', () => {
  it('fills every entity table from the history there is', async () => {
    const file = join(dir, 'keytally.db');
    const conn = new Database(file);
    const k = new Kysely<unknown>({ dialect: new SqliteDialect({ database: conn }) });
    const r = await new Migrator({ db: k, provider: { getMigrations: async () => SQLITE_MIGRATIONS } }).migrateTo('0005_running_totals');
    expect(r.error).toBeUndefined();
    await k.destroy();

    const db = new Database(file);
    db.exec(`INSERT INTO body_templates (service, severity, template_id, template, count, first_seen, last_seen) VALUES
        ('a', 'INFO', 7, 't7', 3, 0, 0), ('a', 'INFO', 8, 't8', 1, 0, 0), ('b', 'INFO', 7, 't7', 1, 0, 0);
      INSERT INTO key_metadata (service, scope, key, first_seen, last_seen) VALUES ('a', 'log', 'user.id', 0, 0), ('a', 'span', 'user.id', 0, 0);
      INSERT INTO logs_metadata (service, severity, first_seen, last_seen) VALUES ('a', 'INFO', 0, 0);
      INSERT INTO spans_metadata (service, name, kind, first_seen, last_seen) VALUES ('a', 'GET /', 2, 0, 0);
      INSERT INTO metrics_metadata (service, name, type, first_seen, last_seen) VALUES ('a', 'm', 'sum', 0, 0);
      INSERT INTO history_entity (id, kind, service, name, sub) VALUES (1, 'template', 'a', 'INFO', '7'), (2, 'template', 'a', 'INFO', '8'),
        (3, 'key', 'a', 'log', 'user.id'), (4, 'log', 'a', 'INFO', ''), (5, 'span', 'a', 'GET /', '2'), (6, 'metric', 'a', 'm', ''),
        (7, 'key', 'a', 'span', 'user.id');`);
    const rows: Array<[number, number, number]> = [[1, 60_000, 0], [1, 300_000, 2], [2, 120_000, 0], [3, 180_000, 0], [4, 240_000, 0], [5, 60_000, 0], [6, 600_000, 0]];
    const ins = db.prepare(`INSERT INTO history (id, bucket, count, bytes) VALUES (?, ?, ?, 0)`);
    for (const [id, bucket, count] of rows) ins.run(id, bucket, count);
    // Every entity has its sentinel; entity 7 has nothing else (no minute row yet).
    for (let id = 1; id <= 7; id++) ins.run(id, HISTORY_SENTINEL, 3);
    db.close();

    expect((await migrateSqlite(file)).applied).toEqual(['0006_history_last', '0008_history_totals']);
    const after = new Database(file, { readonly: true });
    const last = (sql: string) => (after.prepare(sql).get() as { h: number }).h;
    expect(last(`SELECT history_last AS h FROM body_templates WHERE service = 'a' AND template_id = 7`)).toBe(300_000);
    expect(last(`SELECT history_last AS h FROM body_templates WHERE service = 'a' AND template_id = 8`)).toBe(120_000);
    // Same template id in another service: no entity, so no history.
    expect(last(`SELECT history_last AS h FROM body_templates WHERE service = 'b'`)).toBe(-1);
    expect(last(`SELECT history_last AS h FROM key_metadata WHERE scope = 'log'`)).toBe(180_000);
    expect(last(`SELECT history_last AS h FROM key_metadata WHERE scope = 'span'`)).toBe(-1);
    expect(last(`SELECT history_last AS h FROM logs_metadata`)).toBe(240_000);
    expect(last(`SELECT history_last AS h FROM spans_metadata`)).toBe(60_000);
    expect(last(`SELECT history_last AS h FROM metrics_metadata`)).toBe(600_000);
    const plan = after.prepare(`EXPLAIN QUERY PLAN SELECT COUNT(*) FROM key_metadata WHERE history_last >= 5`).all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toContain('key_metadata_history_last');
    after.close();
  });
});
