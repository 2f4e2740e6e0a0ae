/**
 * A bounded cache of metric series hashes, keyed by the wire bytes of a point's attributes and its resource.
 *
 * A series' hash (what its metric's series sketch counts) is the keyed hash of its fingerprint: the resource's
 * sorted key=value pairs and the point's (Extractor.fingerprint). Building that string and hashing it — a sort, a
 * concatenation, its UTF-8 encoding into wasm memory — was a quarter of the CPU of a metric point on the load bench
 * (profile of the one-pass fold), and it is the same work every time a series comes back, which is what metrics do:
 * each export sends every series again. Equal attribute bytes decode to equal attributes (the decoder is a function of
 * the bytes and the limits, which a worker never changes), and equal attributes under the same resource fingerprint
 * make the same fingerprint, so a hit returns exactly the hash the string would have given.
 *
 * Direct-mapped, 4,096 slots of 128 bytes (590 KB a worker; 16,384 slots found 49 % hits against 47 % on the load
 * bench's metrics, whose customer label makes most series new): the slot comes from the length, the resource and
 * sampled bytes; a hit is confirmed byte for byte, a collision just replaces the slot. A resource is a number
 * (`resourceId`), not its string, so the check is one compare; numbers are never reused, so an entry of a forgotten
 * resource can never match another's.
 */
import { sameBytes } from '../decode/proto-reader.js';

const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS;
/** Attribute runs longer than this are not cached (hashed each time): 99 % of the load bench's take fewer. */
const MAX_BYTES = 128;
/** Distinct resource fingerprints remembered before the numbering starts over (with new numbers). */
const MAX_RESOURCES = 4096;

export class SeriesHashes {
  private readonly len = new Int32Array(SLOTS).fill(-1);
  private readonly res = new Int32Array(SLOTS);
  private readonly bytes = new Uint8Array(SLOTS * MAX_BYTES);
  private readonly bytesView = new DataView(this.bytes.buffer);
  private readonly hash = new Uint32Array(SLOTS * 2);
  private readonly resources = new Map<string, number>();
  private nextResource = 1;
  /** The slot of the last lookup, where store() puts its answer. */
  private slot = -1;

  /** The number standing for a resource's fingerprint in this cache. */
  resourceId(fingerprint: string): number {
    let id = this.resources.get(fingerprint);
    if (id === undefined) {
      if (this.resources.size >= MAX_RESOURCES) this.resources.clear();
      id = this.nextResource++;
      // Past 2^31 resources the Int32Array would wrap: start over, and forget every entry with the old numbers.
      if (id > 0x7fffffff) {
        this.nextResource = 2;
        id = 1;
        this.len.fill(-1);
        this.resources.clear();
      }
      this.resources.set(fingerprint, id);
    }
    return id;
  }

  /**
   * The cached hash of the series with attribute bytes buf[from, to) under resource `res` into out (high, low), and
   * true; false on a miss (then store() fills the slot looked at). A range too long for a slot is always a miss.
   * `view`: a DataView of buf's memory (the reader's), for comparing four bytes at a time.
   */
  lookup(res: number, buf: Uint8Array, view: DataView, from: number, to: number, out: Uint32Array): boolean {
    const n = to - from;
    if (n > MAX_BYTES || n <= 0) {
      this.slot = -1;
      return false;
    }
    const slot =
      Math.imul(n ^ (res << 20) ^ (buf[from + (n >> 1)]! << 8) ^ (buf[to - 1]! << 16) ^ (buf[to - 2]! << 24) ^ buf[from + (n >> 2)]! ^ (buf[from + ((3 * n) >> 2)]! << 4), 0x9e3779b1) >>>
      (32 - SLOT_BITS);
    this.slot = slot;
    if (this.len[slot] !== n || this.res[slot] !== res) return false;
    if (!sameBytes(this.bytes, this.bytesView, slot * MAX_BYTES, buf, view, from, n)) return false;
    out[0] = this.hash[slot * 2]!;
    out[1] = this.hash[slot * 2 + 1]!;
    return true;
  }

  /** After a miss: remembers the hash (hi, lo) of the bytes and resource the lookup was given. */
  store(res: number, buf: Uint8Array, from: number, to: number, hi: number, lo: number): void {
    const slot = this.slot;
    if (slot < 0) return;
    this.slot = -1;
    this.len[slot] = to - from;
    this.res[slot] = res;
    // A loop, not set(subarray()): for a short run the view and the call cost more than the copy.
    const bytes = this.bytes;
    const base = slot * MAX_BYTES;
    for (let i = from; i < to; i++) bytes[base + i - from] = buf[i]!;
    this.hash[slot * 2] = hi;
    this.hash[slot * 2 + 1] = lo;
  }
}
