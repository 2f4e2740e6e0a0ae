/**
 * A minimal protobuf wire-format reader.
 *
 * Why hand-written: keytally reads a small part of every OTLP message (names,
 * attribute keys, a canonical string of attribute values) and skips the rest
 * (ids, timestamps of points, values, exemplars...). A generated decoder
 * materialises everything; this reader lets the OTLP decoder skip a field by
 * moving an offset, without allocating.
 *
 * Strictness: every read is bounds-checked against the buffer, every
 * length-delimited field against its enclosing message, and every message must
 * end exactly at its declared length. Malformed input throws DecodeError and
 * never reads out of bounds, loops forever or recurses without limit.
 *
 * The reader is a plain class with numeric fields so V8 keeps one hidden class
 * and inlines the small methods into the per-message decode loops.
 */
import { DecodeError } from './errors.js';

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_SGROUP = 3;
export const WT_EGROUP = 4;
export const WT_I32 = 5;

/** Nested groups (a proto2 relic nobody sends to OTLP) are skipped up to this depth. */
const MAX_GROUP_DEPTH = 32;

/** Buffer's native slicers are not in @types/node, but exist on every Node >= 12. */
interface NativeSlicers {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/** Strings up to this many bytes are interned (see `string`); longer ones go to the native decoder. */
const SHORT_STRING = 32;
/** log2 of the intern table size. Attribute keys and common values repeat in every record. */
const INTERN_BITS = 12;
const INTERN_SIZE = 1 << INTERN_BITS;
/**
 * Module-level (per worker thread) intern table. Keys like "http.method" occur
 * in every record; returning the same string object avoids an allocation and a
 * copy per occurrence and makes the extractor's Map lookups hit a cached hash.
 * A miss costs one hash and one compare, so high-cardinality values are cheap.
 */
const internTable: string[] = new Array<string>(INTERN_SIZE).fill('');
/** The bytes of each cached string (SHORT_STRING per slot): comparing bytes to bytes beats charCodeAt. */
const internBytes = new Uint8Array(INTERN_SIZE * SHORT_STRING);
const internView = new DataView(internBytes.buffer);

/**
 * Whether a[aAt, aAt + n) and b[bAt, bAt + n) hold the same bytes (`av`, `bv`: DataViews of the same memory as `a`
 * and `b`). Four bytes at a time, then the rest: the intern table's and the value hash cache's hits are confirmed
 * this way, keys and values of 7-25 bytes, where it measured 0.55-0.65x the time of a byte loop (node, in process).
 */
export function sameBytes(a: Uint8Array, av: DataView, aAt: number, b: Uint8Array, bv: DataView, bAt: number, n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (av.getUint32(aAt + i) !== bv.getUint32(bAt + i)) return false;
  for (; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

export class ProtoReader {
  readonly buf: Uint8Array;
  /** Same memory as `buf`, for Node's native UTF-8/base64 slicing and double reads. */
  readonly nbuf: Buffer;
  /** Same memory as `buf` again, for comparing it four bytes at a time (sameBytes). */
  readonly view: DataView;
  private readonly slicers: NativeSlicers;
  /** Current offset in `buf`. */
  pos: number;
  /** buf.length, cached. */
  readonly len: number;
  /** High 32 bits (unsigned) of the last value read by `varint64()`. */
  hi: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.nbuf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.slicers = this.nbuf as unknown as NativeSlicers;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.len = buf.length;
    this.hi = 0;
  }

  /** Reads a field tag; field number 0 is invalid. */
  tag(): number {
    const p = this.pos;
    if (p < this.len) {
      const c = this.buf[p];
      if (c < 0x80) {
        this.pos = p + 1;
        if (c < 8) throw new DecodeError(`invalid field number 0 at offset ${p}`);
        return c;
      }
    }
    const t = this.uint32();
    if (t < 8) throw new DecodeError(`invalid field number 0 at offset ${p}`);
    return t;
  }

  /**
   * Reads a varint and returns its low 32 bits, unsigned. Accepts the 10-byte
   * form (negative int32/enum values are sign-extended to 64 bits on the wire).
   */
  uint32(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p + 10 > this.len) return this.uint32Slow();
    let c = buf[p++];
    let v = c & 0x7f;
    if (c >= 0x80) {
      c = buf[p++];
      v |= (c & 0x7f) << 7;
      if (c >= 0x80) {
        c = buf[p++];
        v |= (c & 0x7f) << 14;
        if (c >= 0x80) {
          c = buf[p++];
          v |= (c & 0x7f) << 21;
          if (c >= 0x80) {
            c = buf[p++];
            v |= c << 28; // bits above 31 fall off
            if (c >= 0x80) {
              // Bytes 6-10 only carry bits above 32: consume them.
              if (buf[p++] >= 0x80 && buf[p++] >= 0x80 && buf[p++] >= 0x80 && buf[p++] >= 0x80 && buf[p++] >= 0x80) {
                throw new DecodeError(`varint longer than 10 bytes at offset ${this.pos}`);
              }
            }
          }
        }
      }
    }
    this.pos = p;
    return v >>> 0;
  }

  /** `uint32` near the end of the buffer: same result, a bounds check per byte. */
  private uint32Slow(): number {
    const buf = this.buf;
    const len = this.len;
    const start = this.pos;
    let p = start;
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (p >= len) throw new DecodeError(`truncated varint at offset ${start}`);
      const c = buf[p++];
      if (shift < 32) v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    throw new DecodeError(`varint longer than 10 bytes at offset ${start}`);
  }

  /** Reads an int32 / enum varint. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** Reads a bool varint (any non-zero value is true, per the protobuf spec). */
  bool(): boolean {
    const lo = this.varint64();
    return lo !== 0 || this.hi !== 0;
  }

  /** Reads a 64-bit varint: returns the low 32 bits (unsigned) and leaves the high 32 bits in `hi`. */
  varint64(): number {
    const buf = this.buf;
    const len = this.len;
    const start = this.pos;
    let p = start;
    let lo = 0;
    let hi = 0;
    let c = 0;
    // Bytes 0-3 fill lo bits 0-27.
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= len) throw new DecodeError(`truncated varint at offset ${start}`);
      c = buf[p++];
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        this.hi = 0;
        return lo >>> 0;
      }
    }
    // Byte 4 straddles: 4 bits to lo, 3 bits to hi.
    if (p >= len) throw new DecodeError(`truncated varint at offset ${start}`);
    c = buf[p++];
    lo |= (c & 0x0f) << 28;
    hi = (c & 0x7f) >>> 4;
    if (c >= 0x80) {
      // Bytes 5-9 fill hi bits 3-34 (the top ones fall off).
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw new DecodeError(`varint longer than 10 bytes at offset ${start}`);
        if (p >= len) throw new DecodeError(`truncated varint at offset ${start}`);
        c = buf[p++];
        hi |= (c & 0x7f) << shift;
        if (c < 0x80) break;
      }
    }
    this.pos = p;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /**
   * Reads a fixed64 holding unix nanoseconds and returns whole milliseconds,
   * exactly (floor(n / 1e6)), using only doubles: 2^32 = 4294 * 1e6 + 967296,
   * so n = hi * 4294 * 1e6 + (hi * 967296 + lo), and the bracket is < 2^53.
   */
  fixed64NanosToMs(): number {
    const p = this.pos;
    if (p + 8 > this.len) throw new DecodeError(`truncated fixed64 at offset ${p}`);
    const b = this.buf;
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    this.pos = p + 8;
    return nanosToMs(lo, hi);
  }

  /** Reads a little-endian IEEE double. */
  double(): number {
    const p = this.pos;
    if (p + 8 > this.len) throw new DecodeError(`truncated double at offset ${p}`);
    this.pos = p + 8;
    return this.nbuf.readDoubleLE(p);
  }

  /**
   * Reads the length prefix of a length-delimited field and returns the offset
   * where its payload ends; `pos` is left at the payload start. The payload
   * must fit inside the enclosing message ending at `end`.
   */
  lenEnd(end: number): number {
    const n = this.uint32();
    const p = this.pos;
    if (n > end - p) throw new DecodeError(`length ${n} at offset ${p} runs past the end of its message (${end - p} bytes left)`);
    return p + n;
  }

  /** Asserts that a message decode stopped exactly at its declared end. */
  finish(end: number): void {
    if (this.pos !== end) throw new DecodeError(`field overruns its message at offset ${end}`);
  }

  /**
   * Skips a field this decoder does not read. `knownMask` has bit N set for each
   * field number N < 32 the caller does read: such a field arriving here came
   * with a wire type the caller does not accept, which is an error, not an
   * unknown field to skip.
   */
  skipUnknown(tag: number, end: number, knownMask: number): void {
    const field = tag >>> 3;
    if (field < 32 && ((knownMask >>> field) & 1) !== 0) {
      throw new DecodeError(`field ${field} has wrong wire type ${tag & 7} at offset ${this.pos}`);
    }
    this.skip(tag, end, 0);
  }

  /** Skips the value of a field of any wire type. */
  skip(tag: number, end: number, depth: number): void {
    const p = this.pos;
    switch (tag & 7) {
      case WT_VARINT: {
        const buf = this.buf;
        const lim = Math.min(end, p + 10);
        let q = p;
        while (q < lim && buf[q] >= 0x80) q++;
        if (q >= lim) {
          throw new DecodeError(q >= end ? `truncated varint at offset ${p}` : `varint longer than 10 bytes at offset ${p}`);
        }
        this.pos = q + 1;
        return;
      }
      case WT_I64:
        if (p + 8 > end) throw new DecodeError(`truncated fixed64 at offset ${p}`);
        this.pos = p + 8;
        return;
      case WT_LEN:
        this.pos = this.lenEnd(end);
        return;
      case WT_I32:
        if (p + 4 > end) throw new DecodeError(`truncated fixed32 at offset ${p}`);
        this.pos = p + 4;
        return;
      case WT_SGROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new DecodeError(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
        const field = tag >>> 3;
        for (;;) {
          if (this.pos >= end) throw new DecodeError(`unterminated group (field ${field}) at offset ${p}`);
          const t = this.tag();
          if ((t & 7) === WT_EGROUP) {
            if (t >>> 3 !== field) throw new DecodeError(`mismatched end group at offset ${this.pos}`);
            return;
          }
          this.skip(t, end, depth + 1);
        }
      }
      case WT_EGROUP:
        throw new DecodeError(`unexpected end group at offset ${p}`);
      default:
        throw new DecodeError(`invalid wire type ${tag & 7} at offset ${p}`);
    }
  }

  /**
   * Decodes buf[start, end) as UTF-8 (invalid sequences become U+FFFD, as with
   * TextDecoder). Short strings go through the intern table first: the slot
   * is picked from the length and four sampled bytes (no per-byte hashing),
   * and a hit is confirmed by comparing every byte with the cached string.
   * Since cached strings are ASCII-only, a full match also proves the bytes
   * are ASCII. Measured on 512-record log batches this was ~15% faster than an
   * FNV hash over every byte, and much faster than TextDecoder or Buffer's
   * native slicer alone for the short keys and values that dominate OTLP.
   */
  string(start: number, end: number): string {
    const n = end - start;
    if (n === 0) return '';
    if (n > SHORT_STRING) return this.slicers.utf8Slice(start, end);
    const buf = this.buf;
    const slot =
      Math.imul(n ^ (buf[start] << 8) ^ (buf[end - 1] << 16) ^ (buf[start + (n >> 1)] << 4) ^ (buf[start + (n >> 2)] << 24), 0x9e3779b1) >>>
      (32 - INTERN_BITS);
    const cand = internTable[slot];
    const base = slot * SHORT_STRING;
    if (cand.length === n && sameBytes(internBytes, internView, base, buf, this.view, start, n)) return cand;
    for (let i = start; i < end; i++) if (buf[i] >= 0x80) return this.slicers.utf8Slice(start, end);
    const s = this.slicers.latin1Slice(start, end);
    internTable[slot] = s;
    for (let i = 0; i < n; i++) internBytes[base + i] = buf[start + i];
    return s;
  }

  /** Standard base64 of buf[start, end). */
  base64(start: number, end: number): string {
    return this.slicers.base64Slice(start, end);
  }
}

/** floor((hi * 2^32 + lo) / 1e6) exactly, without BigInt (see fixed64NanosToMs). */
export function nanosToMs(lo: number, hi: number): number {
  const rest = hi * 967296 + lo;
  let q = Math.floor(rest / 1e6);
  // The division is rounded; correct it with exact integer arithmetic (< 2^53).
  if (q * 1e6 > rest) q--;
  else if ((q + 1) * 1e6 <= rest) q++;
  return hi * 4294 + q;
}

/** Decimal text of the two's-complement int64 (hi, lo), exact. */
export function int64ToString(lo: number, hi: number): string {
  if (hi === 0) return String(lo);
  if (hi < 0x200000) return String(hi * 4294967296 + lo); // < 2^53: exact as a double
  if (hi >= 0x80000000) {
    // Negative: negate the two's complement.
    const nlo = (~lo + 1) >>> 0;
    const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
    if (nhi < 0x200000) return '-' + String(nhi * 4294967296 + nlo);
  }
  // |value| >= 2^53: rare enough for BigInt.
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}
