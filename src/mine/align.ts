/**
 * Optional parts: lines of one template that carry a short group only sometimes (a
 * byte count with a unit in parentheses only when it is large, `1190 bytes (1.16 KB)
 * sent` / `403 bytes sent`), or a value written with another number of tokens
 * (`lifetime 00:02` / `lifetime <1 sec`). Their token counts differ, so the parse tree
 * puts them in different leaves; this aligns a line with a template of another length
 * and accepts it when what does not align is only such parts.
 *
 * Runs on cache misses that found no cluster of the line's own length, for clusters of
 * the same first token and a few tokens more or fewer.
 */
import { WILDCARD } from './masks.js';
import { isConstWord, isUnit, tokenMatches } from './similarity.js';

/** Token counts apart that may still be one template. */
export const MAX_EXTRA = 6;
/** Longest line (tokens) aligned: the table is (m+1)·(n+1) cells. */
const MAX_TOKENS = 64;
/** Unaligned runs allowed (each one optional part). */
const MAX_HUNKS = 3;

const table = new Int32Array((MAX_TOKENS + 1) * (MAX_TOKENS + 1));
/** valueLike() of each template and line token, computed once per call (the table would call it m·n times). */
const tv = new Uint8Array(MAX_TOKENS);
const lv = new Uint8Array(MAX_TOKENS);
/** The line whose tokens `lv` classifies (token arrays are made per miss, so identity is enough). */
let lastToks: readonly string[] | null = null;

/** A token that is a value, not a constant: masked, numeric, `<*>`, punctuation only or a unit. */
function valueLike(t: string): boolean {
  return t === WILDCARD || !isConstWord(t) || isUnit(t);
}

function isOpen(t: string): boolean {
  const c = t.charCodeAt(0);
  return c === 40 || c === 91; // ( [
}

function isClose(t: string): boolean {
  const c = t.charCodeAt(t.length - 1);
  const d = t.charCodeAt(t.length - 2);
  return c === 41 || c === 93 || ((c === 44 || c === 46 || c === 59) && (d === 41 || d === 93)); // ) ] and ), ). );
}

/** Tokens i, j align: equal or accepted by the template, or two values (`chrome.exe` / `<*>`, `<NUM>` / `<HEX>`). */
function aligns(tpl: readonly string[], i: number, toks: readonly string[], j: number): boolean {
  return (tv[i]! & lv[j]!) === 1 || tokenMatches(tpl[i]!, toks[j]!);
}

/** One unaligned run may go: a bracketed group, or values only on both sides. */
function optionalRun(a: readonly string[], a0: number, a1: number, b: readonly string[], b0: number, b1: number): boolean {
  const bracketed = (x: readonly string[], s: number, e: number): boolean => e > s && isOpen(x[s]!) && isClose(x[e - 1]!);
  if (a0 === a1 && bracketed(b, b0, b1)) return true;
  if (b0 === b1 && bracketed(a, a0, a1)) return true;
  for (let i = a0; i < a1; i++) if (!valueLike(a[i]!)) return false;
  for (let i = b0; i < b1; i++) if (!valueLike(b[i]!)) return false;
  return true;
}

/**
 * Align template `tpl` with line `toks` (different lengths). Returns, for each template
 * position, the line position aligned with it (-1 for none), or null when the two are
 * not one template: too few tokens align (share `threshold` of the shorter one), or an
 * unaligned run is not an optional part, or there are more than MAX_HUNKS runs.
 */
export function alignOptional(tpl: readonly string[], toks: readonly string[], threshold: number): Int32Array | null {
  const m = tpl.length;
  const n = toks.length;
  if (m > MAX_TOKENS || n > MAX_TOKENS || Math.abs(m - n) > MAX_EXTRA || m === 0 || n === 0) return null;
  // Optional parts sit inside a line: its first and last tokens align. Tested first, before any
  // per-token work (measured on the shuffled Loghub mix: classifying every token of every
  // candidate first was a third of all the time spent on cache misses).
  const ends = (i: number, j: number): boolean => tokenMatches(tpl[i]!, toks[j]!) || (valueLike(tpl[i]!) && valueLike(toks[j]!));
  if (!ends(0, 0) || !ends(m - 1, n - 1)) return null;
  if (toks !== lastToks) {
    // The line is the same for every candidate of one miss: classify its tokens once.
    for (let j = 0; j < n; j++) lv[j] = valueLike(toks[j]!) ? 1 : 0;
    lastToks = toks;
  }
  for (let i = 0; i < m; i++) tv[i] = valueLike(tpl[i]!) ? 1 : 0;
  const w = n + 1;
  // Longest common subsequence, from the end, so the walk below goes forward.
  for (let i = m; i >= 0; i--) {
    for (let j = n; j >= 0; j--) {
      const k = i * w + j;
      if (i === m || j === n) table[k] = 0;
      else if (aligns(tpl, i, toks, j)) table[k] = table[k + w + 1]! + 1;
      else table[k] = Math.max(table[k + w]!, table[k + 1]!);
    }
  }
  const need = threshold * Math.min(m, n);
  if (table[0]! < need) return null;
  let exact = 0; // aligned pairs equal or accepted by the template (two values aligned are not evidence)
  let words = 0; // of which constant words: what makes two lines one template
  const map = new Int32Array(m).fill(-1);
  let i = 0;
  let j = 0;
  let hunks = 0;
  let ri = 0; // start of the current unaligned run
  let rj = 0;
  const close = (): boolean => {
    if (ri === i && rj === j) return true;
    if (++hunks > MAX_HUNKS) return false;
    return optionalRun(tpl, ri, i, toks, rj, j);
  };
  while (i < m && j < n) {
    const k = i * w + j;
    if (table[k] === table[k + w + 1]! + 1 && aligns(tpl, i, toks, j)) {
      if (!close()) return null;
      if (tokenMatches(tpl[i]!, toks[j]!)) {
        exact++;
        if (isConstWord(toks[j]!)) words++;
      }
      map[i] = j;
      i++;
      j++;
      ri = i;
      rj = j;
    } else if (table[k + w]! >= table[k + 1]!) i++;
    else j++;
  }
  i = m;
  j = n;
  return close() && exact >= need && words >= 2 ? map : null;
}
