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

/** Key lists remembered by SortedKeys: records of a stream cycle through a few shapes (optional attributes). */
const SHAPES = 8;

/**
 * Sorted, de-duplicated keys of an attribute list. Records of one stream
 * mostly carry one of a few key lists in a fixed order, so the last SHAPES
 * answers are remembered and returned (the same array) when the keys match.
 * (Remembering only the last list missed on every record of a stream whose
 * optional attributes vary: ~9% of worker time in the load bench.)
 */
export class SortedKeys {
  private readonly raw: string[][] = [];
  private readonly sorted: string[][] = [];
  private next = 0;

  of(attrs: ReadonlyArray<{ key: string }>): string[] {
    const n = attrs.length;
    if (n === 0) return EMPTY;
    for (let e = 0; e < this.raw.length; e++) {
      const raw = this.raw[e]!;
      if (raw.length !== n) continue;
      let i = 0;
      while (i < n && raw[i] === attrs[i]!.key) i++;
      if (i === n) return this.sorted[e]!;
    }
    const keys = new Array<string>(n);
    for (let i = 0; i < n; i++) keys[i] = attrs[i]!.key;
    const slot = this.next;
    this.next = (slot + 1) % SHAPES;
    this.raw[slot] = keys.slice();
    keys.sort();
    let w = 1;
    for (let i = 1; i < n; i++) if (keys[i] !== keys[w - 1]) keys[w++] = keys[i]!;
    keys.length = w;
    this.sorted[slot] = keys;
    return keys;
  }
}

const EMPTY: string[] = [];
