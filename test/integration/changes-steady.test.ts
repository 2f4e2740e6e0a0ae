/**
 * /changes on a steady store (issue 14): the same templates and keys sent
 * day after day, some louder each time, some quieter, some the same, some
 * stopped, some new, many tied. SQLite's answer (src/store/sqlite/changes.ts:
 * totals kept per edge between questions, a partial index of the all-time
 * totals) against the memory store's, over HTTP, and against the one SQL
 * statement it replaced (historyChangesSql) on the same file, while `since`
 * moves a minute at a time, after a backfill into the window before, and
 * after retention has thinned the minutes those edges were kept at. At
 * every `since` the windowed lists sorted by a window's count or bytes from
 * it too (SQLite takes their pages from the same kept totals).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { LogsReq, encode } from '../helpers/otlp-fixtures.js';
import { post, waitFor, type Keytally } from '../helpers/server.js';
import { memory, sqlite, type Backend } from '../conformance/backends.js';
import { postgresBackend } from '../conformance/postgres-backend.js';
import { SqliteChanges } from '../../src/store/sqlite/changes.js';
import { historyChangesSql } from '../../src/store/sqlite/history.js';
import type { ChangeLists, HistoryKind, Window } from '../../src/store/history.js';
import { EDGE_SCAN_ROWS, historyChangesSql as pgChangesSql } from '../../src/store/postgres/history.js';
import { PostgresChanges } from '../../src/store/postgres/changes.js';
import { PostgresWriteStore } from '../../src/store/postgres/write.js';
import { openPool } from '../../src/store/postgres/connection.js';
import { WriterState } from '../../src/writer/state.js';
import { sql } from '../helpers/postgres.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const END = Date.UTC(2026, 2, 10);
/** Hours before END of each send, and lines per template in it by pattern (t % 6). */
const SENDS = [54, 30, 18, 6];
const LINES: number[][] = [
  [3, 3, 0, 3], // flat (nothing at 18 h: the after window has one send, like the before one)
  [1, 2, 1, 5], // rose
  [6, 5, 0, 1], // fell
  [3, 3, 0, 0], // stopped: fell to nothing
  [0, 0, 2, 4], // new in the window after: in neither list
  [2, 2, 0, 4], // rose, tied with every other of its pattern (keys of one length)
];
const TEMPLATES = 48;
const word = (t: number) => 'op' + String.fromCharCode(97 + (t % 26)) + String.fromCharCode(97 + Math.floor(t / 26));

function request(send: number, service: string, extra = 0) {
  const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
  const logRecords = [];
  for (let t = 0; t < TEMPLATES; t++) {
    const n = LINES[t % 6]![send]! + (t === 0 ? extra : 0);
    for (let i = 0; i < n; i++) {
      logRecords.push({ severityText: t % 4 === 0 ? 'WARN' : 'INFO', body: { stringValue: `${word(t)} served ${i + send} items in ${t} ms` }, attributes: [str(`k.${word(t)}`, 'x')] });
    }
  }
  return encode(LogsReq, { resourceLogs: [{ resource: { attributes: [str('service.name', service)] }, scopeLogs: [{ logRecords }] }] });
}

const STATES = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
/** Lines of service `moves` (as in history.test.ts: seen once each they merge, recurring they split again). */
function lifecycle(states: string[]) {
  // Six-digit instance numbers, the same on both servers: the same bytes.
  const logRecords = states.map((s, i) => ({ severityText: 'INFO', body: { stringValue: `instance ${100000 + ((i * 7919 + s.length * 104729) % 900000)} lifecycle ${s} by scheduler` } }));
  return encode(LogsReq, { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'moves' } }] }, scopeLogs: [{ logRecords }] }] });
}

/**
 * Service `busy`: one template and one key sent minute after minute, so that between /changes' edges each has more
 * history rows than PostgreSQL reads before it seeks the later edges (src/store/postgres/history.ts, EDGE_SCAN_ROWS).
 */
