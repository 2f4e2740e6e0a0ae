/**
 * SQLite's and PostgreSQL's fast paths for windowed lists (src/store/sqlite/list.ts,
 * history.ts, history-last.ts; src/store/postgres/history.ts, history-last.ts)
 * against the memory store, which answers the
 * same questions in plain code: a page picked by the rows' newest minute, a
 * top-N read in all-time order that stops early, and its fall-back. The
 * workload is made so that all-time order and window order disagree: some
 * templates (and their keys) are loud early in the week and quiet later,
 * others the other way round, several tie, some stop sending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogsReq, encode } from '../helpers/otlp-fixtures.js';
import { post, type Keytally } from '../helpers/server.js';
import { memory, sqlite, type Backend } from '../conformance/backends.js';
import { postgresBackend } from '../conformance/postgres-backend.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const END = T0 + 7 * DAY;
const TEMPLATES = 150;

/** A plain word per template (letters only: the miner keeps templates with different words apart). */
const word = (t: number) => 'op' + String.fromCharCode(97 + (t % 26)) + String.fromCharCode(97 + Math.floor(t / 26));

/**
 * Lines of template t on day d: five shapes, so that all-time and window order cross; every 9th template ties its
 * neighbour. The late burst is last of all in all-time order and first in the last day: a top-N read in all-time
 * order must not stop before it.
 */
function lines(t: number, d: number): number {
  const base = t % 9 === 0 ? 3 + ((t + 1) % 4) : 3 + (t % 4);
  switch (t % 5) {
    case 0: return d < 3 ? base * 6 : 1; // loud early, quiet later
    case 1: return 1 + d * base; // growing
    case 2: return d < 5 ? base : 0; // stops on day 5
    case 3: return base * 2;
    default: return d === 6 ? 30 + base : 0; // a late burst
  }
}

function request(d: number, hour: number) {
  const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
  const logRecords = [];
  for (let t = 0; t < TEMPLATES; t++) {
    for (let i = 0; i < lines(t, d); i++) {
      logRecords.push({ severityText: t % 3 === 0 ? 'WARN' : 'INFO', body: { stringValue: `${word(t)} took ${i + hour} ms for order ${t * 31 + i}` }, attributes: [str(`attr.${word(t)}`, `v${i % (t + 1)}`)] });
    }
  }
  return { resourceLogs: [{ resource: { attributes: [str('service.name', `svc-${d % 2}`)] }, scopeLogs: [{ logRecords }] }] };
}

/**
 * Service `ties`: 200 templates of 3 lines each (a tie wider than the first candidates read), half of them with one
 * of those lines on day 0 (so in a window without day 0 only the other half reaches the tie's value), and 100 of 1.
 */
function ties(day: 0 | 2) {
  const n = (t: number) => (t >= 200 ? (day === 2 ? 1 : 0) : t % 2 === 0 ? (day === 2 ? 3 : 0) : day === 2 ? 2 : 1);
  const logRecords = Array.from({ length: 300 }, (_, t) => Array.from({ length: n(t) }, (_, i) => ({ severityText: 'INFO', body: { stringValue: `tq${word(t)} done in ${i} ms` } }))).flat();
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ties' } }] }, scopeLogs: [{ logRecords }] }] };
}

/** Service `moves`, late on the last day: five states seen once each fold into one template, then recur and split back. */
const MOVES = T0 + 6 * DAY + 20 * HOUR;

function moves(m: number) {
  const states = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
  const n = m < 5 ? 1 : 12;
  const logRecords = Array.from({ length: n }, (_, i) => ({ severityText: 'INFO', body: { stringValue: `instance ${(m * 7919 + i * 104729) % 1000003} lifecycle ${states[m < 5 ? m : (i + m) % 5]} by scheduler` } }));
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'moves' } }] }, scopeLogs: [{ logRecords }] }] };
}

async function replay(k: Keytally): Promise<void> {
  for (const day of [0, 2] as const) {
    const r = await post(k, '/v1/logs', encode(LogsReq, ties(day)), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(T0 + day * DAY + HOUR) });
    expect(r.status).toBe(200);
  }
  for (let d = 0; d < 7; d++) {
    for (const hour of [3, 15]) {
      const r = await post(k, '/v1/logs', encode(LogsReq, request(d, hour)), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(T0 + d * DAY + hour * HOUR + 7 * MIN) });
      expect(r.status).toBe(200);
    }
  }
}

