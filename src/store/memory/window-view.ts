/**
 * The memory store's windowed lists without a copy of every row. A list in a
 * window replaces each row's count and bytes by its sums there; copying every
 * active row with them (and a key string per row to find its history) made
 * 100,000 objects per question that lived through a young-generation GC and
 * were promoted into a heap of gigabytes of sketches: /keys?limit=0 on an
 * all-new store of 100,000 keys took 0.9 s, /changes 1.6–2.7 s. Here the
 * active rows stay the stored objects, their sums go into two Float64Arrays
 * (outside the heap's object graph), each row finds its history entity once
 * (cached on its table entry), and only the page's rows are copied with
 * their sums. The answers are those of the plain form (MemoryQueries with
 * `plain`, the reference the tests compare with).
 */
import { cumAt, type HistoryKind, type Window } from '../history.js';
import { compareCodePoints, type ListResult, type Page, type SortSpec } from '../queries.js';
import type { HistoryEntityRef, MemoryHistory } from './history.js';
import { firstSorted } from './list.js';
import type { Entry, Records, TableName, Tables } from './tables.js';
import type { TieOrder } from './tie-order.js';
import type { EntryColumns } from './entry-columns.js';

/** How a table's rows meet the history: the kind, the entity's (name, sub) and the count column a window replaces. */
export interface WindowedSpec<R> {
  kind: HistoryKind;
  entity: (r: R) => [string, string];
  count: string;
}

/** A table's rows active in a window, as stored, with their window sums at the same positions. */
export interface WindowView<R> {
  rows: R[];
  count: Float64Array;
  bytes: Float64Array;
  /** Each row's place in tie-break order (Entry.rank, numbered by src/store/memory/tie-order.ts before the view is made). */
  rank: Float64Array;
  /** The column the window's count replaces (count or sample_count). */
  countColumn: string;
  /** A row column's values by position, read once per view for the sorts by it (windowList; a view is kept for a store state). */
  columns: Map<string, Float64Array | string[]>;
  /** Every position, in order (a list without filters). */
  all?: number[];
  /** Every position sorted, by sort field and order, for a list without filters whose page needed a full sort (firstSorted). */
  sorted: Map<string, number[]>;
}

/** A row's history entity: the one cached on its entry while it lives, else looked up (and cached). */
export function entityOf<T extends TableName>(h: MemoryHistory, e: Entry<T>, spec: WindowedSpec<Records[T]>): HistoryEntityRef | undefined {
  const cached = e.entity;
  if (cached !== undefined && !cached.gone) return cached;
  // None found before, and no entity created since: still none (a row whose history was evicted).
  if (cached === undefined && e.entityMiss === h.created) return undefined;
  const [name, sub] = spec.entity(e.row);
  const found = h.find(spec.kind, (e.row as { service: string }).service, name, sub);
  e.entity = found;
  e.entityMiss = found ? -1 : h.created;
  return found;
}

/**
 * The rows of `table` active in the resolved window `r` (count or bytes moved in it), of `service` when given and
 * first seen at or after `min` when given.
 */
export function windowView<T extends Exclude<TableName, 'services' | 'labels'>>(
  t: Tables, h: MemoryHistory, table: T, spec: WindowedSpec<Records[T]>, r: Window, service: string | undefined, min: number | undefined,
  order: TieOrder<T>, cols: EntryColumns<T>,
): WindowView<Records[T]> {
  const size = t.count(table);
  const v: WindowView<Records[T]> = { rows: [], count: new Float64Array(size), bytes: new Float64Array(size), rank: new Float64Array(size), countColumn: spec.count, columns: new Map(), sorted: new Map() };
  // What is new since `min` (/changes): on a steady store no row is, known without a walk.
  if (min !== undefined && !t.mayHaveFirstSeenFrom(table, min)) return v;
  let n = 0;
  if (service === undefined) {
    // Every row: the sums from the kind's kept edges (as fresh-list.ts), first_seen and slots from the kept columns,
    // so a view made again after each commit (ingest goes on) reads only the active rows' entries. In rank order.
    const { from, to, slots } = h.edgeTotals(spec.kind, r);
    cols.refresh(t, h, table, spec, order, slots);
    const { firstSeen, entries } = cols;
    for (let i = 0; i < entries.length; i++) {
      if (min !== undefined && firstSeen[i]! < min) continue;
      const s = cols.slotOf(i, h, spec, slots);
      if (s < 0) continue;
      const c = to.count[s]! - from.count[s]!;
      const b = to.bytes[s]! - from.bytes[s]!;
      if (c === 0 && b === 0) continue;
      v.count[n] = c;
      v.bytes[n] = b;
      v.rank[n] = i;
      v.rows[n++] = entries[i]!.row;
    }
    return v;
  }
  for (const e of t.serviceEntries(table, service)) {
    // The entry's copies of first_seen and service: the row itself is not read here (see Entry.firstSeen).
    if (min !== undefined && e.firstSeen < min) continue;
    const ent = entityOf(h, e, spec);
    if (!ent) continue;
    const a = cumAt(ent.rows, r.from);
    const b = cumAt(ent.rows, r.to);
    if (b.count === a.count && b.bytes === a.bytes) continue;
    v.count[n] = b.count - a.count;
    v.bytes[n] = b.bytes - a.bytes;
    v.rank[n] = e.rank;
    v.rows[n++] = e.row;
  }
  return v;
}

