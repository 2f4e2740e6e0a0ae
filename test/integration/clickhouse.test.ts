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
    await waitFor(() => metric('keytally_mirror_up'), (v) => v === 1);
    expect(await metric('keytally_mirror_sent_rows_total')).toBeGreaterThan(0);
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
});
