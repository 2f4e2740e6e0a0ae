/**
 * The PostgreSQL store's history writes (running totals, src/store/history.ts),
 * safe for a fleet: every commit first locks the sentinel rows of the
 * entities it touches (in id order), so the new rows it inserts read totals
 * no other instance is changing, and its increments of later rows cannot
 * interleave with another's. Everything else is as SQLite's
 * (src/store/sqlite/history-write.ts), in batches of arrays.
 */
import { entityKey } from '../../model/delta.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../../model/history.js';
import type { HistoryMove, HistoryRow } from '../../writer/state.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { BACKFILL_EPOCH_KEY, BACKFILL_GRACE_MS, FLEET_NEWEST_KEY, HISTORY_SENTINEL, MARK_KEYS, MIRROR_EPOCH_KEY, THIN_CHUNK_ROWS, mirrorRows, movedMirrorRows, retentionTargets, type CumRow, type HistoryEntity, type HistoryMarks, type Retention, type ThinJob } from '../history.js';
import { moveRows } from '../history-moves.js';
import { EntityIds } from '../history-ids.js';
import { historyMarks } from './history.js';
import { writeHistoryLast } from './history-last.js';
import type { Pool, PoolClient } from './connection.js';

type Entity = HistoryEntity;

const keyOf = (e: Entity) => entityKey(e.kind, e.service, e.name, e.sub);

export class PostgresHistoryWriter {
  private readonly ids = new EntityIds();
  private thinning: ThinJob | undefined;
  /**
   * Each entity's history_last as this instance last wrote it (committed, and in the open commit): the column is
   * raised once per entity and minute, not at every commit. Another instance's template move may lower the column of
   * an entity this one raised in the same minute; the next minute's row raises it again.
   */
  private readonly raised = new Map<number, number>();
  private readonly raising = new Map<number, number>();
  /** The oldest and newest minute the open commit adds to (seal). */
  private adding: { oldest: number; newest: number } | undefined;
  /** The fleet's newest minute (FLEET_NEWEST_KEY) as this instance last committed or read it: raised when passed. */
  private fleetNewest = -Infinity;
  private sealedNewest = -Infinity;

  constructor(private readonly pool: Pool) {}

  async load(): Promise<void> {
    const r = await this.pool.query(`SELECT id, kind, service, name, sub FROM history_entity`);
    for (const e of r.rows as Array<Entity & { id: number }>) this.ids.load(keyOf(e), e.id);
  }

  committed(): void {
    this.ids.committed();
    this.adding = undefined;
    if (this.sealedNewest > this.fleetNewest) this.fleetNewest = this.sealedNewest;
    for (const [id, bucket] of this.raising) {
      if (bucket < 0) this.raised.delete(id);
      else this.raised.set(id, bucket);
    }
    this.raising.clear();
  }

  rolledBack(): void {
    this.ids.rolledBack();
    this.adding = undefined;
    this.sealedNewest = -Infinity;
    this.raising.clear();
  }

  /** history_last of `id` as this instance knows it (-1: unknown, raise). */
  private lastOf(id: number): number {
    return this.raising.get(id) ?? this.raised.get(id) ?? -1;
  }

