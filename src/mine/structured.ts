/**
 * Structured log bodies: OTLP kvlist/map bodies, JSON objects and logfmt lines.
 * The miner sees only the message field; the sorted key set is kept as the shape.
 * A structured body without a message field is mined as its key set, "{a, b, c}",
 * so bodies with the same keys share one template.
 */
import { SortedKeys } from '../util/sorted-keys.js';

/** Field names holding the human message, most specific first (compared case-insensitively). */
const MESSAGE_FIELDS = ['message', 'msg', 'log', '@message', 'event', 'body', 'text', 'error', 'err'];

/**
 * Per-thread memos of what a structured body's keys give: bodies of one stream repeat their keys, so each key's rank
 * and each key list's sorted set are worked out once, not per body (a lower-cased copy of every key, a Set and a sort
 * per body before). Bounded: past MEMO_SIZE keys the ranks start over; SortedKeys keeps a few lists of each length.
 */
const MEMO_SIZE = 4096;
const ranks = new Map<string, number>();
/** The same array for the same key list (callers only read it: the extractor's unionSorted returns it as is). */
const keyLists = new SortedKeys();

function messageRank(key: string): number {
  let r = ranks.get(key);
  if (r === undefined) {
    const i = MESSAGE_FIELDS.indexOf(key.toLowerCase());
    r = i < 0 ? MESSAGE_FIELDS.length : i;
    if (ranks.size >= MEMO_SIZE) ranks.clear();
    ranks.set(key, r);
  }
  return r;
}

function keyTemplate(keys: string[]): string {
  return `{${keys.join(', ')}}`;
}

function fromPairs(pairs: ReadonlyArray<{ key: string; value: unknown }>): { message: string; keys: string[] } {
  let best = -1;
  let rank = MESSAGE_FIELDS.length;
  for (let i = 0; i < pairs.length; i++) {
    const r = messageRank(pairs[i]!.key);
    if (r < rank) {
      rank = r;
      best = i;
    }
  }
  const keys = keyLists.of(pairs);
  if (best < 0) return { message: keyTemplate(keys), keys };
  const v = pairs[best]!.value;
  return { message: typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v), keys };
}

/** A JSON object body, or undefined when the string is not one. */
function parseJsonObject(s: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45 || c === 64;
}

/**
 * Parse a logfmt line (`a=1 msg="hello world" b=x`): every token must be key=value
 * and there must be at least two of them, else undefined. One forward scan.
 */
export function parseLogfmt(s: string): Array<{ key: string; value: string }> | undefined {
  const out: Array<{ key: string; value: string }> = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    while (i < n && s.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    const k0 = i;
    while (i < n && isKeyChar(s.charCodeAt(i))) i++;
    if (i === k0 || i >= n || s.charCodeAt(i) !== 61) return undefined; // '='
    const key = s.slice(k0, i);
    i++;
    let value: string;
    if (s.charCodeAt(i) === 34) {
      // quoted value with backslash escapes
      let v = '';
      i++;
      let seg = i;
      for (;;) {
        if (i >= n) return undefined;
        const c = s.charCodeAt(i);
        if (c === 92 && i + 1 < n) {
          v += s.slice(seg, i) + s[i + 1];
          i += 2;
          seg = i;
        } else if (c === 34) {
          v += s.slice(seg, i);
          i++;
          break;
        } else i++;
      }
      value = v;
    } else {
      const v0 = i;
      while (i < n && s.charCodeAt(i) > 32) i++;
      value = s.slice(v0, i);
    }
    out.push({ key, value });
  }
  return out.length >= 2 ? out : undefined;
}

export function bodyMessage(body: string | Array<{ key: string; value: string }> | undefined): { message: string; keys: string[] | undefined } {
  if (body === undefined) return { message: '', keys: undefined };
  if (Array.isArray(body)) return fromPairs(body);
  let s = 0;
  while (s < body.length && body.charCodeAt(s) <= 32) s++;
  const c = body.charCodeAt(s);
  if (c === 123) {
    // '{': only a complete JSON object counts
    const obj = parseJsonObject(body);
    if (obj !== undefined) return fromPairs(Object.entries(obj).map(([key, value]) => ({ key, value })));
  } else if (isKeyChar(c) && body.indexOf('=') > 0) {
    const pairs = parseLogfmt(body);
    if (pairs !== undefined) return fromPairs(pairs);
  }
  return { message: body, keys: undefined };
}

/**
 * Could text[start, end) be a structured body that bodyMessage() would reduce? A JSON
 * object starts with `{`; a logfmt line's first token is `key=`. Lets `keytally mine`
 * slice out only those lines and scan every other one in place (no string per line).
 */
export function mayBeStructured(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && text.charCodeAt(i) <= 32) i++;
  if (i >= end) return false;
  const c = text.charCodeAt(i);
  if (c === 123) return true;
  const k0 = i;
  while (i < end && isKeyChar(text.charCodeAt(i))) i++;
  return i > k0 && i < end && text.charCodeAt(i) === 61;
}

/**
 * mayBeStructured() of the UTF-8 bytes buf[start, end): the same answer as for their decoded string, since both
 * checks read only ASCII (whitespace, `{`, key characters, `=`) and every byte below 0x80 decodes to itself. When
 * it is false, bodyMessage() of that string is the string itself: the body is mined as it is.
 */
export function mayBeStructuredUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && buf[i]! <= 32) i++;
  if (i >= end) return false;
  const c = buf[i]!;
  if (c === 123) return true;
  const k0 = i;
  while (i < end && isKeyChar(buf[i]!)) i++;
  return i > k0 && i < end && buf[i] === 61;
}
