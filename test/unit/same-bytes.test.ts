import { describe, expect, it } from 'vitest';
import { ProtoReader, sameBytes } from '../../src/decode/proto-reader.js';

describe('sameBytes (the intern table and the value hash cache confirm their hits with it)', () => {
  const view = (u: Uint8Array) => new DataView(u.buffer, u.byteOffset, u.byteLength);

  it('agrees with a byte loop for every length up to 40, at odd offsets, a difference at every position', () => {
    // Views at offsets 3 and 5 of their buffers: the four-byte reads are unaligned on both sides.
    const a = new Uint8Array(new ArrayBuffer(64), 3, 48);
    const b = new Uint8Array(new ArrayBuffer(64), 5, 48);
    for (let i = 0; i < 48; i++) a[i] = b[i] = (i * 37 + 11) & 0xff;
    for (let n = 0; n <= 40; n++) {
      expect(sameBytes(a, view(a), 2, b, view(b), 2, n), `n=${n}`).toBe(true);
      for (let d = 0; d < n; d++) {
        b[2 + d] ^= 0x40;
        expect(sameBytes(a, view(a), 2, b, view(b), 2, n), `n=${n}, differs at ${d}`).toBe(false);
        b[2 + d] ^= 0x40;
      }
      // Shifted by one: a different run of bytes (the pattern does not repeat within 40).
      if (n > 0) expect(sameBytes(a, view(a), 2, b, view(b), 3, n)).toBe(false);
    }
  });

  it('the reader interns through it: the same string for the same bytes, never for others', () => {
    const text = 'http.response.status_code http.response.status_codf thread.name thread.namf';
    const buf = new TextEncoder().encode(text);
    const r = new ProtoReader(new Uint8Array(buf));
    const words = text.split(' ');
    let at = 0;
    const spans = words.map((w) => {
      const s = [at, at + w.length] as const;
      at += w.length + 1;
      return s;
    });
    for (let round = 0; round < 3; round++) {
      spans.forEach(([s, e], i) => expect(r.string(s, e)).toBe(words[i]));
    }
  });
});
