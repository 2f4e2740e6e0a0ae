/**
 * What is new in a window (/changes' four lists: first seen since `since`, by
 * bytes), without a window view. The UI's `since` moves a minute every
 * minute, so each question is another window: a view made for it (three
 * arrays the table's length, kept with the store state) was made, used once
 * and left to the GC, and each row's sums were two binary searches in its
 * entity's rows, which lie all over the heap (100,000 new keys: ~30 ms a
 * /changes in process, a quarter of it the GC). Here one walk of the table's
 * entries reads each new row's sums from the kind's kept edges (the arrays
 * by slot /changes reads for its rises and falls, at the same two times:
 * MemoryHistory.edgeTotals) and keeps the page's rows in a bounded sorted
 * array; the total is counted on the way. Only for sorts by the window's
 * count or bytes; the answers are the plain form's (test/unit/memory-window-lists.test.ts).
 *
 * With no filter but first_seen (what /changes asks), the walk reads no
 * entry at all for a row that does not reach the page: the entries'
 * first_seen and their entities' slots are kept in typed arrays in tie-break
 * order (EntryColumns, src/store/memory/entry-columns.ts), made again only when rows come or go, a first_seen
 * moves or the slots are renumbered. Reading those two fields from 100,000
 * entries (and their entities) that lie all over the heap was ~13 ms of a
 * ~15 ms /changes in process, and most of its spread.
 */
import type { Window } from '../history.js';
import type { ListResult, Page, SortSpec } from '../queries.js';
import type { MemoryHistory } from './history.js';
import type { Records, TableName, Tables } from './tables.js';
import type { TieOrder } from './tie-order.js';
import type { EntryColumns } from './entry-columns.js';
import { entityOf, type WindowedSpec } from './window-view.js';

/** Past this many rows (offset + limit) the page is not kept in a sorted array: a view is the quicker. */
const MOST = 2000;

/** Whether freshList answers a list sorted by `page.sort` of `spec`: by the window's count or bytes, a page not too deep. */
export function freshListAnswers(spec: SortSpec, page: Page, countColumn: string): boolean {
  const c = spec.fields[page.sort]?.column;
  return (c === countColumn || c === 'bytes') && page.offset + page.limit <= MOST;
}

/**
 * The rows of `table` first seen at or after `min` (Entry.firstSeen), of `service` when given, that `keep`
 * passes and that are active in the resolved window `r`, sorted by their window count or bytes (freshListAnswers),
 * ties by Entry.rank (numbered just before by `order`); `derive` and `map` for the page's rows only.
 */
export function freshList<T extends Exclude<TableName, 'services' | 'labels'>, R extends object, I>(
  t: Tables, h: MemoryHistory, table: T, spec: WindowedSpec<Records[T]>, r: Window, service: string | undefined, min: number,
  keep: ((row: Records[T]) => boolean) | undefined, sort: SortSpec, page: Page, derive: (row: Records[T]) => R, map: (row: R) => I,
  order: TieOrder<T>, cols: EntryColumns<T>,
): ListResult<I> {
  if (!t.mayHaveFirstSeenFrom(table, min)) return { items: [], total: 0 };
  const { from, to, slots } = h.edgeTotals(spec.kind, r);
  const byCount = sort.fields[page.sort]!.column === spec.count;
  const sign = page.order === 'asc' ? 1 : -1;
  const want = page.limit === 0 ? 0 : page.offset + page.limit;
  // The page so far, best first: each row's sort value, rank, sums and row, in parallel arrays.
  const value: number[] = [];
  const rank: number[] = [];
  const counts: number[] = [];
  const bytes: number[] = [];
  const rows: Array<Records[T]> = [];
  /** Whether (v, k) comes before position i. */
  const before = (v: number, k: number, i: number) => sign * (v - value[i]!) < 0 || (v === value[i]! && k < rank[i]!);
  /** Puts a row on the page in its place, if it comes before the page's last. */
  const offer = (v: number, k: number, c: number, b: number, row: Records[T]) => {
    const n = value.length;
    if (n === want && !before(v, k, n - 1)) return;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(v, k, mid)) hi = mid;
      else lo = mid + 1;
    }
    value.splice(lo, 0, v);
    rank.splice(lo, 0, k);
    counts.splice(lo, 0, c);
    bytes.splice(lo, 0, b);
    rows.splice(lo, 0, row);
    if (value.length > want) {
      value.pop();
      rank.pop();
      counts.pop();
      bytes.pop();
      rows.pop();
    }
  };
  let total = 0;
  if (service === undefined && keep === undefined) {
    cols.refresh(t, h, table, spec, order, slots);
    const { firstSeen, entries } = cols;
    for (let i = 0; i < entries.length; i++) {
      if (firstSeen[i]! < min) continue;
      const s = cols.slotOf(i, h, spec, slots);
      if (s < 0) continue;
      const c = to.count[s]! - from.count[s]!;
      const b = to.bytes[s]! - from.bytes[s]!;
      if (c === 0 && b === 0) continue;
      total++;
      if (want === 0) continue;
      // In rank order: a row behind a full page's last (on value, or tied with it) never reaches the page.
      const v = byCount ? c : b;
      if (value.length === want && !(sign * (v - value[want - 1]!) < 0)) continue;
      offer(v, i, c, b, entries[i]!.row);
    }
  } else {
    for (const e of service === undefined ? t.entries(table) : t.serviceEntries(table, service)) {
      if (e.firstSeen < min) continue;
      const ent = entityOf(h, e, spec);
      if (!ent) continue;
      const s = ent.slot;
      const c = to.count[s]! - from.count[s]!;
      const b = to.bytes[s]! - from.bytes[s]!;
      if (c === 0 && b === 0) continue;
      if (keep && !keep(e.row)) continue;
      total++;
      if (want === 0) continue;
      offer(byCount ? c : b, e.rank, c, b, e.row);
    }
  }
  const items: I[] = [];
  for (let i = page.offset; i < rows.length; i++) items.push(map(derive({ ...rows[i]!, [spec.count]: counts[i], bytes: bytes[i] } as Records[T])));
  return { items, total };
}
