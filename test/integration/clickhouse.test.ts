/**
 * The ClickHouse mirror against a real ClickHouse 18.16 (scripts/clickhouse.sh):
 * its sums equal the primary store's; killed under load, the primary loses
 * nothing and the mirror catches up (through a resync from the primary when
 * its bounded buffer overflowed); retention drops whole partitions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { LogsReq, encode } from '../helpers/otlp-fixtures.js';
import { post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';
import { startClickHouse, type ClickHouse } from '../helpers/clickhouse.js';
import { freshDatabase, sql } from '../helpers/postgres.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 8);

let ch: ClickHouse;
let k: Keytally;

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
function request(i: number) {
  const logRecords = Array.from({ length: 3 + (i % 4) }, (_, j) => ({
    severityText: j % 3 === 0 ? 'ERROR' : 'INFO',
    body: { stringValue: j % 2 === 0 ? `user ${i * 10 + j} logged in` : `job ${j} took ${i} ms` },
    attributes: [str('user.id', `u${i}-${j}`), str('route', `/r/${j}`)],
  }));
  return encode(LogsReq, { resourceLogs: [{ resource: { attributes: [str('service.name', `mirror-${i % 2}`)] }, scopeLogs: [{ logRecords }] }] });
}

async function send(i: number, at: number): Promise<void> {
  const r = await post(k, '/v1/logs', request(i), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(at) });
  expect(r.status).toBe(200);
}

type Sums = Record<string, [number, number]>;

/**
 * The primary's history sums per kind, read from its SQLite file: what its buckets add up to (minutes and hours
 * alike), the totals at the end (the sentinel row) minus those before its oldest kept row.
 */
function primary(_level: 'minute' | 'hour'): Sums {
  const db = new Database(join(k.dataDir, 'keytally.db'), { readonly: true });
  try {
    const rows = db.prepare(`SELECT e.kind, SUM(s.count - f.count) AS c, SUM(s.bytes - f.bytes) AS b FROM history_entity e
      JOIN history s ON s.id = e.id AND s.bucket = ${Number.MAX_SAFE_INTEGER}
      JOIN history f ON f.id = e.id AND f.bucket = (SELECT MIN(bucket) FROM history WHERE id = e.id)
      GROUP BY e.kind ORDER BY e.kind`).all() as Array<{ kind: string; c: number; b: number }>;
    return Object.fromEntries(rows.map((r) => [r.kind, [r.c, r.b]]));
  } finally {
    db.close();
  }
}

async function mirror(level: 'minute' | 'hour'): Promise<Sums> {
  try {
    const text = await ch.query(`SELECT toString(kind) AS kind, sum(count) AS c, sum(bytes) AS b FROM keytally.keytally_${level} FINAL GROUP BY kind ORDER BY kind FORMAT JSONEachRow`);
    const rows = text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; c: string; b: string });
    return Object.fromEntries(rows.map((r) => [r.kind, [Number(r.c), Number(r.b)]]));
  } catch {
    return {};
  }
}

async function metric(name: string): Promise<number> {
  const m = await k.get('/metrics');
  return Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(m.body)?.[1] ?? NaN);
}

async function converged(level: 'minute' | 'hour'): Promise<void> {
  await waitFor(
    async () => JSON.stringify(await mirror(level)) === JSON.stringify(primary(level)),
    (same) => same,
    60_000,
  );
}

beforeAll(async () => {
  ch = await startClickHouse();
  k = await startKeytally({
    args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2', '--test-clock', 'on',
      '--clickhouse-url', ch.url, '--clickhouse-flush-ms', '100', '--clickhouse-buffer-rows', '300', '--clickhouse-minute-days', '1'],
  });
}, 360_000);

afterAll(async () => {
  if (k) {
    expect(await k.stop()).toBe(0);
    k.cleanup();
  }
  await ch?.stop();
});

