/**
 * The shape hashes of a line read straight from its UTF-8 bytes (a log body in
 * a protobuf request), so that a body whose shape the miner knows is counted
 * without a JS string ever being made for it.
 *
 * It computes exactly what LineScanner.scan (scanner.ts) computes into h1, h2
 * and n, for ASCII text, and nothing else: no token or segment positions, since
 * any line that needs them (a shape not seen yet) is decoded and mined as a
 * string. For ASCII, byte i is char code i, so the two agree bit for bit; the
 * first byte >= 0x80 in the line stops the scan (`scan` returns false) and the
 * caller goes the string way. test/unit/mine-byte-shape.test.ts holds the two
 * to the same hashes over generated lines, and the miner to the same templates.
 *
 * Why a second copy of the scanner's logic rather than one scanner over either input: reading each character
 * through a `typeof text === 'string'` dispatch made the one scanner 1.8x slower on strings (the CLI's input) and
 * 1.14-1.19x slower on bytes than each specialised copy (in-process, the load bench's bodies, 3 alternating runs).
 *
 * Keep this in step with scanner.ts: the control flow below is that of its
 * cut(), numericEnd(), uuidEnd() and wholeToken(), read for read. Reads at or
 * past the line's end go through at(), which answers -1 past the body (the
 * string scanner's charCodeAt gives NaN there; neither matches anything), so
 * a body's neighbours in the request never leak into its shape.
 *
 * Measured in process on the load bench's 204,800 bodies (6 alternating runs, shared machine): this hash-only
 * scan of the bytes takes 0.70-0.77x the time of LineScanner.scan of the decoded string without the letters-only
 * fast path in scan(), 0.45-0.68x with it (before counting the string it spares).
 */
import { CLASS, C_ALNUM, C_DIGIT, C_HEXLETTER, C_LETTER, C_NONHEX, isCloseWrap, isOpenWrap } from './chars.js';
import { EMAIL, HEX, IP, LITERAL, MASK_TEXT, NUM, TS, URL, UUID, WILD } from './masks.js';

/** Class of a byte: CLASS for ASCII, plus C_HIGH for a byte of a multi-byte (or invalid) sequence. */
const C_HIGH = 16;
const BCLASS = new Uint8Array(256);
for (let c = 0; c < 128; c++) BCLASS[c] = CLASS[c]!;
for (let c = 128; c < 256; c++) BCLASS[c] = CLASS[c]! | C_HIGH;

/** Mask names as bytes, to read a template's `<NUM>` back from bytes as maskAt() does from a string. */
const MASK_BYTES = MASK_TEXT.map((t) => Uint8Array.from(t, (ch) => ch.charCodeAt(0)));

export class ByteShape {
  /** Tokens of the last line. */
  n = 0;
  /** The shape hashes of the last line, equal to LineScanner's h1, h2 for the same (ASCII) text. */
  h1 = 0;
  h2 = 0;
  private buf: Uint8Array = new Uint8Array(0);
  /** End of the bytes that belong to the line (the body's end, past any cut at the line limit). */
  private lim = 0;
  /** Set when a byte >= 0x80 was met: the scan was abandoned. */
  private high = false;
  private ta = 0;
  private tb = 0;

  /**
   * Hash buf[start, end) (end - start already bounded by the line limit); `limit` >= end is where the body's
   * bytes stop. False when the line has a non-ASCII byte in [start, end): nothing is valid then.
   */
  scan(buf: Uint8Array, start: number, end: number, limit: number): boolean {
    this.buf = buf;
    this.lim = limit;
    this.high = false;
    let n = 0;
    let h1 = 0x811c9dc5 | 0;
    let h2 = 0x2545f491 | 0;
    let i = start;
    for (;;) {
      while (i < end && buf[i]! <= 32) i++;
      if (i >= end) break;
      const t = n++;
      // Fast path: a token of ASCII letters only, ended by whitespace or the line's end, is all literal in cut()
      // (no digit, no punctuation: nothing to mask, nothing special), so its hashes are those of its characters.
      // Anything else in it and cut() reads the token again from its start.
      const s = i;
      let a = 0x01000193;
      let b = 0x6b43a9b5;
      let c = 0;
      while (i < end && ((c = buf[i]!), (BCLASS[c]! & (C_LETTER | C_HIGH)) === C_LETTER)) {
        a = Math.imul(a ^ c, 0x01000193);
        b = (Math.imul(b, 31) + c) | 0;
        i++;
      }
      if (i < end && c > 32) {
        i = this.cut(s, end);
        if (this.high) return false;
        a = this.ta;
        b = this.tb;
      }
      h1 = Math.imul(h1 ^ a, 0x9e3779b1);
      h1 ^= h1 >>> 16;
      h2 = Math.imul(h2 ^ b, 0x85ebca6b) + t;
      h2 ^= h2 >>> 13;
    }
    this.n = n;
    this.h1 = Math.imul(h1 ^ n, 0xcc9e2d51);
    this.h2 = h2 ^ n;
    return true;
  }

