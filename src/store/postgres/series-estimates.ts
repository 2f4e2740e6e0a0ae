/**
 * PostgreSQL's series estimates over time (src/store/series-estimates.ts), as
 * SQLite's. In a fleet every instance writes the estimates of the sketches it
 * committed, after merging the other instances' registers into them (the
 * commit's step 3), and a bucket keeps the largest (GREATEST): so a bucket's
 * value is the merged sketch's estimate, the one metrics_metadata holds.
 */
import type { HistoryLevelName, Retention } from '../history.js';
import { retentionCutoffs } from '../history.js';
import { estimateBuckets, levelMs, type EstimateBucket, type EstimateRecorder, type SeriesEstimateQuery, type SeriesEstimateRaw } from '../series-estimates.js';
import type { ChangeSet } from '../../writer/state.js';
import type { Pool, PoolClient } from './connection.js';
import type { Querier } from './costs.js';
import { upsertRows, type TableSpec } from './upsert.js';

const LEVELS: readonly HistoryLevelName[] = ['minute', 'hour', 'day'];

const ESTIMATES: TableSpec<EstimateBucket> = {
  table: 'metric_series_estimates',
  pk: [
    { name: 'service', type: 'text', get: (r) => r.service },
    { name: 'metric', type: 'text', get: (r) => r.metric },
    { name: 'kind', type: 'text', get: (r) => r.kind },
    { name: 'label', type: 'text', get: (r) => r.label },
    { name: 'level', type: 'text', get: (r) => r.level },
    { name: 'bucket', type: 'bigint', get: (r) => r.bucket },
  ],
};

/** In the commit's transaction, after the metric and label rows were merged. Returns the rows written. */
export async function writeEstimates(client: PoolClient, c: ChangeSet, last: EstimateRecorder): Promise<number> {
  const rows = estimateBuckets(c, last);
  await upsertRows(client, ESTIMATES, [{ name: 'estimate', type: 'bigint', get: (r) => r.estimate }],
    `estimate = GREATEST(metric_series_estimates.estimate, excluded.estimate)`, rows);
  return rows.length;
}

export async function retainEstimates(pool: Pool, now: number, retention: Retention, budgetMs: number): Promise<number> {
  const cutoffs = retentionCutoffs(now, retention);
  const started = performance.now();
  let dropped = 0;
  for (const level of LEVELS) {
    for (;;) {
      const b = (await pool.query(`SELECT MIN(bucket) AS b FROM metric_series_estimates WHERE level = $1`, [level])).rows[0]?.b as number | null;
      if (b === null || b === undefined || b >= cutoffs[level]) break;
      dropped += (await pool.query(`DELETE FROM metric_series_estimates WHERE level = $1 AND bucket = $2`, [level, b])).rowCount ?? 0;
      if (performance.now() - started > budgetMs) return dropped;
    }
  }
  return dropped;
}

export async function seriesEstimates(c: Querier, q: SeriesEstimateQuery): Promise<SeriesEstimateRaw> {
  const entity = 'service = $1 AND metric = $2 AND kind = $3 AND label = $4';
  const points = await c.query(
    `SELECT $5::bigint + ((bucket - $5::bigint) / $7::bigint) * $7::bigint AS t, MAX(estimate)::bigint AS estimate FROM metric_series_estimates
      WHERE ${entity} AND level = $8 AND bucket >= $5 AND bucket < $6 GROUP BY t ORDER BY t`,
    [q.service, q.metric, q.kind, q.label, q.from, q.to, q.step, q.level],
  );
  const ended = LEVELS.map((l) => `(level = '${l}' AND bucket + ${levelMs(l)} <= $5)`).join(' OR ');
  const before = await c.query(`SELECT MAX(estimate)::bigint AS v FROM metric_series_estimates WHERE ${entity} AND (${ended})`, [q.service, q.metric, q.kind, q.label, q.from]);
  return { before: (before.rows[0]?.v as number | null | undefined) ?? null, points: points.rows as SeriesEstimateRaw['points'] };
}
