/**
 * Keyed 64-bit hashing of attribute values (DESIGN §4): xxhash64 seeded with the
 * install's random salt, so a stored sketch cannot be checked against a
 * dictionary of guessed values by anyone who does not hold the salt.
 *
 * Implementation: xxhash-wasm's h64. Its BigInt result is split into the two u32
 * halves the sketch uses through a BigUint64Array view (no BigInt arithmetic).
 * A hand-written JS xxh64 on 32-bit halves was tried and dropped: it matched h64
 * bit for bit but cost 57-110 ns for 8-16 byte inputs before UTF-8 encoding
 * (200-270 ns/value end to end) against 115-130 ns/value for this path, because
 * the 64-bit multiplies do not stay inlined (node 20, bench/hll.ts-style loop).
 */
import { randomBytes } from 'node:crypto';
import xxhash from 'xxhash-wasm';

/** Keyed 64-bit hash of attribute values. Create one per thread. */
export interface KeyedHasher {
  /** Hash the UTF-8 bytes of value; out[0] gets the high 32 bits, out[1] the low 32 bits. */
  hash(value: string, out: Uint32Array): void;
  /** The same hash of UTF-8 bytes already in hand: hashBytes(utf8(v)) === hash(v), with no string made. */
  hashBytes(utf8: Uint8Array, out: Uint32Array): void;
}

const U64_MAX = (1n << 64n) - 1n;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A fresh 64-bit salt from the OS CSPRNG. */
export function randomSalt(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}

class WasmKeyedHasher implements KeyedHasher {
  private readonly b64 = new BigUint64Array(1);
  // A 32-bit view of b64; which half is which depends on the platform's byte order.
  private readonly u32 = new Uint32Array(this.b64.buffer);
  private readonly hiAt = LITTLE_ENDIAN ? 1 : 0;
  private readonly loAt = LITTLE_ENDIAN ? 0 : 1;

  constructor(
    // h64 UTF-8-encodes the string straight into wasm memory (TextEncoder.encodeInto),
    // so there is no intermediate buffer on our side.
    private readonly h64: (input: string, seed?: bigint) => bigint,
    private readonly h64Raw: (input: Uint8Array, seed?: bigint) => bigint,
    private readonly salt: bigint,
  ) {}

  hashBytes(utf8: Uint8Array, out: Uint32Array): void {
    this.b64[0] = this.h64Raw(utf8, this.salt);
    out[0] = this.u32[this.hiAt]!;
    out[1] = this.u32[this.loAt]!;
  }

  hash(value: string, out: Uint32Array): void {
    this.b64[0] = this.h64(value, this.salt);
    out[0] = this.u32[this.hiAt]!;
    out[1] = this.u32[this.loAt]!;
  }
}

/**
 * Create the keyed hasher for this thread (async: it instantiates the wasm module).
 * The salt must be the install's 64-bit salt from `meta`; every thread of every
 * instance sharing a store must use the same one, or their sketches do not merge.
 */
export async function createKeyedHasher(salt: bigint): Promise<KeyedHasher> {
  if (typeof salt !== 'bigint' || salt < 0n || salt > U64_MAX) {
    throw new RangeError(`hash salt must be a bigint in [0, 2^64), got ${String(salt)}`);
  }
  const api = await xxhash();
  return new WasmKeyedHasher(api.h64, api.h64Raw, salt);
}
