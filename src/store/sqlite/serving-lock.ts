/**
 * One process writes a SQLite store at a time. `keytally serve` holds an
 * exclusive lock on `keytally.serving` in the data directory for as long as
 * it runs; `keytally import` (and `migrate --to sqlite:…`) takes the same
 * lock while it writes. A second server, or an import into a served store,
 * is refused: the serving writer keeps every row it has touched in memory
 * and would write its own totals over what the other process added.
 *
 * The lock is SQLite's own (a database in EXCLUSIVE locking mode keeps its
 * write lock until the connection closes): the operating system drops it
 * when the process exits, kill -9 included, so a crash leaves nothing stale.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

export const SERVING_FILE = 'keytally.serving';

export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

export class ServingLock {
  private constructor(private db: Database.Database | undefined) {}

  /** Takes the lock of the store in `dataDir` (which exists), or throws StoreBusyError saying who must stop. */
  static take(dataDir: string): ServingLock {
    const file = join(dataDir, SERVING_FILE);
    const db = new Database(file);
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('journal_mode = MEMORY');
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock, and EXCLUSIVE mode keeps it after the commit.
      db.exec(`CREATE TABLE IF NOT EXISTS serving (pid INTEGER NOT NULL); DELETE FROM serving;`);
      db.prepare(`INSERT INTO serving (pid) VALUES (?)`).run(process.pid);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StoreBusyError(`another keytally process is writing the store in ${dataDir} (it holds ${file}); stop it first`);
      }
      throw err;
    }
    return new ServingLock(db);
  }

  release(): void {
    this.db?.close();
    this.db = undefined;
  }
}
