/**
 * The memory store's text filter (`q`, SQLite's `LIKE '%q%'` with ASCII case
 * folded) over a column that never changes while its row lives (a key's
 * name, a metric's or span's name: part of the row's key), without reading
 * the rows: the column's folded values of every row, in the table's tie order
 * (src/store/memory/tie-order.ts), joined into one string, searched with
 * indexOf. The rows lie among their sketches: reading each key row's key for
 * a filter took 100,000 keys ~75 ms a list, most of it cache misses.
 * Made again when the tie order is (a row came or went).
 */
import { foldAscii } from '../queries.js';
import type { Entry, TableName } from './tables.js';

/** Between two values in the joined text: a needle that holds it is matched row by row instead. */
const SEP = '\u0000';

export class TextIndex {
  private madeAt = -1;
  private text = '';
  /** Where each rank's value starts in `text` (one more at the end: the text's length + 1). */
  private starts = new Float64Array(1);

  constructor(private readonly column: string) {}

  /** Whether the index answers `needle` (folded): not for an empty one, or one that holds the separator. */
  static answers(needle: string): boolean {
    return needle.length > 0 && !needle.includes(SEP);
  }

  /**
   * By rank, 1 where the row's value holds `needle` (folded; TextIndex.answers), for the entries in tie order
   * `ordered` numbered at `generation`.
   */
  matches(needle: string, ordered: ReadonlyArray<Entry<TableName>>, generation: number): Uint8Array {
    if (generation !== this.madeAt) this.make(ordered, generation);
    const out = new Uint8Array(ordered.length);
    const { text, starts } = this;
    let rank = 0;
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, starts[rank + 1]!)) {
      // The rank whose value holds position `at`: the last start at or before it (at moves forward only).
      let lo = rank;
      let hi = ordered.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= at) lo = mid;
        else hi = mid - 1;
      }
      rank = lo;
      out[rank] = 1;
      if (rank + 1 >= ordered.length) break;
    }
    return out;
  }

  private make(ordered: ReadonlyArray<Entry<TableName>>, generation: number): void {
    const parts = new Array<string>(ordered.length);
    const starts = new Float64Array(ordered.length + 1);
    let n = 0;
    for (let i = 0; i < ordered.length; i++) {
      const v = foldAscii((ordered[i]!.row as unknown as Record<string, string>)[this.column]!);
      parts[i] = v;
      starts[i] = n;
      n += v.length + 1;
    }
    starts[ordered.length] = n;
    this.text = parts.join(SEP);
    this.starts = starts;
    this.madeAt = generation;
  }
}
