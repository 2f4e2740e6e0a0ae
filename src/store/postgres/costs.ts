/**
 * The planner costs a read question's statements run under, set on its connection only when they change.
 *
 * The statements that read rows in an index's order or by `rid` (read.ts: a page's, and topBySums') are planned with
 * random_page_cost 1.1 (`inMemory`). At the default 4 PostgreSQL costs every row an index or TID scan visits as a
 * read from disk: past a few thousand rows it reads the whole table and sorts it, and it reads all 20,000 templates
 * rather than fetch 400 by `rid`. keytally's tables are small and stay in memory, where those scans are the quicker:
 * a steady store's keys at offset 50,000 by name took 88–92 ms, now 40–44. Set for the whole question it made
 * `/changes` and the counts slower (1.0 s to 1.4 s), so the others keep the connection's own (`default`).
 *
 * Each question is one transaction, so the setting is `SET LOCAL` and goes with its COMMIT (or its abort). Set before
 * and set back after every such statement, a steady store's /changes sent eight SETs, each a round trip; now a SET is
 * sent only before a statement that needs the other setting than the one the connection is left in, so a run of
 * `inMemory` statements (the lists of what is new, one after the other) shares one, and a statement whose plan does
 * not depend on the setting (`any`: index lookups per id of an array, the same plan at both on the bench's steady
 * store) runs in whichever is set.
 */
import type pg from 'pg';
import type { PoolClient } from './connection.js';

/** What the read side's statements need of a connection: a statement's text and its values. */
export interface Querier {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult<any>>;
}

const IN_MEMORY_COSTS = `SET LOCAL random_page_cost = 1.1`;
const DEFAULT_COSTS = `SET LOCAL random_page_cost TO DEFAULT`;

/** One read transaction's connection, as three views that plan their statements under the setting they name. */
export class CostedConnection {
  /** The setting the connection is in once every statement queued so far has run. */
  private queued: 'default' | 'inMemory' = 'default';
  /** Planned with the connection's own random_page_cost. */
  readonly default: Querier = { query: (text, values) => this.run('default', text, values) };
  /** Planned with random_page_cost 1.1. */
  readonly inMemory: Querier = { query: (text, values) => this.run('inMemory', text, values) };
  /** Plans that do not depend on random_page_cost: whichever the connection is in. */
  readonly any: Querier = { query: (text, values) => this.run('any', text, values) };

  constructor(private readonly c: PoolClient) {}

  private run(costs: 'default' | 'inMemory' | 'any', text: string, values?: unknown[]): Promise<pg.QueryResult<any>> {
    if (costs !== 'any' && costs !== this.queued) {
      this.queued = costs;
      // Queued now, not awaited: node-postgres sends a client's queries in the order they were called, so the
      // statement below is planned under this setting even when other statements of the question are queued
      // meanwhile (ChangesQuestion reads edges at once). A SET that fails aborts the transaction: the statement
      // below fails with it, and that is the error the caller sees.
      this.c.query(costs === 'inMemory' ? IN_MEMORY_COSTS : DEFAULT_COSTS).catch(() => undefined);
    }
    return this.c.query(text, values);
  }
}
