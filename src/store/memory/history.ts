/**
 * The memory store's history: each entity's running totals (src/store/history.ts)
 * as a sorted array ending in the sentinel, so a window's sum is two binary
 * searches per entity, as the SQL stores' two index seeks. Not under the
 * rows' LRU: retention thins it, and past the store's bound it is thinned
 * ahead and, when nothing is left to thin, its least recently updated
 * entities are forgotten (dropOldest); its size counts in size().
 */
import { entityKey } from '../../model/delta.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../../model/history.js';
import type { HistoryKind, HistoryMove, HistoryRow } from '../../writer/state.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { compareCodePoints } from '../queries.js';
import {
  HISTORY_SENTINEL, NO_MARKS, addSeries, bucketsOf, cumAt, indexAtOrAfter, mirrorRows, movedMirrorRows, resolveWindow, retentionTargets,
  type ChangeLists, type ChangeSum, type ChangesQuery, type CumRow, type HistoryFilter, type HistoryMarks, type HistorySum, type Retention, type SeriesPoint,
  type SeriesQuery, type Window,
} from '../history.js';
import { moveRows } from '../history-moves.js';
import { TopN } from '../changes-top.js';
import { KindEdges, type EdgeArrays, type SlotTable } from './edge-totals.js';

/** What a table row keeps of its entity (src/store/memory/tables.ts, Entry.entity): its rows, and whether it is gone. */
export interface HistoryEntityRef {
  rows: CumRow[];
  /** Forgotten (merged away, or evicted): a row that cached it looks again. */
  gone: boolean;
  /** Its place in its kind's kept edges (edgeTotals). */
  slot: number;
}

interface Entity extends HistoryEntityRef {
  kind: HistoryKind;
  service: string;
  name: string;
  sub: string;
  /** Sorted by bucket; the last is the sentinel (all-time totals). */
  rows: CumRow[];
}

/** A rough size per running-total row and per entity, for size(). */
const ROW_BYTES = 48;
const ENTITY_OVERHEAD = 160;

export class MemoryHistory {
  private readonly entities = new Map<string, Entity>();
  /** The same entities by kind: a question about one kind walks only those (20 log entities, not 120,000 of all kinds). */
  private readonly byKind = new Map<HistoryKind, Set<Entity>>();
  private marks_: HistoryMarks = { ...NO_MARKS };
  bytes = 0;
  /** The move epoch (src/store/history.ts, MIRROR_EPOCH_KEY): one more for each commit that moves template history. */
  private epoch = 0;
  /**
   * The newest minute an increment was added to (-Infinity: none; moves and thinning add no minute): every row's
   * bucket is at or before it, so a window ending after it ends after every row and its sums are the all-time totals.
   */
  newest = -Infinity;
  /** Entities created so far: a row that found none looks again only once this moved. */
  created = 0;
  /** One more at every change of any running total or mark (add, move, thinning, eviction): what a cached window view was read at. */
  version = 0;
  /** Per kind, every entity's totals at the edges /changes asked about, kept up to date by the commits (changes()). */
  private readonly edges = new Map<HistoryKind, KindEdges<Entity>>();

  private edgesOf(kind: HistoryKind): KindEdges<Entity> {
    let k = this.edges.get(kind);
    if (!k) this.edges.set(kind, (k = new KindEdges<Entity>()));
    return k;
  }

  marks(): HistoryMarks {
    return this.marks_;
  }

  /** An entity, moved to the end of the Map's order when `create` (an update): the Map is also the LRU order. */
  private entity(kind: HistoryKind, service: string, name: string, sub: string, create: boolean): Entity | undefined {
    const k = entityKey(kind, service, name, sub);
    let e = this.entities.get(k);
    if (e && create) {
      this.entities.delete(k);
      this.entities.set(k, e);
    }
    if (!e && create) {
      e = { kind, service, name, sub, rows: [{ bucket: HISTORY_SENTINEL, count: 0, bytes: 0 }], gone: false, slot: -1 };
      this.edgesOf(kind).join(e);
      this.created++;
      this.entities.set(k, e);
      let set = this.byKind.get(kind);
      if (!set) this.byKind.set(kind, (set = new Set()));
      set.add(e);
      this.bytes += ENTITY_OVERHEAD + ROW_BYTES + 2 * (service.length + name.length + sub.length);
    }
    return e;
  }

