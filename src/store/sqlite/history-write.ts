/**
 * The SQLite store's history writes (running totals, src/store/history.ts):
 * a commit's minute increments, template moves, the mirror's bucket values,
 * its resync pages, and retention's thinning. Runs inside the writer's
 * transactions, on the writer's connection.
 */
import type Database from 'better-sqlite3';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../../model/history.js';
import type { HistoryMove, HistoryRow } from '../../writer/state.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { BACKFILL_EPOCH_KEY, BACKFILL_GRACE_MS, HISTORY_SENTINEL, MARK_KEYS, MIRROR_EPOCH_KEY, THIN_CHUNK_ROWS, mirrorRows, movedMirrorRows, retentionTargets, type CumRow, type HistoryEntity, type HistoryMarks, type Retention, type ThinJob } from '../history.js';
import { moveRows } from '../history-moves.js';
import { EntityIds } from '../history-ids.js';
import { entityKey } from '../../model/delta.js';
import { historyMarks } from './history.js';
import { HistoryLast } from './history-last.js';

type Entity = HistoryEntity;

export class SqliteHistoryWriter {
  /** entityKey(kind, service, name, sub) → history_entity.id, for every entity in the store. */
  private readonly ids = new EntityIds();
  private readonly s;
  /** The entity tables' newest-minute column (src/store/sqlite/history-last.ts). */
  private readonly last: HistoryLast;
  /**
   * Per entity, the newest minute whose row this writer knows exists: a commit adding to that minute again (the
   * steady state: many commits a minute) skips the insert and runs one UPDATE. Forgotten on anything that may
   * delete rows (a rollback, a move, retention).
   */
  private readonly knownMinute = new Map<number, number>();
  /** Where thinning stopped inside a stretch (the next id), so the next round goes on from there. */
  private thinning: ThinJob | undefined;
  /** The move epoch (meta MIRROR_EPOCH_KEY), and its value as last committed (a rollback goes back to it). */
  private epoch: number;
  private committedEpoch: number;
  /**
   * The newest minute with a row (the committed one at start, then every minute added, even if rolled back:
   * too new only makes more commits count as backfills), and the backfill epoch (BACKFILL_EPOCH_KEY).
   */
  private newest: number;
  private backfills: number;

  constructor(private readonly db: Database.Database) {
    this.last = new HistoryLast(db);
    this.s = {
      entity: db.prepare(`INSERT INTO history_entity (kind, service, name, sub) VALUES (?, ?, ?, ?) RETURNING id`),
      entityDelete: db.prepare(`DELETE FROM history_entity WHERE id = ?`),
      sentinel: db.prepare(`INSERT INTO history (id, bucket, count, bytes) VALUES (?, ${HISTORY_SENTINEL}, 0, 0)`),
      // A new row holds the totals before its bucket: those of the next row (at least the sentinel), before this increment.
      row: db.prepare(`INSERT OR IGNORE INTO history (id, bucket, count, bytes)
        SELECT id, @bucket, count, bytes FROM history WHERE id = @id AND bucket > @bucket ORDER BY bucket LIMIT 1`),
      later: db.prepare(`UPDATE history SET count = count + @count, bytes = bytes + @bytes WHERE id = @id AND bucket > @bucket`),
      at: db.prepare(`SELECT count, bytes FROM history WHERE id = ? AND bucket >= ? ORDER BY bucket LIMIT 1`),
      rows: db.prepare(`SELECT bucket, count, bytes FROM history WHERE id = ? ORDER BY bucket`),
      rowsFrom: db.prepare(`SELECT bucket, count, bytes FROM history WHERE id = ? AND bucket >= ? ORDER BY bucket`),
      deleteRows: db.prepare(`DELETE FROM history WHERE id = ?`),
      insert: db.prepare(`INSERT INTO history (id, bucket, count, bytes) VALUES (?, ?, ?, ?)`),
      oldest: db.prepare(`SELECT MIN(bucket) AS b FROM history WHERE bucket >= ? AND bucket < ?`),
      walk: db.prepare(`SELECT id, bucket FROM history WHERE (bucket, id) > (?, ?) AND bucket < ? ORDER BY bucket, id LIMIT ${THIN_CHUNK_ROWS}`),
      deleteRow: db.prepare(`DELETE FROM history WHERE id = ? AND bucket = ?`),
      drop: db.prepare(`DELETE FROM history WHERE (id, bucket) IN (SELECT id, bucket FROM history WHERE bucket < ? ORDER BY bucket LIMIT ${THIN_CHUNK_ROWS})`),
      mark: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      entities: db.prepare(`SELECT id, kind, service, name, sub FROM history_entity WHERE (kind, service, name, sub) > (?, ?, ?, ?)
        ORDER BY kind, service, name, sub LIMIT ?`),
    };
    for (const e of db.prepare(`SELECT id, kind, service, name, sub FROM history_entity`).iterate() as Iterable<Entity & { id: number }>) {
      this.ids.load(entityKey(e.kind, e.service, e.name, e.sub), e.id);
    }
    const epoch = db.prepare(`SELECT value FROM meta WHERE key = ?`).get(MIRROR_EPOCH_KEY) as { value: string } | undefined;
    this.epoch = this.committedEpoch = Number(epoch?.value ?? 0);
    const newest = db.prepare(`SELECT MAX(bucket) AS b FROM history WHERE bucket < ${HISTORY_SENTINEL}`).get() as { b: number | null };
    this.newest = newest.b ?? -Infinity;
    const backfills = db.prepare(`SELECT value FROM meta WHERE key = ?`).get(BACKFILL_EPOCH_KEY) as { value: string } | undefined;
    this.backfills = Number(backfills?.value ?? 0);
  }

