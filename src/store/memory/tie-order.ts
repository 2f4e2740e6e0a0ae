/**
 * A table's rows numbered in its sort specs' tie-break order (the key
 * columns: service, scope, key…), kept across questions so that a windowed
 * list breaks a tie by comparing two numbers (src/store/memory/window-view.ts).
 * Ties are the rule, not the exception: 100,000 keys mostly share a
 * cardinality or a byte count, and comparing their service and key texts at
 * every tie was most of a page's cost (/keys by cardinality, limit 1: 80 ms).
 * Rows only come and go between questions, so after the first numbering only
 * the new ones are sorted and merged in (the table tells which: Tables.takeMembership).
 */
import type { Entry, Records, TableName, Tables } from './tables.js';

export class TieOrder<T extends TableName> {
  /** The live entries in tie-break order, as last numbered. */
  private ordered: Array<Entry<T>> | undefined;
  /** One more at every numbering that changed the order (what a TextIndex was made at). */
  generation = 0;

  constructor(
    private readonly t: Tables,
    private readonly table: T,
    /** The tie-break comparator: a total order of the table's rows. */
    private readonly cmp: (a: Records[T], b: Records[T]) => number,
  ) {}

  /** Sets Entry.rank of every row of the table to its place in tie-break order. */
  number(): void {
    const m = this.t.takeMembership(this.table);
    if (this.ordered && m.fresh && m.fresh.length === 0 && !m.removed) return;
    const live = (e: Entry<T>) => this.t.entry(this.table, e.key) === e;
    const byRow = (a: Entry<T>, b: Entry<T>) => this.cmp(a.row, b.row);
    let ordered: Array<Entry<T>>;
    if (!this.ordered || !m.fresh) {
      ordered = [...this.t.entries(this.table)].sort(byRow);
    } else {
      // An entry removed since (or added and removed again) is no longer the table's entry under its key.
      const old = m.removed ? this.ordered.filter(live) : this.ordered;
      const fresh = (m.removed ? m.fresh.filter(live) : m.fresh).sort(byRow);
      ordered = new Array<Entry<T>>(old.length + fresh.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < old.length && j < fresh.length) ordered[k++] = byRow(old[i]!, fresh[j]!) <= 0 ? old[i++]! : fresh[j++]!;
      while (i < old.length) ordered[k++] = old[i++]!;
      while (j < fresh.length) ordered[k++] = fresh[j++]!;
    }
    for (let i = 0; i < ordered.length; i++) ordered[i]!.rank = i;
    this.ordered = ordered;
    this.generation++;
  }

  /** The entries by rank, as numbered by the last number(). */
  entries(): ReadonlyArray<Entry<T>> {
    return this.ordered ?? [];
  }
}
