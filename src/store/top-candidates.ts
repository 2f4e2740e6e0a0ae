/**
 * The page of a windowed list sorted by a window's sum, picked from totals kept at the window's edges (SQLite's
 * and PostgreSQL's kept edges: src/store/sqlite/changes.ts, src/store/postgres/changes.ts, topCandidates): each
 * entity's sum is the difference of two arrays by entity id, and the page's rows are those above the `need`-th
 * largest sum and of the tie at it. Each store then orders the tie by its list's tie-break.
 */
import { kthLargest } from './select.js';

/**
 * Of `ids` (a kind's entities in key order; only those of service number `svc` when it is not negative), the ids
 * whose sum `to[id] - from[id]` is above the `need`-th largest (`above`, in `ids`' order) and those equal to it
 * (`tied`, likewise). Undefined when there are fewer than `need`, or that sum is not above 0 (rows with nothing in
 * the window would be among them): the list then sorts every row's sums.
 */
export function aboveAndTied(
  ids: Int32Array, serviceOf: Int32Array, svc: number, from: Float64Array, to: Float64Array, need: number,
): { above: number[]; tied: number[] } | undefined {
  const sums = new Float64Array(ids.length);
  let n = 0;
  for (const id of ids) if (svc < 0 || serviceOf[id] === svc) sums[n++] = to[id]! - from[id]!;
  if (n < need) return undefined;
  // The need-th largest by selection, not a sort of every sum (100,000 sums: ~1 ms, the sort ~6 ms; npm run bench:select).
  const v = kthLargest(sums.subarray(0, n), need);
  if (v === undefined || !(v > 0)) return undefined;
  const above: number[] = [];
  const tied: number[] = [];
  for (const id of ids) {
    if (svc >= 0 && serviceOf[id] !== svc) continue;
    const x = to[id]! - from[id]!;
    if (x > v) above.push(id);
    else if (x === v) tied.push(id);
  }
  return { above, tied };
}
