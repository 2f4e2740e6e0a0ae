/**
 * Single-pass tokenizer and masker.
 *
 * A line is split on whitespace into tokens; each token is cut into segments that
 * are either literal text or a mask (<NUM>, <IP>, …). Masks are found inside tokens
 * too (`blk_-123` -> `blk_<NUM>`, `(uid=0)` -> `(uid=<NUM>)`), so the token count
 * of a line never depends on masking. Nothing is allocated per line: results live
 * in typed arrays reused from line to line, and the line's shape (the masked token
 * sequence) is summarised by two 32-bit hashes so the miner can find a line's
 * cluster without building any string. Strings are built only on a cache miss.
 *
 * No regular expressions: every check below is a bounded forward scan, so the
 * cost is linear in the line length whatever the input.
 */
import { CLASS, C_ALNUM, C_DIGIT, C_HEXLETTER, C_LETTER, C_NONHEX, isCloseWrap, isOpenWrap } from './chars.js';
import { EMAIL, HEX, IP, LITERAL, MASK_TEXT, NUM, TS, URL, UUID, WILD, maskAt } from './masks.js';

/** Token flags. */
export const F_DIGIT = 1; // a literal part holds a digit (e.g. `R02-M1`): likely a variable, never a tree key
export const F_MASK = 2; // at least one mask segment
export const F_ONLY = 4; // the token is exactly one mask (`<NUM>`, `<*>`)
export const F_WILD = 8; // the token is exactly `<*>`

export class LineScanner {
  text = '';
  /** Number of tokens of the last scanned line. */
  n = 0;
  tokStart: Int32Array;
  tokEnd: Int32Array;
  tokSeg: Int32Array; // first segment of token i; segments of i are tokSeg[i] .. tokSeg[i+1]
  tokFlags: Uint8Array;
  segStart: Int32Array;
  segEnd: Int32Array;
  segKind: Uint8Array;
  nseg = 0;
  /** Shape hashes of the last line: equal shapes (same masked tokens) give equal hashes. */
  h1 = 0;
  h2 = 0;

  constructor(maxLen: number) {
    const cap = maxLen + 2;
    this.tokStart = new Int32Array(cap);
    this.tokEnd = new Int32Array(cap);
    this.tokSeg = new Int32Array(cap + 1);
    this.tokFlags = new Uint8Array(cap);
    this.segStart = new Int32Array(cap * 2);
    this.segEnd = new Int32Array(cap * 2);
    this.segKind = new Uint8Array(cap * 2);
  }

  /** Tokenize and mask text[start, end). The caller bounds end - start by the max line length. */
  scan(text: string, start: number, end: number): void {
    this.text = text;
    this.n = 0;
    this.nseg = 0;
    let h1 = 0x811c9dc5 | 0;
    let h2 = 0x2545f491 | 0;
    let i = start;
    for (;;) {
      while (i < end && text.charCodeAt(i) <= 32) i++;
      if (i >= end) break;
      const t = this.n++;
      this.tokStart[t] = i;
      this.tokSeg[t] = this.nseg;
      // Fast path: a token of letters only, ended by whitespace or the line's end, is what cut() makes one literal
      // segment of (nothing to mask, no flag), hashed char by char as cut() hashes it; anything else in it and cut()
      // reads the token again from its start. Most tokens are words: on the load bench's 204,800 bodies scan() took
      // 0.87x the CPU with it (median of 4 alternating runs, 415 against 475 ns a line, shared machine).
      const s = i;
      let a = 0x01000193;
      let b = 0x6b43a9b5;
      let c = 0;
      while (i < end && ((c = text.charCodeAt(i)), (CLASS[c]! & C_ALNUM) === C_LETTER)) {
        a = Math.imul(a ^ c, 0x01000193);
        b = (Math.imul(b, 31) + c) | 0;
        i++;
      }
      if (i < end && c > 32) {
        i = this.cut(s, end);
        this.tokFlags[t] = this.tf;
        a = this.ta;
        b = this.tb;
      } else {
        this.seg(s, i, LITERAL);
        this.tokFlags[t] = 0;
      }
      this.tokEnd[t] = i;
      h1 = Math.imul(h1 ^ a, 0x9e3779b1);
      h1 ^= h1 >>> 16;
      h2 = Math.imul(h2 ^ b, 0x85ebca6b) + t;
      h2 ^= h2 >>> 13;
    }
    this.tokSeg[this.n] = this.nseg;
    this.h1 = Math.imul(h1 ^ this.n, 0xcc9e2d51);
    this.h2 = h2 ^ this.n;
  }