/** One keytally per store (test clock on), each filled by `fill`, for the describe block that calls it; stopped after it. */
function storeTrio(fill: (k: Keytally) => Promise<void>): Record<'sqlite' | 'memory' | 'postgres', Keytally | undefined> {
  const servers: Record<'sqlite' | 'memory' | 'postgres', Keytally | undefined> = { sqlite: undefined, memory: undefined, postgres: undefined };
  beforeAll(async () => {
    const backends: Backend[] = [sqlite, memory, ...(await postgresBackend())];
    await Promise.all(backends.map(async (b) => {
      const k = await b.start(['--test-clock', 'on']);
      servers[b.name as keyof typeof servers] = k;
      await fill(k);
    }));
  }, 180_000);
  afterAll(async () => {
    for (const k of Object.values(servers)) {
      if (!k) continue;
      expect(await k.stop()).toBe(0);
      k.cleanup();
    }
  });
  return servers;
}

describe('windowed lists on SQLite and PostgreSQL answer as the memory store does', () => {
  const servers = storeTrio(replay);

  /** SQLite's answer and the memory store's, for the caller to compare; PostgreSQL's is compared here. */
  const both = async (path: string) => {
    const [a, b, c] = await Promise.all([servers.sqlite!.get(path), servers.memory!.get(path), servers.postgres!.get(path)]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body, `postgres: ${path}`).toEqual(b.body);
    return [a.body, b.body];
  };

  const windows: Array<[string, string]> = [
    ['the whole week', `from=${T0}&to=${END}`],
    ['the whole week, open-ended', `from=${T0}`],
    ['the last day', `from=${END - DAY}`],
    ['the last three days', `from=${END - 3 * DAY}&to=${END}`],
    // Ends before many rows' newest minute: activity is asked of the history, not of the rows.
    ['days 1 and 2', `from=${T0 + DAY}&to=${T0 + 3 * DAY}`],
    ['an hour with nothing in it', `from=${T0 + 2 * DAY + 5 * HOUR}&to=${T0 + 2 * DAY + 6 * HOUR}`],
  ];

  it('templates by bytes and by count, every page, in every window', async () => {
    let nonEmpty = 0;
    for (const [name, w] of windows) {
      for (const sort of ['bytes', 'count']) {
        for (const [limit, offset] of [[5, 0], [5, 7], [3, 30], [100, 0], [10, 1000]]) {
          const [a, b] = await both(`/api/v1/logs/templates?${w}&sort=${sort}&order=desc&limit=${limit}&offset=${offset}`);
          expect(a, `${name}, by ${sort}, ${limit}@${offset}`).toEqual(b);
          if (a.items.length > 0) nonEmpty++;
        }
      }
      // A tie across the first candidates read: the page is taken from every row at or above its last value.
      for (const page of ['limit=5', 'limit=10&offset=30', 'limit=5&offset=60', 'limit=20&offset=65']) {
        const [a, b] = await both(`/api/v1/logs/templates?${w}&service=ties&sort=count&order=desc&${page}`);
        expect(a, `${name}, ties, ${page}`).toEqual(b);
      }
      // Filtered (service, severity, text) as well.
      const [a, b] = await both(`/api/v1/logs/templates?${w}&service=svc-1&severity=WARN&q=op&sort=bytes&order=desc&limit=4`);
      expect(a, `${name}, filtered`).toEqual(b);
    }
    expect(nonEmpty).toBeGreaterThan(30);
  });

  it("what is new (/changes' lists, not counted on PostgreSQL): since before, at and inside the week, windows open and closed", async () => {
    let nonEmpty = 0;
    for (const since of [T0 - DAY, T0, T0 + DAY + 7 * MIN, END - DAY, END - 3 * HOUR]) {
      for (const until of [END + MIN, T0 + 3 * DAY, since + HOUR]) {
        if (until <= since) continue;
        for (const q of ['limit=3', 'limit=5', 'limit=100', 'service=ties&limit=4', 'service=svc-1&limit=2']) {
          const [a, b] = await both(`/api/v1/changes?since=${since}&until=${until}&${q}`);
          expect(a, `since ${since - T0}, until ${until - T0}, ${q}`).toEqual(b);
          const lists = (a as { new: Record<string, unknown[]> }).new;
          if (Object.values(lists).some((l) => l.length > 0)) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(10);
    // `since` at a table's newest first_seen: its only new rows are those first seen then, at the edge of
    // PostgreSQL's count of the rows first seen since (src/store/postgres/changes.ts, newRows).
    for (const [list, name] of [['logs/templates', 'templates'], ['keys', 'keys']] as const) {
      const [newest] = await both(`/api/v1/${list}?sort=first_seen&order=desc&limit=1`);
      const since = (newest as { items: Array<{ first_seen: number }> }).items[0]!.first_seen;
      const [a] = await both(`/api/v1/changes?since=${since}&until=${END + MIN}&limit=5`);
      expect((a as { new: Record<string, unknown[]> }).new[name]!.length, `${name} first seen at ${since - T0}`).toBeGreaterThan(0);
    }
  });

  it('a week-long top 5 by count is what the test sent', async () => {
    // Per service (svc-0 on even days, svc-1 on odd ones) and template: two requests a day.
    const sent = [0, 1].flatMap((s) => Array.from({ length: TEMPLATES }, (_, t) => 2 * [0, 1, 2, 3, 4, 5, 6].filter((d) => d % 2 === s).reduce((x, d) => x + lines(t, d), 0)));
    const [a] = await both(`/api/v1/logs/templates?from=${T0}&to=${END}&sort=count&order=desc&limit=5`);
    expect(a.items.map((i: { count: number }) => i.count)).toEqual(sent.slice().sort((x, y) => y - x).slice(0, 5));
    // The last day (svc-0's): the templates that stopped on day 5 are not in it, the late bursts lead it.
    const [last] = await both(`/api/v1/logs/templates?from=${END - DAY}&limit=0`);
    expect(last.total).toBe(Array.from({ length: TEMPLATES }, (_, t) => lines(t, 6)).filter((n) => n > 0).length);
    const [top] = await both(`/api/v1/logs/templates?from=${END - DAY}&sort=count&order=desc&limit=5`);
    const day6 = Array.from({ length: TEMPLATES }, (_, t) => 2 * lines(t, 6)).sort((x, y) => y - x);
    expect(top.items.map((i: { count: number }) => i.count)).toEqual(day6.slice(0, 5));
    expect(top.items.every((i: { template: string }) => /^op/.test(i.template))).toBe(true);
  });

  it('keys: totals, pages in index order, and top by samples, in every window', async () => {
    for (const [name, w] of windows) {
      for (const q of ['sort=cardinality_estimate&order=desc&limit=7', 'sort=key&order=asc&limit=5&offset=11', 'sort=first_seen&order=desc&limit=3',
        'sort=sample_count&order=desc&limit=6&offset=2', 'sort=bytes&order=desc&limit=4', 'limit=0', 'service=svc-0&sort=key&limit=50']) {
        const [a, b] = await both(`/api/v1/keys?${w}&${q}`);
        expect(a, `${name}, ${q}`).toEqual(b);
      }
    }
  });

  it('services and severities: by name, by a count, by bytes, in every window', async () => {
    for (const [name, w] of windows) {
      for (const q of ['sort=name&order=asc', 'sort=log_records&order=desc', 'sort=bytes&order=desc&limit=1', 'limit=0']) {
        const [a, b] = await both(`/api/v1/services?${w}&${q}`);
        expect(a, `services, ${name}, ${q}`).toEqual(b);
      }
      for (const q of ['sort=severity&order=asc', 'sort=sample_count&order=desc', 'sort=first_seen&order=desc&limit=1', 'service=svc-1&limit=0']) {
        const [a, b] = await both(`/api/v1/logs?${w}&${q}`);
        expect(a, `logs, ${name}, ${q}`).toEqual(b);
      }
    }
  });

  it('sorted ascending, or by a share, the sums of every row are sorted: the same answers', async () => {
    for (const [name, w] of windows) {
      for (const q of ['sort=bytes&order=asc&limit=5', 'sort=percentage&order=desc&limit=5', 'sort=bytes_percentage&order=desc&limit=5&offset=3']) {
        const [a, b] = await both(`/api/v1/logs/templates?${w}&${q}`);
        expect(a, `${name}, ${q}`).toEqual(b);
      }
    }
  });
});

describe('templates whose history moved (merges, then splits): windowed as the memory store lists them', () => {
  const servers = storeTrio(async (k) => {
    for (let m = 0; m < 30; m++) {
      const r = await post(k, '/v1/logs', encode(LogsReq, moves(m)), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(MOVES + m * MIN) });
      expect(r.status).toBe(200);
    }
  });

  it('in windows open and closed, by text, by count, and counted', async () => {
    const all = await servers.memory!.get(`/api/v1/logs/templates?service=moves&limit=100`);
    // The splits happened: more than the one merged template.
    expect(all.body.total).toBeGreaterThan(1);
    let listed = 0;
    for (const m of [0, 2, 4, 5, 8, 20, 29]) {
      for (const w of [`from=${MOVES + m * MIN}`, `from=${MOVES + m * MIN}&to=${MOVES + (m + 3) * MIN}`]) {
        for (const q of ['sort=template&order=asc', 'sort=count&order=desc', 'limit=0']) {
          const path = `/api/v1/logs/templates?service=moves&${w}&${q}`;
          const [a, b, c] = await Promise.all([servers.sqlite!.get(path), servers.memory!.get(path), servers.postgres!.get(path)]);
          expect(b.status).toBe(200);
          expect(a.body, `sqlite: ${path}`).toEqual(b.body);
          expect(c.body, `postgres: ${path}`).toEqual(b.body);
          listed += b.body.items.length;
        }
      }
    }
    expect(listed).toBeGreaterThan(20);
  });
});
