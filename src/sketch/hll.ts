/**
 * HyperLogLog with an HLL++-style sparse representation (DESIGN §4).
 *
 * Input is a 64-bit hash as two u32 halves (hi, lo) from src/sketch/hash.ts.
 *
 * Sparse form: a sorted Uint32Array of entries `index25 << 6 | rank39`, one per
 * distinct index, where index25 is the top 25 bits of the hash and rank39 the
 * position (1..40) of the first 1-bit in the remaining 39 bits. It does not depend
 * on the dense precision p, and converts to dense registers exactly (the register
 * a hash lands in and its rank are functions of the entry), so a value added in
 * sparse form and later densified gives the same register as one added densely.
 * While sparse the estimate is linear counting over 2^25 buckets, i.e. the number
 * of distinct values, exact unless two values share their top 25 hash bits
 * (probability about n²/2^26: 4e-5 at 50 values, 0.25 at the 4,096 limit of p=14).
 *
 * Dense form: 2^p one-byte registers once the sparse array would outgrow them
 * (more than 2^p / 4 entries: four bytes each). Its estimate is Ertl's "improved
 * raw estimator" (O. Ertl, New cardinality estimation algorithms for HyperLogLog
 * sketches, 2017), which corrects the small- and large-range bias of the classic
 * estimator from the register histogram alone, so no empirical bias tables and no
 * linear-counting switch point are needed.
 *
 * Adds to a sparse sketch go through a small unsorted buffer that is sorted and
 * merged in batches; values already present are found by binary search and cost
 * no allocation (the common case: a worker sees the same few values repeatedly).
 *
 * Sketches of different precisions merge at the lower precision (dense registers
 * fold down exactly), so a change of the configured precision does not break
 * stored sketches.
 *
 * Serialized form (all versions must stay readable; FORMAT_VERSION is byte 0):
 *   u8 version (1) | u8 kind | u8 precision | payload
 *   kind 0 sparse:     varint n, then n varints: the first entry, then the
 *                      difference to the previous one (strictly increasing index)
 *   kind 1 dense:      2^p register bytes
 *   kind 2 dense list: varint n, then n × (varint index delta, u8 register) for
 *                      the non-zero registers only (used when smaller than kind 1,
 *                      e.g. a worker's per-interval delta that just went dense)
 */

import { releaseView } from '../util/release.js';

export const DEFAULT_PRECISION = 14;
export const MIN_PRECISION = 4;
export const MAX_PRECISION = 18;

/** Index bits of a sparse entry. Must stay >= MAX_PRECISION; part of the serialized format. */
const SPARSE_P = 25;
/** Hash bits after the sparse index; a sparse rank is 1..SPARSE_Q+1 = 40. */
const SPARSE_Q = 64 - SPARSE_P;
const RANK_MASK = 0x3f;
const FORMAT_VERSION = 1;
const KIND_SPARSE = 0;
const KIND_DENSE = 1;
const KIND_DENSE_LIST = 2;
/** 1 / (2 ln 2), the limit of the HyperLogLog alpha constant. */
const ALPHA_INF = 0.5 / Math.LN2;
const TWO_POW_SPARSE_P = 2 ** SPARSE_P;

/**
 * Per-object overheads in V8 on node 20 (heapUsed + external per object, 100,000 of
 * each): an Hll ~89 bytes; a typed array ~200 bytes besides its data (view, ArrayBuffer,
 * backing-store record). Used only by byteSize().
 */
const OBJECT_BYTES = 88;
const TYPED_ARRAY_BYTES = 200;

const EMPTY = new Uint32Array(0);

/** Thrown by Hll.deserialize on bytes that are not a sketch this code can read. */
export class SketchFormatError extends Error {
  constructor(message: string) {
    super(`invalid HLL sketch: ${message}`);
    this.name = 'SketchFormatError';
  }
}

function checkPrecision(p: number): void {
  if (!Number.isInteger(p) || p < MIN_PRECISION || p > MAX_PRECISION) {
    throw new RangeError(`HLL precision must be an integer in [${MIN_PRECISION}, ${MAX_PRECISION}], got ${p}`);
  }
}

