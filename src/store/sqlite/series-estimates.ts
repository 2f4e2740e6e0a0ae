/**
 * SQLite's series estimates over time (src/store/series-estimates.ts): the
 * `metric_series_estimates` table, written in the commit's transaction,
 * read by the API, dropped by the history's retention flags.
 */
import type Database from 'better-sqlite3';
import type { HistoryLevelName } from '../history.js';
import { estimateBuckets, levelMs, type EstimateRecorder, type SeriesEstimateQuery, type SeriesEstimateRaw } from '../series-estimates.js';
import type { ChangeSet } from '../../writer/state.js';
import { prepared } from './statements.js';

const LEVELS: readonly HistoryLevelName[] = ['minute', 'hour', 'day'];

/** Upserts the commit's estimate rows, keeping each bucket's largest. Returns the rows written. */
export function writeEstimates(db: Database.Database, c: ChangeSet, last: EstimateRecorder): number {
  const rows = estimateBuckets(c, last);
  if (rows.length === 0) return 0;
  const stmt = prepared(db, `INSERT INTO metric_series_estimates (service, metric, kind, label, level, bucket, estimate)
    VALUES (@service, @metric, @kind, @label, @level, @bucket, @estimate)
    ON CONFLICT (service, metric, kind, label, level, bucket) DO UPDATE SET estimate = max(estimate, excluded.estimate)`);
  for (const r of rows) stmt.run(r);
  return rows.length;
}

/** Drops whole buckets older than each level's cutoff, oldest first, for at most `budgetMs`. */
export function retainEstimates(db: Database.Database, cutoffs: Record<HistoryLevelName, number>, budgetMs: number): number {
  const started = performance.now();
  let dropped = 0;
  const oldest = prepared(db, `SELECT MIN(bucket) AS b FROM metric_series_estimates WHERE level = ?`);
  const drop = prepared(db, `DELETE FROM metric_series_estimates WHERE level = ? AND bucket = ?`);
  for (const level of LEVELS) {
    for (;;) {
      const b = (oldest.get(level) as { b: number | null }).b;
      if (b === null || b >= cutoffs[level]) break;
      dropped += drop.run(level, b).changes;
      if (performance.now() - started > budgetMs) return dropped;
    }
  }
  return dropped;
}

export function seriesEstimates(db: Database.Database, q: SeriesEstimateQuery): SeriesEstimateRaw {
  const entity = 'service = @service AND metric = @metric AND kind = @kind AND label = @label';
  const params = { service: q.service, metric: q.metric, kind: q.kind, label: q.label, level: q.level, from: q.from, to: q.to, step: q.step };
  // Integer division: bucket, from and step are whole ms.
  const points = prepared(db, `SELECT @from + ((bucket - @from) / @step) * @step AS t, MAX(estimate) AS estimate FROM metric_series_estimates
    WHERE ${entity} AND level = @level AND bucket >= @from AND bucket < @to GROUP BY t ORDER BY t`).all(params) as SeriesEstimateRaw['points'];
  const ended = LEVELS.map((l) => `(level = '${l}' AND bucket + ${levelMs(l)} <= @from)`).join(' OR ');
  const before = (prepared(db, `SELECT MAX(estimate) AS v FROM metric_series_estimates WHERE ${entity} AND (${ended})`).get(params) as { v: number | null }).v;
  return { before, points };
}

