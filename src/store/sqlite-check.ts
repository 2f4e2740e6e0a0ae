/**
 * Checks, on the main thread before any thread starts, that an existing SQLite file of a data
 * directory is a database keytally can open for writing: otherwise the writer thread would die at
 * start-up with a bare SQLite code. A missing file is fine (the writer creates it).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { PathError } from '../util/paths.js';

export function checkSqliteFile(file: string, label: string): void {
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