  /** The masked text of token i (allocates; cache-miss path only). */
  token(i: number): string {
    const g0 = this.tokSeg[i]!;
    const g1 = this.tokSeg[i + 1]!;
    if (g1 - g0 === 1) {
      const k = this.segKind[g0]!;
      return k === LITERAL ? this.text.slice(this.segStart[g0]!, this.segEnd[g0]!) : MASK_TEXT[k]!;
    }
    let out = '';
    for (let g = g0; g < g1; g++) {
      const k = this.segKind[g]!;
      out += k === LITERAL ? this.text.slice(this.segStart[g]!, this.segEnd[g]!) : MASK_TEXT[k]!;
    }
    return out;
  }

  /** The whitespace before token i (i >= 1), as written. */
  separator(i: number): string {
    return this.text.slice(this.tokEnd[i - 1]!, this.tokStart[i]!);
  }

  /** The masked line: masked tokens with the original whitespace between them. */
  masked(): string {
    let out = '';
    for (let i = 0; i < this.n; i++) out += (i > 0 ? this.separator(i) : '') + this.token(i);
    return out;
  }

  private seg(s: number, e: number, kind: number): void {
    const g = this.nseg++;
    this.segStart[g] = s;
    this.segEnd[g] = e;
    this.segKind[g] = kind;
  }

  /** Flags and the two hashes of the token cut last. */
  private tf = 0;
  private ta = 0;
  private tb = 0;

