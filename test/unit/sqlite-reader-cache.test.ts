/**
 * The API's SQLite connection has a page cache of its own size (--sqlite-reader-cache-mb, default 2), apart
 * from the writer's (--sqlite-cache-mb, default 8): see config.ts for the measurement.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openReadOnlyFile } from '../../src/store/sqlite/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-reader-cache-'));
const file = join(dir, 'keytally.db');
new Database(file).exec('CREATE TABLE t (x)').close();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tuning = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 16 };
/** cache_size in KiB (SQLite reports a size in KiB as a negative number). */
const cacheKib = (db: Database.Database) => -(db.pragma('cache_size', { simple: true }) as number);

describe('--sqlite-reader-cache-mb', () => {
  it('defaults to 2, takes a flag or KEYTALLY_SQLITE_READER_CACHE_MB, and refuses less than 1', () => {
    expect(loadConfig({}, {}).sqliteReaderCacheMb).toBe(2);
    expect(loadConfig({}, {}).sqliteCacheMb).toBe(8);
    expect(loadConfig({ 'sqlite-reader-cache-mb': '16' }, {}).sqliteReaderCacheMb).toBe(16);
    expect(loadConfig({}, { KEYTALLY_SQLITE_READER_CACHE_MB: '4' }).sqliteReaderCacheMb).toBe(4);
    expect(() => loadConfig({ 'sqlite-reader-cache-mb': '0' }, {})).toThrow(/--sqlite-reader-cache-mb/);
    expect(() => loadConfig({ 'sqlite-reader-cache-mb': 'lots' }, {})).toThrow(/--sqlite-reader-cache-mb/);
  });

  it("sizes the read-only connection's page cache; without it (reports, dumps) the connection takes --sqlite-cache-mb", () => {
    const reader = openReadOnlyFile(file, { ...tuning, sqliteReaderCacheMb: 3 });
    const other = openReadOnlyFile(file, tuning);
    try {
      expect(cacheKib(reader)).toBe(3 * 1024);
      expect(cacheKib(other)).toBe(8 * 1024);
    } finally {
      reader.close();
      other.close();
    }
  });
});