/** Row `i` of a view with its window sums in place of its all-time count and bytes (the plain form's row). */
export function windowRow<R>(v: WindowView<R>, i: number): R {
  return { ...v.rows[i]!, [v.countColumn]: v.count[i], bytes: v.bytes[i] } as R;
}

/**
 * list() (src/store/memory/list.ts) over a view: the rows `keep` passes (undefined: every row; filters read only
 * the rows' own columns, never a window's sums), sorted by position, read from the rows or the sums; `derive` and
 * `map` only for the page, or `derive` for every row kept when the sort is by a column it computes (`derived`: a
 * share). The sort field's values are read once per row into an array (100,000 keys sorted through an accessor
 * that read the row's column at each comparison: 265 ms for a page at offset 50,000, most of it that read).
 */
export function windowList<U extends object, R extends object, T>(
  v: WindowView<U>, keep: ((r: U) => boolean) | undefined, spec: SortSpec, page: Page, derive: (r: U) => R, derived: readonly string[], map: (r: R) => T,
  /** By tie-order rank, 1 for the rows a text filter passes (src/store/memory/text-index.ts): asked before `keep`, which reads the row. */
  pass?: Uint8Array,
): ListResult<T> {
  const rows = v.rows;
  let idx: number[];
  if (pass) {
    idx = [];
    const rank = v.rank;
    for (let i = 0; i < rows.length; i++) if (pass[rank[i]!] === 1 && (!keep || keep(rows[i]!))) idx.push(i);
  } else if (keep) {
    idx = [];
    for (let i = 0; i < rows.length; i++) if (keep(rows[i]!)) idx.push(i);
  } else {
    const total = rows.length;
    if (page.limit === 0 || page.offset >= total) return { items: [], total };
    idx = [...(v.all ??= Array.from({ length: total }, (_, i) => i))];
  }
  const total = idx.length;
  if (page.limit === 0 || page.offset >= total) return { items: [], total };
  const field = spec.fields[page.sort]!;
  const c = field.column;
  // The sort field's value per position.
  let first: Float64Array | string[];
  if (derived.includes(c)) {
    first = new Float64Array(rows.length);
    for (const i of idx) first[i] = (derive(windowRow(v, i)) as Record<string, number>)[c]!;
  } else if (c === v.countColumn) first = v.count;
  else if (c === 'bytes') first = v.bytes;
  else {
    let values = v.columns.get(c);
    if (!values) {
      const n = rows.length;
      if (field.text) {
        const text = new Array<string>(n);
        for (let i = 0; i < n; i++) text[i] = (rows[i] as Record<string, string>)[c]!;
        values = text;
      } else {
        const nums = new Float64Array(n);
        for (let i = 0; i < n; i++) nums[i] = (rows[i] as Record<string, number>)[c]!;
        values = nums;
      }
      v.columns.set(c, values);
    }
    first = values;
  }
  const sign = page.order === 'asc' ? 1 : -1;
  // A tie: the rows' places in tie-break order (their key columns, ascending).
  const rank = v.rank;
  const breakTie = (a: number, b: number) => rank[a]! - rank[b]!;
  const cmp = Array.isArray(first)
    ? (a: number, b: number) => sign * compareCodePoints(first[a] as string, first[b] as string) || breakTie(a, b)
    : (a: number, b: number) => sign * ((first[a] as number) - (first[b] as number)) || breakTie(a, b);
  const want = Math.min(total, page.offset + page.limit);
  // A page deep into a list without filters sorts every position (firstSorted): kept with the view, the next page
  // of that order is a slice (100,000 keys by name at offset 50,000: ~25 ms a sort).
  const whole = !keep && !pass && !derived.includes(c) && want * 8 >= total;
  const key = `${c} ${page.order}`;
  const sorted = (whole ? v.sorted.get(key) : undefined) ?? firstSorted(idx, want, cmp);
  if (whole) v.sorted.set(key, sorted);
  const items = sorted.slice(page.offset, want).map((i) => map(derive(windowRow(v, i))));
  return { items, total };
}