  /** The byte at i, or -1 past the body (charCodeAt's NaN). */
  private at(i: number): number {
    return i < this.lim ? this.buf[i]! : -1;
  }

  /** maskAt() of masks.ts, on bytes. */
  private maskAt(pos: number, end: number): number {
    if (pos + 3 > end) return 0;
    const buf = this.buf;
    let kind = 0;
    switch (buf[pos + 1]) {
      case 42: kind = WILD; break;
      case 78: kind = NUM; break;
      case 72: kind = HEX; break;
      case 73: kind = IP; break;
      case 85: kind = buf[pos + 2] === 85 ? UUID : URL; break;
      case 84: kind = TS; break;
      case 69: kind = EMAIL; break;
      default: return 0;
    }
    const name = MASK_BYTES[kind]!;
    if (pos + name.length > end) return 0;
    for (let k = 0; k < name.length; k++) if (buf[pos + k] !== name[k]) return 0;
    return kind;
  }

  /** LineScanner.cut: the token at s, hashed into ta/tb; returns its end. */
  private cut(s: number, end: number): number {
    const buf = this.buf;
    let a = 0x01000193;
    let b = 0x6b43a9b5;
    let aPrev = a;
    let bPrev = b;
    let colons = 0;
    let special = false;
    let i = s;
    while (i < end) {
      const c = buf[i]!;
      if (c <= 32) break;
      const cls = BCLASS[c]!;
      if ((cls & C_ALNUM) === 0) {
        if (c === 60) {
          const k = this.maskAt(i, end);
          if (k !== 0) {
            a = Math.imul(a ^ (0x10000 + k), 0x01000193);
            b = Math.imul(b + 0x10000 + k, 0x5bd1e995);
            b ^= b >>> 15;
            i += MASK_TEXT[k]!.length;
            continue;
          }
        } else if (c === 58) {
          if (++colons >= 2) special = true;
          else if (this.at(i + 1) === 47) special = true;
        } else if (c === 64) special = true;
        aPrev = a;
        bPrev = b;
        a = Math.imul(a ^ c, 0x01000193);
        b = (Math.imul(b, 31) + c) | 0;
        i++;
        continue;
      }
      const r = i;
      const aRun = a;
      const bRun = b;
      let or = 0;
      let and = 0xff;
      while (i < end) {
        const d = buf[i]!;
        const k = BCLASS[d]!;
        if ((k & C_ALNUM) === 0) break;
        or |= k;
        and &= k;
        a = Math.imul(a ^ d, 0x01000193);
        b = (Math.imul(b, 31) + d) | 0;
        i++;
      }
      if ((or & C_HIGH) !== 0) {
        this.high = true;
        return i;
      }
      const allHex = (or & C_NONHEX) === 0;
      if ((or & C_DIGIT) === 0 && !(allHex && i - r === 8 && this.at(i) === 45 && this.uuidEnd(r, end) > 0)) continue;
      const allDigit = and === C_DIGIT;
      const re = i;
      const len = re - r;
      let kind = LITERAL;
      let ms = r;
      let me = re;
      const c0 = buf[r]!;
      if (len === 8 && allHex && (me = this.uuidEnd(r, end)) > 0) {
        kind = UUID;
      } else if (allDigit && len >= 8 && c0 === 48 && this.numericEnd(r, re, end) === re) {
        kind = HEX;
        me = re;
      } else if (allDigit) {
        me = this.numericEnd(r, re, end);
        kind = this.numKind;
        if (r > s) {
          const p = buf[r - 1]!;
          if ((p === 45 || p === 43) && (r - 1 === s || (BCLASS[buf[r - 2]!]! & C_ALNUM) === 0)) ms = r - 1;
        }
      } else if (c0 === 48 && len > 2 && (buf[r + 1]! | 32) === 120 && this.allHexFrom(r + 2, re)) {
        kind = HEX;
        me = re;
      } else if (allHex && len >= 8) {
        kind = HEX;
        me = re;
      } else if (BCLASS[c0] === C_DIGIT && this.unitAfterDigits(r, re)) {
        kind = NUM;
        me = re;
      }
      if (kind === LITERAL) continue;
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
      i = me;
      aPrev = a;
      bPrev = b;
    }
    const e = i;
    if (special && this.wholeToken(s, e)) return e;
    this.ta = a;
    this.tb = b;
    return e;
  }

