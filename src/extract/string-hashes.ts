/**
 * A bounded cache of keyed hashes of strings, for the values a worker hashes again and again: metric label values
 * (twice per point: the label's sketch and the key's) and resource attributes. Measured on the load bench's metrics:
 * TextEncoder.encodeInto and the wasm call behind KeyedHasher.hash were ~25 % of a worker's CPU per point; with this
 * cache a point costs 0.85x the CPU (alternating in-process runs). A Map lookup of a string V8 has already hashed (the
 * decoder interns short strings) costs far less than the hash. When full, the cache starts over: high-cardinality
 * values cost a miss each, and the memory stays bounded (MAX_ENTRIES strings of up to MAX_LENGTH).
 * Not for the series fingerprints: nearly unique per point under a high-cardinality label, caching them measured
 * 1.3x slower (fresh concatenated strings to flatten, hash and insert, then clear).
 */
import type { KeyedHasher } from '../sketch/hash.js';

const MAX_ENTRIES = 16_384;
/** Longer strings (log lines as values, big JSON) are rarely repeated: hashed each time. */
const MAX_LENGTH = 512;

export class StringHashes {
  private readonly slots = new Map<string, number>();
  private readonly pairs = new Uint32Array(MAX_ENTRIES * 2);

  constructor(private readonly hasher: KeyedHasher) {}

  /** hasher.hash(s, out), from the cache when s was seen since the last reset. */
  hash(s: string, out: Uint32Array): void {
    if (s.length > MAX_LENGTH) {
      this.hasher.hash(s, out);
      return;
    }
    const slot = this.slots.get(s);
    if (slot !== undefined) {
      out[0] = this.pairs[slot]!;
      out[1] = this.pairs[slot + 1]!;
      return;
    }
    this.hasher.hash(s, out);
    let n = this.slots.size;
    if (n >= MAX_ENTRIES) {
      this.slots.clear();
      n = 0;
    }
    this.slots.set(s, n * 2);
    this.pairs[n * 2] = out[0]!;
    this.pairs[n * 2 + 1] = out[1]!;
  }
}
