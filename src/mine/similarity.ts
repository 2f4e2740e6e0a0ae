/**
 * Template/line comparison. A `<*>` on either side matches anything, so a template
 * that is mostly variables keeps matching the lines it was learned from (classic
 * Drain ignores wildcards here and keeps splitting repeated data into new clusters).
 *
 * A template token may keep punctuation around its variable (`user=<*>`, `(<*>)`,
 * `<*>:`): it matches any token with that prefix and suffix. This keeps the text
 * the user wrote and stops `key=value` tokens from matching a different key.
 */
import { CLASS, C_LETTER, isCloseWrap, isOpenWrap } from './chars.js';
import { WILDCARD } from './masks.js';

/** Does template token t accept line token w? (No allocation: runs for every cluster on a cache miss.) */
export function tokenMatches(t: string, w: string): boolean {
  if (t === w || t === WILDCARD || w === WILDCARD) return true;
  const tl = t.length;
  if (tl <= 3 || w.length < tl - 3) return false;
  const star = t.indexOf(WILDCARD);
  if (star < 0) return false;
  for (let k = 0; k < star; k++) if (t.charCodeAt(k) !== w.charCodeAt(k)) return false;
  const wl = w.length;
  for (let k = 1; k <= tl - star - 3; k++) if (t.charCodeAt(tl - k) !== w.charCodeAt(wl - k)) return false;
  return true;
}

/**
 * Words that are values however few they are: weekday and month names (parts of a
 * date) and booleans and nulls (`allDrawn=true` / `allDrawn=false` is one field).
 */
const VALUE_WORDS = new Set(
  ['true', 'false', 'True', 'False', 'TRUE', 'FALSE', 'null', 'NULL', 'nil', 'undefined',
    'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec',
    'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday', 'January', 'February', 'March', 'April', 'June',
    'July', 'August', 'September', 'October', 'November', 'December'].flatMap((w) => [w, w + ',']),
);

/**
 * A constant word: letters and punctuation only, no digit, no mask, no `<*>`. Two
 * different constant words at one position are what tells templates apart (an HTTP
 * method, a state, a verb); numbers, ids and masked kinds are what varies inside one.
 */
export function isConstWord(t: string): boolean {
  if (VALUE_WORDS.has(t)) return false;
  let letters = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) return false;
    // A path or a dotted name (`/var/log`, `org.apache.Foo`, `C:\x`): a value, however few there are.
    if (c === 47 || c === 92 || (c === 46 && i > 0 && i + 1 < t.length && (CLASS[t.charCodeAt(i + 1)]! & C_LETTER) !== 0)) return false;
    if (c === 60 && i + 2 < t.length && t.charCodeAt(i + 2) !== 32 && t.indexOf('>', i) > i + 1) {
      const c1 = t.charCodeAt(i + 1);
      if (c1 === 42 || (c1 >= 65 && c1 <= 90)) return false; // <*>, <NUM>, …
    }
    if ((CLASS[c]! & C_LETTER) !== 0) letters++;
  }
  return letters > 0;
}

/**
 * Do template token t and line token w name different constants? True for two different
 * constant words (`GET`/`POST`, `Started`/`Paused`), and for `key=value` tokens with
 * different keys (`mode=<NUM>` / `size=<NUM>`: another field, not another value). A
 * number, an id, a masked kind or a learned `<*>` on either side is a value, not a
 * constant.
 */
export function blocks(t: string, w: string): boolean {
  if (t === w) return false;
  const kt = t.indexOf('=');
  const kw = w.indexOf('=');
  if (kt > 0 || kw > 0) {
    if (kt !== kw || t.charCodeAt(0) !== w.charCodeAt(0) || t.slice(0, kt) !== w.slice(0, kw)) {
      // Different keys (or a key against a bare word): a constant difference when both keys are words.
      return kt > 0 && kw > 0 && isConstWord(t.slice(0, kt)) && isConstWord(w.slice(0, kw));
    }
    return blocks(t.slice(kt + 1), w.slice(kw + 1));
  }
  return isConstWord(t) && isConstWord(w);
}

/** Units after a number follow its magnitude (`93.0 B`, `5.2 KB`): part of the value. */
const UNITS = new Set(['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'kB', 'KiB', 'MiB', 'GiB', 'TiB', 'ms', 'us', 'µs', 'ns', 's', 'sec', 'secs', 'min', 'mins'].flatMap((w) => [w, w + ',', w + ')', w + '.', w + ';']));

export function isUnit(t: string): boolean {
  return UNITS.has(t);
}

/** Share of positions where the template and the line agree (same length assumed). */
export function similarity(tpl: readonly string[], toks: readonly string[]): number {
  const n = tpl.length;
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const t = tpl[i]!;
    const w = toks[i]!;
    if (tokenMatches(t, w)) same++;
  }
  return same / n;
}

/** True when every line of `b` would also be a line of `a` (a is at least as general). */
export function covers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y || x === WILDCARD) continue;
    if (y === WILDCARD || !tokenMatches(x, y)) return false;
  }
  return true;
}

/**
 * The most specific token covering both t and w: a shared key (`rhost=<*>`, `path:<*>`)
 * or opening brackets before the `<*>`, shared closing punctuation after it (`(<*>)`,
 * `<*>:`); else `<*>`. Frames are this narrow on purpose: `/var/<*>.log` would read
 * as a learned structure that one more line may break.
 */
export function generalizeToken(t: string, w: string): string {
  if (t === w) return t;
  if (t === WILDCARD || w === WILDCARD) return WILDCARD;
  const max = Math.min(t.length, w.length);
  let p = 0;
  while (p < max && t.charCodeAt(p) === w.charCodeAt(p)) p++;
  let q = 0; // leading open brackets/quotes
  while (q < p && isOpenWrap(t.charCodeAt(q)) && t.charCodeAt(q) !== 60) q++;
  for (let k = p; k > q; k--) {
    const c = t.charCodeAt(k - 1);
    if (c === 61 || c === 58) {
      q = k; // key= or key:
      break;
    }
  }
  let s = 0;
  while (s < max - q && t.charCodeAt(t.length - 1 - s) === w.charCodeAt(w.length - 1 - s)) s++;
  let r = 0; // trailing closing punctuation, never '>' (end of a mask name)
  while (r < s && isCloseWrap(t.charCodeAt(t.length - 1 - r)) && t.charCodeAt(t.length - 1 - r) !== 62) r++;
  if (q === 0 && r === 0) return WILDCARD;
  const pre = t.slice(0, q);
  const suf = t.slice(t.length - r);
  if (pre.includes(WILDCARD) || suf.includes(WILDCARD)) return WILDCARD;
  return pre + WILDCARD + suf;
}

/** Generalize the template where it does not accept the line; returns the number of tokens changed. */
export function generalize(tpl: string[], toks: readonly string[]): number {
  let changed = 0;
  for (let i = 0; i < tpl.length; i++) {
    if (tokenMatches(tpl[i]!, toks[i]!)) {
      // A line-side <*> (a template folded by the writer) widens the template too.
      if (toks[i] === WILDCARD && tpl[i] !== WILDCARD) {
        tpl[i] = WILDCARD;
        changed++;
      }
      continue;
    }
    tpl[i] = generalizeToken(tpl[i]!, toks[i]!);
    changed++;
  }
  return changed;
}

/** Number of tokens holding a variable. */
export function countWild(tpl: readonly string[]): number {
  let n = 0;
  for (const t of tpl) if (t.includes(WILDCARD)) n++;
  return n;
}
