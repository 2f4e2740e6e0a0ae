/**
 * The PostgreSQL reader's connections run the API's questions without JIT
 * (src/store/postgres/read.ts, PostgresReadStore): a windowed list summing
 * every row is planned past jit_above_cost, and compiling it cost more than
 * running it. The server's default here is jit = on (PostgreSQL 15).
 */
import { describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { PostgresReadStore } from '../../src/store/postgres/read.js';
import type { PoolClient } from '../../src/store/postgres/connection.js';
import { freshDatabase, sql } from '../helpers/postgres.js';

describe('PostgreSQL reader settings', () => {
  it('jit is off on the reader connections, whatever the server default', async () => {
    const url = await freshDatabase('kt_reader_jit');
    await migratePostgres(url);
    expect((await sql<{ jit: string }>(url, 'SHOW jit'))[0]!.jit).toBe('on');
    const store = new PostgresReadStore(url);
    try {
      // The question's own client (PostgresQueries keeps it as `c`): the setting the API's statements run under.
      const jit = await store.read(async (q) => ((await (q as unknown as { c: PoolClient }).c.query('SHOW jit')).rows[0] as { jit: string }).jit);
      expect(jit).toBe('off');
    } finally {
      await store.close();
    }
  });
});
