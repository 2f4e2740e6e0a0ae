/**
 * Template/line comparison. A `<*>` on either side matches anything, so a template
 * that is mostly variables keeps matching the lines it was learned from (classic
 * Drain ignores wildcards here and keeps splitting repeated data into new clusters).
 */
import { WILDCARD } from './masks.js';


/** Share of positions where the template and the line agree (same length assumed). */
export function similarity(tpl: readonly string[], toks: readonly string[]): number {
  const n = tpl.length;
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const t = tpl[i]!;
    const w = toks[i]!;
    if (t === w || t === WILDCARD || w === WILDCARD) same++;
  }
  return same / n;
}

/** True when every line of `b` would also be a line of `a` (a is at least as general). */
export function covers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== WILDCARD && a[i] !== b[i]) return false;
  return true;
}

/** Turn the positions where the template and the line differ into `<*>`; returns the number changed. */
export function generalize(tpl: string[], toks: readonly string[]): number {
  let changed = 0;
  for (let i = 0; i < tpl.length; i++) {
    if (tpl[i] !== toks[i] && tpl[i] !== WILDCARD) {
      tpl[i] = WILDCARD;
      changed++;
    }
  }
  return changed;
}