/** Relative standard error of a dense sketch of precision p: 1.04 / sqrt(2^p). */
export function standardError(precision: number): number {
  checkPrecision(precision);
  return 1.04 / Math.sqrt(2 ** precision);
}

/** Most sparse entries a sketch of precision p holds before going dense (same bytes as its registers). */
function sparseLimit(p: number): number {
  return (1 << p) >>> 2;
}

/** The dense (index, rank) a sparse entry maps to at precision p, as index << 8 | rank. */
function entryToRegister(e: number, p: number): number {
  const idx = e >>> 6;
  const d = SPARSE_P - p;
  const rest = idx & ((1 << d) - 1);
  // The d index bits dropped at precision p are the first bits of the dense remainder.
  const rank = rest !== 0 ? Math.clz32(rest) - (32 - d) + 1 : d + (e & RANK_MASK);
  return ((idx >>> d) << 8) | rank;
}

/**
 * Fold dense registers of precision `from` into `into` (precision `to` <= from) by max.
 * Register i at precision from covers the same hashes as register i >>> (from - to)
 * at the lower precision; the dropped index bits become the leading remainder bits.
 */
function foldRegisters(src: Uint8Array, from: number, into: Uint8Array, to: number): void {
  const d = from - to;
  if (d === 0) {
    for (let i = 0; i < src.length; i++) if (src[i]! > into[i]!) into[i] = src[i]!;
    return;
  }
  const mask = (1 << d) - 1;
  for (let i = 0; i < src.length; i++) {
    const r = src[i]!;
    if (r === 0) continue;
    const rest = i & mask;
    const rank = rest !== 0 ? Math.clz32(rest) - (32 - d) + 1 : d + r;
    const j = i >>> d;
    if (rank > into[j]!) into[j] = rank;
  }
}

/**
 * Merge two sorted entry runs into a new exactly-sized array, keeping one entry per
 * index with the highest rank. `b` may hold duplicates (an add buffer); `a` may not.
 */
function mergeEntries(a: Uint32Array, aLen: number, b: Uint32Array, bLen: number): Uint32Array {
  const out = new Uint32Array(aLen + bLen);
  let i = 0, j = 0, n = 0;
  while (i < aLen || j < bLen) {
    let e: number;
    if (j >= bLen || (i < aLen && a[i]! <= b[j]!)) e = a[i++]!;
    else e = b[j++]!;
    // Same index sorts by rank ascending, so a later entry for the last index is at least as high.
    if (n > 0 && out[n - 1]! >>> 6 === e >>> 6) out[n - 1] = e;
    else out[n++] = e;
  }
  if (n === out.length) return out;
  const exact = out.slice(0, n);
  releaseView(out);
  return exact;
}

/** True when every entry of b is in a with at least its rank (merging b would change nothing). */
function subsumes(a: Uint32Array, aLen: number, b: Uint32Array, bLen: number): boolean {
  if (bLen > aLen) return false;
  let i = 0;
  for (let j = 0; j < bLen; j++) {
    const k = b[j]! >>> 6;
    while (i < aLen && a[i]! >>> 6 < k) i++;
    if (i === aLen || a[i]! >>> 6 !== k || a[i]! < b[j]!) return false;
  }
  return true;
}

/** sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1)  (Ertl 2017), for the empty-register term. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z !== prev);
  return z;
}

/** tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3  (Ertl 2017), for the saturated-register term. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z !== prev);
  return z / 3;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Sequential reader over serialized bytes with bounds and format checks. */
class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  get remaining(): number {
    return this.b.length - this.pos;
  }

  u8(what: string): number {
    if (this.pos >= this.b.length) throw new SketchFormatError(`truncated: ${what} missing at byte ${this.pos} of ${this.b.length}`);
    return this.b[this.pos++]!;
  }

  varint(what: string): number {
    const b = this.b;
    let pos = this.pos;
    let v = 0;
    // Four 7-bit groups fit int32 bit operations; the fifth may only add the top 4 bits.
    // (A generic `byte * 2 ** shift` loop measured ~200 ns per varint, 25 µs per 50-entry sketch.)
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= b.length) throw new SketchFormatError(`truncated: ${what} missing at byte ${pos} of ${b.length}`);
      const byte = b[pos++]!;
      v |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return v;
      }
    }
    if (pos >= b.length) throw new SketchFormatError(`truncated: ${what} missing at byte ${pos} of ${b.length}`);
    const last = b[pos++]!;
    if (last > 0x0f) throw new SketchFormatError(`${what} at byte ${pos - 1} is not a 32-bit varint`);
    this.pos = pos;
    return v + last * 0x10000000;
  }

  end(): void {
    if (this.pos !== this.b.length) {
      throw new SketchFormatError(`${this.b.length - this.pos} trailing bytes after the sketch`);
    }
  }
}

