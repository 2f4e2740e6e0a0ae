/**
 * Two- and three-level maps for the worker's delta map. Keying by nested
 * Maps instead of joined strings saves a string concatenation per attribute
 * on the hot path (the joined key was ~9% of worker time in a profile of
 * 512-record log batches).
 */
export class Table2<T> {
  private readonly root = new Map<string, Map<string, T>>();
  size = 0;

  /** The map of one first-level key, created on first use; look it up once per resource, not per record. */
  inner(a: string): Map<string, T> {
    let m = this.root.get(a);
    if (!m) {
      m = new Map();
      this.root.set(a, m);
    }
    return m;
  }

  /** Call after adding to an inner map, to keep size right. */
  added(): void {
    this.size++;
  }

  *values(): IterableIterator<T> {
    for (const m of this.root.values()) yield* m.values();
  }
}

export class Table3<T> {
  private readonly root = new Table2<Map<string, T>>();
  size = 0;

  inner(a: string, b: string): Map<string, T> {
    const m = this.root.inner(a);
    let n = m.get(b);
    if (!n) {
      n = new Map();
      m.set(b, n);
    }
    return n;
  }

  added(): void {
    this.size++;
  }

  *values(): IterableIterator<T> {
    for (const m of this.root.values()) yield* m.values();
  }
}