  /** LineScanner's hash of the segments literal [s, m0), kind, literal [m1, e) (its wholeToken + hashSegments). */
  private hashWhole(s: number, m0: number, kind: number, m1: number, e: number): void {
    const buf = this.buf;
    let a = 0x01000193;
    let b = 0x6b43a9b5;
    for (let i = s; i < m0; i++) {
      const c = buf[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = (Math.imul(b, 31) + c) | 0;
    }
    a = Math.imul(a ^ (0x10000 + kind), 0x01000193);
    b = Math.imul(b + 0x10000 + kind, 0x5bd1e995);
    b ^= b >>> 15;
    for (let i = m1; i < e; i++) {
      const c = buf[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = (Math.imul(b, 31) + c) | 0;
    }
    this.ta = a;
    this.tb = b;
  }

  /** LineScanner.wholeToken: true (ta/tb set) when the token is a URL, e-mail, IPv6 or MAC address. */
  private wholeToken(s: number, e: number): boolean {
    const buf = this.buf;
    let cs = s;
    let ce = e;
    while (cs < ce && isOpenWrap(buf[cs]!)) cs++;
    while (ce > cs && isCloseWrap(buf[ce - 1]!)) ce--;
    if (ce - cs < 3) return false;
    let ob = s;
    while (ob < e && buf[ob] !== 91) ob++;
    if (ob < e) {
      let q = ob + 1;
      while (q < e && buf[q] !== 93) q++;
      if (q > ob + 1 && q + 2 < e && buf[q + 1] === 58 && this.isIpv6(ob + 1, q)) {
        let pe = q + 2;
        while (pe < e && BCLASS[buf[pe]!] === C_DIGIT) pe++;
        if (pe > q + 2) {
          this.hashWhole(s, ob, IP, pe, e);
          return true;
        }
      }
    }
    let at = -1;
    let colons = 0;
    let other = 0;
    let dcolon = false;
    let scheme = -1;
    for (let i = cs; i < ce; i++) {
      const c = buf[i]!;
      if (c === 58) {
        colons++;
        if (this.at(i + 1) === 58) dcolon = true;
        else if (scheme < 0 && this.at(i + 1) === 47 && this.at(i + 2) === 47) scheme = i;
      } else if (c === 64) {
        at = at === -1 ? i : -2;
      } else if (c !== 46 && (BCLASS[c]! & (C_DIGIT | C_HEXLETTER)) === 0) {
        other++;
      }
    }
    let kind = 0;
    if (scheme > cs && this.allLetters(cs, scheme)) kind = URL;
    else if (at > cs && at < ce - 3 && this.dotAfter(at, ce - 1)) kind = EMAIL;
    else if (other === 0 && colons >= 2) {
      if (dcolon || colons === 7) kind = IP;
      else if (colons === 5 && ce - cs === 17) kind = HEX;
    }
    if (kind === 0) return false;
    this.hashWhole(s, cs, kind, ce, e);
    return true;
  }

  /**
   * The string scanner's `text.indexOf('.', at) > at + 1 && text.indexOf('.', at) < ce - 1`, searching only
   * [at, lim): the first '.' from `at` on must sit after at + 1 and before lim.
   */
  private dotAfter(at: number, lim: number): boolean {
    const buf = this.buf;
    for (let i = at; i < lim; i++) if (buf[i] === 46) return i > at + 1;
    return false;
  }

  private isIpv6(a: number, b: number): boolean {
    const buf = this.buf;
    let colons = 0;
    let dcolon = false;
    for (let i = a; i < b; i++) {
      const c = buf[i]!;
      if (c === 58) {
        colons++;
        if (buf[i + 1] === 58) dcolon = true;
      } else if (c !== 46 && (BCLASS[c]! & (C_DIGIT | C_HEXLETTER)) === 0) return false;
    }
    return colons >= 2 && (dcolon || colons === 7);
  }

  private numKind = NUM;

  /** LineScanner.numericEnd. */
  private numericEnd(r: number, re: number, e: number): number {
    const buf = this.buf;
    if (re - r <= 3 && this.at(re) === 46) {
      let p = re;
      let parts = 1;
      while (parts < 4 && p < e && buf[p] === 46) {
        let q = p + 1;
        while (q < e && BCLASS[buf[q]!] === C_DIGIT) q++;
        if (q === p + 1 || q - p - 1 > 3) break;
        p = q;
        parts++;
      }
      if (parts === 4 && !(p + 1 < e && buf[p] === 46 && BCLASS[buf[p + 1]!] === C_DIGIT) && (p >= e || (BCLASS[buf[p]!]! & C_ALNUM) === 0)) {
        if (p + 1 < e && buf[p] === 58 && BCLASS[buf[p + 1]!] === C_DIGIT) {
          p++;
          while (p < e && BCLASS[buf[p]!] === C_DIGIT) p++;
        }
        this.numKind = IP;
        return p;
      }
    }
    let p = re;
    let strong = 0;
    while (p + 1 < e) {
      const c = buf[p]!;
      if (!(c === 45 || c === 58 || c === 47 || c === 46 || c === 44 || c === 84)) break;
      if (BCLASS[buf[p + 1]!] !== C_DIGIT) break;
      let q = p + 1;
      while (q < e && BCLASS[buf[q]!] === C_DIGIT) q++;
      if (c !== 46 && c !== 44) strong++;
      p = q;
    }
    if (strong >= 2) {
      if (p < e && buf[p] === 90) p++;
      this.numKind = TS;
      return p;
    }
    p = re;
    while (p + 1 < e && buf[p] === 46 && BCLASS[buf[p + 1]!] === C_DIGIT) {
      p += 2;
      while (p < e && BCLASS[buf[p]!] === C_DIGIT) p++;
    }
    if (p > re) {
      let q = p;
      while (q < e && (BCLASS[buf[q]!]! & C_LETTER) !== 0 && q - p <= 3) q++;
      if (q > p && q - p <= 3 && (q >= e || (BCLASS[buf[q]!]! & C_ALNUM) === 0)) p = q;
    }
    this.numKind = NUM;
    return p;
  }

  /** LineScanner.uuidEnd. */
  private uuidEnd(r: number, e: number): number {
    let p = r + 8;
    for (let g = 0; g < 4; g++) {
      if (p >= e || this.buf[p] !== 45) return 0;
      const q = p + 1 + (g === 3 ? 12 : 4);
      if (q > e || !this.allHexFrom(p + 1, q)) return 0;
      p = q;
    }
    if (p < e && (BCLASS[this.buf[p]!]! & C_ALNUM) !== 0) return 0;
    return p;
  }

  private allHexFrom(a: number, b: number): boolean {
    for (let i = a; i < b; i++) {
      const k = BCLASS[this.buf[i]!]!;
      if (k !== C_DIGIT && (k & C_HEXLETTER) === 0) return false;
    }
    return true;
  }

  private unitAfterDigits(r: number, re: number): boolean {
    let i = r;
    while (i < re && BCLASS[this.buf[i]!] === C_DIGIT) i++;
    return re - i >= 1 && re - i <= 3 && this.allLetters(i, re);
  }

  private allLetters(a: number, b: number): boolean {
    for (let i = a; i < b; i++) if ((BCLASS[this.buf[i]!]! & C_LETTER) === 0) return false;
    return true;
  }
}