describe('ClickHouse mirror', () => {
  it('mirrors the minute and hour buckets: its sums equal the primary store\'s', async () => {
    for (let i = 0; i < 90; i++) await send(i, T0 + i * MIN + 1000);
    await converged('minute');
    await converged('hour');
    const p = primary('minute');
    expect(Object.keys(p).sort()).toEqual(['key', 'log', 'template']);
    expect(p['log']![0]).toBe(Array.from({ length: 90 }, (_, i) => 3 + (i % 4)).reduce((a, b) => a + b, 0));
    // /metrics carries the writer's once-a-second report: wait for the one after the mirror's first insert.
    // (up is reported as soon as the schema is there, maybe before that report counts the first insert.)
    await waitFor(() => metric('keytally_mirror_up'), (v) => v === 1);
    expect(await waitFor(() => metric('keytally_mirror_sent_rows_total'), (v) => v > 0)).toBeGreaterThan(0);
  });

  it('ClickHouse killed under load: ingest goes on, nothing is lost, the mirror catches up', async () => {
    await ch.kill();
    // Enough new minutes that the 300-row buffer overflows: the mirror must re-read them from the primary.
    for (let i = 90; i < 200; i++) await send(i, T0 + i * MIN + 1000);
    const total = Array.from({ length: 200 }, (_, i) => 3 + (i % 4)).reduce((a, b) => a + b, 0);
    const svc = await k.get('/api/v1/services');
    expect(svc.body.items.reduce((a: number, s: any) => a + s.log_records, 0)).toBe(total);
    // /metrics is the writer's report of once a second: wait for the one after the overflow.
    await waitFor(() => metric('keytally_mirror_up'), (v) => v === 0);
    await waitFor(() => metric('keytally_mirror_failed_inserts_total'), (v) => v > 0);
    await waitFor(() => metric('keytally_mirror_dropped_rows_total'), (v) => v > 0);
    await ch.restart();
    await converged('minute');
    await converged('hour');
    expect(primary('minute')['log']![0]).toBe(total);
    // /metrics shows the writer's last report (once a second): wait for it to catch up.
    await waitFor(() => metric('keytally_mirror_resyncs_total'), (v) => v > 0);
    await waitFor(() => metric('keytally_mirror_buffered_rows'), (v) => v === 0);
    expect(await metric('keytally_mirror_up')).toBe(1);
  }, 120_000);

  it('retention drops whole minute partitions past --clickhouse-minute-days; the hour table keeps them', async () => {
    // Two days later (test clock): the first day's minute partition is past one day of retention.
    for (let i = 0; i < 5; i++) await send(i, T0 + 2 * DAY + i * MIN);
    await waitFor(
      () => ch.query(`SELECT count() FROM keytally.keytally_minute WHERE toYYYYMMDD(bucket) = 20260105`).then((t) => Number(t.trim())),
      (n) => n === 0,
      60_000,
    );
    const count = async (table: string, day: number) => Number((await ch.query(`SELECT count() FROM keytally.${table} WHERE toYYYYMMDD(bucket) = ${day}`)).trim());
    expect(await count('keytally_hour', 20260105), 'hour buckets of the first day').toBeGreaterThan(0);
    await waitFor(() => count('keytally_minute', 20260107), (n) => n > 0);
    await waitFor(() => metric('keytally_mirror_dropped_partitions_total'), (v) => v > 0);
    await converged('hour');
  }, 120_000);

  it('template merges and splits move buckets in the mirror too: per template and minute, it equals the primary (SQLite)', async () => {
    const epoch = await movesMirrored(k, 'keytally', async (q) => {
      const db = new Database(join(k.dataDir, 'keytally.db'), { readonly: true });
      try {
        return db.prepare(q).all() as Array<Record<string, unknown>>;
      } finally {
        db.close();
      }
    });
    expect(epoch).toBeGreaterThan(1);
    // Hours too (the minute table has lost its first day to retention above, the hour table has not).
    await converged('hour');
  }, 120_000);

  it('the same on PostgreSQL: the fleet\'s move epoch is in its meta table', async () => {
    const url = await freshDatabase('kt_mirror');
    const pk = await startKeytally({
      args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2', '--test-clock', 'on', '--store', 'postgres', '--postgres-url', url,
        '--clickhouse-url', ch.url, '--clickhouse-database', 'keytally_pg', '--clickhouse-flush-ms', '100'],
    });
    try {
      expect(await movesMirrored(pk, 'keytally_pg', (q) => sql(url, q))).toBeGreaterThan(1);
    } finally {
      expect(await pk.stop()).toBe(0);
      pk.cleanup();
    }
  }, 120_000);
});

