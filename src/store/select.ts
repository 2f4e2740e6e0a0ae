/**
 * The k-th of a list without sorting it all: what a page's boundary needs (the last row on the page, and so which
 * rows are above it and which tie with it). Used by PostgreSQL's /changes (src/store/postgres/changes.ts,
 * boundary) and by the kept edges' page picking of SQLite and PostgreSQL (src/store/top-candidates.ts).
 */

/**
 * The item at place `k` (1-based) if `items` were sorted by `cmp` (negative: the first ranks before), or undefined
 * when there are fewer than `k`. Items `cmp` calls equal share a place's key, so any of them may be answered.
 * A bounded heap of `k`, its worst at the root: an item that does not beat it costs one comparison, O(n log k).
 */
export function kthBy<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T | undefined {
  if (k < 1 || items.length < k) return undefined;
  const h = items.slice(0, k);
  // Heapify the first k (worst at the root), then offer each later one against the root.
  for (let i = (k >> 1) - 1; i >= 0; i--) down(h, i, cmp);
  for (let i = k; i < items.length; i++) {
    const x = items[i]!;
    if (cmp(x, h[0]!) < 0) {
      h[0] = x;
      down(h, 0, cmp);
    }
  }
  return h[0];
}

/** Sifts h[i] down while a child ranks after it (the heap's root is the item that ranks last). */
function down<T>(h: T[], i: number, cmp: (a: T, b: T) => number): void {
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let w = i;
    if (l < n && cmp(h[l]!, h[w]!) > 0) w = l;
    if (r < n && cmp(h[r]!, h[w]!) > 0) w = r;
    if (w === i) return;
    const t = h[w]!;
    h[w] = h[i]!;
    h[i] = t;
    i = w;
  }
}

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
