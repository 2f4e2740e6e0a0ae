import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { createKeyedHasher, randomSalt } from '../../src/sketch/hash.js';

/** Deterministic generator so a failure names a reproducible input. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function sampleStrings(): string[] {
  const next = lcg(7);
  const out: string[] = ['', 'a', 'GET', 'http.method', 'ünïcødé', '日本語のログ', '😀 emoji', '\u0000nul', '\ud800 lone surrogate'];
  // Lengths across every branch of xxh64 (<4, 4..7, 8..31, one and several 32-byte stripes) and beyond.
  for (let len = 0; len < 140; len++) {
    for (let k = 0; k < 4; k++) {
      let s = '';
      for (let i = 0; i < len; i++) {
        const r = next();
        // Mostly ASCII, sometimes 2-, 3- and 4-byte UTF-8 sequences.
        const kind = r % 10;
        s += kind < 7 ? String.fromCharCode(32 + (r >>> 8) % 95)
          : kind < 8 ? String.fromCharCode(0x80 + (r >>> 8) % 0x700)
          : kind < 9 ? String.fromCharCode(0x800 + (r >>> 8) % 0xd000)
          : String.fromCodePoint(0x10000 + (r >>> 8) % 0xfffff);
      }
      out.push(s);
    }
  }
  out.push('x'.repeat(70_000)); // longer than any reusable buffer
  return out;
}

describe('keyed hash', () => {
  it('equals xxhash-wasm h64 seeded with the salt', async () => {
    const api = await xxhash();
    const salts = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x0123456789abcdefn, randomSalt()];
    const values = sampleStrings();
    const out = new Uint32Array(2);
    let checked = 0;
    for (const salt of salts) {
      const h = await createKeyedHasher(salt);
      for (const v of values) {
        h.hash(v, out);
        const got = (BigInt(out[0]!) << 32n) | BigInt(out[1]!);
        const want = api.h64(v, salt);
        if (got !== want) expect.fail(`salt ${salt} value ${JSON.stringify(v.slice(0, 40))}: ${got.toString(16)} != ${want.toString(16)}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it('different salts give different hashes for the same value', async () => {
    const a = await createKeyedHasher(1n);
    const b = await createKeyedHasher(2n);
    const oa = new Uint32Array(2);
    const ob = new Uint32Array(2);
    a.hash('user@example.com', oa);
    b.hash('user@example.com', ob);
    expect([oa[0], oa[1]]).not.toEqual([ob[0], ob[1]]);
  });

  it('randomSalt gives distinct 64-bit values', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 100; i++) {
      const s = randomSalt();
      expect(s >= 0n && s < 1n << 64n).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(100);
  });

  it('rejects a salt outside 64 bits', async () => {
    await expect(createKeyedHasher(-1n)).rejects.toThrow(/salt/);
    await expect(createKeyedHasher(1n << 64n)).rejects.toThrow(/salt/);
  });
});