  /**
   * Cut the token starting at s (ending at whitespace or `end`) into segments, hashing
   * it on the way: literal characters go into the hashes as they are read; an
   * alphanumeric run that turns out to be a mask is rolled back and replaced by its
   * kind. One pass over the characters (measured: 2.4 s -> 0.9 s on 1M HDFS lines
   * against separate split, classify and hash passes). Returns the token's end.
   */
  private cut(s: number, end: number): number {
    const text = this.text;
    const g0 = this.nseg;
    let flags = 0;
    let lit = s; // start of the pending literal segment
    let a = 0x01000193;
    let b = 0x6b43a9b5;
    let aPrev = a; // hashes before the last punctuation character (a sign may join the number after it)
    let bPrev = b;
    let colons = 0;
    let special = false; // '@', '::' or '://' seen: check whole-token kinds at the end
    let i = s;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c <= 32) break;
      const cls = CLASS[c]!;
      if ((cls & C_ALNUM) === 0) {
        if (c === 60) {
          const k = maskAt(text, i, end);
          if (k !== 0) {
            if (lit < i) this.seg(lit, i, LITERAL);
            this.seg(i, i + MASK_TEXT[k]!.length, k);
            flags |= k === WILD ? F_MASK | F_WILD : F_MASK;
            a = Math.imul(a ^ (0x10000 + k), 0x01000193);
            b = Math.imul(b + 0x10000 + k, 0x5bd1e995);
            b ^= b >>> 15;
            i += MASK_TEXT[k]!.length;
            lit = i;
            continue;
          }
        } else if (c === 58) {
          if (++colons >= 2) special = true;
          else if (text.charCodeAt(i + 1) === 47) special = true; // maybe ://
        } else if (c === 64) special = true;
        aPrev = a;
        bPrev = b;
        a = Math.imul(a ^ c, 0x01000193);
        b = (Math.imul(b, 31) + c) | 0;
        i++;
        continue;
      }
      // An alphanumeric run [r, re): hashed as read, classified as a whole.
      const r = i;
      const aRun = a;
      const bRun = b;
      // OR/AND of the character classes tell digits-only, hex-only and has-digit at once.
      let or = 0;
      let and = 0xff;
      while (i < end) {
        const d = text.charCodeAt(i);
        const k = CLASS[d]!;
        if ((k & C_ALNUM) === 0) break;
        or |= k;
        and &= k;
        a = Math.imul(a ^ d, 0x01000193);
        b = (Math.imul(b, 31) + d) | 0;
        i++;
      }
      const allHex = (or & C_NONHEX) === 0;
      // A word stays literal, unless it opens a UUID (`ebedccff-f1f4-…`: hex letters only in the first group).
      if ((or & C_DIGIT) === 0 && !(allHex && i - r === 8 && text.charCodeAt(i) === 45 && this.uuidEnd(r, end) > 0)) continue;
      const allDigit = and === C_DIGIT;
      const re = i;
      const len = re - r;
      let kind = LITERAL;
      let ms = r;
      let me = re;
      const c0 = text.charCodeAt(r);
      if (len === 8 && allHex && (me = this.uuidEnd(r, end)) > 0) {
        kind = UUID;
      } else if (allDigit && len >= 8 && c0 === 48 && this.numericEnd(r, re, end) === re) {
        // Zero-padded fixed-width digits (00356410) are a hex id without letters: same kind as 00b35148.
        kind = HEX;
        me = re;
      } else if (allDigit) {
        me = this.numericEnd(r, re, end);
        kind = this.numKind;
        // A sign belongs to the number when it is not a hyphen between words (`part-001`).
        if (r > s) {
          const p = text.charCodeAt(r - 1);
          if ((p === 45 || p === 43) && (r - 1 === s || (CLASS[text.charCodeAt(r - 2)]! & C_ALNUM) === 0)) ms = r - 1;
        }
      } else if (c0 === 48 && len > 2 && (text.charCodeAt(r + 1) | 32) === 120 && this.allHexFrom(r + 2, re)) {
        kind = HEX; // 0x1f
        me = re;
      } else if (allHex && len >= 8) {
        kind = HEX; // 7f3a9c2e…
        me = re;
      } else if (CLASS[c0] === C_DIGIT && this.unitAfterDigits(r, re)) {
        kind = NUM; // a number with a unit: 10ms, 5MB, 64bit
        me = re;
      }
      if (kind === LITERAL) {
        flags |= F_DIGIT;
        continue;
      }
      if (ms < r) {
        a = aPrev;
        b = bPrev;
      } else {
        a = aRun;
        b = bRun;
      }
      a = Math.imul(a ^ (0x10000 + kind), 0x01000193);
      b = Math.imul(b + 0x10000 + kind, 0x5bd1e995);
      b ^= b >>> 15;
      if (lit < ms) this.seg(lit, ms, LITERAL);
      this.seg(ms, me, kind);
      flags |= F_MASK;
      i = me;
      lit = me;
      aPrev = a;
      bPrev = b;
    }
    // numericEnd may stop inside a token only; a timestamp/IP never runs past whitespace.
    const e = i;
    if (lit < e) this.seg(lit, e, LITERAL);
    if (special) {
      const whole = this.wholeToken(s, e, g0);
      if (whole !== 0) {
        flags = whole;
        this.hashSegments(g0);
        return e;
      }
    }
    if (this.nseg - g0 === 1 && (flags & F_MASK) !== 0) flags |= F_ONLY;
    this.tf = flags;
    this.ta = a;
    this.tb = b;
    return e;
  }

  /** Slow path (whole-token masks): hash segments g0.. the same way cut() does. */
  private hashSegments(g0: number): void {
    let a = 0x01000193;
    let b = 0x6b43a9b5;
    for (let g = g0; g < this.nseg; g++) {
      const k = this.segKind[g]!;
      if (k !== LITERAL) {
        a = Math.imul(a ^ (0x10000 + k), 0x01000193);
        b = Math.imul(b + 0x10000 + k, 0x5bd1e995);
        b ^= b >>> 15;
        continue;
      }
      for (let i = this.segStart[g]!; i < this.segEnd[g]!; i++) {
        const c = this.text.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = (Math.imul(b, 31) + c) | 0;
      }
    }
    this.ta = a;
    this.tb = b;
  }

  /** Whole-token kinds (URL, e-mail, IPv6, MAC), checked on the token without wrapping punctuation. */
  private wholeToken(s: number, e: number, g0: number): number {
    const text = this.text;
    let cs = s;
    let ce = e;
    while (cs < ce && isOpenWrap(text.charCodeAt(cs))) cs++;
    while (ce > cs && isCloseWrap(text.charCodeAt(ce - 1))) ce--;
    if (ce - cs < 3) return 0;
    // `[2001:db8::2]:443`: a bracketed IPv6 address with a port is one address, like `10.0.0.1:443`.
    // (Bounded scans: `text` may be a whole file chunk, and indexOf would run past the token.)
    let ob = s;
    while (ob < e && text.charCodeAt(ob) !== 91) ob++;
    if (ob < e) {
      let q = ob + 1;
      while (q < e && text.charCodeAt(q) !== 93) q++;
      if (q > ob + 1 && q + 2 < e && text.charCodeAt(q + 1) === 58 && this.isIpv6(ob + 1, q)) {
        let pe = q + 2;
        while (pe < e && CLASS[text.charCodeAt(pe)] === C_DIGIT) pe++;
        if (pe > q + 2) {
          this.nseg = g0;
          if (ob > s) this.seg(s, ob, LITERAL);
          this.seg(ob, pe, IP);
          if (pe < e) this.seg(pe, e, LITERAL);
          this.tf = ob === s && pe === e ? F_MASK | F_ONLY : F_MASK;
          return this.tf;
        }
      }
    }
    let at = -1;
    let colons = 0;
    let other = 0; // characters that are neither hex digits, ':' nor '.'
    let dcolon = false;
    let scheme = -1;
    for (let i = cs; i < ce; i++) {
      const c = text.charCodeAt(i);
      if (c === 58) {
        colons++;
        if (text.charCodeAt(i + 1) === 58) dcolon = true;
        else if (scheme < 0 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) scheme = i;
      } else if (c === 64) {
        at = at === -1 ? i : -2;
      } else if (c !== 46 && (CLASS[c]! & (C_DIGIT | C_HEXLETTER)) === 0) {
        other++;
      }
    }
    let kind = 0;
    if (scheme > cs && this.allLetters(cs, scheme)) kind = URL;
    else if (at > cs && at < ce - 3 && text.indexOf('.', at) > at + 1 && text.indexOf('.', at) < ce - 1) kind = EMAIL;
    else if (other === 0 && colons >= 2) {
      if (dcolon || colons === 7) kind = IP; // IPv6
      else if (colons === 5 && ce - cs === 17) kind = HEX; // MAC address
    }
    if (kind === 0) return 0;
    this.nseg = g0; // replaces the segments cut() made
    if (cs > s) this.seg(s, cs, LITERAL);
    this.seg(cs, ce, kind);
    if (ce < e) this.seg(ce, e, LITERAL);
    this.tf = cs === s && ce === e ? F_MASK | F_ONLY : F_MASK;
    return this.tf;
  }

  /** text[a, b) is an IPv6 address: hex digits and colons only, with `::` or seven colons. */
  private isIpv6(a: number, b: number): boolean {
    let colons = 0;
    let dcolon = false;
    for (let i = a; i < b; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 58) {
        colons++;
        if (this.text.charCodeAt(i + 1) === 58) dcolon = true;
      } else if (c !== 46 && (CLASS[c]! & (C_DIGIT | C_HEXLETTER)) === 0) return false;
    }
    return colons >= 2 && (dcolon || colons === 7);
  }

  /** Kind found by the last numericEnd call. */
  private numKind = NUM;

  /**
   * End of the number starting at digit run [r, re): an IPv4 (with port), a timestamp
   * (digit groups joined by at least two of - : / T, e.g. 2015-10-18, 18:01:47,978),
   * or a plain/decimal number with an optional short unit.
   */
  private numericEnd(r: number, re: number, e: number): number {
    const text = this.text;
    // IPv4: d{1,3} (. d{1,3}){3} (: port)?
    if (re - r <= 3 && text.charCodeAt(re) === 46) {
      let p = re;
      let parts = 1;
      while (parts < 4 && p < e && text.charCodeAt(p) === 46) {
        let q = p + 1;
        while (q < e && CLASS[text.charCodeAt(q)] === C_DIGIT) q++;
        if (q === p + 1 || q - p - 1 > 3) break;
        p = q;
        parts++;
      }
      if (parts === 4 && !(p + 1 < e && text.charCodeAt(p) === 46 && CLASS[text.charCodeAt(p + 1)] === C_DIGIT) && (p >= e || (CLASS[text.charCodeAt(p)]! & C_ALNUM) === 0)) {
        if (p + 1 < e && text.charCodeAt(p) === 58 && CLASS[text.charCodeAt(p + 1)] === C_DIGIT) {
          p++;
          while (p < e && CLASS[text.charCodeAt(p)] === C_DIGIT) p++;
        }
        this.numKind = IP;
        return p;
      }
    }
    // Timestamp chain.
    let p = re;
    let strong = 0;
    while (p + 1 < e) {
      const c = text.charCodeAt(p);
      if (!(c === 45 || c === 58 || c === 47 || c === 46 || c === 44 || c === 84)) break;
      if (CLASS[text.charCodeAt(p + 1)] !== C_DIGIT) break;
      let q = p + 1;
      while (q < e && CLASS[text.charCodeAt(q)] === C_DIGIT) q++;
      if (c !== 46 && c !== 44) strong++;
      p = q;
    }
    if (strong >= 2) {
      if (p < e && text.charCodeAt(p) === 90) p++; // Z
      this.numKind = TS;
      return p;
    }
    // Plain or decimal number (dotted versions included).
    p = re;
    while (p + 1 < e && text.charCodeAt(p) === 46 && CLASS[text.charCodeAt(p + 1)] === C_DIGIT) {
      p += 2;
      while (p < e && CLASS[text.charCodeAt(p)] === C_DIGIT) p++;
    }
    if (p > re) {
      // a unit right after a decimal: 3.5MB
      let q = p;
      while (q < e && (CLASS[text.charCodeAt(q)]! & C_LETTER) !== 0 && q - p <= 3) q++;
      if (q > p && q - p <= 3 && (q >= e || (CLASS[text.charCodeAt(q)]! & C_ALNUM) === 0)) p = q;
    }
    this.numKind = NUM;
    return p;
  }

  /** End of a UUID starting at r (8-4-4-4-12 hex), or 0. */
  private uuidEnd(r: number, e: number): number {
    const text = this.text;
    let p = r + 8;
    for (let g = 0; g < 4; g++) {
      if (p >= e || text.charCodeAt(p) !== 45) return 0;
      const q = p + 1 + (g === 3 ? 12 : 4);
      if (q > e || !this.allHexFrom(p + 1, q)) return 0;
      p = q;
    }
    if (p < e && (CLASS[text.charCodeAt(p)]! & C_ALNUM) !== 0) return 0;
    return p;
  }

  private allHexFrom(a: number, b: number): boolean {
    for (let i = a; i < b; i++) {
      const k = CLASS[this.text.charCodeAt(i)]!;
      if (k !== C_DIGIT && (k & C_HEXLETTER) === 0) return false;
    }
    return true;
  }

  /** [r, re) is digits then 1-3 letters. */
  private unitAfterDigits(r: number, re: number): boolean {
    let i = r;
    while (i < re && CLASS[this.text.charCodeAt(i)] === C_DIGIT) i++;
    return re - i >= 1 && re - i <= 3 && this.allLetters(i, re);
  }

  private allLetters(a: number, b: number): boolean {
    for (let i = a; i < b; i++) if ((CLASS[this.text.charCodeAt(i)]! & C_LETTER) === 0) return false;
    return true;
  }
}

/**
 * Scanners shared by every miner of a thread, per line limit: a scanner is
 * scratch space used only within one miner call, and miners of one thread
 * never run interleaved. One of its own per miner cost about 120 KB of typed
 * arrays at the default 4,096-character limit, i.e. 17 MB per thread at 140
 * (service, severity) miners (memory bench, heap snapshot). Slot 1 is for
 * report(), which scans examples in the middle of a slot-0 scan.
 */
const shared = new Map<number, LineScanner>();

export function sharedScanner(maxLen: number, slot: 0 | 1): LineScanner {
  const k = maxLen * 2 + slot;
  let sc = shared.get(k);
  if (sc === undefined) {
    sc = new LineScanner(maxLen);
    shared.set(k, sc);
  }
  return sc;
}
