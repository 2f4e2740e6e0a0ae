/**
 * The running-totals history schema (src/store/history.ts) and the
 * conversion from the old minute/hour/day bucket tables: the migration
 * 0005_running_totals of both SQL backends.
 */

/**
 * Plain SQL both SQLite and PostgreSQL accept, given each one's id column,
 * text and integer types and table options. The conversion keeps the finest
 * level retention had left per bucket; what an hour (day) held beyond its
 * minutes (hours) goes to its start, then running totals by a window function.
 */
export function runningTotalsSql(idColumn: string, text: string, bigint: string, tableOptions: string): string[] {
  const sentinel = String(Number.MAX_SAFE_INTEGER);
  return [
    `CREATE TABLE history_entity (
       id ${idColumn},
       kind ${text} NOT NULL,
       service ${text} NOT NULL,
       name ${text} NOT NULL,
       sub ${text} NOT NULL,
       UNIQUE (kind, service, name, sub))`,
    `CREATE TABLE history (
       id ${bigint} NOT NULL,
       bucket ${bigint} NOT NULL,
       count ${bigint} NOT NULL,
       bytes ${bigint} NOT NULL,
       PRIMARY KEY (id, bucket))${tableOptions}`,
    // Retention walks one hour (or day) of rows at a time, in (bucket, id) order.
    `CREATE INDEX history_bucket ON history (bucket, id)`,
    `INSERT INTO history_entity (kind, service, name, sub)
       SELECT kind, service, name, sub FROM history_day UNION SELECT kind, service, name, sub FROM history_hour
       UNION SELECT kind, service, name, sub FROM history_minute ORDER BY 1, 2, 3, 4`,
    `INSERT INTO history (id, bucket, count, bytes)
       SELECT id, bucket, SUM(count) OVER w - count, SUM(bytes) OVER w - bytes FROM (
         SELECT e.id, u.bucket, SUM(u.count) AS count, SUM(u.bytes) AS bytes FROM (
           SELECT kind, service, name, sub, bucket, count, bytes FROM history_minute
           UNION ALL SELECT h.kind, h.service, h.name, h.sub, h.bucket, h.count - COALESCE(SUM(m.count), 0), h.bytes - COALESCE(SUM(m.bytes), 0)
             FROM history_hour h LEFT JOIN history_minute m ON m.kind = h.kind AND m.service = h.service AND m.name = h.name AND m.sub = h.sub
               AND m.bucket >= h.bucket AND m.bucket < h.bucket + 3600000
             GROUP BY h.kind, h.service, h.name, h.sub, h.bucket, h.count, h.bytes
           UNION ALL SELECT d.kind, d.service, d.name, d.sub, d.bucket, d.count - COALESCE(SUM(h.count), 0), d.bytes - COALESCE(SUM(h.bytes), 0)
             FROM history_day d LEFT JOIN history_hour h ON h.kind = d.kind AND h.service = d.service AND h.name = d.name AND h.sub = d.sub
               AND h.bucket >= d.bucket AND h.bucket < d.bucket + 86400000
             GROUP BY d.kind, d.service, d.name, d.sub, d.bucket, d.count, d.bytes
         ) u JOIN history_entity e ON e.kind = u.kind AND e.service = u.service AND e.name = u.name AND e.sub = u.sub
         GROUP BY e.id, u.bucket HAVING SUM(u.count) <> 0 OR SUM(u.bytes) <> 0
       ) b WINDOW w AS (PARTITION BY id ORDER BY bucket ROWS UNBOUNDED PRECEDING)`,
    `INSERT INTO history (id, bucket, count, bytes)
       SELECT e.id, ${sentinel},
         COALESCE((SELECT SUM(d.count) FROM history_day d WHERE d.kind = e.kind AND d.service = e.service AND d.name = e.name AND d.sub = e.sub), 0),
         COALESCE((SELECT SUM(d.bytes) FROM history_day d WHERE d.kind = e.kind AND d.service = e.service AND d.name = e.name AND d.sub = e.sub), 0)
       FROM history_entity e`,
    // What retention had thinned: no minutes before the first minute bucket's hour, no hours before the first hour's day.
    `INSERT INTO meta (key, value) SELECT 'history_hours_until', CAST(MIN(bucket) - MIN(bucket) % 3600000 AS TEXT) FROM history_minute HAVING COUNT(*) > 0`,
    `INSERT INTO meta (key, value) SELECT 'history_days_until', CAST(MIN(bucket) - MIN(bucket) % 86400000 AS TEXT) FROM history_hour HAVING COUNT(*) > 0`,
    `INSERT INTO meta (key, value) SELECT 'history_kept_from', CAST(MIN(bucket) AS TEXT) FROM history_day HAVING COUNT(*) > 0`,
    `DROP TABLE history_minute`,
    `DROP TABLE history_hour`,
    `DROP TABLE history_day`,
  ];
}
