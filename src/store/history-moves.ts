/**
 * Template moves applied to the history, for every backend alike: pure
 * functions from the two entities' running-total rows (sorted, each ending
 * in the sentinel) to their new rows. A store reads both entities, calls
 * moveRows and writes the result back in the commit's transaction.
 */
import type { HistoryMove } from '../writer/state.js';
import { bucketsOf, cumOf, type CumRow } from './history.js';

export interface Moved {
  /** `from`'s new rows; empty after a merge (the entity is gone). */
  from: CumRow[];
  to: CumRow[];
}

/**
 * A merge adds all of `from`'s buckets to `to`'s. A split moves `count` and
 * `bytes` of `from`'s lines to `to`, each bucket giving its share in
 * proportion (largest remainders, so the shares add up exactly and no
 * bucket gives more than it has); more than `from` holds moves all of it.
 */
export function moveRows(from: readonly CumRow[], to: readonly CumRow[], m: Pick<HistoryMove, 'merged' | 'count' | 'bytes'>): Moved {
  const source = bucketsOf(from);
  const target = new Map(bucketsOf(to).map((b) => [b.bucket, { ...b }]));
  const add = (bucket: number, count: number, bytes: number) => {
    if (count === 0 && bytes === 0) return;
    const t = target.get(bucket);
    if (t) {
      t.count += count;
      t.bytes += bytes;
    } else target.set(bucket, { bucket, count, bytes });
  };
  if (m.merged) {
    for (const b of source) add(b.bucket, b.count, b.bytes);
    return { from: [], to: cumOf(sorted(target)) };
  }
  const counts = shares(source.map((b) => b.count), m.count);
  const bytes = shares(source.map((b) => b.bytes), m.bytes);
  const left: CumRow[] = [];
  source.forEach((b, i) => {
    add(b.bucket, counts[i]!, bytes[i]!);
    const rest = { bucket: b.bucket, count: b.count - counts[i]!, bytes: b.bytes - bytes[i]! };
    if (rest.count !== 0 || rest.bytes !== 0) left.push(rest);
  });
  return { from: cumOf(left), to: cumOf(sorted(target)) };
}

function sorted(m: Map<number, CumRow>): CumRow[] {
  return [...m.values()].sort((a, b) => a.bucket - b.bucket);
}

/** Splits `amount` over `parts` in proportion to them: whole numbers, each at most its part, adding up to min(amount, sum). */
export function shares(parts: readonly number[], amount: number): number[] {
  const total = parts.reduce((a, b) => a + b, 0);
  if (total <= 0 || amount <= 0) return parts.map(() => 0);
  if (amount >= total) return [...parts];
  const exact = parts.map((p) => (p * amount) / total);
  const out = exact.map((x, i) => Math.min(parts[i]!, Math.floor(x)));
  let left = amount - out.reduce((a, b) => a + b, 0);
  // Largest remainder first; ties to the later bucket (the recent lines are the likelier ones to have moved).
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || b.i - a.i);
  for (let k = 0; left > 0 && k < order.length * 2; k++) {
    const i = order[k % order.length]!.i;
    if (out[i]! < parts[i]!) {
      out[i]!++;
      left--;
    }
  }
  return out;
}