  /**
   * Ids of `entities`, creating (with their sentinels) those no instance has yet; `fresh`: the database was just
   * read and none of them is there, whatever the cache says (another instance may have merged one away).
   */
  private async idsOf(c: PoolClient, entities: Entity[], fresh = false): Promise<EntityIds> {
    const missing = new Map<string, Entity>();
    for (const e of entities) if (fresh || !this.ids.has(keyOf(e))) missing.set(keyOf(e), e);
    if (missing.size > 0) {
      const list = [...missing.values()].sort((a, b) => cmp(keyOf(a), keyOf(b)));
      const cols = [list.map((e) => e.kind), list.map((e) => e.service), list.map((e) => e.name), list.map((e) => e.sub)];
      // DO NOTHING waits for an instance inserting the same entity to commit; the SELECT then sees its row.
      await c.query(`INSERT INTO history_entity (kind, service, name, sub) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
        ON CONFLICT (kind, service, name, sub) DO NOTHING`, cols);
      const r = await c.query(`SELECT e.id, e.kind, e.service, e.name, e.sub FROM history_entity e
        JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(kind, service, name, sub)
          ON e.kind = u.kind AND e.service = u.service AND e.name = u.name AND e.sub = u.sub`, cols);
      const ids: number[] = [];
      for (const e of r.rows as Array<Entity & { id: number }>) {
        this.ids.add(keyOf(e), e.id);
        ids.push(e.id);
      }
      await c.query(`INSERT INTO history (id, bucket, count, bytes) SELECT id, ${HISTORY_SENTINEL}, 0, 0 FROM unnest($1::bigint[]) AS u(id)
        ON CONFLICT (id, bucket) DO NOTHING`, [ids.sort((a, b) => a - b)]);
    }
    return this.ids;
  }

