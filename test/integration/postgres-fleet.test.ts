/**
 * Many keytally instances, one PostgreSQL: three instances each sent a third
 * of one workload answer exactly as one instance sent all of it (counts,
 * key sets, every estimate, templates and their counts); template totals stay
 * exact at every commit of instances committing at once; racing instances
 * share one salt; two instances upserting the same rows as fast as they can
 * lose nothing; a key row evicted from a writer's cache loses no register; the
 * template poll sends only rows written since, and misses none of them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startKeytally, post, waitFor, type Keytally } from '../helpers/server.js';
import { freshDatabase, sql } from '../helpers/postgres.js';
import { CONFORMANCE_SALT } from '../conformance/backends.js';
import { entityQuestions, listQuestions, withoutTimes } from '../conformance/questions.js';
import { sendWorkload } from '../conformance/workload.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { PostgresWriteStore, templateHash } from '../../src/store/postgres/write.js';
import { openPool } from '../../src/store/postgres/connection.js';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { WriterState } from '../../src/writer/state.js';
import { emptyCounters } from '../../src/model/delta.js';
import { generateLogs, rng } from '../helpers/log-generator.js';
import { Hll } from '../../src/sketch/hll.js';

const started: Keytally[] = [];
afterAll(async () => {
  for (const k of started) {
    await k.stop();
    k.cleanup();
  }
});

async function instance(url: string, extra: string[] = []): Promise<Keytally> {
  const k = await startKeytally({
    args: ['--store', 'postgres', '--postgres-url', url, '--ack', 'durable', '--workers', '1', '--flush-ms', '20', '--commit-ms', '5', ...extra],
  });
  started.push(k);
  return k;
}

/**
 * Everything but templates must be equal (templates are compared on their own, see the test), and but the
 * bytes of resource keys: a resource is on the wire once per export request, and a third of the workload sent
 * from three SDK providers is more requests than all of it from one.
 */
function comparable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(comparable);
  if (v && typeof v === 'object') {
    const drop = new Set(['template_id', 'top_templates', 'templates', ...((v as { scope?: string }).scope === 'resource' ? ['bytes', 'bytes_percentage'] : [])]);
    return Object.fromEntries(Object.entries(v).filter(([k]) => !drop.has(k)).map(([k, x]) => [k, comparable(x)]));
  }
  return v;
}