  /** Adds one commit's minute increments; `touched`, when given, gets the minute and hour buckets' new values (the mirror's input). */
  add(rows: readonly HistoryRow[], touched?: MirrorRow[]): void {
    if (rows.length > 0) this.version++;
    for (const h of rows) {
      if (h.minute > this.newest) this.newest = h.minute;
      const e = this.entity(h.kind, h.service, h.name, h.sub, true)!;
      const r = e.rows;
      let i = indexAtOrAfter(r, h.minute);
      const newRow = r[i]!.bucket !== h.minute;
      if (newRow) {
        // A new row holds the totals before its bucket: those of the next row, before this increment.
        r.splice(i, 0, { bucket: h.minute, count: r[i]!.count, bytes: r[i]!.bytes });
        this.bytes += ROW_BYTES;
      }
      for (i++; i < r.length; i++) {
        r[i]!.count += h.count;
        r[i]!.bytes += h.bytes;
      }
      this.edges.get(h.kind)!.added(e, h.minute, h.count, h.bytes, newRow);
      if (touched) {
        for (const [level, bucket, ms] of [['minute', h.minute, MINUTE_MS], ['hour', bucketOf(h.minute, HOUR_MS), HOUR_MS]] as const) {
          const a = cumAt(r, bucket);
          const b = cumAt(r, bucket + ms);
          touched.push({ level, kind: h.kind, service: h.service, name: h.name, sub: h.sub, bucket, count: b.count - a.count, bytes: b.bytes - a.bytes, epoch: this.epoch });
        }
      }
    }
  }

  /** Template moves, in order, after the commit's increments. */
  move(moves: readonly HistoryMove[], touched?: MirrorRow[]): void {
    if (moves.length > 0) {
      this.epoch++;
      this.version++;
    }
    for (const m of moves) {
      const from = this.entity('template', m.service, m.severity, m.from, false);
      if (!from) continue;
      const to = this.entity('template', m.service, m.severity, m.to, true)!;
      const before = { from: from.rows, to: to.rows };
      const moved = moveRows(from.rows, to.rows, m);
      this.bytes += ROW_BYTES * (moved.to.length - to.rows.length);
      to.rows = moved.to;
      const edges = this.edgesOf('template');
      edges.replaced(to, before.to);
      if (m.merged) {
        this.entities.delete(entityKey('template', m.service, m.severity, m.from));
        this.byKind.get('template')?.delete(from);
        edges.leave(from);
        from.gone = true;
        this.bytes -= ENTITY_OVERHEAD + ROW_BYTES * from.rows.length + 2 * (m.service.length + m.severity.length + m.from.length);
      } else {
        this.bytes += ROW_BYTES * (moved.from.length - from.rows.length);
        from.rows = moved.from;
        edges.replaced(from, before.from);
      }
      if (touched) {
        touched.push(...movedMirrorRows(to, before.to, moved.to, this.epoch));
        touched.push(...movedMirrorRows(from, before.from, moved.from, this.epoch));
      }
    }
  }

  private *matching(f: HistoryFilter): Generator<Entity> {
    for (const e of this.byKind.get(f.kind) ?? []) {
      if (f.service !== undefined && e.service !== f.service) continue;
      if (f.name !== undefined && e.name !== f.name) continue;
      if (f.sub !== undefined && e.sub !== f.sub) continue;
      yield e;
    }
  }

  /**
   * One entity's sum over a window already resolved (resolve()), or undefined when it had nothing in it: a list that
   * keeps few of a table's rows (what is new since T) asks its rows' entities, not every entity's sums.
   */
  sumOf(kind: HistoryKind, service: string, name: string, sub: string, r: Window): { count: number; bytes: number } | undefined {
    const e = this.entities.get(entityKey(kind, service, name, sub));
    if (!e) return undefined;
    const a = cumAt(e.rows, r.from);
    const b = cumAt(e.rows, r.to);
    return b.count !== a.count || b.bytes !== a.bytes ? { count: b.count - a.count, bytes: b.bytes - a.bytes } : undefined;
  }

  /** One entity, if it has history (a row's, for its window sums: src/store/memory/read.ts). */
  find(kind: HistoryKind, service: string, name: string, sub: string): HistoryEntityRef | undefined {
    return this.entities.get(entityKey(kind, service, name, sub));
  }