  /** Locks the sentinels of `ids` (in id order, as every instance does). */
  private async lock(c: PoolClient, ids: number[]): Promise<void> {
    await c.query(`SELECT id FROM history WHERE bucket = ${HISTORY_SENTINEL} AND id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [[...new Set(ids)].sort((a, b) => a - b)]);
  }

  async add(c: PoolClient, rows: readonly HistoryRow[], touched?: MirrorRow[]): Promise<void> {
    if (rows.length === 0) return;
    const a = (this.adding ??= { oldest: Infinity, newest: -Infinity });
    for (const h of rows) {
      if (h.minute < a.oldest) a.oldest = h.minute;
      if (h.minute > a.newest) a.newest = h.minute;
    }
    const ids = await this.idsOf(c, [...rows]);
    const withId = rows.map((h) => ({ h, id: ids.get(keyOf(h))! })).sort((a, b) => a.id - b.id || a.h.minute - b.h.minute);
    await this.lock(c, withId.map((x) => x.id));
    // One statement may not update a row twice: an entity's second minute in this commit goes in a second round.
    const rounds: Array<typeof withId> = [];
    let last = -1;
    let rank = 0;
    for (const x of withId) {
      rank = x.id === last ? rank + 1 : 0;
      last = x.id;
      (rounds[rank] ??= []).push(x);
    }
    for (const round of rounds) {
      const idArr = round.map((x) => x.id);
      const buckets = round.map((x) => x.h.minute);
      await c.query(`INSERT INTO history (id, bucket, count, bytes)
        SELECT d.id, d.bucket, n.count, n.bytes FROM unnest($1::bigint[], $2::bigint[]) AS d(id, bucket)
          CROSS JOIN LATERAL (SELECT h.count, h.bytes FROM history h WHERE h.id = d.id AND h.bucket > d.bucket ORDER BY h.bucket LIMIT 1) n
        ON CONFLICT (id, bucket) DO NOTHING`, [idArr, buckets]);
      await c.query(`UPDATE history h SET count = h.count + d.c, bytes = h.bytes + d.b
        FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS d(id, bucket, c, b) WHERE h.id = d.id AND h.bucket > d.bucket`,
        [idArr, buckets, round.map((x) => x.h.count), round.map((x) => x.h.bytes)]);
    }
    // Each entity's newest minute of this commit, where it is past what its row says.
    const newest = new Map<number, { e: Entity; bucket: number }>();
    for (const x of withId) {
      if (x.h.minute <= this.lastOf(x.id)) continue;
      const n = newest.get(x.id);
      if (n === undefined || n.bucket < x.h.minute) newest.set(x.id, { e: x.h, bucket: x.h.minute });
    }
    if (newest.size > 0) {
      await writeHistoryLast(c, [...newest.values()], false);
      for (const [id, n] of newest) this.raising.set(id, n.bucket);
    }
    // Read after the locks: a commit that moved one of these entities' history is committed by now, so its epoch shows.
    if (touched) await this.bucketValues(c, withId, touched, await epochOf(c));
  }

  /** The mirror's input: each touched minute's and hour's new value (totals at its end minus at its start). */
  private async bucketValues(c: PoolClient, rows: Array<{ h: HistoryRow; id: number }>, touched: MirrorRow[], epoch: number): Promise<void> {
    const asks: Array<{ h: HistoryRow; id: number; level: 'minute' | 'hour'; bucket: number; ms: number }> = [];
    const hours = new Set<string>();
    for (const x of rows) {
      asks.push({ ...x, level: 'minute', bucket: x.h.minute, ms: MINUTE_MS });
      const hour = bucketOf(x.h.minute, HOUR_MS);
      if (hours.has(`${x.id}:${hour}`)) continue;
      hours.add(`${x.id}:${hour}`);
      asks.push({ ...x, level: 'hour', bucket: hour, ms: HOUR_MS });
    }
    const first = (alias: string, t: string) => `CROSS JOIN LATERAL (SELECT h.count, h.bytes FROM history h WHERE h.id = d.id AND h.bucket >= ${t} ORDER BY h.bucket LIMIT 1) ${alias}`;
    const r = await c.query(`SELECT d.i, (b.count - a.count)::bigint AS count, (b.bytes - a.bytes)::bigint AS bytes
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS d(id, t0, t1, i) ${first('a', 'd.t0')} ${first('b', 'd.t1')}`,
      [asks.map((a) => a.id), asks.map((a) => a.bucket), asks.map((a) => a.bucket + a.ms)]);
    for (const row of r.rows as Array<{ i: number; count: number; bytes: number }>) {
      const a = asks[row.i - 1]!;
      touched.push({ level: a.level, kind: a.h.kind, service: a.h.service, name: a.h.name, sub: a.h.sub, bucket: a.bucket, count: row.count, bytes: row.bytes, epoch });
    }
  }

  /**
   * A commit's template moves, in order, in a fixed number of statements whatever their number (a commit early in a
   * run carries hundreds: one round trip per read, lock, delete and insert of each move was most of the PostgreSQL
   * commit's statements, 9 of 10 in `npm run bench -- --store postgres`). The entities' rows are read once, locked
   * (sentinels, id order), each move is applied to them in code in its order (moveRows, as SQLite and the memory
   * store do), and the entities it changed are written back: their rows replaced, the merged-away ones deleted.
   */
  async move(c: PoolClient, moves: readonly HistoryMove[], touched?: MirrorRow[]): Promise<void> {
    if (moves.length === 0) return;
    // The fleet's one epoch, raised under the meta row's lock (commits that move serialise on it; they are rare).
    const epoch = Number((await c.query(`INSERT INTO meta (key, value) VALUES ($1, '1')
      ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text RETURNING value`, [MIRROR_EPOCH_KEY])).rows[0].value);
    const ends = (m: HistoryMove): [Entity, Entity] => [
      { kind: 'template', service: m.service, name: m.severity, sub: m.from },
      { kind: 'template', service: m.service, name: m.severity, sub: m.to },
    ];
    // Which entities exist now (the commit's own history rows included), by one read.
    const named = new Map<string, Entity>();
    for (const m of moves) for (const e of ends(m)) named.set(keyOf(e), e);
    const list = [...named.values()];
    const found = await c.query(`SELECT e.id, e.kind, e.service, e.name, e.sub FROM history_entity e
      JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(kind, service, name, sub)
        ON e.kind = u.kind AND e.service = u.service AND e.name = u.name AND e.sub = u.sub`,
      [list.map((e) => e.kind), list.map((e) => e.service), list.map((e) => e.name), list.map((e) => e.sub)]);
    const idOf = new Map<string, number>();
    for (const e of found.rows as Array<Entity & { id: number }>) idOf.set(keyOf(e), Number(e.id));
    // The moves that apply (a move from an entity that does not exist, or no longer does, is none), and the
    // targets they need created.
    const alive = new Set(idOf.keys());
    const create = new Map<string, Entity>();
    for (const m of moves) {
      const [from, to] = ends(m);
      if (!alive.has(keyOf(from))) continue;
      if (!alive.has(keyOf(to)) && !idOf.has(keyOf(to))) create.set(keyOf(to), to);
      alive.add(keyOf(to));
      if (m.merged) alive.delete(keyOf(from));
    }
    if (create.size > 0) {
      const ids = await this.idsOf(c, [...create.values()], true);
      for (const k of create.keys()) idOf.set(k, ids.get(k)!);
    }
    const allIds = [...new Set(idOf.values())].sort((a, b) => a - b);
    await this.lock(c, allIds);
    const rows = new Map<number, CumRow[] | undefined>();
    for (const id of allIds) rows.set(id, []);
    const r = await c.query(`SELECT id, bucket, count, bytes FROM history WHERE id = ANY($1::bigint[]) ORDER BY id, bucket`, [allIds]);
    for (const row of r.rows as Array<CumRow & { id: number }>) rows.get(Number(row.id))!.push({ bucket: row.bucket, count: row.count, bytes: row.bytes });
    const changed = new Set<number>();
    const gone = new Set<number>();
    for (const m of moves) {
      const [from, to] = ends(m);
      const fromId = idOf.get(keyOf(from));
      const fromRows = fromId === undefined ? undefined : rows.get(fromId);
      if (fromRows === undefined) continue;
      const toId = idOf.get(keyOf(to))!;
      // A target merged away earlier in this commit starts again from nothing (it keeps its id).
      const toRows = rows.get(toId) ?? [{ bucket: HISTORY_SENTINEL, count: 0, bytes: 0 }];
      gone.delete(toId);
      const moved = moveRows(fromRows, toRows, m);
      rows.set(toId, moved.to);
      changed.add(fromId!).add(toId);
      if (m.merged) {
        rows.set(fromId!, undefined);
        gone.add(fromId!);
      } else rows.set(fromId!, moved.from);
      if (touched) {
        touched.push(...movedMirrorRows(to, toRows, moved.to, epoch));
        touched.push(...movedMirrorRows(from, fromRows, moved.from, epoch));
      }
    }
    if (changed.size === 0) return;
    const ids = [...changed].sort((a, b) => a - b);
    await c.query(`DELETE FROM history WHERE id = ANY($1::bigint[])`, [ids]);
    const out: { id: number[]; bucket: number[]; count: number[]; bytes: number[] } = { id: [], bucket: [], count: [], bytes: [] };
    for (const id of ids) {
      for (const x of rows.get(id) ?? []) {
        out.id.push(id);
        out.bucket.push(x.bucket);
        out.count.push(x.count);
        out.bytes.push(x.bytes);
      }
    }
    if (out.id.length > 0) {
      await c.query(`INSERT INTO history (id, bucket, count, bytes) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])`,
        [out.id, out.bucket, out.count, out.bytes]);
    }
    if (gone.size > 0) {
      await c.query(`DELETE FROM history_entity WHERE id = ANY($1::bigint[])`, [[...gone].sort((a, b) => a - b)]);
      for (const [k, id] of idOf) if (gone.has(id)) this.ids.delete(k);
    }
    // The rewritten entities' history_last, from the rows they have now (a merged-away one's row is gone with it).
    const last: Array<{ e: Entity; bucket: number }> = [];
    for (const [k, id] of idOf) {
      if (!changed.has(id)) continue;
      if (gone.has(id)) {
        this.raising.set(id, -1);
        continue;
      }
      let bucket = -1;
      for (const x of rows.get(id) ?? []) if (x.bucket < HISTORY_SENTINEL && x.bucket > bucket) bucket = x.bucket;
      last.push({ e: named.get(k)!, bucket });
      this.raising.set(id, bucket);
    }
    if (last.length > 0) await writeHistoryLast(c, last, true);
  }

  /**
   * The last statement of a commit that added history (after every other lock it takes): the fleet's newest minute
   * (FLEET_NEWEST_KEY) raised to this commit's newest, or read under a share lock, and the backfill epoch
   * (BACKFILL_EPOCH_KEY) bumped if the commit added to a minute more than BACKFILL_GRACE_MS before it. Readers keep
   * the totals at an edge at least the grace before the newest minute their snapshot saw (src/store/postgres/changes.ts).
   * The lock makes that safe: a commit that read the newest before another raised it holds the row until it commits,
   * so the raise, and any snapshot that sees the raise, comes after this commit and sees its rows; one that reads after
   * the raise compares its minutes with the raised newest, and counts as a backfill against it. Share locks do not
   * wait for each other: only a commit raising the newest (an instance's first commit of a minute) waits for those in
   * flight. An instance whose clock lags the fleet's by more than the grace counts each of its commits as a backfill:
   * right, but readers keep nothing while it sends.
   */
  async seal(c: PoolClient): Promise<void> {
    const a = this.adding;
    if (!a) return;
    let newest: number | undefined;
    if (a.newest <= this.fleetNewest) {
      const r = await c.query(`SELECT value FROM meta WHERE key = $1 FOR SHARE`, [FLEET_NEWEST_KEY]);
      if (r.rows.length > 0) newest = Number(r.rows[0].value);
    }
    if (newest === undefined) {
      // Never past the database's clock (its minute): an instance whose clock runs ahead would otherwise raise the fleet's newest
      // minute past everyone's, and every other instance's commits would count as backfills until real time caught
      // up. Capped, its own commits add after the newest (no backfill, no kept edge lies there) and the others' do
      // not lag it. The value still only grows, which is all seal's argument needs.
      const r = await c.query(`INSERT INTO meta (key, value)
        VALUES ($1, LEAST($2::bigint, (floor(extract(epoch FROM clock_timestamp()) / 60) * 60000)::bigint)::text)
        ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value::bigint, excluded.value::bigint)::text RETURNING value`, [FLEET_NEWEST_KEY, String(a.newest)]);
      newest = Number(r.rows[0].value);
    }
    this.sealedNewest = newest;
    if (a.oldest < newest - BACKFILL_GRACE_MS) {
      await c.query(`INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text`, [BACKFILL_EPOCH_KEY]);
    }
  }

  /** The mirror's resync, as SQLite's: whole entities after `after` in key order, about `limit` rows. */
  async page(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): Promise<MirrorRow[]> {
    const out: MirrorRow[] = [];
    // Read before the rows: the rows are then at least as new as the epoch they are sent under.
    const epoch = await epochOf(this.pool);
    let cursor = after ? [after.kind, after.service, after.name, after.sub] : ['', '', '', ''];
    while (out.length < limit) {
      const es = (await this.pool.query(`SELECT id, kind, service, name, sub FROM history_entity WHERE (kind, service, name, sub) > ($1, $2, $3, $4)
        ORDER BY kind, service, name, sub LIMIT 100`, cursor)).rows as Array<Entity & { id: number }>;
      if (es.length === 0) break;
      const r = await this.pool.query(`SELECT id, bucket, count, bytes FROM history WHERE id = ANY($1::bigint[]) AND bucket >= $2 ORDER BY id, bucket`, [es.map((e) => e.id), from]);
      const byId = new Map<number, CumRow[]>();
      for (const row of r.rows as Array<CumRow & { id: number }>) {
        let list = byId.get(row.id);
        if (!list) byId.set(row.id, (list = []));
        list.push(row);
      }
      for (const e of es) for (const x of mirrorRows(e, byId.get(e.id) ?? [], epoch)) if (x.level === level) out.push(x);
      const last = es[es.length - 1]!;
      cursor = [last.kind, last.service, last.name, last.sub];
    }
    return out;
  }

  /**
   * Thins towards retention's targets, as SQLite's (oldest stretch first,
   * its mark moved first, its rows walked in bucket order, a chunk per step). Instances of a
   * fleet may thin the same stretch at once: the deletes are idempotent and
   * a mark only ever moves forward (GREATEST).
   */
  async retain(now: number, retention: Retention, budgetMs: number): Promise<number> {
    const started = performance.now();
    const targets = retentionTargets(now, retention);
    let dropped = 0;
    while (performance.now() - started < budgetMs) {
      const job = this.thinning ?? (await this.nextStretch(targets));
      if (!job) break;
      this.thinning = job;
      if (job.level === 'drop') {
        const r = await this.pool.query(`DELETE FROM history WHERE (id, bucket) IN
          (SELECT id, bucket FROM history WHERE bucket < $1 ORDER BY bucket LIMIT ${THIN_CHUNK_ROWS})`, [job.to]);
        dropped += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < THIN_CHUNK_ROWS) this.thinning = undefined;
        continue;
      }
      const rows = (await this.pool.query(`SELECT id, bucket FROM history WHERE (bucket, id) > ($1, $2) AND bucket < $3
        ORDER BY bucket, id LIMIT ${THIN_CHUNK_ROWS}`, [job.after.bucket, job.after.id, job.to])).rows as Array<{ id: number; bucket: number }>;
      const gone: Array<{ id: number; bucket: number }> = [];
      for (const r of rows) {
        if (!job.seen.has(r.id)) job.seen.add(r.id);
        else gone.push(r);
      }
      if (gone.length > 0) {
        const r = await this.pool.query(`DELETE FROM history h USING unnest($1::bigint[], $2::bigint[]) AS g(id, bucket) WHERE h.id = g.id AND h.bucket = g.bucket`,
          [gone.map((g) => g.id), gone.map((g) => g.bucket)]);
        dropped += r.rowCount ?? 0;
      }
      if (rows.length < THIN_CHUNK_ROWS) this.thinning = undefined;
      else job.after = rows[rows.length - 1]!;
    }
    return dropped;
  }

  private async nextStretch(t: HistoryMarks): Promise<ThinJob | undefined> {
    const c = await this.pool.connect();
    try {
      const m = await historyMarks(c);
      const set = (k: keyof HistoryMarks, v: number) =>
        c.query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value::bigint, excluded.value::bigint)::text`, [MARK_KEYS[k], String(v)]);
      if (m.keptFrom < t.keptFrom) {
        await set('keptFrom', t.keptFrom);
        return { level: 'drop', from: 0, to: t.keptFrom, after: { bucket: -1, id: -1 }, seen: new Set() };
      }
      for (const [level, key, size, target] of [['day', 'daysUntil', DAY_MS, t.daysUntil], ['hour', 'hoursUntil', HOUR_MS, t.hoursUntil]] as const) {
        const done = Math.max(m[key], m.keptFrom, level === 'hour' ? m.daysUntil : 0);
        if (done >= target) continue;
        const b = (await c.query(`SELECT MIN(bucket) AS b FROM history WHERE bucket >= $1 AND bucket < $2`, [done, target])).rows[0]?.b as number | null;
        if (b === null || b === undefined) {
          await set(key, target);
          continue;
        }
        const from = bucketOf(b, size);
        await set(key, from + size);
        return { level, from, to: from + size, after: { bucket: from - 1, id: -1 }, seen: new Set() };
      }
      return undefined;
    } finally {
      c.release();
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The fleet's move epoch (src/store/history.ts, MIRROR_EPOCH_KEY): 0 until a commit moved template history. */
async function epochOf(c: { query: PoolClient['query'] }): Promise<number> {
  const r = await c.query(`SELECT value FROM meta WHERE key = $1`, [MIRROR_EPOCH_KEY]);
  return Number((r.rows[0] as { value: string } | undefined)?.value ?? 0);
}
