/**
 * The memory store's sort and page: the shared sort specs (src/store/queries.ts)
 * as a comparator, and the first rows of a page without sorting a whole table.
 */
import { compareCodePoints, type ListResult, type Page, type SortSpec } from '../queries.js';

/**
 * The comparator of `spec` and `page` over items whose column values `get` reads: the sort field, then the
 * tie-breaks (ascending), text in code-point order.
 */
export function comparator<R>(spec: SortSpec, page: Page, get: (column: string) => (r: R) => unknown): (a: R, b: R) => number {
  const field = spec.fields[page.sort]!;
  const cmp = (column: string, text: boolean | undefined) => {
    const v = get(column);
    return text ? (a: R, b: R) => compareCodePoints(v(a) as string, v(b) as string) : (a: R, b: R) => (v(a) as number) - (v(b) as number);
  };
  const first = cmp(field.column, field.text);
  const sign = page.order === 'asc' ? 1 : -1;
  const ties = spec.tiebreak.map((t) => cmp(t.column, t.text));
  return (a, b) => {
    const c = sign * first(a, b);
    if (c !== 0) return c;
    for (const t of ties) {
      const d = t(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };
}

/** The tie-breaks of `spec` alone (the rows' key columns, ascending): a total order of a table's rows. */
export function tieComparator(spec: SortSpec): (a: object, b: object) => number {
  return comparator<object>({ ...spec, fields: { tie: spec.tiebreak[0]! }, tiebreak: spec.tiebreak.slice(1) }, { limit: 0, offset: 0, sort: 'tie', order: 'asc' }, column);
}

/** A row's column, for comparator(). */
export const column = (c: string) => (r: object) => (r as Record<string, unknown>)[c];

/**
 * Sorts and pages `rows`. `derive` adds the computed columns (bytes, percentages): to every row only when the
 * sort is by one of them (`derived`), else to the page's rows alone — a spread copy of every row per question
 * was most of what the memory store's answers cost the writer thread (the profile of `npm run bench -- --store memory`).
 */
export function list<U extends object, R extends object, T>(
  rows: U[], spec: SortSpec, page: Page, derive: (r: U) => R, derived: readonly string[], map: (r: R) => T,
): ListResult<T> {
  const total = rows.length;
  if (page.limit === 0 || page.offset >= total) return { items: [], total };
  const cmp = comparator<object>(spec, page, column);
  const want = Math.min(total, page.offset + page.limit);
  if (derived.includes(spec.fields[page.sort]!.column)) {
    return { items: firstSorted(rows.map(derive), want, cmp).slice(page.offset, want).map(map), total };
  }
  return { items: firstSorted(rows, want, cmp).slice(page.offset, want).map((r) => map(derive(r))), total };
}

/**
 * The first `m` of `rows` in `cmp` order. A page is a small part of a table (100 of thousands of templates or
 * keys): keeping the best m in a sorted array costs about one comparison per row, where sorting the whole table
 * took n log n. The memory store answers in the writer thread, so this is CPU the writer takes from ingest.
 * The comparator is a total order (the tie-breaks end in the primary key), so the result is sort()'s.
 */
export function firstSorted<R>(rows: R[], m: number, cmp: (a: R, b: R) => number): R[] {
  if (m * 8 >= rows.length) return rows.sort(cmp);
  const top: R[] = [];
  for (const r of rows) {
    if (top.length === m && cmp(r, top[m - 1]!) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(r, top[mid]!) < 0) hi = mid;
      else lo = mid + 1;
    }
    top.splice(lo, 0, r);
    if (top.length > m) top.pop();
  }
  return top;
}
