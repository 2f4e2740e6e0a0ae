/**
 * Cardinality estimates through the real server (issue 4, points 3 and 5):
 * values split over many requests, so over both ingest workers and many
 * flushes and commits, merged by the writer, stored, reloaded after a restart;
 * and the keyed hash: two installs (two salts) store different sketch bytes
 * for the same values but agree on the estimates.
 *
 * 1,000,000 distinct values are covered by the unit tests (test/unit/sketch-hll.test.ts);
 * here they would only add a minute of protobuf.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { dataDirWithSalt, startKeytally, post, waitFor, type Keytally } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { standardError } from '../../src/sketch/hll.js';

const SERVICE = 'card';
/** Key name -> true number of distinct values. */
const TRUE: Record<string, number> = { k1: 1, k10: 10, k1k: 1_000, k100k: 100_000 };
const RECORDS = 100_000;
const REQUESTS = 25;
/** Requests in flight at once: enough that both workers hold part of every key's values. */
const SENDERS = 3;
const SE = standardError(14);
const SERVER_ARGS = ['--workers', '2', '--ack', 'durable', '--flush-ms', '20', '--commit-ms', '10'];

/**
 * Record i carries k100k = i (every value once), k1k = i mod 1,000 and k10 = i mod 10
 * (every value in every request: the same values reach both workers and are merged),
 * and k1 = one constant. Request r holds records [r * 4,000, (r + 1) * 4,000).
 */
function buildBodies(): Uint8Array[] {
  const per = RECORDS / REQUESTS;
  return Array.from({ length: REQUESTS }, (_, r) =>
    encodeProto(
      'logs',
      logsRequest([
        {
          resource: { 'service.name': SERVICE },
          logs: Array.from({ length: per }, (_, j) => {
            const i = r * per + j;
            return { body: 'value sent', attrs: { k1: 'constant', k10: `ten-${i % 10}`, k1k: `thousand-${i % 1000}`, k100k: `user-${i}` } };
          }),
        },
      ]),
    ),
  );
}

async function sendAll(k: Keytally, bodies: Uint8Array[]): Promise<void> {
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const r = await post(k, '/v1/logs', bodies[i]!);
      // Durable acks: a 200 means the request's deltas are committed.
      expect(r.status, `request ${i}`).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
}

async function estimates(k: Keytally): Promise<Record<string, number>> {
  const r = await k.get(`/api/v1/keys?service=${SERVICE}&scope=log&sort=key&order=asc&limit=100`);
  expect(r.status).toBe(200);
  return Object.fromEntries(r.body.items.map((i: { key: string; cardinality_estimate: number }) => [i.key, i.cardinality_estimate]));
}

/**
 * Within the stated error: exact below the sparse limit, except that 1,000 values
 * share their top 25 hash bits with probability ~1.5% (n^2 / 2^26), which makes
 * the sparse count one less; 100,000 within 3 standard errors (+-2.44% at p = 14).
 */
function expectAccurate(est: Record<string, number>): void {
  expect(Object.keys(est).sort()).toEqual(Object.keys(TRUE).sort());
  expect(est['k1']).toBe(1);
  expect(est['k10']).toBe(10);
  expect(est['k1k']).toBeGreaterThanOrEqual(999);
  expect(est['k1k']).toBeLessThanOrEqual(1_000);
  const err = Math.abs(est['k100k']! / TRUE['k100k']! - 1);
  expect(err, `k100k estimate ${est['k100k']} is ${(err / SE).toFixed(2)} SE off`).toBeLessThanOrEqual(3 * SE);
}

/** The stored sketch bytes per key and the install's salt, read with a read-only connection of our own (server stopped). */
function stored(dataDir: string): { salt: string; sketches: Record<string, Buffer> } {
  const db = new Database(`${dataDir}/keytally.db`, { readonly: true, fileMustExist: true });
  try {
    const salt = (db.prepare(`SELECT value FROM meta WHERE key = 'hash_salt'`).get() as { value: string }).value;
    const rows = db.prepare(`SELECT key, sketch FROM key_metadata WHERE service = ? AND scope = 'log'`).all(SERVICE) as Array<{ key: string; sketch: Buffer }>;
    return { salt, sketches: Object.fromEntries(rows.map((r) => [r.key, r.sketch])) };
  } finally {
    db.close();
  }
}