export class Hll {
  private p: number;
  /** Sparse entries, sorted and unique by index: [0, sparseLen). Null once dense. */
  private sparse: Uint32Array | null = EMPTY;
  private sparseLen = 0;
  /** Unsorted entries not yet merged into `sparse` (sparse form only; allocated on first use). */
  private buf: Uint32Array | null = null;
  private bufLen = 0;
  /** Dense registers, 2^p bytes. Null while sparse. */
  private regs: Uint8Array | null = null;
  /** Last estimate, or -1 when something changed since. */
  private cached = -1;
  /**
   * One bit per register that rose since the last serializeChanges() (allocated
   * by its first call): 2^p / 8 bytes instead of a 2^p-byte copy of what was sent.
   */
  private changed: Uint32Array | null = null;
  /** A merge raised registers without marking them: the next serializeChanges() sends every register. */
  private allChanged = false;

  constructor(precision: number = DEFAULT_PRECISION) {
    checkPrecision(precision);
    this.p = precision;
  }

  /** The dense precision p (2^p registers). Lowered by merging a lower-precision sketch. */
  get precision(): number {
    return this.p;
  }

  get isDense(): boolean {
    this.flush();
    return this.regs !== null;
  }

  /** Add a 64-bit hash given as its high and low 32 bits. */
  add(hi: number, lo: number): void {
    const regs = this.regs;
    if (regs !== null) {
      const p = this.p;
      const idx = hi >>> (32 - p);
      const w = hi << p;
      // rank: 1-based position of the first 1-bit in the 64-p bits after the index (65-p if none).
      const r = w !== 0 ? Math.clz32(w) + 1 : 33 - p + Math.clz32(lo);
      if (r > regs[idx]!) {
        regs[idx] = r;
        this.cached = -1;
        const ch = this.changed;
        if (ch !== null) ch[idx >>> 5]! |= 1 << (idx & 31);
      }
      return;
    }
    const w = hi << SPARSE_P;
    const e = (((hi >>> (32 - SPARSE_P)) << 6) | (w !== 0 ? Math.clz32(w) + 1 : SPARSE_Q - 31 + Math.clz32(lo))) >>> 0;
    // Binary search the sorted entries: repeated values end here without allocating.
    const sp = this.sparse!;
    const key = e >>> 6;
    let a = 0;
    let b = this.sparseLen - 1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const k = sp[mid]! >>> 6;
      if (k < key) a = mid + 1;
      else if (k > key) b = mid - 1;
      else {
        if (e > sp[mid]!) {
          sp[mid] = e;
          this.cached = -1;
        }
        return;
      }
    }
    let buf = this.buf;
    if (buf === null) {
      // Grow the buffer with the sketch so the number of sort+merge passes stays logarithmic.
      buf = this.buf = new Uint32Array(Math.max(16, Math.min(this.sparseLen >>> 2, sparseLimit(this.p) >>> 2)));
    }
    buf[this.bufLen++] = e;
    this.cached = -1;
    if (this.bufLen === buf.length) this.flush();
  }

  /** Merge another sketch in (register max). Commutative and idempotent. */
  merge(other: Hll): void {
    if (other === this) return;
    other.flush();
    this.mergeParts(other.p, other.sparse ?? EMPTY, other.sparseLen, other.regs, null, 0);
  }

  /** Estimated number of distinct values added (an integer). */
  estimate(): number {
    if (this.cached >= 0) return this.cached;
    this.flush();
    let est: number;
    if (this.regs === null) {
      // Linear counting over the 2^25 sparse buckets: exactly the count while no two values collide.
      const v = this.sparseLen;
      est = v === 0 ? 0 : Math.round(TWO_POW_SPARSE_P * Math.log(TWO_POW_SPARSE_P / (TWO_POW_SPARSE_P - v)));
    } else {
      est = Math.round(denseEstimate(this.regs, this.p));
    }
    this.cached = est;
    return est;
  }

  /** Compact, versioned bytes; see the format at the top of this file. */
  serialize(): Uint8Array {
    return this.serializeWith((n) => new Uint8Array(n));
  }

  /**
   * serialize() into a buffer this module reuses: the result is a view that the
   * next serializeTransient() call (in this thread) overwrites. For callers that
   * copy the bytes at once, such as a SQLite bind (better-sqlite3 binds blobs
   * SQLITE_TRANSIENT): the writer serializes every dirty dense sketch at each
   * commit, and a fresh 16 KiB array each time was most of its external memory.
   */
  serializeTransient(): Uint8Array {
    return this.serializeWith(transientBytes);
  }

  private serializeWith(alloc: (n: number) => Uint8Array): Uint8Array {
    this.flush();
    const p = this.p;
    if (this.regs === null) {
      const sp = this.sparse!;
      const n = this.sparseLen;
      let size = 3 + varintSize(n);
      let prev = 0;
      for (let i = 0; i < n; i++) {
        size += varintSize(sp[i]! - prev);
        prev = sp[i]!;
      }
      const out = alloc(size);
      out[0] = FORMAT_VERSION;
      out[1] = KIND_SPARSE;
      out[2] = p;
      let pos = writeVarint(out, 3, n);
      prev = 0;
      for (let i = 0; i < n; i++) {
        pos = writeVarint(out, pos, sp[i]! - prev);
        prev = sp[i]!;
      }
      return out;
    }
    const regs = this.regs;
    const m = regs.length;
    const list = denseListSize(regs);
    if (list.bytes < 3 + m) return writeDenseList(regs, null, p, list, alloc(list.bytes));
    const out = alloc(3 + m);
    out[0] = FORMAT_VERSION;
    out[1] = KIND_DENSE;
    out[2] = p;
    out.set(regs, 3);
    return out;
  }

  /**
   * Dense sketches only: the registers that rose since the previous call, in
   * the dense-list format (so mergeSerialized/deserialize read it as usual).
   * The first call returns every non-zero register. This is how a worker that
   * keeps a long-lived sketch for a high-cardinality key sends only what
   * changed: once a sketch has seen many values, few registers still move.
   */
  serializeChanges(): Uint8Array {
    this.flush();
    const regs = this.regs;
    if (regs === null) throw new Error('serializeChanges() needs a dense sketch');
    let ch = this.changed;
    if (ch === null || this.allChanged) {
      // Rounded up: at p=4 there are 16 registers, less than one word.
      if (ch === null) ch = this.changed = new Uint32Array((regs.length + 31) >>> 5);
      else ch.fill(0);
      this.allChanged = false;
      return writeDenseList(regs, null, this.p, denseListSize(regs), null);
    }
    return writeDenseList(regs, ch, this.p, denseListSize(regs, ch), null);
  }

  /** Parse bytes from serialize(); throws SketchFormatError on anything malformed. */
  static deserialize(bytes: Uint8Array): Hll {
    const d = decode(bytes);
    const h = new Hll(d.p);
    if (d.regs !== null) {
      h.sparse = null;
      h.regs = d.regs.slice();
    } else if (d.pairs !== null) {
      h.mergeParts(d.p, EMPTY, 0, null, d.pairs, d.n);
    } else {
      h.setSparse(d.sparse.slice(0, d.n), d.n);
    }
    return h;
  }

  /**
   * merge(Hll.deserialize(bytes)) without building the intermediate sketch: the
   * bytes are decoded into reused scratch arrays (the writer's per-delta path).
   * Throws SketchFormatError, leaving this sketch unchanged, on malformed bytes.
   */
  mergeSerialized(bytes: Uint8Array): void {
    const d = decode(bytes);
    if (d.pairs !== null) this.mergeParts(d.p, EMPTY, 0, null, d.pairs, d.n);
    else this.mergeParts(d.p, d.sparse, d.n, d.regs, null, 0);
  }

  /**
   * Empties the sketch and frees its arrays now rather than at the next GC (a
   * worker drops every interval sketch at each flush). The sketch stays usable:
   * it is as new, at the same precision.
   */
  dispose(): void {
    if (this.sparse !== null) releaseView(this.sparse);
    if (this.buf !== null) releaseView(this.buf);
    if (this.regs !== null) releaseView(this.regs);
    if (this.changed !== null) releaseView(this.changed);
    this.sparse = EMPTY;
    this.sparseLen = 0;
    this.buf = null;
    this.bufLen = 0;
    this.regs = null;
    this.changed = null;
    this.allChanged = false;
    this.cached = -1;
  }

  /** Approximate bytes of memory this sketch holds (object and typed-array overheads included). */
  byteSize(): number {
    let n = OBJECT_BYTES;
    if (this.sparse !== null && this.sparse !== EMPTY) n += TYPED_ARRAY_BYTES + this.sparse.byteLength;
    if (this.buf !== null) n += TYPED_ARRAY_BYTES + this.buf.byteLength;
    if (this.regs !== null) n += TYPED_ARRAY_BYTES + this.regs.byteLength;
    if (this.changed !== null) n += TYPED_ARRAY_BYTES + this.changed.byteLength;
    return n;
  }

  /**
   * Merge a sketch given by parts, one of: sorted sparse entries osp[0, on); dense
   * registers oregs; or (index << 8 | value) register pairs opairs[0, opn) — all at precision op.
   */
  private mergeParts(op: number, osp: Uint32Array, on: number, oregs: Uint8Array | null, opairs: Uint32Array | null, opn: number): void {
    this.flush();
    if (op < this.p) this.lowerPrecision(op);
    const p = this.p;
    if (oregs === null && opairs === null) {
      if (on === 0) return;
      if (this.regs === null) {
        // Low-cardinality keys mostly resend values already held: check before allocating.
        if (subsumes(this.sparse!, this.sparseLen, osp, on)) return;
        const merged = mergeEntries(this.sparse!, this.sparseLen, osp, on);
        this.setSparse(merged, merged.length);
      } else {
        const regs = this.regs;
        this.allChanged = this.changed !== null;
        for (let i = 0; i < on; i++) {
          const ir = entryToRegister(osp[i]!, p);
          const idx = ir >>> 8;
          if ((ir & 0xff) > regs[idx]!) regs[idx] = ir & 0xff;
        }
      }
    } else {
      if (this.regs === null) this.densify();
      const regs = this.regs!;
      // Merges are not the worker's path (it only adds): mark all rather than track each register.
      this.allChanged = this.changed !== null;
      if (oregs !== null) {
        foldRegisters(oregs, op, regs, p);
      } else {
        // Only the listed registers: a fresh worker delta that just went dense touches a fraction of them.
        const d = op - p;
        const mask = (1 << d) - 1;
        for (let i = 0; i < opn; i++) {
          const pr = opairs![i]!;
          const oi = pr >>> 8;
          const rest = oi & mask;
          const rank = d === 0 || rest === 0 ? d + (pr & 0xff) : Math.clz32(rest) - (32 - d) + 1;
          const j = oi >>> d;
          if (rank > regs[j]!) regs[j] = rank;
        }
      }
    }
    this.cached = -1;
  }

  /** Merge pending buffered adds into the sorted entries (going dense if they outgrow it). */
  private flush(): void {
    const bn = this.bufLen;
    if (bn === 0) return;
    const buf = this.buf!;
    buf.subarray(0, bn).sort();
    const merged = mergeEntries(this.sparse!, this.sparseLen, buf, bn);
    this.bufLen = 0;
    // Next buffer sized for the new sketch size (see add()).
    const want = Math.max(16, Math.min(merged.length >>> 2, sparseLimit(this.p) >>> 2));
    if (want > buf.length) {
      releaseView(buf);
      this.buf = new Uint32Array(want);
    }
    this.setSparse(merged, merged.length);
  }

  /** Install sorted entries; goes dense if there are more than the sparse limit. */
  private setSparse(entries: Uint32Array, n: number): void {
    const old = this.sparse;
    // Sparse arrays are this sketch's own (every caller passes a fresh one): free the one replaced now, not at a GC.
    if (old !== null && old !== entries) releaseView(old);
    this.sparse = entries;
    this.sparseLen = n;
    if (n > sparseLimit(this.p)) this.densify();
  }

  /** Convert the (flushed) sparse entries into dense registers. */
  private densify(): void {
    const p = this.p;
    const regs = new Uint8Array(1 << p);
    const sp = this.sparse!;
    for (let i = 0; i < this.sparseLen; i++) {
      const ir = entryToRegister(sp[i]!, p);
      const idx = ir >>> 8;
      if ((ir & 0xff) > regs[idx]!) regs[idx] = ir & 0xff;
    }
    this.regs = regs;
    releaseView(sp);
    if (this.buf !== null) releaseView(this.buf);
    this.sparse = null;
    this.sparseLen = 0;
    this.buf = null;
    this.bufLen = 0;
  }

  /** Re-express this sketch at a lower precision (dense registers fold down exactly). */
  private lowerPrecision(p: number): void {
    const from = this.p;
    this.p = p;
    this.cached = -1;
    // The change bits are at the old precision: start them over (the next changes are all registers).
    this.changed = null;
    this.allChanged = false;
    if (this.regs === null) {
      // Sparse entries do not depend on p; only the densify threshold changes.
      if (this.sparseLen > sparseLimit(p)) this.densify();
      return;
    }
    const regs = new Uint8Array(1 << p);
    foldRegisters(this.regs, from, regs, p);
    this.regs = regs;
  }
}