  /**
   * Every entity's totals of `kind` before `r.from` and before `r.to` (a window already resolved), by slot
   * (HistoryEntityRef.slot), from the kept edges /changes reads too (src/store/memory/edge-totals.ts): a list of
   * what is new in /changes' window reads its rows' sums there, not in each entity's rows. Valid until the next
   * change of the history (MemoryHistory.version).
   */
  edgeTotals(kind: HistoryKind, r: Window): { from: EdgeArrays; to: EdgeArrays; slots: SlotTable } {
    const k = this.edgesOf(kind);
    return { from: k.at(r.from), to: k.at(r.to), slots: k };
  }

  /** The window a sum over `w` is answered for (src/store/history.ts, resolveWindow). */
  resolve(w: Window): Window {
    return resolveWindow(w, this.marks_);
  }

  sums(f: HistoryFilter, w: Window): HistorySum[] {
    const r = resolveWindow(w, this.marks_);
    const out: HistorySum[] = [];
    for (const e of this.matching(f)) {
      const a = cumAt(e.rows, r.from);
      const b = cumAt(e.rows, r.to);
      if (b.count !== a.count || b.bytes !== a.bytes) out.push({ service: e.service, name: e.name, sub: e.sub, count: b.count - a.count, bytes: b.bytes - a.bytes });
    }
    return out;
  }

