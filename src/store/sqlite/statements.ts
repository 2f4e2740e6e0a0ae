/**
 * Prepared-statement cache. Preparing is a noticeable part of a small query's
 * cost and this runs on every API call; the SQL text is built only from
 * constants and whitelisted column names, so the set of distinct texts is
 * small and bounded (routes × filter combinations × sort fields × order).
 */
import type Database from 'better-sqlite3';

const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function prepared(db: Database.Database, sql: string): Database.Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}
