/**
 * `keytally export | import | migrate --from --to | backup`: moving a store's
 * data (DESIGN §8 Dumps). A store is named by the serve flags (--store,
 * --data, --postgres-url) or, for migrate, by a URL: `sqlite:DIR` (a data
 * directory) or `postgres://…`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, type Config } from '../config.js';
import { DumpError, importDump, readDump, writeDump } from '../store/dump.js';
import { openReadStore, openWriteStore } from '../store/store.js';
import { SCHEMA_VERSION } from '../store/sqlite/migrations.js';
import { dbPath } from '../store/sqlite/connection.js';
import { ServingLock } from '../store/sqlite/serving-lock.js';
import { prepareDataDir } from '../util/paths.js';

export const DUMP_USAGE = `usage:
  keytally export [--out FILE] [store options]      write a gzip'd dump of the store (default keytally-dump.jsonl.gz)
  keytally import FILE [store options]              merge a dump into the store (refused: another salt into a
                                                    non-empty store, a dump imported before, a SQLite store being served)
  keytally migrate --from URL --to URL              copy a whole store into another (URL: sqlite:DIR or postgres://…)
  keytally backup OUT [--data DIR]                  consistent copy of a live SQLite store into the file OUT

store options: --store sqlite|postgres, --data DIR, --postgres-url URL (as for serve; the memory store lives
in its serving process and has nothing to export or import from outside)
`;

function refuseMemory(config: Config, what: string): void {
  if (config.store === 'memory') throw new ConfigError(`${what}: the memory store lives in its serving process; name a sqlite or postgres store`);
}

/** The store a migrate URL names, as a Config (the rest from `base`). */
export function storeFromUrl(url: string, base: Config): Config {
  if (/^postgres(ql)?:\/\//.test(url)) return { ...base, store: 'postgres', postgresUrl: url };
  const m = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (m) return { ...base, store: 'sqlite', data: m[1]! };
  throw new ConfigError(`cannot tell which store ${url} names: use sqlite:DIR (a data directory) or postgres://…`);
}

export async function exportStore(config: Config, out: string): Promise<{ rows: number; dumpId: string }> {
  refuseMemory(config, 'export');
  if (config.store === 'sqlite' && !existsSync(dbPath(config.data))) throw new DumpError(`no keytally store at ${dbPath(config.data)}`);
  const reader = await openReadStore(config);
  try {
    const { header, rows } = await writeDump(reader.dumpSource(), out, { schema: SCHEMA_VERSION, precision: config.precision, from: config.store });
    return { rows, dumpId: header.dump_id };
  } finally {
    await reader.close();
  }
}

export async function importFile(config: Config, file: string): Promise<{ rows: number }> {
  refuseMemory(config, 'import');
  // Read and check all of it first: a bad dump must not touch the store (not even create it).
  const dump = await readDump(file);
  // A served SQLite store is refused: its writer would write its own totals over what the import adds.
  const lock = config.store === 'sqlite' ? await sqliteLock(config.data) : undefined;
  try {
    const store = await openWriteStore(config);
    try {
      return await importDump(store, dump, config);
    } finally {
      await store.close();
    }
  } finally {
    lock?.release();
  }
}

export async function migrateStores(from: Config, to: Config): Promise<{ rows: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-migrate-'));
  try {
    const file = join(dir, 'dump.jsonl.gz');
    await exportStore(from, file);
    return await importFile(to, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SQLite's online backup: a consistent copy while the writer goes on (page by page, restarting on writes). */
export async function backupSqlite(config: Config, out: string): Promise<void> {
  if (config.store !== 'sqlite') throw new ConfigError('backup copies a SQLite store; for PostgreSQL use pg_dump, or keytally export');
  const file = dbPath(config.data);
  if (!existsSync(file)) throw new DumpError(`no keytally store at ${file}`);
  if (existsSync(out)) throw new DumpError(`${out} exists: refusing to overwrite it`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    await db.backup(out);
  } finally {
    db.close();
  }
}

async function sqliteLock(dataDir: string): Promise<ServingLock> {
  prepareDataDir(dataDir, '--data');
  return ServingLock.take(dataDir);
}