/**
 * The registers a dense list would hold: the non-zero ones, or with `bits` only
 * those whose bit is set (serializeChanges). How many, and the bytes they take.
 */
function denseListSize(regs: Uint8Array, bits: Uint32Array | null = null): { n: number; bytes: number } {
  let n = 0;
  let bytes = 0;
  let prev = 0;
  if (bits === null) {
    for (let i = 0; i < regs.length; i++) {
      if (regs[i] === 0) continue;
      n++;
      bytes += varintSize(i - prev) + 1;
      prev = i;
    }
  } else {
    for (let w = 0; w < bits.length; w++) {
      for (let word = bits[w]!; word !== 0; word &= word - 1) {
        const i = (w << 5) | (31 - Math.clz32(word & -word));
        n++;
        bytes += varintSize(i - prev) + 1;
        prev = i;
      }
    }
  }
  return { n, bytes: bytes + 3 + varintSize(n) };
}

/**
 * The dense-list encoding (index deltas and values) of the registers
 * denseListSize counted, into `out` (a new array of its size when null). With
 * `bits`, clears them: the registers are sent.
 */
function writeDenseList(regs: Uint8Array, bits: Uint32Array | null, p: number, size: { n: number; bytes: number }, out: Uint8Array | null): Uint8Array {
  out ??= new Uint8Array(size.bytes);
  out[0] = FORMAT_VERSION;
  out[1] = KIND_DENSE_LIST;
  out[2] = p;
  let pos = writeVarint(out, 3, size.n);
  let prev = 0;
  if (bits === null) {
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i]!;
      if (r === 0) continue;
      pos = writeVarint(out, pos, i - prev);
      out[pos++] = r;
      prev = i;
    }
  } else {
    for (let w = 0; w < bits.length; w++) {
      for (let word = bits[w]!; word !== 0; word &= word - 1) {
        const i = (w << 5) | (31 - Math.clz32(word & -word));
        pos = writeVarint(out, pos, i - prev);
        out[pos++] = regs[i]!;
        prev = i;
      }
      bits[w] = 0;
    }
  }
  return out;
}

