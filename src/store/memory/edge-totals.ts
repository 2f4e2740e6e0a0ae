/**
 * The memory store's /changes without reading every entity's running totals
 * at every question (MemoryHistory.changes; the plain walk, changesPlain, is
 * the reference). As SQLite's kept edges (src/store/sqlite/changes.ts), but
 * kept up to date by the commits, which the memory store sees itself:
 *  - per kind, the entities in slots (a dense array), and per kept edge t
 *    their totals before t in two Float64Arrays by slot (scanned without
 *    touching the entities' row arrays, which lie all over the heap: walking
 *    them was 40–50 ms a /changes on 100,000 keys);
 *  - a commit's increment at minute m adds to every kept edge after m (what
 *    cumAt there would now read), a template move reads its two entities'
 *    totals again, and so does thinning (the marks move) for each entity
 *    that lost rows;
 *  - an edge not kept (the UI's `since` moves a minute every minute) is the
 *    nearest kept one plus the entities with a row between the two, found in
 *    an index of (minute → slots with a row there); only a walk of every
 *    entity when that is cheaper.
 * Memory: at most KEEP_EDGES edges per kind asked about, 16 bytes an entity each
 * (100,000 keys: 13 MB), plus one slot number per history row; a cache, not
 * counted in MemoryHistory.bytes.
 */
import { HISTORY_SENTINEL, cumAt, type CumRow } from '../history.js';
import { compareCodePoints } from '../queries.js';

/** What an edge needs of an entity. */
export interface Slotted {
  rows: CumRow[];
  slot: number;
  service: string;
  name: string;
  sub: string;
}

/** Every slot's totals before one time. */
export interface EdgeArrays {
  count: Float64Array;
  bytes: Float64Array;
}

/** What a reader holding slot numbers checks them against: whether a slot's entity lives, and the renumberings. */
export interface SlotTable {
  readonly ents: ReadonlyArray<unknown>;
  readonly compactions: number;
}

/** Edges kept per kind besides the all-time one (the UI asks three at a time; its `since` moves). */
const KEEP_EDGES = 8;

export class KindEdges<E extends Slotted> {
  /** The kind's entities by slot; undefined: forgotten or merged away. */
  readonly ents: Array<E | undefined> = [];
  /** One more at every renumbering of the slots (compact): a slot number kept from before it names another entity. */
  compactions = 0;
  private live = 0;
  private cap = 1024;
  /** Totals by edge time, least recently used first; HISTORY_SENTINEL (all-time) is always there and never dropped. */
  private readonly edges = new Map<number, EdgeArrays>();
  /** Slots with a row at each minute (a superset: a thinned row's entry stays until the index is rebuilt). */
  private byMinute: Map<number, number[]> | undefined;
  /** The keys of byMinute, ascending. */
  private minutes: number[] = [];
  /** The slots in (service, name, sub) order as last sorted (dead ones stay until renumbered), and those joined since. */
  private sorted: Int32Array = new Int32Array(0);
  private fresh: number[] = [];
  /** Entries in byMinute, and how many of them are of rows thinned away since it was made. */
  private indexEntries = 0;
  private stale = 0;

  constructor() {
    this.edges.set(HISTORY_SENTINEL, this.zeros());
  }

  private zeros(): EdgeArrays {
    return { count: new Float64Array(this.cap), bytes: new Float64Array(this.cap) };
  }

  /** A new entity (no rows but the sentinel's zeros): the next slot. */
  join(e: E): void {
    if (this.ents.length >= this.cap) {
      this.cap *= 2;
      for (const [t, a] of this.edges) {
        const b = this.zeros();
        b.count.set(a.count);
        b.bytes.set(a.bytes);
        this.edges.set(t, b);
      }
    }
    e.slot = this.ents.length;
    this.ents.push(e);
    this.fresh.push(e.slot);
    this.live++;
  }

  /** An entity forgotten (evicted) or merged away. Past half the slots dead, they are renumbered (edges and index made again). */
  leave(e: E): void {
    if (this.ents[e.slot] !== e) return;
    this.ents[e.slot] = undefined;
    this.live--;
    if (this.ents.length > 1024 && this.live * 2 < this.ents.length) this.compact();
  }

  private compact(): void {
    this.compactions++;
    const kept = this.ents.filter((e): e is E => e !== undefined);
    this.ents.length = 0;
    this.live = 0;
    this.edges.clear();
    this.edges.set(HISTORY_SENTINEL, this.zeros());
    this.byMinute = undefined;
    this.sorted = new Int32Array(0);
    this.fresh = [];
    for (const e of kept) this.join(e);
    const all = this.edges.get(HISTORY_SENTINEL)!;
    for (const e of kept) this.readInto(all, e, HISTORY_SENTINEL);
  }