function busy(lines: number) {
  const logRecords = Array.from({ length: lines }, (_, i) => ({ severityText: 'INFO', body: { stringValue: `busy job ran in ${i % 10} ms` },
    attributes: [{ key: 'k.busy', value: { stringValue: 'y' } }] }));
  return encode(LogsReq, { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'busy' } }] }, scopeLogs: [{ logRecords }] }] });
}
const BUSY_MINUTES = 3 * EDGE_SCAN_ROWS;

async function send(k: Keytally, body: Uint8Array, at: number): Promise<void> {
  const r = await post(k, '/v1/logs', body, { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(at) });
  expect(r.status).toBe(200);
}

const KINDS: HistoryKind[] = ['template', 'key', 'log', 'metric', 'span'];

describe('/changes on a steady store: SQLite and PostgreSQL as the memory store, SQLite as the statement it replaced', () => {
  const servers: Record<'sqlite' | 'memory' | 'postgres', Keytally | undefined> = { sqlite: undefined, memory: undefined, postgres: undefined };
  let db: Database.Database;
  /** One for the whole file: what it keeps carries from question to question, as the server's does. */
  let kept: SqliteChanges;
  /** PostgreSQL's backend: another start is a second instance on the same database. */
  let pg: Backend;
  const others: Keytally[] = [];

  beforeAll(async () => {
    const backends: Backend[] = [sqlite, memory, ...(await postgresBackend())];
    pg = backends.find((b) => b.name === 'postgres')!;
    for (const b of backends) {
      // Minute detail for 4,000 minutes (about 67 h): every edge here is a minute until the retention test.
      const k = await b.start(['--test-clock', 'on', '--retention-minutes', '4000']);
      servers[b.name as keyof typeof servers] = k;
      for (const [i, h] of SENDS.entries()) {
        for (const svc of ['svc-a', 'svc-b']) await send(k, request(i, svc), END - h * HOUR + 5 * MIN + (svc === 'svc-b' ? 17 * MIN : 0));
      }
      // svc-c: twice in one hour 30 h back, then nothing (retention will keep only the first row of that hour).
      for (const m of [5, 40]) await send(k, request(1, 'svc-c'), END - 30 * HOUR + m * MIN);
      // `moves`: five states once each, 30 h back: they fold into one template (four merges).
      for (let m = 0; m < 5; m++) await send(k, lifecycle([STATES[m]!]), END - 30 * HOUR + (50 + m) * MIN);
      // `busy`: a row a minute, 40 h, 30 h (across the SINCES at 30 h) and 6 h back, louder each time.
      for (const [h, lines] of [[40, 1], [30, 2], [6, 3]] as const) {
        for (let m = 0; m < BUSY_MINUTES; m++) await send(k, busy(lines + (m % 3)), END - h * HOUR + m * MIN);
      }
    }
    db = new Database(join(servers.sqlite!.dataDir, 'keytally.db'), { readonly: true });
    kept = new SqliteChanges(db);
  }, 120_000);
  afterAll(async () => {
    db?.close();
    for (const k of [...Object.values(servers), ...others]) {
      if (!k) continue;
      expect(await k.stop()).toBe(0);
      k.cleanup();
    }
  });

  /** SQLite's answer and the memory store's, for the caller to compare; PostgreSQL's (src/store/postgres/history.ts) is compared here. */
  const both = async (path: string) => {
    const [a, b, c] = await Promise.all([servers.sqlite!.get(path), servers.memory!.get(path), servers.postgres!.get(path)]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    // Open-ended, `until` is each server's clock: the lists must agree, not the milliseconds.
    const lists = (x: { new: unknown; rose: unknown; fell: unknown }) => ({ new: x.new, rose: x.rose, fell: x.fell });
    expect(path.includes('until=') ? c.body : lists(c.body), `postgres: ${path}`).toEqual(path.includes('until=') ? b.body : lists(b.body));
    return [a.body, b.body];
  };

  /** The reference and the kept instance (and a fresh one) on one snapshot of the file, for every kind. */
  const direct = (since: number, until: number, service?: string) => {
    const after: Window = { from: since, to: until };
    const before: Window = { from: since - (until - since), to: since };
    const strip = (l: ChangeLists) => ({ rose: l.rose.map(({ template: _, ...c }) => c), fell: l.fell.map(({ template: _, ...c }) => c) });
    let listed = 0;
    db.transaction(() => {
      for (const kind of KINDS) {
        for (const limit of [3, 100]) {
          const q = { kind, service, before, after, limit };
          const want = historyChangesSql(db, q);
          expect(strip(kept.changes(q)), `${kind} since ${since} until ${until} ${service ?? ''} limit ${limit}`).toEqual(want);
          expect(strip(new SqliteChanges(db).changes(q)), `${kind} since ${since}, fresh`).toEqual(want);
          listed += want.rose.length + want.fell.length;
        }
      }
    })();
    return listed;
  };

  /**
   * PostgreSQL's kept totals (one PostgresChanges for the whole file, as a server's) against the one statement they
   * replaced, in one repeatable-read snapshot of the database, for every kind.
   */
  let pgKept: PostgresChanges | undefined;
  const directPg = async (since: number, until: number, service?: string) => {
    pgKept ??= new PostgresChanges();
    const after: Window = { from: since, to: until };
    const before: Window = { from: since - (until - since), to: since };
    const pool = openPool(pg.url!, { max: 1, name: 'changes-steady-direct' });
    const c = await pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const question = pgKept.question(c);
      for (const kind of KINDS) {
        for (const limit of [3, 100]) {
          const q = { kind, service, before, after, limit };
          expect(await question.changes(q), `postgres ${kind} since ${since} until ${until} ${service ?? ''} limit ${limit}`).toEqual(await pgChangesSql(c, q));
        }
      }
      await c.query('COMMIT');
    } finally {
      c.release();
      await pool.end();
    }
  };

  /** `since` at the UI's default (a day back), moving a minute at a time, at and around a send's minute, and later. */
  const SINCES = [
    END - 24 * HOUR, END - 24 * HOUR + MIN, END - 24 * HOUR + 2 * MIN, END - 24 * HOUR + 60 * MIN,
    END - 30 * HOUR + 4 * MIN, END - 30 * HOUR + 5 * MIN, END - 30 * HOUR + 6 * MIN, END - 30 * HOUR + 22 * MIN,
    END - 12 * HOUR, END - 6 * HOUR + 5 * MIN, END - 3 * HOUR, END - 24 * HOUR + 3 * MIN,
  ];

  /**
   * Windowed lists sorted by a window's count or bytes from `since` (SQLite may take their candidates from the totals
   * /changes keeps at the edges: src/store/sqlite/changes.ts, topCandidates): the same pages on the three stores.
   * Limits of 1 to 17 so that a page ends between two different sums as well as inside a tie.
   */
  const LISTS = [
    'logs/templates?sort=count&order=desc&limit=7', 'logs/templates?sort=bytes&order=desc&limit=1', 'logs/templates?sort=bytes&order=desc&limit=3&offset=1',
    'logs/templates?sort=bytes&order=desc&limit=9', 'logs/templates?sort=count&order=desc&limit=17&offset=20', 'logs/templates?service=svc-b&sort=count&order=desc&limit=5',
    'keys?sort=bytes&order=desc&limit=4&offset=3', 'logs?sort=bytes&order=desc&limit=1',
  ];
  const compareLists = async (since: number, until: number | undefined) => {
    let items = 0;
    for (const list of LISTS) {
      const path = `/api/v1/${list}&from=${since}${until === undefined ? '' : `&to=${until}`}`;
      const [a, b, c] = await Promise.all([servers.sqlite!.get(path), servers.memory!.get(path), servers.postgres!.get(path)]);
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      expect(a.body, `sqlite: ${path}`).toEqual(b.body);
      expect(c.body, `postgres: ${path}`).toEqual(b.body);
      items += b.body.items.length;
    }
    return items;
  };

  const compareAll = async (untils: Array<number | undefined>) => {
    let listed = 0;
    for (const until of untils) {
      for (const since of SINCES) {
        listed += await compareLists(since, until);
        for (const svc of [undefined, 'svc-b']) {
          const q = `since=${since}${until === undefined ? '' : `&until=${until}`}${svc ? `&service=${svc}` : ''}`;
          // Open-ended, `until` is each server's clock: the lists must agree, not the milliseconds.
          const lists = (x: { new: unknown; rose: unknown; fell: unknown }) => ({ new: x.new, rose: x.rose, fell: x.fell });
          const [a, b] = await both(`/api/v1/changes?${q}&limit=100`);
          expect(lists(a), q).toEqual(lists(b));
          const [a5, b5] = await both(`/api/v1/changes?${q}&limit=5`);
          expect(lists(a5), `${q}, limit 5`).toEqual(lists(b5));
          listed += direct(since, until ?? END + 100 * HOUR, svc);
          await directPg(since, until ?? END + 100 * HOUR, svc);
        }
      }
    }
    return listed;
  };

  it('rose, fell and flat: what the test sent, and the same answer on both stores for every since', async () => {
    const [a] = await both(`/api/v1/changes?since=${END - 24 * HOUR}&until=${END}&limit=1000`);
    type Row = { kind: string; service: string; label: string; bytes_change: number; count_before: number; count_after: number };
    const templates = (rows: Row[]) => rows.filter((r) => r.kind === 'template' && r.service.startsWith('svc-') && r.service !== 'svc-c');
    // Per service, the before window holds the send 30 h ago, the after window those 18 h and 6 h ago.
    const pattern = (label: string) => Number(/^op(.)(.)/.exec(label)!.slice(1).reduce((n, c, i) => n + (c.charCodeAt(0) - 97) * (i ? 26 : 1), 0)) % 6;
    const rose = templates(a.rose as Row[]);
    const fell = templates(a.fell as Row[]);
    expect(new Set(rose.map((r) => pattern(r.label)))).toEqual(new Set([1, 5]));
    expect(new Set(fell.map((r) => pattern(r.label)))).toEqual(new Set([2, 3]));
    expect(rose.length + fell.length).toBe(2 * 4 * (TEMPLATES / 6));
    for (const r of [...rose, ...fell]) {
      const p = pattern(r.label);
      expect(r.count_before, r.label).toBe(LINES[p]![1]);
      expect(r.count_after, r.label).toBe(LINES[p]![2]! + LINES[p]![3]!);
    }
    // Largest rise first; ties (keys of one length, same counts) by service, then label.
    const keys = (a.rose as Row[]).filter((r) => r.kind === 'key');
    // svc-c stopped: every one of its entities fell.
    expect((a.rose as Row[]).filter((r) => r.service === 'svc-c')).toEqual([]);
    expect((a.fell as Row[]).filter((r) => r.service === 'svc-c' && r.kind === 'template').length).toBe(TEMPLATES - TEMPLATES / 6);
    expect(keys.length).toBeGreaterThan(8);
    for (let i = 1; i < keys.length; i++) {
      const [x, y] = [keys[i - 1]!, keys[i]!];
      expect(x.bytes_change > y.bytes_change || (x.bytes_change === y.bytes_change && (x.service < y.service || (x.service === y.service && x.label < y.label)))).toBe(true);
    }
    expect(await compareAll([END, undefined])).toBeGreaterThan(500);
  });

  it('templates split after their totals were kept: the answer follows the moved history', async () => {
    const epoch = () => Number((db.prepare(`SELECT value FROM meta WHERE key = 'history_move_epoch'`).get() as { value: string } | undefined)?.value ?? 0);
    const was = epoch();
    expect(was).toBeGreaterThan(0);
    expect(await compareAll([END])).toBeGreaterThan(200);
    // The states recur, 20 lines a minute for ten minutes, 5 h back (after every send so far: no backfill): the
    // merged template splits again, taking its share of the lines 30 h back with each new one.
    for (let m = 0; m < 10; m++) {
      const lines = Array.from({ length: 20 }, (_, i) => STATES[(i + m) % 5]!);
      for (const k of Object.values(servers)) await send(k!, lifecycle(lines), END - 5 * HOUR + m * MIN);
    }
    expect(epoch()).toBeGreaterThan(was);
    const [a] = await both(`/api/v1/changes?since=${END - 24 * HOUR}&until=${END}&service=moves&limit=100`);
    expect(a.fell.length + a.rose.length).toBeGreaterThan(1);
    expect(await compareAll([END])).toBeGreaterThan(200);
  });

  it('a backfill into the window before changes the answer at once', async () => {
    const since = END - 24 * HOUR;
    const [before] = await both(`/api/v1/changes?since=${since}&until=${END}&limit=1000`);
    type Row = { kind: string; service: string; label: string };
    const flat = (body: { rose: Row[]; fell: Row[] }) => [...body.rose, ...body.fell].filter((r) => r.kind === 'template' && r.service === 'svc-a' && r.label.startsWith(word(0)));
    expect(flat(before)).toEqual([]);
    // Ten more lines of template 0 (flat) 40 hours back: older than anything cached by far.
    for (const k of Object.values(servers)) await send(k!, request(1, 'svc-a', 10), END - 40 * HOUR + 3 * MIN);
    const [after] = await both(`/api/v1/changes?since=${since}&until=${END}&limit=1000`);
    expect(flat(after).map((r) => r.label)).toEqual([expect.stringContaining(word(0))]);
    expect(after.fell.some((r: Row) => r.service === 'svc-a' && r.label.startsWith(word(0)))).toBe(true);
    expect(await compareAll([END])).toBeGreaterThan(200);
  });

  it('a backfill and a template move committed by a second instance on the same database: the first drops what it kept', async () => {
    const since = END - 24 * HOUR;
    const url = pg.url!;
    const meta = async (key: string) => Number((await sql(url, `SELECT value FROM meta WHERE key = $1`, [key]))[0]?.value ?? 0);
    const instance = async () => {
      const k = await pg.start(['--test-clock', 'on', '--retention-minutes', '4000']);
      others.push(k);
      return k;
    };
    // The first instance's answers at every since and its lists, against an instance started since (nothing kept
    // from before) that has received nothing (so it commits nothing: its miner's template moves come with data).
    const againstFresh = async () => {
      const fresh = await instance();
      let compared = 0;
      for (const s of SINCES) {
        for (const path of [`/api/v1/changes?since=${s}&until=${END}&limit=100`, `/api/v1/changes?since=${s}&until=${END}&service=svc-a&limit=5`,
          ...LISTS.map((l) => `/api/v1/${l}&from=${s}&to=${END}`)]) {
          const [a, b] = await Promise.all([servers.postgres!.get(path), fresh.get(path)]);
          expect(a.status, JSON.stringify(a.body)).toBe(200);
          expect(a.body, path).toEqual(b.body);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(100);
    };
    type Row = { kind: string; service: string; label: string };
    const svcA = async () => (await servers.postgres!.get(`/api/v1/changes?since=${since}&until=${END}&service=svc-a&limit=1000`)).body as { rose: Row[]; fell: Row[] };
    // The first instance, as the others on one store so far.
    expect(await compareAll([END])).toBeGreaterThan(200);
    // A second instance, whose clock is 40 hours behind: its newest minute is 40 hours back. Its miner learns the
    // stored templates and folds some of `moves`' together again (moves, in its first commits, which drop what the
    // first instance kept).
    const second = await instance();
    for (let m = 0; m < 2; m++) await send(second, busy(1), END - 40 * HOUR + m * MIN);
    const moved = await meta('history_move_epoch');
    // The first instance keeps the totals at the day-old edges again (well before the fleet's newest minute).
    for (const s of SINCES) expect((await servers.postgres!.get(`/api/v1/changes?since=${s}&until=${END}&limit=100`)).status).toBe(200);
    // Template 0 (flat) fell since the backfill above: its sum in the window before, as the first instance keeps it.
    const zero = async () => (await svcA()).fell.filter((r) => r.kind === 'template' && r.label.startsWith(`${word(0)} `)).map((r) => (r as unknown as { count_before: number }).count_before);
    const [was] = await zero();
    expect(was).toBeGreaterThan(0);
    // Nine minutes after its newest minute, the second instance adds to minutes the first instance's reader kept
    // totals after: a backfill only against the fleet's newest minute (src/store/postgres/history-write.ts, seal).
    const backfills = await meta('history_backfill_epoch');
    await send(second, request(3, 'svc-a', 7), END - 40 * HOUR + 9 * MIN);
    expect(await meta('history_backfill_epoch')).toBeGreaterThan(backfills);
    // No move came with it: only the backfill epoch tells the first instance.
    expect(await meta('history_move_epoch')).toBe(moved);
    // Its third send's 3 lines and 7 more, 40 hours back: in the window before, on the first instance too.
    expect(await zero()).toEqual([was! + LINES[0]![3]! + 7]);
    await againstFresh();

    // A template merge committed by another instance's writer: svc-a's INFO template of pattern 1 (rose) into that of
    // pattern 2 (fell), both with history on either side of the kept edges.
    const texts = (await servers.postgres!.get(`/api/v1/logs/templates?service=svc-a&severity=INFO&limit=100`)).body.items.map((t: { template: string }) => t.template) as string[];
    const from = texts.find((t) => t.startsWith(`${word(1)} `))!;
    const to = texts.find((t) => t.startsWith(`${word(2)} `))!;
    expect(from && to).toBeTruthy();
    const listed = (b: { rose: Row[]; fell: Row[] }) => [...b.rose, ...b.fell].filter((r) => r.kind === 'template' && r.label === from);
    expect(listed(await svcA()).length).toBe(1);
    const moves = await meta('history_move_epoch');
    const writer = new PostgresWriteStore(openPool(url, { max: 1, name: 'changes-steady-second' }));
    try {
      const state = new WriterState({ precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 10_000, history: 'off' });
      await writer.load(state);
      const c = state.takeChanges();
      c.templateOps = [{ op: 'move', service: 'svc-a', severity: 'INFO', from, to, toId: 0, count: null, bytes: null, example: '' }];
      await writer.commit(c);
    } finally {
      await writer.close();
    }
    expect(await meta('history_move_epoch')).toBeGreaterThan(moves);
    // The merged-away template is gone from the first instance's answer (its lines are the other's now).
    expect(listed(await svcA())).toEqual([]);
    await againstFresh();
  });

  it('after retention thinned those minutes to hours, the kept totals at whole hours still answer', async () => {
    // Edges inside svc-c's hour kept (between its two sends): once that hour is thinned they are no edges any more.
    direct(END - 30 * HOUR + 20 * MIN, END);
    direct(END - 30 * HOUR + 30 * MIN, END);
    // A send 3 days on: minute detail older than 4,000 minutes before it goes (hours are kept).
    for (const k of Object.values(servers)) await send(k!, request(3, 'svc-c'), END + 72 * HOUR);
    const marks = () => db.prepare(`SELECT value FROM meta WHERE key = 'history_hours_until'`).get() as { value: string } | undefined;
    // Retention runs in the writer's rounds after the commit that acknowledged the send: wait for its mark to move.
    const hoursUntil = () => Number(marks()?.value ?? 0);
    expect(await waitFor(async () => hoursUntil(), (v) => v > END - 24 * HOUR)).toBeGreaterThan(END - 24 * HOUR);
    // The memory store thins in one go, SQLite an hour a round: compare SQLite with its own statement only.
    let listed = 0;
    for (const since of [END - 29 * HOUR, END - 30 * HOUR, ...SINCES]) listed += direct(since, END);
    expect(listed).toBeGreaterThan(100);
    for (const since of SINCES) {
      const [a] = await Promise.all([servers.sqlite!.get(`/api/v1/changes?since=${since}&until=${END}&limit=100`)]);
      expect(a.status).toBe(200);
    }
  });
});