  private idOf(e: Entity, create: boolean): number | undefined {
    const k = entityKey(e.kind, e.service, e.name, e.sub);
    let id = this.ids.get(k);
    if (id === undefined && create) {
      id = (this.s.entity.get(e.kind, e.service, e.name, e.sub) as { id: number }).id;
      this.s.sentinel.run(id);
      this.ids.add(k, id);
    }
    return id;
  }

  /** The transaction committed: its new ids stay. */
  committed(): void {
    this.ids.committed();
    this.committedEpoch = this.epoch;
  }

  /** The transaction rolled back: its ids are as before it. */
  rolledBack(): void {
    this.ids.rolledBack();
    this.knownMinute.clear();
    this.epoch = this.committedEpoch;
  }

  /**
   * Adds a commit's minute increments; with `touched`, pushes the new values
   * of every minute and hour bucket it changed (the mirror's input).
   */
  add(rows: readonly HistoryRow[], touched?: MirrorRow[]): void {
    // Per entity in bucket order: each increment then sees the ones before it in its new row's totals.
    const sorted = [...rows].sort((a, b) => cmp(a.kind, b.kind) || cmp(a.service, b.service) || cmp(a.name, b.name) || cmp(a.sub, b.sub) || a.minute - b.minute);
    let oldest = Infinity;
    let newest = -Infinity;
    for (const h of rows) {
      if (h.minute < oldest) oldest = h.minute;
      if (h.minute > newest) newest = h.minute;
    }
    // Totals at times older than the grace change: what SQLite's /changes kept of them is stale (read in this commit).
    if (oldest < this.newest - BACKFILL_GRACE_MS) this.s.mark.run(BACKFILL_EPOCH_KEY, String(++this.backfills));
    if (newest > this.newest) this.newest = newest;
    for (const h of sorted) {
      const id = this.idOf(h, true)!;
      const p = { id, bucket: h.minute, count: h.count, bytes: h.bytes };
      if (this.knownMinute.get(id) !== h.minute) {
        this.s.row.run(p);
        // Once per entity and minute, like the row (the entity's table row is written earlier in the commit).
        this.last.raiseTo(h, h.minute);
        if ((this.knownMinute.get(id) ?? -Infinity) < h.minute) this.knownMinute.set(id, h.minute);
      }
      this.s.later.run(p);
    }
    if (touched) {
      const hours = new Set<string>();
      for (const h of sorted) {
        const id = this.ids.get(entityKey(h.kind, h.service, h.name, h.sub))!;
        touched.push(this.bucketValue(h, id, 'minute', h.minute, MINUTE_MS));
        const hour = bucketOf(h.minute, HOUR_MS);
        const k = `${id}:${hour}`;
        if (hours.has(k)) continue;
        hours.add(k);
        touched.push(this.bucketValue(h, id, 'hour', hour, HOUR_MS));
      }
    }
  }

  private bucketValue(e: Entity, id: number, level: 'minute' | 'hour', bucket: number, ms: number): MirrorRow {
    const a = this.s.at.get(id, bucket) as CumRow;
    const b = this.s.at.get(id, bucket + ms) as CumRow;
    return { level, kind: e.kind, service: e.service, name: e.name, sub: e.sub, bucket, count: b.count - a.count, bytes: b.bytes - a.bytes, epoch: this.epoch };
  }

