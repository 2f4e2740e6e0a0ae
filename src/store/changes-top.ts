/**
 * The largest rises and falls of /changes without sorting every entity: a
 * bounded heap per list keeps the `limit` best seen so far, its worst at the
 * root, so an entity that does not beat that worst costs one comparison.
 * Shared by the memory and SQLite stores (src/store/memory/history.ts,
 * src/store/sqlite/changes.ts), which differ only in how ties are broken.
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