/**
 * Five states seen once each fold into one template (merges), then recur and split back (splits): counts leave
 * buckets, and a merged-away template's buckets empty. At each stage the mirror must equal the primary bucket by
 * bucket: the values before a move reach ClickHouse first, so a stale larger value (or a merged-away template's
 * bucket) would show after it. Returns the primary's move epoch.
 */
async function movesMirrored(kt: Keytally, database: string, primarySql: (q: string) => Promise<Array<Record<string, unknown>>>): Promise<number> {
  const states = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
  const base = T0 + 3 * DAY;
  const sendMinute = async (m: number) => {
    const n = m < 5 ? 1 : 12;
    const logRecords = Array.from({ length: n }, (_, i) => ({ severityText: 'INFO', body: { stringValue: `instance ${m * 100 + i} lifecycle ${states[m < 5 ? m : (i + m) % 5]} by scheduler` } }));
    const body = encode(LogsReq, { resourceLogs: [{ resource: { attributes: [str('service.name', 'moves')] }, scopeLogs: [{ logRecords }] }] });
    const r = await post(kt, '/v1/logs', body, { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(base + m * MIN + 1000) });
    expect(r.status).toBe(200);
  };
  const primaryBuckets = async () => {
    const rows = (await primarySql(`SELECT e.sub, h.bucket, LEAD(h.count) OVER w - h.count AS c FROM history h JOIN history_entity e ON e.id = h.id
      WHERE e.kind = 'template' AND e.service = 'moves' WINDOW w AS (PARTITION BY h.id ORDER BY h.bucket)`)) as Array<{ sub: string; bucket: number | string; c: number | string | null }>;
    return rows.filter((r) => r.c !== null && Number(r.c) !== 0).map((r) => `${r.sub}@${Number(r.bucket)}=${Number(r.c)}`).sort();
  };
  const mirrorBuckets = async () => {
    const text = await ch.query(`SELECT sub, toUInt64(bucket) * 1000 AS t, count FROM ${database}.keytally_minute FINAL
      WHERE kind = 'template' AND service = 'moves' AND count > 0 FORMAT JSONEachRow`).catch(() => '');
    return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l) as { sub: string; t: string; count: string }).map((r) => `${r.sub}@${r.t}=${r.count}`).sort();
  };
  const same = async (stage: string) => {
    await waitFor(async () => JSON.stringify(await mirrorBuckets()) === JSON.stringify(await primaryBuckets()), (ok) => ok, 20_000).catch(() => undefined);
    expect(await mirrorBuckets(), stage).toEqual(await primaryBuckets());
  };
  for (let m = 0; m < 4; m++) await sendMinute(m);
  await same('four states, four templates');
  await sendMinute(4);
  await same('the fifth folds them into one');
  for (let m = 5; m < 30; m++) await sendMinute(m);
  await same('they recur and split back');
  // More than one template is left, and commits did move history (else this would not be about moves).
  expect(new Set((await primaryBuckets()).map((b) => b.split('@')[0])).size).toBeGreaterThan(1);
  const epoch = await primarySql(`SELECT value FROM meta WHERE key = 'history_move_epoch'`);
  return Number(epoch[0]?.['value'] ?? 0);
}