  /** Applies template moves in order (after the commit's increments, as the miner made them). */
  move(moves: readonly HistoryMove[], touched?: MirrorRow[]): void {
    if (moves.length === 0) return;
    this.knownMinute.clear();
    // A new epoch: the values this commit leaves in the moved buckets win in the mirror over what they held.
    this.s.mark.run(MIRROR_EPOCH_KEY, String(++this.epoch));
    for (const m of moves) {
      const from = { kind: 'template' as const, service: m.service, name: m.severity, sub: m.from };
      const fromId = this.idOf(from, false);
      if (fromId === undefined) continue;
      const to = { kind: 'template' as const, service: m.service, name: m.severity, sub: m.to };
      const toId = this.idOf(to, true)!;
      const before = { from: this.s.rows.all(fromId) as CumRow[], to: this.s.rows.all(toId) as CumRow[] };
      const moved = moveRows(before.from, before.to, m);
      this.replace(toId, moved.to);
      this.last.setFrom(to, moved.to);
      if (m.merged) {
        this.s.deleteRows.run(fromId);
        this.s.entityDelete.run(fromId);
        this.ids.delete(entityKey(from.kind, from.service, from.name, from.sub));
      } else {
        this.replace(fromId, moved.from);
        this.last.setFrom(from, moved.from);
      }
      if (touched) {
        touched.push(...movedMirrorRows(to, before.to, moved.to, this.epoch));
        touched.push(...movedMirrorRows(from, before.from, moved.from, this.epoch));
      }
    }
  }

  private replace(id: number, rows: readonly CumRow[]): void {
    this.s.deleteRows.run(id);
    for (const r of rows) this.s.insert.run(id, r.bucket, r.count, r.bytes);
  }

  /**
   * The mirror's resync: bucket values since `from` of the entities after
   * `after` in (kind, service, name, sub) order, whole entities at a time
   * (about `limit` rows).
   */
  page(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): MirrorRow[] {
    const out: MirrorRow[] = [];
    let cursor = after ? [after.kind, after.service, after.name, after.sub] : ['', '', '', ''];
    while (out.length < limit) {
      const batch = this.s.entities.all(...cursor, 100) as Array<Entity & { id: number }>;
      if (batch.length === 0) break;
      for (const e of batch) {
        for (const r of mirrorRows(e, this.s.rowsFrom.all(e.id, from) as CumRow[], this.epoch)) if (r.level === level) out.push(r);
      }
      const last = batch[batch.length - 1]!;
      cursor = [last.kind, last.service, last.name, last.sub];
    }
    return out;
  }

  marks(): HistoryMarks {
    return historyMarks(this.db);
  }

  /**
   * Thins the running totals towards retention's targets at `now`, within
   * `budgetMs`: minutes to hours, hours to days, then drops days, oldest
   * stretch first, a chunk of rows per step. The mark moves first,
   * so a question asked meanwhile already reads that stretch at the coarser
   * resolution (which the rows not yet thinned answer just as well). Its
   * rows are walked in bucket order: the first of each entity stays.
   */
  retain(now: number, retention: Retention, budgetMs: number): number {
    const started = performance.now();
    const targets = retentionTargets(now, retention);
    let dropped = 0;
    while (performance.now() - started < budgetMs) {
      const job = this.thinning ?? this.nextStretch(targets);
      if (!job) break;
      this.thinning = job;
      if (job.level === 'drop') {
        const n = this.s.drop.run(job.to).changes;
        dropped += n;
        if (n < THIN_CHUNK_ROWS) this.thinning = undefined;
        continue;
      }
      const rows = this.s.walk.all(job.after.bucket, job.after.id, job.to) as Array<{ id: number; bucket: number }>;
      this.db.transaction(() => {
        for (const r of rows) {
          if (!job.seen.has(r.id)) job.seen.add(r.id);
          else dropped += this.s.deleteRow.run(r.id, r.bucket).changes;
        }
      })();
      if (rows.length < THIN_CHUNK_ROWS) this.thinning = undefined;
      else job.after = rows[rows.length - 1]!;
    }
    if (dropped > 0) this.knownMinute.clear();
    return dropped;
  }

  /** The oldest stretch (an hour, a day, or everything before keptFrom) not yet thinned; its mark moves now. */
  private nextStretch(t: HistoryMarks): ThinJob | undefined {
    const m = this.marks();
    const set = (k: keyof HistoryMarks, v: number) => this.s.mark.run(MARK_KEYS[k], String(v));
    if (m.keptFrom < t.keptFrom) {
      set('keptFrom', t.keptFrom);
      return { level: 'drop', from: 0, to: t.keptFrom, after: { bucket: -1, id: -1 }, seen: new Set() };
    }
    for (const [level, key, size, target] of [['day', 'daysUntil', DAY_MS, t.daysUntil], ['hour', 'hoursUntil', HOUR_MS, t.hoursUntil]] as const) {
      // Hours before daysUntil are thinned to days already.
      const done = Math.max(m[key], m.keptFrom, level === 'hour' ? m.daysUntil : 0);
      if (done >= target) continue;
      const b = (this.s.oldest.get(done, target) as { b: number | null }).b;
      if (b === null) {
        set(key, target);
        continue;
      }
      const from = bucketOf(b, size);
      set(key, from + size);
      return { level, from, to: from + size, after: { bucket: from - 1, id: -1 }, seen: new Set() };
    }
    return undefined;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
