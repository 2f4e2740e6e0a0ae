/**
 * A table's entries in tie-break order with what a windowed walk reads of each in typed arrays, kept across
 * questions by the read side (src/store/memory/read.ts): the walks of what is new (fresh-list.ts) and of a window's
 * active rows (window-view.ts) then read no entry for a row that is not kept. Reading first_seen and the entity
 * slot from 100,000 entries and their entities, which lie all over the heap, was most of a /changes.
 */
import type { SlotTable } from './edge-totals.js';
import type { MemoryHistory } from './history.js';
import type { Entry, Records, TableName, Tables } from './tables.js';
import type { TieOrder } from './tie-order.js';
import { entityOf, type WindowedSpec } from './window-view.js';

/**
 * The entries as TieOrder.entries() gives them (so an entry's rank is its index here), with their first_seen and
 * their history entity's slot (-1: none found yet).
 */
export class EntryColumns<T extends TableName> {
  firstSeen = new Float64Array(0);
  slot = new Int32Array(0);
  entries: ReadonlyArray<Entry<T>> = [];
  /** What the arrays were made at: the tie order's generation, the table's first_seen moves, the slots' renumberings. */
  private made: [number, number, number, SlotTable | undefined] = [-1, -1, -1, undefined];

  /** Made again if rows came or went (the order was renumbered), a first_seen moved or the slots were renumbered. */
  refresh(t: Tables, h: MemoryHistory, table: T, spec: WindowedSpec<Records[T]>, order: TieOrder<T>, slots: SlotTable): void {
    const [generation, moves, compactions, of] = this.made;
    if (generation === order.generation && moves === t.seenMoves[table] && compactions === slots.compactions && of === slots) return;
    const es = order.entries();
    const firstSeen = new Float64Array(es.length);
    const slot = new Int32Array(es.length);
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      firstSeen[i] = e.firstSeen;
      slot[i] = entityOf(h, e, spec)?.slot ?? -1;
    }
    this.firstSeen = firstSeen;
    this.slot = slot;
    this.entries = es;
    this.made = [order.generation, t.seenMoves[table], slots.compactions, slots];
  }

  /** Entry i's entity slot; looked up again through the entry when it had none or its entity is gone (merged away, forgotten). -1: none. */
  slotOf(i: number, h: MemoryHistory, spec: WindowedSpec<Records[T]>, slots: SlotTable): number {
    const s = this.slot[i]!;
    if (s >= 0 && slots.ents[s] !== undefined) return s;
    const ent = entityOf(h, this.entries[i]!, spec);
    return ent ? (this.slot[i] = ent.slot) : -1;
  }
}