  /**
   * /changes of one kind: as changesPlain, with the edges' totals read from arrays kept up to date by the commits
   * (src/store/memory/edge-totals.ts) instead of from every entity's rows (100,000 keys: ~45 ms a question, most
   * of it cache misses among the entities' row arrays). Entities are met in (service, name, sub) order (the tie-break),
   * not the Set's: the lists do not depend on the order, only the work does.
   */
  changes(q: ChangesQuery): ChangeLists {
    const b = resolveWindow(q.before, this.marks_);
    const a = resolveWindow(q.after, this.marks_);
    const edges = this.edges.get(q.kind);
    if (!edges) return { rose: [], fell: [] };
    const change = (c: ChangeSum) => c.bytes_after - c.bytes_before;
    const tie = (x: ChangeSum, y: ChangeSum) => compareCodePoints(x.service, y.service) || compareCodePoints(x.name, y.name) || compareCodePoints(x.sub, y.sub);
    const rose = new TopN<ChangeSum>(q.limit, (x, y) => change(x) > change(y) || (change(x) === change(y) && tie(x, y) < 0));
    const fell = new TopN<ChangeSum>(q.limit, (x, y) => change(x) < change(y) || (change(x) === change(y) && tie(x, y) < 0));
    const B0 = edges.at(b.from);
    const B1 = edges.at(b.to);
    const A0 = edges.at(a.from);
    const A1 = edges.at(a.to);
    const [b0c, b0b, b1c, b1b, a0c, a0b, a1c, a1b] = [B0.count, B0.bytes, B1.count, B1.bytes, A0.count, A0.bytes, A1.count, A1.bytes];
    const ents = edges.ents;
    const order = edges.tieOrder();
    // In tie order: at an equal change the one already kept ranks first, so an equal one is passed over.
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      const cb = b1c[s]! - b0c[s]!;
      const before = b1b[s]! - b0b[s]!;
      if (cb === 0 && before === 0) continue;
      const after = a1b[s]! - a0b[s]!;
      if (after === before) continue;
      const e = ents[s];
      if (!e || (q.service !== undefined && e.service !== q.service)) continue;
      const list = after > before ? rose : fell;
      const w = list.worst();
      if (w && (after > before ? after - before <= change(w) : after - before >= change(w))) continue;
      list.offer({ service: e.service, name: e.name, sub: e.sub, count_before: cb, count_after: a1c[s]! - a0c[s]!, bytes_before: before, bytes_after: after });
    }
    return { rose: rose.sorted(), fell: fell.sorted() };
  }

  /**
   * /changes of one kind in one pass: each entity's totals at the windows' edges, the entities with anything
   * before offered to two bounded lists (src/store/changes-top.ts). The same answer as both windows' sums joined
   * and sorted (what this was: 100,000 keys, two arrays of sums and a Map of string keys, then two sorts).
   * The reference changes() is compared with (test/unit/memory-changes.test.ts).
   */
  changesPlain(q: ChangesQuery): ChangeLists {
    const b = resolveWindow(q.before, this.marks_);
    const a = resolveWindow(q.after, this.marks_);
    const change = (c: ChangeSum) => c.bytes_after - c.bytes_before;
    const tie = (x: ChangeSum, y: ChangeSum) => compareCodePoints(x.service, y.service) || compareCodePoints(x.name, y.name) || compareCodePoints(x.sub, y.sub);
    const rose = new TopN<ChangeSum>(q.limit, (x, y) => change(x) > change(y) || (change(x) === change(y) && tie(x, y) < 0));
    const fell = new TopN<ChangeSum>(q.limit, (x, y) => change(x) < change(y) || (change(x) === change(y) && tie(x, y) < 0));
    // A plain loop over the kind's Set, not the generator (100,000 keys: 10 ms against 8).
    for (const e of this.byKind.get(q.kind) ?? []) {
      if (q.service !== undefined && e.service !== q.service) continue;
      const b0 = cumAt(e.rows, b.from);
      const b1 = cumAt(e.rows, b.to);
      if (b1.count === b0.count && b1.bytes === b0.bytes) continue;
      const a0 = a.from === b.to ? b1 : cumAt(e.rows, a.from);
      const a1 = cumAt(e.rows, a.to);
      const before = b1.bytes - b0.bytes;
      const after = a1.bytes - a0.bytes;
      if (after === before) continue;
      const list = after > before ? rose : fell;
      // Below the list's worst: no object made (most entities of a steady store).
      const w = list.worst();
      if (w && (after > before ? after - before < change(w) : after - before > change(w))) continue;
      list.offer({ service: e.service, name: e.name, sub: e.sub, count_before: b1.count - b0.count, count_after: a1.count - a0.count, bytes_before: before, bytes_after: after });
    }
    return { rose: rose.sorted(), fell: fell.sorted() };
  }

  series(q: SeriesQuery): SeriesPoint[] {
    const out = new Map<number, SeriesPoint>();
    for (const e of this.matching(q)) {
      const lo = indexAtOrAfter(e.rows, q.from);
      const hi = indexAtOrAfter(e.rows, q.to);
      addSeries(e.rows.slice(lo, hi + 1), q.from, q.to, q.step, out);
    }
    return [...out.values()].sort((a, b) => a.t - b.t);
  }

  /** Minute or hour bucket values since `from`, of whole entities after `after` in key order (the mirror's resync). */
  page(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): MirrorRow[] {
    const key = (e: { kind: string; service: string; name: string; sub: string }) => [e.kind, e.service, e.name, e.sub];
    const cmp = (a: string[], b: string[]) => {
      for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return compareCodePoints(a[i]!, b[i]!);
      return 0;
    };
    const es = [...this.entities.values()].filter((e) => !after || cmp(key(e), key(after)) > 0).sort((a, b) => cmp(key(a), key(b)));
    const out: MirrorRow[] = [];
    for (const e of es) {
      if (out.length >= limit) break;
      for (const r of mirrorRows(e, e.rows.slice(indexAtOrAfter(e.rows, from)), this.epoch)) if (r.level === level) out.push(r);
    }
    return out;
  }

  /** Every bucket count, in the SQL stores' dump order (bucket, then entity). */
  dumpRows(): Array<Omit<MirrorRow, 'level' | 'epoch'>> {
    const out: Array<Omit<MirrorRow, 'level' | 'epoch'>> = [];
    for (const e of this.entities.values()) {
      for (const b of bucketsOf(e.rows)) out.push({ kind: e.kind, service: e.service, name: e.name, sub: e.sub, bucket: b.bucket, count: b.count, bytes: b.bytes });
    }
    const k = (r: Omit<MirrorRow, 'level' | 'epoch'>) => [r.kind, r.service, r.name, r.sub].join('\u0000');
    return out.sort((a, b) => a.bucket - b.bucket || compareCodePoints(k(a), k(b)));
  }

  /**
   * Thins one more stretch than retention asks for, to stay within a memory
   * bound: the oldest hour of minutes, else the oldest day of hours, else the
   * oldest day; returns the rows dropped (0: nothing left to thin).
   */
  dropOldest(): number {
    // A stretch may have nothing to thin (one row per entity in it): go coarser until something goes.
    for (let step = 0; step < 3; step++) {
      let oldest = Infinity;
      for (const e of this.entities.values()) if (e.rows.length > 1 && e.rows[0]!.bucket < oldest) oldest = e.rows[0]!.bucket;
      if (oldest === Infinity) break;
      const m = this.marks_;
      const next = { ...m };
      if (oldest >= m.hoursUntil) next.hoursUntil = bucketOf(oldest, HOUR_MS) + HOUR_MS;
      else if (oldest >= m.daysUntil) next.daysUntil = bucketOf(oldest, DAY_MS) + DAY_MS;
      else next.keptFrom = bucketOf(oldest, DAY_MS) + DAY_MS;
      const n = this.thin(next);
      if (n > 0) return n;
    }
    return this.evictEntities();
  }

  /**
   * Nothing left to thin: forgets the least recently updated entities' history (a 1/16 of them at a time), whose
   * windows then read empty, as for any entity evicted from the bounded store. Returns the rows dropped.
   */
  private evictEntities(): number {
    let n = Math.ceil(this.entities.size / 16);
    let dropped = 0;
    this.version++;
    for (const [k, e] of this.entities) {
      if (n-- <= 0) break;
      this.entities.delete(k);
      this.byKind.get(e.kind)?.delete(e);
      this.edges.get(e.kind)?.leave(e);
      e.gone = true;
      this.bytes -= ENTITY_OVERHEAD + ROW_BYTES * e.rows.length + 2 * (e.service.length + e.name.length + e.sub.length);
      dropped += e.rows.length;
    }
    return dropped;
  }

  /** Thins towards retention's targets at `now`; returns the rows dropped. */
  retain(now: number, retention: Retention): number {
    const t = retentionTargets(now, retention);
    const m = this.marks_;
    return this.thin({ hoursUntil: Math.max(m.hoursUntil, t.hoursUntil), daysUntil: Math.max(m.daysUntil, t.daysUntil), keptFrom: Math.max(m.keptFrom, t.keptFrom) });
  }

  /** Keeps the first row of each hour before hoursUntil and of each day before daysUntil, none before keptFrom. */
  private thin(next: HistoryMarks): number {
    const m = this.marks_;
    if (next.hoursUntil <= m.hoursUntil && next.daysUntil <= m.daysUntil && next.keptFrom <= m.keptFrom) return 0;
    // The marks alone change no entity's rows, and the views and edges are keyed by windows already resolved at
    // them: only an entity that loses rows changes what was read. (The marks move once an hour, hoursUntil being
    // hour-aligned: on a store younger than the minute retention that round drops nothing, and on an older one only
    // the entities with minutes in the hour thinned; both made every edge and view again for the next call.)
    this.marks_ = next;
    let dropped = 0;
    for (const e of this.entities.values()) {
      const n = thinRows(e, next);
      if (n === 0) continue;
      dropped += n;
      this.edges.get(e.kind)!.thinned(e, n);
    }
    if (dropped > 0) this.version++;
    this.bytes -= dropped * ROW_BYTES;
    return dropped;
  }
}

/**
 * Thins one entity's rows to the marks: the first row of each hour before hoursUntil and of each day before
 * daysUntil, none before keptFrom. Rows after every mark are left as they are (rows are sorted by bucket: the scan
 * stops at the first of them; the memory bound can put daysUntil past hoursUntil), and the array is replaced only
 * when a row goes. Returns the rows dropped.
 */
export function thinRows(e: { rows: CumRow[] }, m: HistoryMarks): number {
  const rows = e.rows;
  const until = Math.max(m.hoursUntil, m.daysUntil, m.keptFrom);
  let kept: CumRow[] | undefined;
  let last = -1;
  let i = 0;
  for (; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.bucket >= until) break;
    const unit = r.bucket < m.keptFrom ? -2 : r.bucket < m.daysUntil ? bucketOf(r.bucket, DAY_MS) : r.bucket < m.hoursUntil ? bucketOf(r.bucket, HOUR_MS) : r.bucket;
    if (unit === -2 || unit === last) {
      kept ??= rows.slice(0, i);
      continue;
    }
    last = unit;
    kept?.push(r);
  }
  if (!kept) return 0;
  const dropped = i - kept.length;
  for (; i < rows.length; i++) kept.push(rows[i]!);
  e.rows = kept;
  return dropped;
}
