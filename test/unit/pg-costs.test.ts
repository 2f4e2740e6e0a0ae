/**
 * The read side's planner costs (src/store/postgres/costs.ts, CostedConnection): a SET is sent only before a
 * statement that needs the other setting than the one the connection is left in, and it is queued right before that
 * statement even when other statements of the question are queued meanwhile. A recording client stands in for
 * PostgreSQL (node-postgres runs a client's queries in the order they were called).
 */
import { describe, expect, it } from 'vitest';
import { CostedConnection } from '../../src/store/postgres/costs.js';
import type { PoolClient } from '../../src/store/postgres/connection.js';

const IN_MEMORY = 'SET LOCAL random_page_cost = 1.1';
const DEFAULT = 'SET LOCAL random_page_cost TO DEFAULT';

function recording(): { client: PoolClient; sent: string[] } {
  const sent: string[] = [];
  const client = { query: async (text: string) => (sent.push(text), { rows: [] }) } as unknown as PoolClient;
  return { client, sent };
}

describe('PostgreSQL read costs: CostedConnection', () => {
  it('sets random_page_cost once for a run of statements that need it, and back only before one that needs the default', async () => {
    const { client, sent } = recording();
    const db = new CostedConnection(client);
    await db.default.query('count');
    await db.inMemory.query('page 1');
    await db.any.query('candidates');
    await db.inMemory.query('page 2');
    await db.default.query('plain');
    await db.any.query('names');
    await db.default.query('plain again');
    expect(sent).toEqual(['count', IN_MEMORY, 'page 1', 'candidates', 'page 2', DEFAULT, 'plain', 'names', 'plain again']);
  });

  it('a statement queued while others are queued is still preceded by the setting it needs', async () => {
    const { client, sent } = recording();
    const db = new CostedConnection(client);
    // Called without awaiting each: the order of the calls is the order on the connection.
    await Promise.all([db.inMemory.query('a'), db.default.query('b'), db.default.query('c'), db.inMemory.query('d'), db.any.query('e')]);
    expect(sent).toEqual([IN_MEMORY, 'a', DEFAULT, 'b', 'c', IN_MEMORY, 'd', 'e']);
  });
});
