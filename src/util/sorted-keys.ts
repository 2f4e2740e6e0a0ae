/**
 * Sorted, de-duplicated key lists, remembered by the list they came from: the worker's attribute keys (extractor.ts)
 * and the keys of structured log bodies (src/mine/structured.ts) come in a few lists that repeat.
 */
/** Key lists SortedKeys remembers per list length: records of a stream cycle through a few shapes (optional attributes). */
const SHAPES = 8;
/** Lists of this many keys or more share one set of slots. */
const LENGTHS = 32;

/**
 * Sorted, de-duplicated keys of an attribute list. Records of one stream
 * mostly carry one of a few key lists in a fixed order, so the answers are
 * remembered and returned (the same array) when the keys match, up to SHAPES
 * lists of each length. (Remembering only the last list missed on every
 * record of a stream whose optional attributes vary: ~9% of worker time in the
 * load bench. SHAPES lists of any length still missed there, its six optional
 * log attributes making 16 lists: a miss sorts and allocates, and gives
 * unionSorted a new array where the same one is a no-op. Per length: tables.of
 * 4.8% of the one-pass CPU → 0.6%, in a profile of `npm run bench:stages`.)
 */
export class SortedKeys {
  private readonly raw: string[][][] = [];
  private readonly sorted: string[][][] = [];
  private readonly next: number[] = [];

  constructor() {
    for (let i = 0; i < LENGTHS; i++) {
      this.raw.push([]);
      this.sorted.push([]);
      this.next.push(0);
    }
  }

  of(attrs: ReadonlyArray<{ key: string }>): string[] {
    const n = attrs.length;
    if (n === 0) return EMPTY;
    const b = n < LENGTHS ? n : 0;
    const raws = this.raw[b]!;
    for (let e = 0; e < raws.length; e++) {
      const raw = raws[e]!;
      if (raw.length !== n) continue;
      let i = 0;
      while (i < n && raw[i] === attrs[i]!.key) i++;
      if (i === n) return this.sorted[b]![e]!;
    }
    const keys = new Array<string>(n);
    for (let i = 0; i < n; i++) keys[i] = attrs[i]!.key;
    const slot = this.next[b]!;
    this.next[b] = (slot + 1) % SHAPES;
    raws[slot] = keys.slice();
    keys.sort();
    let w = 1;
    for (let i = 1; i < n; i++) if (keys[i] !== keys[w - 1]) keys[w++] = keys[i]!;
    keys.length = w;
    this.sorted[b]![slot] = keys;
    return keys;
  }
}

const EMPTY: string[] = [];