  /**
   * The live slots in (service, name, sub) code-point order: a tie between two entities' changes is then decided by
   * which comes first, without comparing their texts or making an object for the one behind (most of /changes'
   * cost on a store whose entities mostly moved by the same few byte counts). Joined ones are sorted and merged in.
   */
  tieOrder(): Int32Array {
    if (this.fresh.length === 0) return this.sorted;
    const ents = this.ents;
    const cmp = (x: number, y: number) => {
      const a = ents[x]!;
      const b = ents[y]!;
      return compareCodePoints(a.service, b.service) || compareCodePoints(a.name, b.name) || compareCodePoints(a.sub, b.sub);
    };
    const fresh = this.fresh.filter((s) => ents[s] !== undefined).sort(cmp);
    const old = this.sorted.filter((s) => ents[s] !== undefined);
    const out = new Int32Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < fresh.length) out[k++] = cmp(old[i]!, fresh[j]!) <= 0 ? old[i++]! : fresh[j++]!;
    while (i < old.length) out[k++] = old[i++]!;
    while (j < fresh.length) out[k++] = fresh[j++]!;
    this.sorted = out;
    this.fresh = [];
    return out;
  }

  /** One increment at `minute`, after the entity's rows have it; `newRow`: the rows got a row at that minute. */
  added(e: E, minute: number, count: number, bytes: number, newRow: boolean): void {
    const s = e.slot;
    for (const [t, a] of this.edges) {
      if (minute < t) {
        a.count[s] += count;
        a.bytes[s] += bytes;
      }
    }
    if (newRow) this.indexed(minute, s);
  }

  /** The entity's rows were replaced (a template move): its totals at every kept edge read again, its new buckets indexed. */
  replaced(e: E, before: readonly CumRow[]): void {
    for (const [t, a] of this.edges) this.readInto(a, e, t);
    if (!this.byMinute) return;
    const had = new Set(before.map((r) => r.bucket));
    for (const r of e.rows) if (r.bucket !== HISTORY_SENTINEL && !had.has(r.bucket)) this.indexed(r.bucket, e.slot);
  }

  /**
   * Retention thinned the entity's rows (`dropped` of them): its totals at every kept edge read again, as after a
   * move. Every other entity's are unchanged, and so is the index, but for the dropped rows' entries, which may stay
   * (a superset: an entry costs a slot's read, not a wrong sum) until they are half of it. Dropping every edge here
   * instead made the next /changes read every entity again, at every hour's retention round.
   */
  thinned(e: E, dropped: number): void {
    for (const [t, a] of this.edges) this.readInto(a, e, t);
    if (!this.byMinute) return;
    this.stale += dropped;
    if (this.stale * 2 > this.indexEntries) {
      this.byMinute = undefined;
      this.minutes = [];
    }
  }

  private indexed(minute: number, slot: number): void {
    const m = this.byMinute;
    if (!m) return;
    let list = m.get(minute);
    if (!list) {
      m.set(minute, (list = []));
      const ms = this.minutes;
      // Minutes come mostly in order: appended; a backfill's is inserted in place.
      if (ms.length === 0 || ms[ms.length - 1]! < minute) ms.push(minute);
      else ms.splice(lowerBound(ms, minute), 0, minute);
    }
    list.push(slot);
    this.indexEntries++;
  }

  private index(): Map<number, number[]> {
    if (this.byMinute) return this.byMinute;
    const m = new Map<number, number[]>();
    let n = 0;
    for (const e of this.ents) {
      if (!e) continue;
      for (const r of e.rows) {
        if (r.bucket === HISTORY_SENTINEL) continue;
        let list = m.get(r.bucket);
        if (!list) m.set(r.bucket, (list = []));
        list.push(e.slot);
        n++;
      }
    }
    this.byMinute = m;
    this.indexEntries = n;
    this.stale = 0;
    this.minutes = [...m.keys()].sort((a, b) => a - b);
    return m;
  }

  private readInto(a: EdgeArrays, e: E, t: number): void {
    const r = cumAt(e.rows, t);
    a.count[e.slot] = r.count;
    a.bytes[e.slot] = r.bytes;
  }

  /** Index entries with a minute in [lo, hi). */
  private between(lo: number, hi: number): number {
    let n = 0;
    const ms = this.minutes;
    for (let i = lowerBound(ms, lo); i < ms.length && ms[i]! < hi; i++) n += this.byMinute!.get(ms[i]!)!.length;
    return n;
  }

  /** Every slot's totals before `t` (a resolved window edge): kept, made from the nearest kept edge, or read from every entity. */
  at(t: number): EdgeArrays {
    const hit = this.edges.get(t);
    if (hit) {
      if (t !== HISTORY_SENTINEL) {
        this.edges.delete(t);
        this.edges.set(t, hit);
      }
      return hit;
    }
    const m = this.index();
    let from: number | undefined;
    let cost = this.live;
    for (const k of this.edges.keys()) {
      const c = this.between(Math.min(k, t), Math.max(k, t));
      if (c < cost) {
        cost = c;
        from = k;
      }
    }
    // Past KEEP_EDGES the least recently used edge's arrays are taken over (a new pair of arrays a question, each a
    // megabyte on 100,000 keys, was the larger part of a question's cost: allocation and the GC it drives).
    let a: EdgeArrays | undefined;
    if (this.edges.size > KEEP_EDGES) {
      for (const [k, v] of this.edges) {
        if (k === HISTORY_SENTINEL || k === from) continue;
        this.edges.delete(k);
        a = v;
        break;
      }
    }
    if (from === undefined) {
      a ??= this.zeros();
      for (const e of this.ents) if (e) this.readInto(a, e, t);
    } else {
      const base = this.edges.get(from)!;
      if (a) {
        a.count.set(base.count);
        a.bytes.set(base.bytes);
      } else a = { count: base.count.slice(), bytes: base.bytes.slice() };
      const ms = this.minutes;
      const lo = Math.min(from, t);
      const hi = Math.max(from, t);
      // Only an entity with a row in [lo, hi) has other totals before t than before `from`.
      for (let i = lowerBound(ms, lo); i < ms.length && ms[i]! < hi; i++) {
        for (const s of m.get(ms[i]!)!) {
          const e = this.ents[s];
          if (e) this.readInto(a, e, t);
        }
      }
    }
    this.edges.set(t, a);
    return a;
  }
}

/** The first index of sorted `xs` whose value is at least `x`. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