let transient = new Uint8Array(4096);
/** A view of `n` bytes of the module's reused buffer (serializeTransient). */
function transientBytes(n: number): Uint8Array {
  if (n > transient.length) transient = new Uint8Array(Math.max(n, transient.length * 2));
  return transient.subarray(0, n);
}

/** Ertl's improved raw estimator over dense registers of precision p. */
function denseEstimate(regs: Uint8Array, p: number): number {
  const m = regs.length;
  const q = 64 - p;
  const c = new Int32Array(q + 2);
  for (let i = 0; i < m; i++) c[regs[i]!]!++;
  let z = m * tau(1 - c[q + 1]! / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + c[k]!);
  z += m * sigma(c[0]! / m);
  return (ALPHA_INF * m * m) / z;
}

/** Result of decode(): views into scratch arrays (or the input), valid until the next decode. */
interface Decoded {
  p: number;
  /** Sparse entries [0, n) when regs is null. */
  sparse: Uint32Array;
  n: number;
  regs: Uint8Array | null;
  /** For a register list: (index << 8 | value) pairs [0, n), applied without a full register array. */
  pairs: Uint32Array | null;
}

let scratchPairs = new Uint32Array(1024);
let scratchSparse = new Uint32Array(256);
const decoded: Decoded = { p: 0, sparse: scratchSparse, n: 0, regs: null, pairs: null };

