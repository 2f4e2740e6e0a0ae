import { describe, expect, it } from 'vitest';
import { SeriesHashes } from '../../src/extract/series-hashes.js';

describe('SeriesHashes', () => {
  const bytes = (s: string) => new Uint8Array(Buffer.from(`xx${s}yy`));
  const out = new Uint32Array(2);
  const view = (u: Uint8Array) => new DataView(u.buffer, u.byteOffset, u.byteLength);

  it('answers a stored hash only for the same bytes under the same resource', () => {
    const c = new SeriesHashes();
    const a = c.resourceId('service.name=a\u0001');
    const b = c.resourceId('service.name=b\u0001');
    expect(a).not.toBe(b);
    expect(c.resourceId('service.name=a\u0001')).toBe(a);
    const buf = bytes('method=GET route=/x');
    expect(c.lookup(a, buf, view(buf), 2, buf.length - 2, out)).toBe(false);
    c.store(a, buf, 2, buf.length - 2, 11, 22);
    expect(c.lookup(a, buf, view(buf), 2, buf.length - 2, out)).toBe(true);
    expect([...out]).toEqual([11, 22]);
    // The same bytes elsewhere in another buffer: a hit; under another resource, one byte off, a shorter range: misses.
    const again = new Uint8Array([9, 9, 9, ...buf.subarray(2, buf.length - 2)]);
    expect(c.lookup(a, again, view(again), 3, again.length, out)).toBe(true);
    expect(c.lookup(b, buf, view(buf), 2, buf.length - 2, out)).toBe(false);
    const other = bytes('method=GET route=/y');
    expect(c.lookup(a, other, view(other), 2, other.length - 2, out)).toBe(false);
    expect(c.lookup(a, buf, view(buf), 2, buf.length - 3, out)).toBe(false);
  });

  it('never caches an empty range or one over its slot size', () => {
    const c = new SeriesHashes();
    const r = c.resourceId('');
    const long = new Uint8Array(129).fill(65);
    c.lookup(r, long, view(long), 0, long.length, out);
    c.store(r, long, 0, long.length, 1, 2);
    expect(c.lookup(r, long, view(long), 0, long.length, out)).toBe(false);
    c.lookup(r, long, view(long), 5, 5, out);
    c.store(r, long, 5, 5, 1, 2);
    expect(c.lookup(r, long, view(long), 5, 5, out)).toBe(false);
  });

  it('gives new numbers after forgetting resources, so old entries cannot answer for another resource', () => {
    const c = new SeriesHashes();
    const first = c.resourceId('r0');
    const buf = bytes('k=v');
    c.lookup(first, buf, view(buf), 2, buf.length - 2, out);
    c.store(first, buf, 2, buf.length - 2, 5, 6);
    const seen = new Set([first]);
    for (let i = 1; i <= 5000; i++) seen.add(c.resourceId(`r${i}`));
    expect(seen.size).toBe(5001);
    // r0 was forgotten when the numbering started over: it gets a new number, and its old entry is not found under it.
    const again = c.resourceId('r0');
    expect(again).not.toBe(first);
    expect(c.lookup(again, buf, view(buf), 2, buf.length - 2, out)).toBe(false);
    expect(c.lookup(first, buf, view(buf), 2, buf.length - 2, out)).toBe(true);
  });
});
