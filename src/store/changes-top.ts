/**
 * The largest rises and falls of /changes without sorting every entity: a
 * bounded heap per list keeps the `limit` best seen so far, its worst at the
 * root, so an entity that does not beat that worst costs one comparison.
 * Shared by the memory and SQLite stores (src/store/memory/history.ts,
 * src/store/sqlite/changes.ts), which differ only in how ties are broken;
 * rankChanges, the ranking over totals kept at the edges by entity id, by
 * SQLite and PostgreSQL (src/store/postgres/changes.ts).
 */

export class TopN<T> {
  private readonly heap: T[] = [];

  /** `first(a, b)`: a ranks before b (a strict total order). */
  constructor(
    private readonly limit: number,
    private readonly first: (a: T, b: T) => boolean,
  ) {}

  /** Whether `x` would be kept: the list is not full, or `x` ranks before its worst. */
  takes(x: T): boolean {
    return this.limit > 0 && (this.heap.length < this.limit || this.first(x, this.heap[0]!));
  }

  /** The kept item that ranks last, once the list is full (what a candidate must beat). */
  worst(): T | undefined {
    return this.heap.length < this.limit ? undefined : this.heap[0];
  }

  offer(x: T): void {
    if (!this.takes(x)) return;
    const h = this.heap;
    if (h.length < this.limit) {
      h.push(x);
      this.up(h.length - 1);
    } else {
      h[0] = x;
      this.down(0);
    }
  }

  /** The kept items, best first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => (this.first(a, b) ? -1 : this.first(b, a) ? 1 : 0));
  }

  /** The root is the worst: a child that ranks after its parent moves up. */
  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.first(h[p]!, h[i]!)) return;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < h.length && this.first(h[worst]!, h[l]!)) worst = l;
      if (r < h.length && this.first(h[worst]!, h[r]!)) worst = r;
      if (worst === i) return;
      [h[worst], h[i]] = [h[i]!, h[worst]!];
      i = worst;
    }
  }
}

/** An entity's sums in /changes' two windows, its change of bytes and its place in key order (the ties' order). */
export interface RankedChange {
  id: number;
  rank: number;
  change: number;
  /** Count and bytes in the window before (cb, yb) and after (ca, ya). */
  cb: number;
  ca: number;
  yb: number;
  ya: number;
}

/** Every entity's running totals at one edge, by entity id. */
export interface EdgeTotals {
  count: Float64Array;
  bytes: Float64Array;
}

/**
 * The rises and falls of `ids` (a kind's entity ids in key order; of service number `svc` only when it is not
 * negative) between the windows [b0, b1) and [a0, a1), from every entity's totals at those four edges (SQLite's and
 * PostgreSQL's kept edges): an entity active in the window before whose bytes changed. The `limit` largest of each
 * direction, ties by key order (`rose`, `fell`, best first), or with `every` each one, in key order (`all`: the
 * caller orders ties by what the history does not have). 100,000 keys: ~1 ms; most entities never make an object.
 */
export function rankChanges(
  ids: Int32Array, serviceOf: Int32Array, svc: number, [b0, b1, a0, a1]: readonly [EdgeTotals, EdgeTotals, EdgeTotals, EdgeTotals], limit: number, every = false,
): { rose: RankedChange[]; fell: RankedChange[]; all: RankedChange[] } {
  const rose = new TopN<RankedChange>(limit, (x, y) => x.change > y.change || (x.change === y.change && x.rank < y.rank));
  const fell = new TopN<RankedChange>(limit, (x, y) => x.change < y.change || (x.change === y.change && x.rank < y.rank));
  const all: RankedChange[] = [];
  const [b0c, b0b, b1c, b1b, a0b, a1b] = [b0.count, b0.bytes, b1.count, b1.bytes, a0.bytes, a1.bytes];
  for (let rank = 0; rank < ids.length; rank++) {
    const id = ids[rank]!;
    if (svc >= 0 && serviceOf[id] !== svc) continue;
    const cb = b1c[id]! - b0c[id]!;
    const yb = b1b[id]! - b0b[id]!;
    if (cb === 0 && yb === 0) continue;
    const ya = a1b[id]! - a0b[id]!;
    if (ya === yb) continue;
    const change = ya - yb;
    if (every) {
      all.push({ id, rank, change, cb, ca: a1.count[id]! - a0.count[id]!, yb, ya });
      continue;
    }
    const list = change > 0 ? rose : fell;
    const w = list.worst();
    // Ranks are met in increasing order: at an equal change the one already kept stays ahead.
    if (w && (change > 0 ? change <= w.change : change >= w.change)) continue;
    list.offer({ id, rank, change, cb, ca: a1.count[id]! - a0.count[id]!, yb, ya });
  }
  return { rose: rose.sorted(), fell: fell.sorted(), all };
}

/**
 * For a kind whose ties at a list's end are broken by what the history does not have (a template's sub is answered
 * as its row's id): each direction's first `limit` by change and key order (rankChanges), then every other entity
 * tied with the `limit`-th on its change and its group (`groupOf`, (service, name): non-decreasing along `ids`, so
 * key order refines it). The same set a selection over every change gives, the rows fetched to be ordered there,
 * without an object per change (~26,000 templates of the steady bench store changed: their objects were most of
 * the garbage of a PostgreSQL /changes). `ups` and `downs`: how many rose and fell in all.
 */
export function rankChangesToBoundary(
  ids: Int32Array, serviceOf: Int32Array, svc: number, edges: readonly [EdgeTotals, EdgeTotals, EdgeTotals, EdgeTotals], limit: number, groupOf: Int32Array,
): { up: RankedChange[]; down: RankedChange[]; ups: number; downs: number } {
  const { rose, fell } = rankChanges(ids, serviceOf, svc, edges, limit);
  const lastUp = limit > 0 && rose.length === limit ? rose[limit - 1] : undefined;
  const lastDown = limit > 0 && fell.length === limit ? fell[limit - 1] : undefined;
  const up = rose.slice();
  const down = fell.slice();
  const [b0, b1, a0, a1] = edges;
  let ups = 0;
  let downs = 0;
  // The second pass, as the first: the same arithmetic, so a tie is exact.
  for (let rank = 0; rank < ids.length; rank++) {
    const id = ids[rank]!;
    if (svc >= 0 && serviceOf[id] !== svc) continue;
    const cb = b1.count[id]! - b0.count[id]!;
    const yb = b1.bytes[id]! - b0.bytes[id]!;
    if (cb === 0 && yb === 0) continue;
    const ya = a1.bytes[id]! - a0.bytes[id]!;
    if (ya === yb) continue;
    const change = ya - yb;
    const last = change > 0 ? lastUp : lastDown;
    if (change > 0) ups++;
    else downs++;
    // Those before the last in key order with its change and group are on the list already (rankChanges keeps
    // the first in key order at an equal change).
    if (last === undefined || rank <= last.rank || change !== last.change || groupOf[id] !== groupOf[last.id]) continue;
    (change > 0 ? up : down).push({ id, rank, change, cb, ca: a1.count[id]! - a0.count[id]!, yb, ya });
  }
  return { up, down, ups, downs };
}
