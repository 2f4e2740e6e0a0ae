/** Where the SQLite file lives and how every connection to it is tuned. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Config } from '../../config.js';

export const DB_FILE = 'keytally.db';

export type SqliteTuning = Pick<Config, 'sqliteCacheMb' | 'sqliteMmapMb' | 'sqliteBusyTimeoutMs' | 'walAutocheckpointPages' | 'walLimitMb'> &
  Partial<Pick<Config, 'sqliteReaderCacheMb'>>;

export function dbPath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

export function tune(db: Database.Database, t: SqliteTuning, cacheMb = t.sqliteCacheMb): void {
  db.pragma(`busy_timeout = ${t.sqliteBusyTimeoutMs}`);
  db.pragma(`cache_size = ${-cacheMb * 1024}`);
  db.pragma(`mmap_size = ${t.sqliteMmapMb * 1024 * 1024}`);
}

/** A read-only connection for API queries and reports; its page cache is `sqliteReaderCacheMb` when set (see config.ts). */
export function openReadOnly(dataDir: string, t: SqliteTuning): Database.Database {
  return openReadOnlyFile(dbPath(dataDir), t);
}

export function openReadOnlyFile(file: string, t: SqliteTuning): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  tune(db, t, t.sqliteReaderCacheMb ?? t.sqliteCacheMb);
  return db;
}
