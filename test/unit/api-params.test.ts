import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleApiRequest } from '../../src/api/router.js';
import { escapeLike } from '../../src/store/sqlite/list.js';
import { prepared } from '../../src/store/sqlite/statements.js';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { dbPath } from '../../src/store/sqlite/connection.js';
import { SqliteReadStore } from '../../src/store/sqlite/read.js';

const TUNING = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 16 };

let dir: string;
let db: SqliteReadStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keytally-api-params-'));
  await migrateSqlite(dbPath(dir));
  const w = new Database(dbPath(dir));
  w.prepare(`INSERT INTO services (name, log_records, spans, metric_points, first_seen, last_seen) VALUES ('svc', 1, 1, 1, 1, 2)`).run();
  w.prepare(`INSERT INTO key_metadata (service, scope, key, sample_count, cardinality_estimate, sketch, first_seen, last_seen) VALUES ('svc', 'span', 'k', 3, 2, NULL, 1, 2)`).run();
  w.close();
  db = new SqliteReadStore(dir, TUNING);
});

afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const LISTS = [
  '/api/v1/services',
  '/api/v1/metrics',
  '/api/v1/spans',
  '/api/v1/logs',
  '/api/v1/logs/templates',
  '/api/v1/keys',
];

/** [path, query, the parameter the error must name] */
const BAD: Array<[string, string, string]> = [
  // Paging, on every list route.
  ...LISTS.flatMap((p): Array<[string, string, string]> => [
    [p, 'limit=abc', 'limit'],
    [p, 'limit=1.5', 'limit'],
    [p, 'limit=1e3', 'limit'],
    [p, 'limit=-1', 'limit'],
    [p, 'limit=10001', 'limit'],
    [p, 'limit=99999999999999999999', 'limit'],
    [p, 'offset=-1', 'offset'],
    [p, 'offset=x', 'offset'],
    [p, 'sort=bogus', 'sort'],
    [p, `sort=${encodeURIComponent('name; DROP TABLE services')}`, 'sort'],
    [p, 'sort=__proto__', 'sort'],
    [p, 'order=up', 'order'],
    [p, 'order=ASC', 'order'],
    [p, 'nope=1', 'nope'],
    [p, 'limit=1&limit=2', 'limit'],
  ]),
  // Filters a route does not take are unknown there.
  ['/api/v1/services', 'service=svc', 'service'],
  ['/api/v1/logs', 'q=x', 'q'],
  ['/api/v1/spans', 'type=gauge', 'type'],
  // Enums and numbers in filters.
  ['/api/v1/metrics', 'type=counter', 'type'],
  ['/api/v1/metrics', 'min_cardinality=-5', 'min_cardinality'],
  ['/api/v1/metrics', 'min_cardinality=many', 'min_cardinality'],
  ['/api/v1/metrics', 'sort=labels', 'sort'],
  ['/api/v1/spans', 'kind=weird', 'kind'],
  ['/api/v1/spans', 'kind=6', 'kind'],
  ['/api/v1/spans', 'kind=-1', 'kind'],
  ['/api/v1/keys', 'scope=global', 'scope'],
  ['/api/v1/keys', 'min_cardinality=1.5', 'min_cardinality'],
  ['/api/v1/keys', 'service=a&service=b', 'service'],
  ['/api/v1/logs/templates', 'sort=example', 'sort'],
  // The severities take a service and nothing else: no paging, no window.
  ['/api/v1/logs/severities', 'limit=5', 'limit'],
  ['/api/v1/logs/severities', 'from=0', 'from'],
  ['/api/v1/logs/severities', 'severity=INFO', 'severity'],
  ['/api/v1/logs/severities', 'service=a&service=b', 'service'],
  // Detail routes.
  ['/api/v1/metrics/m', 'q=x', 'q'],
  ['/api/v1/metrics/m', 'limit=x', 'limit'],
  ['/api/v1/services/svc/overview', 'top=x', 'top'],
  ['/api/v1/services/svc/overview', 'top=1001', 'top'],
  ['/api/v1/services/svc/overview', 'limit=5', 'limit'],
];

describe('bad parameters', () => {
  it.each(BAD)('%s?%s → 400 naming %s', async (path, query, param) => {
    const r = (await handleApiRequest(db, path, query));
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body) as { error: string };
    expect(body.error).toContain(`'${param}'`);
  });

  it('is 400 for a malformed percent-encoding in the path', async () => {
    const r = (await handleApiRequest(db, '/api/v1/metrics/%E0%A4%A', ''));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(/percent-encoding/);
  });

  it('checks parameters before answering 404 for an unknown entity', async () => {
    expect((await handleApiRequest(db, '/api/v1/metrics/none', 'bogus=1')).status).toBe(400);
    expect((await handleApiRequest(db, '/api/v1/metrics/none', '')).status).toBe(404);
  });
});

describe('good parameters', () => {
  it('accepts the edges of each range', async () => {
    for (const q of ['limit=0', 'limit=10000', 'offset=0', 'offset=1000000', 'order=asc', 'order=desc']) {
      expect((await handleApiRequest(db, '/api/v1/keys', q)).status, q).toBe(200);
    }
  });

  it('treats an empty value as an absent parameter', async () => {
    const r = (await handleApiRequest(db, '/api/v1/keys', 'service=&scope=&q=&min_cardinality=&limit=&offset=&sort=&order='));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ total: 1 });
  });

  it('decodes + and percent escapes in values', async () => {
    const r = (await handleApiRequest(db, '/api/v1/services', 'q=%53v+'));
    expect(JSON.parse(r.body).total).toBe(0); // "Sv " — the trailing space is part of the needle
    expect(JSON.parse((await handleApiRequest(db, '/api/v1/services', 'q=%53V')).body).total).toBe(1);
  });

  it('accepts every documented kind, type and scope', async () => {
    for (const k of ['internal', 'server', 'client', 'producer', 'consumer', 'unspecified', '0', '5']) {
      expect((await handleApiRequest(db, '/api/v1/spans', `kind=${k}`)).status, k).toBe(200);
    }
    for (const t of ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary']) {
      expect((await handleApiRequest(db, '/api/v1/metrics', `type=${t}`)).status, t).toBe(200);
    }
    for (const s of ['resource', 'metric', 'span', 'span_event', 'log']) {
      expect((await handleApiRequest(db, '/api/v1/keys', `scope=${s}`)).status, s).toBe(200);
    }
  });
});

describe('helpers', () => {
  it('escapes LIKE metacharacters', async () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
  });

  it('prepares each distinct SQL text once per connection', async () => {
    expect(prepared(db.connection(), 'SELECT 1 AS one')).toBe(prepared(db.connection(), 'SELECT 1 AS one'));
  });

  it('leaves no transaction open after a request, even a failed one', async () => {
    (await handleApiRequest(db, '/api/v1/keys', 'limit=x'));
    (await handleApiRequest(db, '/api/v1/keys', ''));
    expect(db.connection().inTransaction).toBe(false);
  });
});
