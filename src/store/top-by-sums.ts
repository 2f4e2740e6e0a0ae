/**
 * The largest window sums without every row's, for a list sorted by a
 * window's count, bytes or sample count, descending (SQLite's and
 * PostgreSQL's lists; each store reads its rows in its own SQL).
 *
 * A row's sum over a window never exceeds its all-time value, so the `n`
 * rows largest all-time get their window sums first. Call `v` the page's
 * last value among them: every row whose all-time value is below `v` ranks
 * after the page, so the page over the rows above `v` and those at `v` is
 * exact. Of the rows at `v` (a tie, often wide: keys of one size), only
 * those whose whole count is in the window reach `v`, and they rank by the
 * tiebreak: they are read in that order until the page has enough of them.
 * A long window (a week of a week: 20,000 templates) needs a few dozen rows'
 * sums, not 20,000; a short one, whose sums are far below the all-time
 * values, has most rows above `v`: undefined (sort every row's).
 */

/** The reads the search needs; ids are what the store finds rows again by (SQLite's rowid, PostgreSQL's ctid). */
export interface TopBySumsReads<Id, Row> {
  /** The `n` rows largest all-time, with that value (`bound`), in that order. */
  top(n: number): Promise<Array<{ rid: Id; bound: number }>>;
  /** Up to `limit` rows whose all-time value is above `v`. */
  above(v: number, limit: number): Promise<Id[]>;
  /** Rows whose all-time value is `v`, in tiebreak order. */
  at(v: number, limit: number, offset: number): Promise<Id[]>;
  /** Rows `ids` with their window sums, in the list's order, `limit` from `offset`. */
  page(ids: Id[], limit: number, offset: number): Promise<Row[]>;
}

/** How many rows the search reads first for a page ending at `need`: with no more rows than that, it reads them all. */
export function firstRead(need: number): number {
  return Math.max(4 * need, 64);
}

export async function topBySums<Id, Row extends Record<string, unknown>>(
  reads: TopBySumsReads<Id, Row>, column: string, page: { limit: number; offset: number },
  /** The rows' count, or how to count them when needed (a caller that does not read the total counts only then). */
  total: number | (() => Promise<number>),
): Promise<Row[] | undefined> {
  const need = page.offset + page.limit;
  const n = firstRead(need);
  // Past half the rows, sorting all of them (each sum computed once) is about as quick. Only a choice of work:
  // the search's page is exact either way, so when the rows are not counted yet it goes on under n of them.
  let half: number | undefined;
  const most = async () => (half ??= Math.floor((typeof total === 'number' ? total : await total()) / 2));
  const tooMany = async (k: number) => (typeof total === 'number' || k > n) && k > (await most());
  const pageOf = (ids: Id[]) => reads.page(ids, page.limit, page.offset);

  const first = await reads.top(n + 1);
  if (first.length <= n) return pageOf(first.map((r) => r.rid));
  const next = Number(first.pop()!.bound);
  const out = await pageOf(first.map((r) => r.rid));
  if (out.length < page.limit) return undefined;
  const v = Number(out[out.length - 1]![column]);
  if (v > next) return out;
  // The rows above v: all among those read already when the next one is at v (they are in all-time order).
  const ids = next <= v ? first.filter((r) => Number(r.bound) > v).map((r) => r.rid) : await reads.above(v, (await most()) + 1);
  // Read with a limit of most + 1, the rows above v are all there only under it: past it, sort every row.
  if (next > v ? ids.length > (await most()) : await tooMany(ids.length)) return undefined;
  // The tie at v, in tiebreak order, a chunk at a time: stop once `need` of them are at v in the window.
  const chunk = Math.max(need, 64);
  let atV = 0;
  for (let offset = 0; atV < need; offset += chunk) {
    const tied = await reads.at(v, chunk, offset);
    ids.push(...tied);
    if (await tooMany(ids.length)) return undefined;
    if (tied.length < chunk) break;
    atV += (await reads.page(tied, chunk, 0)).filter((r) => Number(r[column]) === v).length;
  }
  return pageOf(ids);
}