/** Validate and decode serialized bytes into scratch space (no per-call allocation once warm). */
function decode(bytes: Uint8Array): Decoded {
  if (!(bytes instanceof Uint8Array)) throw new SketchFormatError(`expected a Uint8Array, got ${typeof bytes}`);
  const r = new Reader(bytes);
  const version = r.u8('version byte');
  if (version !== FORMAT_VERSION) throw new SketchFormatError(`unsupported format version ${version} (this build reads ${FORMAT_VERSION})`);
  const kind = r.u8('kind byte');
  const p = r.u8('precision byte');
  if (p < MIN_PRECISION || p > MAX_PRECISION) throw new SketchFormatError(`precision ${p} outside [${MIN_PRECISION}, ${MAX_PRECISION}]`);
  const m = 1 << p;
  const maxRank = 65 - p;
  decoded.p = p;
  decoded.regs = null;
  decoded.pairs = null;
  if (kind === KIND_SPARSE) {
    const n = r.varint('entry count');
    // Every entry takes at least one byte: refuse to allocate for a count the bytes cannot hold.
    if (n > r.remaining) throw new SketchFormatError(`truncated: ${n} entries declared, ${r.remaining} bytes left`);
    if (n > scratchSparse.length) scratchSparse = new Uint32Array(Math.max(n, scratchSparse.length * 2));
    const sp = scratchSparse;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const e = prev + r.varint('sparse entry');
      const rank = e & RANK_MASK;
      if (e >= 0x80000000 || rank < 1 || rank > SPARSE_Q + 1) throw new SketchFormatError(`sparse entry ${i} (${e}) out of range`);
      if (i > 0 && e >>> 6 <= prev >>> 6) throw new SketchFormatError(`sparse entry ${i} is not in increasing index order`);
      sp[i] = e;
      prev = e;
    }
    r.end();
    decoded.sparse = sp;
    decoded.n = n;
  } else if (kind === KIND_DENSE) {
    if (r.remaining !== m) throw new SketchFormatError(`dense payload is ${r.remaining} bytes, precision ${p} needs ${m}`);
    const regs = bytes.subarray(3, 3 + m);
    for (let i = 0; i < m; i++) {
      if (regs[i]! > maxRank) throw new SketchFormatError(`register ${i} = ${regs[i]} exceeds ${maxRank}`);
    }
    decoded.n = 0;
    decoded.regs = regs;
  } else if (kind === KIND_DENSE_LIST) {
    const n = r.varint('register count');
    if (n > m) throw new SketchFormatError(`${n} registers listed, precision ${p} has ${m}`);
    if (n * 2 > r.remaining) throw new SketchFormatError(`truncated: ${n} registers declared, ${r.remaining} bytes left`);
    if (n > scratchPairs.length) scratchPairs = new Uint32Array(Math.max(n, scratchPairs.length * 2));
    const pairs = scratchPairs;
    let idx = 0;
    for (let i = 0; i < n; i++) {
      const delta = r.varint('register index');
      if (i > 0 && delta === 0) throw new SketchFormatError(`register list entry ${i} repeats an index`);
      idx += delta;
      if (idx >= m) throw new SketchFormatError(`register index ${idx} out of range for precision ${p}`);
      const v = r.u8('register value');
      if (v < 1 || v > maxRank) throw new SketchFormatError(`register ${idx} = ${v} outside [1, ${maxRank}]`);
      pairs[i] = (idx << 8) | v;
    }
    r.end();
    decoded.n = n;
    decoded.pairs = pairs;
  } else {
    throw new SketchFormatError(`unknown kind ${kind}`);
  }
  return decoded;
}
