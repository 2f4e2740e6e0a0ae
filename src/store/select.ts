/**
 * The k-th of a list without sorting it all: what a page's boundary needs (the last row on the page, and so which
 * rows are above it and which tie with it), for the kept edges' page picking of SQLite and PostgreSQL
 * (src/store/top-candidates.ts).
 */

/**
 * The `k`-th largest (1-based) of `xs` (no NaN), or undefined when it holds fewer than `k`. Reorders `xs` (a
 * scratch copy). Quickselect with a three-way partition: O(n) expected whatever `k` (a page deep in a list asks
 * for the 50,100th), and a run of equal values (the many entities with nothing in the window) is done in one pass.
 */
export function kthLargest(xs: Float64Array, k: number): number | undefined {
  if (k < 1 || xs.length < k) return undefined;
  // Place `want` (0-based) in descending order.
  const want = k - 1;
  let lo = 0;
  let hi = xs.length - 1;
  let seed = 0x9e3779b9;
  while (lo < hi) {
    // A pseudo-random pivot (xorshift): sorted or reversed input does not make it quadratic.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const p = xs[lo + ((seed >>> 0) % (hi - lo + 1))]!;
    // [lo, gt): above p; [gt, i): equal; [i, lt]: not yet seen; (lt, hi]: below p.
    let gt = lo;
    let i = lo;
    let lt = hi;
    while (i <= lt) {
      const x = xs[i]!;
      if (x > p) {
        xs[i] = xs[gt]!;
        xs[gt++] = x;
        i++;
      } else if (x < p) {
        xs[i] = xs[lt]!;
        xs[lt--] = x;
      } else i++;
    }
    if (want < gt) hi = gt - 1;
    else if (want > lt) lo = lt + 1;
    else return p;
  }
  return xs[lo]!;
}
