import { describe, expect, it } from 'vitest';
import { StringHashes } from '../../src/extract/string-hashes.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';

describe('StringHashes', () => {
  it("answers the hasher's hash for repeated, new, long and non-ASCII strings, across resets when full", async () => {
    const hasher = await createKeyedHasher(99n);
    const cache = new StringHashes(hasher);
    const out = new Uint32Array(2);
    const want = new Uint32Array(2);
    // 40,000 distinct values (the cache holds 16,384: it resets twice), each asked three times, some long or not ASCII.
    const values = Array.from({ length: 40_000 }, (_, i) => (i % 997 === 0 ? 'x'.repeat(600) + i : i % 13 === 0 ? `café-${i}` : `v-${i}`));
    let checked = 0;
    for (let round = 0; round < 3; round++) {
      for (const v of values) {
        cache.hash(v, out);
        hasher.hash(v, want);
        expect([out[0], out[1]]).toEqual([want[0], want[1]]);
        checked++;
      }
    }
    expect(checked).toBe(120_000);
  });
});