describe('cardinality estimates through the server', () => {
  let bodies: Uint8Array[];
  const started: Keytally[] = [];
  // Fixed salts keep the test deterministic (a random salt gives a 3-SE miss in 0.27% of runs).
  const start = async (dataDir: string) => {
    const k = await startKeytally({ args: SERVER_ARGS, dataDir });
    started.push(k);
    return k;
  };

  beforeAll(() => {
    bodies = buildBodies();
  });

  afterAll(async () => {
    for (const k of started) await k.stop();
    // The restart shares its data dir with the first server: remove each dir once.
    for (const dir of new Set(started.map((k) => k.dataDir))) rmSync(dir, { recursive: true, force: true });
  });

  it('split across workers and flushes, merged, reloaded after a restart, and idempotent on resend', async () => {
    const first = await start(await dataDirWithSalt(0x0123_4567_89ab_cdefn));
    await sendAll(first, bodies);
    // Each delta batch acks at most the SENDERS requests then in flight, so the values reached the
    // writer in at least REQUESTS / SENDERS batches (the writer publishes its counters once a second).
    const batches = async () => Number(/^keytally_writer_batches_total (\d+)/m.exec((await first.get('/metrics')).body)?.[1] ?? 0);
    await waitFor(batches, (n) => n >= Math.ceil(REQUESTS / SENDERS), 5_000);
    const before = await estimates(first);
    expectAccurate(before);
    expect(await first.stop()).toBe(0);
    const bytesBefore = stored(first.dataDir).sketches;

    // Same data dir: the writer reloads every sketch from the store.
    const second = await start(first.dataDir);
    expect(await estimates(second)).toEqual(before);
    // The stored estimates survive a restart trivially; the sketches must too. One request of old
    // values first: had the writer started from empty sketches, k100k would now be about 4,000.
    await sendAll(second, bodies.slice(0, 1));
    expect(await estimates(second)).toEqual(before);
    // Then all the same values again and nothing new: register max changes nothing.
    await sendAll(second, bodies);
    expect(await estimates(second)).toEqual(before);
    expect(await second.stop()).toBe(0);
    const bytesAfter = stored(first.dataDir).sketches;
    for (const key of Object.keys(TRUE)) expect(bytesAfter[key]!.equals(bytesBefore[key]!), `${key} sketch bytes changed on resend`).toBe(true);
  });

  it('two installs: different salts, different stored sketches for the same values, the same estimates', async () => {
    // Two installs with different salts; fed in parallel to save time.
    const [a, b] = await Promise.all([start(await dataDirWithSalt(0x1111_2222_3333_4444n)), start(await dataDirWithSalt(0x7777_8888_9999_aaaan))]);
    await Promise.all([sendAll(a, bodies), sendAll(b, bodies)]);
    const estA = await estimates(a);
    const estB = await estimates(b);
    expectAccurate(estA);
    expectAccurate(estB);
    // Exact range: the same counts whatever the salt (k1k: unless one install had the rare collision).
    expect(estA['k1']).toBe(estB['k1']);
    expect(estA['k10']).toBe(estB['k10']);
    expect(Math.abs(estA['k1k']! - estB['k1k']!)).toBeLessThanOrEqual(1);
    // Dense: different registers, so different errors, each within 3 SE; they differ by at most 3 SE * sqrt(2).
    expect(Math.abs(estA['k100k']! - estB['k100k']!) / TRUE['k100k']!).toBeLessThanOrEqual(3 * Math.SQRT2 * SE);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);

    const sa = stored(a.dataDir);
    const sb = stored(b.dataDir);
    expect(sa.salt).not.toBe(sb.salt);
    for (const key of Object.keys(TRUE)) {
      expect(sa.sketches[key], key).toBeInstanceOf(Buffer);
      expect(sa.sketches[key]!.equals(sb.sketches[key]!), `${key}: same sketch bytes under two salts`).toBe(false);
    }
  });
});
