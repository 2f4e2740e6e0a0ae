/** `keytally migrate`: brings the configured store's schema up to date (the writer does the same at start). */
import { mkdirSync } from 'node:fs';
import type { Config } from '../config.js';
import { dbPath } from './sqlite/connection.js';
import { migrateSqlite } from './sqlite/migrations.js';

export async function migrateStore(config: Config): Promise<{ applied: string[] }> {
  switch (config.store) {
    case 'sqlite':
      mkdirSync(config.data, { recursive: true });
      return migrateSqlite(dbPath(config.data));
    case 'memory':
      // Nothing is kept between runs, so there is no schema to bring up to date.
      return { applied: [] };
  }
}
