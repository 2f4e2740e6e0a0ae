/**
 * Grouping accuracy (GA) as in the logparser benchmark: a line is correct when the
 * set of lines in its predicted group is exactly the set of lines in its true group.
 */
export function groupingAccuracy(predicted: ArrayLike<number | string>, truth: ArrayLike<number | string>): number {
  const n = predicted.length;
  if (n === 0) return 1;
  const trueSize = new Map<number | string, number>();
  for (let i = 0; i < n; i++) trueSize.set(truth[i]!, (trueSize.get(truth[i]!) ?? 0) + 1);
  // Per predicted group: its size and whether all its lines share one true group.
  const groups = new Map<number | string, { size: number; label: number | string; pure: boolean }>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(predicted[i]!);
    if (g === undefined) groups.set(predicted[i]!, { size: 1, label: truth[i]!, pure: true });
    else {
      g.size++;
      if (g.label !== truth[i]) g.pure = false;
    }
  }
  let correct = 0;
  for (const g of groups.values()) if (g.pure && trueSize.get(g.label) === g.size) correct += g.size;
  return correct / n;
}
