/**
 * Checks, on the main thread before any thread starts, the paths of a SQLite store: the data
 * directory can be a directory (created if missing), and an existing keytally.db is a database
 * keytally can open for writing — otherwise the writer thread would die at start-up with a bare
 * SQLite code. A missing file is fine (the writer creates it).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { PathError, prepareDataDir } from '../../util/paths.js';
import { dbPath } from './connection.js';

export function checkSqlitePaths(dataDir: string): void {
  prepareDataDir(dataDir, '--data');
  const file = dbPath(dataDir);
  const label = `--data ${dataDir}`;
  if (!existsSync(file)) return;
  if (statSync(file).isDirectory()) throw new PathError(file, `${label}: ${file} is a directory, not a database file`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('schema_version');
  } catch (err) {
    throw new PathError(file, `${label}: ${file}: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** A file given to `keytally report`: it must be a keytally SQLite store (read-only check). */
export function checkSqliteStoreFile(file: string, label: string): void {
  if (!existsSync(file)) throw new PathError(file, `${label}: no keytally store at ${file}`);
  if (statSync(file).isDirectory()) throw new PathError(file, `${label}: no keytally store at ${file}: it is a directory`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.prepare(`SELECT 1 FROM services LIMIT 1`).get();
  } catch (err) {
    throw new PathError(file, `${label}: no keytally store at ${file}: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}