describe('a fleet on one PostgreSQL', () => {
  it('three instances sent thirds of a workload answer as one instance sent all of it', async () => {
    const salt = ['--hash-salt', CONFORMANCE_SALT.toString()];
    const [fleetUrl, singleUrl] = await Promise.all([freshDatabase('kt_fleet'), freshDatabase('kt_single')]);
    const fleet = await Promise.all([0, 1, 2].map(() => instance(fleetUrl, salt)));
    const single = await instance(singleUrl, salt);
    const window = { from: Date.now(), to: 0 };
    await Promise.all([sendWorkload(fleet.map((k) => k.otlpUrl), 'split'), sendWorkload([single.otlpUrl], 'all')]);
    window.to = Date.now();
    // Templates. Every commit moves stored lines between template rows only by amounts it reads from the rows
    // (src/store/postgres/templates.ts), so the totals per (service, severity) are exact at once, before the
    // instances have even learnt each other's templates: counts and bytes, equal to the single instance's and to
    // the log records counted.
    const all = '/api/v1/logs/templates?limit=10000&sort=template';
    const shape = (items: any[]) => {
      const sums: Record<string, [number, number]> = {};
      const general = new Set<string>();
      for (const t of items) {
        const k = `${t.service}|${t.severity}`;
        sums[k] = [(sums[k]?.[0] ?? 0) + t.count, (sums[k]?.[1] ?? 0) + t.bytes];
        if (t.count >= 3 && t.template.includes('<*>')) general.add(`${k}|${t.template}`);
      }
      return { sums, general: [...general].sort() };
    };
    const want = shape((await single.get(all)).body.items);
    expect(want.general.length).toBeGreaterThan(20);
    expect(shape((await fleet[2]!.get(all)).body.items).sums).toEqual(want.sums);
    const logs = (await single.get('/api/v1/logs?limit=1000')).body.items;
    expect(Object.fromEntries(logs.map((l: any) => [`${l.service}|${l.severity}`, [l.sample_count, l.bytes]]))).toEqual(want.sums);
    // Then the instances converge (each polls what the others stored, every second) on the single instance's
    // templates, each with its count. This holds for this workload; it is not guaranteed for every one, because a
    // single instance's per-template counts themselves depend on the order its lines came in (see the
    // 'order-dependent' test in test/unit/template-log.test.ts and README "A fleet on one PostgreSQL").
    const perTemplate = (items: any[]) => items.map((t: any) => `${t.service}|${t.severity}|${t.template}|${t.count}|${t.bytes}`).sort();
    const wantTemplates = perTemplate((await single.get(all)).body.items);
    const same = (v: string[]) => JSON.stringify(v) === JSON.stringify(wantTemplates);
    await waitFor(async () => perTemplate((await fleet[0]!.get(all)).body.items), same, 20_000).catch(() => undefined);
    const got = (await fleet[0]!.get(all)).body.items;
    expect(perTemplate(got)).toEqual(wantTemplates);
    expect(shape(got).sums).toEqual(want.sums);
    // Two instances that mined one template stored one row: no (service, severity, text) twice.
    const rows = (await fleet[1]!.get(all)).body.items.map((t: any) => `${t.service}|${t.severity}|${t.template}`);
    expect(new Set(rows).size).toBe(rows.length);
    const problems: string[] = [];
    for (const q of [...listQuestions(), ...entityQuestions(['jobs.done', 'http.server.duration', 'queue.depth', 'requests'])]) {
      if (q.startsWith('/api/v1/logs/templates')) continue;
      // /changes ranks keys by bytes, and a resource key's bytes depend on how the requests were split (comparable()
      // leaves them out); its templates carry per-instance ids. Its sums are checked on every store in history.test.ts.
      if (q.startsWith('/api/v1/changes')) continue;
      const want = await single.get(q);
      // Any instance of the fleet answers for all of it.
      const got = await fleet[problems.length % 3]!.get(q);
      const a = JSON.stringify(comparable(withoutTimes(got.body, window, problems, `fleet ${q}`)));
      const b = JSON.stringify(comparable(withoutTimes(want.body, window, problems, `single ${q}`)));
      if (got.status !== want.status || a !== b) {
        // Show where they part, not the first 500 characters of both.
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        const at = Math.max(0, i - 200);
        problems.push(`${q}:\n  fleet  …${a.slice(at, i + 200)}\n  single …${b.slice(at, i + 200)}`);
      }
    }
    expect(problems.slice(0, 8).join('\n')).toBe('');
  });

  it('template totals stay exact at every commit: 4 instances committing at once, merges and splits, any interleaving', async () => {
    // In-process instances (writer state + PostgreSQL write store each), so the test can look at the database
    // after every round of concurrent commits and force the once-a-second poll of the others' templates.
    const url = await freshDatabase('kt_tpl');
    await migratePostgres(url);
    const n = 4;
    const stores = Array.from({ length: n }, () => new PostgresWriteStore(openPool(url, { max: 2, name: 'fleet-test' })));
    try {
      const states = stores.map(() => new WriterState({ precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 10_000, history: 'off' }));
      await Promise.all(stores.map((s, i) => s.load(states[i]!)));
      // Few values per variable, so words recur: the miners fold siblings into <*> and split them again.
      const r = rng(42);
      const sources = ['api', 'db'].map((service, si) => ({ service, lines: generateLogs({ seed: 3 + si, lines: 4000, poolSize: 6 }).lines }));
      const sent = new Map<string, [number, number]>();
      const moves = { whole: 0, split: 0 };
      let at = 0;
      for (let round = 0; round < 40; round++) {
        await Promise.all(stores.map(async (store, i) => {
          const state = states[i]!;
          const templates = [];
          for (let k = 0, m = 10 + Math.floor(r() * 40); k < m; k++) {
            const src = sources[Math.floor(r() * sources.length)]!;
            const severity = r() < 0.7 ? 'INFO' : 'WARN';
            const line = src.lines[at++ % src.lines.length]!;
            const bytes = line.length + 10;
            templates.push({ service: src.service, severity, template: line, count: 1, bytes, example: line, firstSeen: round, lastSeen: round });
            const key = `${src.service}|${severity}`;
            const [c, b] = sent.get(key) ?? [0, 0];
            sent.set(key, [c + 1, b + bytes]);
          }
          state.applyBatch({ worker: 0, seq: round, minute: 60_000, acks: [], services: [], metrics: [], labels: [], spans: [], logs: [], keys: [], templates, versions: [], counters: emptyCounters() });
          // Some instances learn the others' templates this round, some not: every interleaving of polls and commits.
          if (r() < 0.5) await store.pollTemplates();
          const c = state.takeChanges();
          for (const op of c.templateOps) if (op.op === 'move') moves[op.count === null ? 'whole' : 'split']++;
          await store.commit(c);
        }));
        const rows = await sql(url, `SELECT service, severity, sum(count)::int AS c, sum(bytes)::int AS b, min(count)::int AS least FROM body_templates GROUP BY 1, 2`);
        expect(Object.fromEntries(rows.map((x) => [`${x.service}|${x.severity}`, [x.c, x.b]]))).toEqual(Object.fromEntries(sent));
        // No row ever goes negative or stays behind empty.
        for (const x of rows) expect(x.least).toBeGreaterThan(0);
      }
      // The run did what it is for: merges, generalisations and splits, under concurrent commits.
      expect(moves.whole).toBeGreaterThan(10);
      expect(moves.split).toBeGreaterThan(0);
      const dup = await sql(url, `SELECT service, severity, template, count(*)::int AS n FROM body_templates GROUP BY 1, 2, 3 HAVING count(*) > 1`);
      expect(dup).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);

  it('the template poll learns every row written since the last one, also from a transaction that began before it and committed after', async () => {
    const url = await freshDatabase('kt_poll');
    await migratePostgres(url);
    const store = new PostgresWriteStore(openPool(url, { max: 2, name: 'fleet-test' }));
    const other = openPool(url, { max: 2, name: 'fleet-test-other' });
    try {
      const state = new WriterState({ precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 10_000, history: 'off' });
      await store.load(state);
      const templatesOf = () => state.miner('api', 'INFO').clusters().map((c) => c.template()).sort();
      // Another instance's rows as it writes them: hashed by text, `updated` drawn from the shared sequence.
      const insert = (q: { query: (s: string, v: unknown[]) => Promise<unknown> }, template: string) => q.query(
        `INSERT INTO body_templates (service, severity, template_hash, template_id, template, count, bytes, example, first_seen, last_seen, updated)
         VALUES ('api', 'INFO', $1, 1, $2, 1, 10, $2, 1, 1, nextval('body_templates_updated_seq'))`, [templateHash('api', 'INFO', template), template]);
      await insert(other, 'disk quota exceeded on volume data');
      expect(await store.pollTemplates()).toBe(false);
      expect(templatesOf()).toEqual(['disk quota exceeded on volume data']);
      // A transaction draws its `updated` number, a later one commits first and is polled; the first commits after.
      const slow = await other.connect();
      try {
        await slow.query('BEGIN');
        await insert(slow, 'cache warmed for every shard');
        await insert(other, 'queue drained by the janitor');
        await store.pollTemplates();
        expect(templatesOf()).toEqual(['disk quota exceeded on volume data', 'queue drained by the janitor']);
        await slow.query('COMMIT');
      } finally {
        slow.release();
      }
      await store.pollTemplates();
      expect(templatesOf()).toEqual(['cache warmed for every shard', 'disk quota exceeded on volume data', 'queue drained by the janitor']);
      // Rows the poll has seen are not sent again: an update of one comes back, the others do not.
      const seen: string[] = [];
      const learn = (store as unknown as { learnTemplates: (rows: Array<{ template: string }>) => boolean });
      const orig = learn.learnTemplates.bind(store);
      learn.learnTemplates = (rows) => {
        seen.push(...rows.map((r) => r.template));
        return orig(rows);
      };
      await other.query(`UPDATE body_templates SET count = count + 1 WHERE template = 'queue drained by the janitor'`);
      await store.pollTemplates();
      expect(seen).toEqual(['queue drained by the janitor']);
    } finally {
      await other.end();
      await store.close();
    }
  });

  it('a key row evicted from the writer cache keeps what it stored: its own registers, then another instance\'s', async () => {
    // sketchCacheRows 1: every commit evicts the key rows it wrote but one, so the next delta of a key starts a
    // new sketch in the writer, which must be merged with what the database holds before it is written.
    const url = await freshDatabase('kt_evict');
    await migratePostgres(url);
    const stores = [0, 1].map(() => new PostgresWriteStore(openPool(url, { max: 2, name: 'evict-test' })));
    try {
      const states = stores.map(() => new WriterState({ precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 1, history: 'off' }));
      await Promise.all(stores.map((s, i) => s.load(states[i]!)));
      const all = new Hll(14);
      let v = 0;
      const keyDelta = (key: string, values: number) => {
        const h = new Hll(14);
        for (let i = 0; i < values; i++, v++) {
          const hi = Math.imul(v + 1, 2654435761) >>> 0;
          const lo = Math.imul(v + 7, 40503) >>> 0;
          h.add(hi, lo);
          if (key === 'k') all.add(hi, lo);
        }
        return { service: 'svc', scope: 'log' as const, key, samples: values, bytes: values, sketch: h.serialize(), firstSeen: 1, lastSeen: 2 };
      };
      const commit = async (i: number, keys: ReturnType<typeof keyDelta>[]) => {
        states[i]!.applyBatch({ worker: 0, seq: 0, minute: 60_000, acks: [], services: [], metrics: [], labels: [], spans: [], logs: [], keys, templates: [], versions: [], counters: emptyCounters() });
        await stores[i]!.commit(states[i]!.takeChanges());
      };
      // Instance 0 alone: k, then other keys (k is evicted), then k again, twice (its own row, read back).
      await commit(0, [keyDelta('k', 300)]);
      await commit(0, [keyDelta('a', 10), keyDelta('b', 10)]);
      await commit(0, [keyDelta('k', 200)]);
      await commit(0, [keyDelta('c', 10), keyDelta('d', 10)]);
      await commit(0, [keyDelta('k', 100)]);
      // Instance 1 writes k, then instance 0 again (another's row), then instance 1 (its own, evicted meanwhile).
      await commit(1, [keyDelta('k', 400)]);
      await commit(0, [keyDelta('k', 50)]);
      await commit(1, [keyDelta('e', 10), keyDelta('f', 10)]);
      await commit(1, [keyDelta('k', 25)]);
      const [row] = await sql(url, `SELECT sample_count::int AS n, cardinality_estimate::int AS e, sketch FROM key_metadata WHERE key = 'k'`);
      expect(row!.n).toBe(300 + 200 + 100 + 400 + 50 + 25);
      // Every register of every delta is in the stored sketch: the same estimate as one sketch of all the values.
      expect(Hll.deserialize(row!.sketch).estimate()).toBe(all.estimate());
      expect(row!.e).toBe(Math.round(all.estimate()));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('an instance whose clock runs ahead does not raise the fleet\'s newest minute past the database\'s clock: the others\' commits are no backfills', async () => {
    const url = await freshDatabase('kt_clock');
    const ahead = await instance(url, ['--test-clock', 'on']);
    const onTime = await instance(url);
    const meta = async (key: string) => Number((await sql(url, `SELECT value FROM meta WHERE key = $1`, [key]))[0]?.value ?? 0);
    const body = (service: string) => encodeProto('logs', logsRequest([{ resource: { 'service.name': service }, logs: [{ body: 'clock check', severityText: 'INFO' }] }]));
    // Two days ahead (the test clock's header stands for a clock that runs ahead).
    const r = await post(ahead, '/v1/logs', body('ahead'), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(Date.now() + 2 * 86_400_000) });
    expect(r.status).toBe(200);
    const newest = await meta('history_newest');
    expect(newest).toBeGreaterThan(0);
    expect(newest).toBeLessThanOrEqual(Date.now());
    // An instance on time adds to this minute: within the grace of the fleet's newest, so not a backfill.
    const backfills = await meta('history_backfill_epoch');
    expect((await post(onTime, '/v1/logs', body('on-time'))).status).toBe(200);
    expect(await meta('history_backfill_epoch')).toBe(backfills);
  });

  it('instances racing at start share one salt', async () => {
    const url = await freshDatabase('kt_salt');
    await migratePostgres(url);
    const stores = Array.from({ length: 4 }, () => new PostgresWriteStore(openPool(url, { max: 1, name: 'salt-test' })));
    try {
      const salts = await Promise.all(stores.map((s) => s.salt()));
      expect(new Set(salts.map(String)).size).toBe(1);
      const rows = await sql(url, `SELECT value FROM meta WHERE key = 'hash_salt'`);
      expect(rows).toEqual([{ value: salts[0]!.toString() }]);
      // One that asks for another salt is refused, with the reason.
      await expect(stores[0]!.salt(salts[0]! + 1n)).rejects.toThrow(/differs from the salt this store was created with/);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('two instances upserting the same rows as fast as they can lose nothing', async () => {
    const url = await freshDatabase('kt_race');
    const a = await instance(url);
    const b = await instance(url);
    // Bounded by time, not by count: each instance commits every few ms, so a few seconds are
    // hundreds of overlapping transactions on the same rows (the 30 s adds nothing but wall time).
    const until = Date.now() + 8_000;
    const acked = new Map<Keytally, number>([[a, 0], [b, 0]]);
    const values = new Map<Keytally, Set<string>>([[a, new Set()], [b, new Set()]]);
    let seq = 0;
    const loop = async (k: Keytally, tag: string) => {
      while (Date.now() < until) {
        const n = seq++;
        // Same services, keys and template for both; values and one key of each instance's own.
        const logs = Array.from({ length: 20 }, (_, i) => ({
          body: `request ${n * 20 + i} done`,
          severityText: 'INFO',
          attrs: { shared: `v${(n * 20 + i) % 5000}`, [`only.${tag}`]: 'x', [`burst.${n % 50}`]: String(i) },
        }));
        const r = await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'race' }, logs }])));
        if (r.status === 200) {
          acked.set(k, acked.get(k)! + 20);
          for (let i = 0; i < 20; i++) values.get(k)!.add(`v${(n * 20 + i) % 5000}`);
        }
      }
    };
    await Promise.all([loop(a, 'a'), loop(a, 'a'), loop(b, 'b'), loop(b, 'b')]);
    const total = acked.get(a)! + acked.get(b)!;
    expect(total).toBeGreaterThan(1000);
    const svc = (await a.get('/api/v1/services?q=race')).body.items[0];
    expect(svc.log_records).toBe(total);
    const logs = (await b.get('/api/v1/logs?service=race')).body.items[0];
    expect(logs.sample_count).toBe(total);
    expect(logs.attribute_keys).toEqual(expect.arrayContaining(['only.a', 'only.b', 'shared', 'burst.0', 'burst.49']));
    const tpl = (await a.get('/api/v1/logs/templates?service=race')).body;
    expect(tpl.items.reduce((s: number, t: any) => s + t.count, 0)).toBe(total);
    // One stored template though both instances mined it.
    expect(tpl.total).toBe(1);
    const shared = (await a.get('/api/v1/keys?service=race&q=shared&scope=log')).body.items[0];
    expect(shared.sample_count).toBe(total);
    // The sketch holds both instances' registers: its estimate is of the union, within HLL's error.
    const union = new Set([...values.get(a)!, ...values.get(b)!]).size;
    expect(Math.abs(shared.cardinality_estimate / union - 1)).toBeLessThan(0.03);
    // The same estimate as a fresh sketch of the union would give: no register lost to a race.
    const only = (await a.get('/api/v1/keys?service=race&q=only.&scope=log')).body.items;
    expect(only.map((k: any) => k.key).sort()).toEqual(['only.a', 'only.b']);
  }, 60_000);
});
