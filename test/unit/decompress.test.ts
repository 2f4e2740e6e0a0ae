import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompress, normalizeEncoding, releaseDecompressed } from '../../src/decode/decompress.js';
import { canReleaseBuffers } from '../../src/util/release.js';
import { DecodeError, PayloadTooLargeError, UnsupportedEncodingError, isDecodeFailure } from '../../src/decode/errors.js';

const payload = Buffer.from('{"resourceLogs":[]} '.repeat(5000));

describe('decompress', () => {
  it.each([
    ['gzip', zlib.gzipSync(payload)],
    ['x-gzip', zlib.gzipSync(payload)],
    [' GZIP ', zlib.gzipSync(payload)],
    ['deflate', zlib.deflateSync(payload)], // zlib-wrapped, as RFC 9110 means it
    ['deflate', zlib.deflateRawSync(payload)], // raw, as many clients send it
    ['Deflate', zlib.deflateSync(payload, { level: 9 })],
    ['br', zlib.brotliCompressSync(payload)],
    ['identity', payload],
    ['', payload],
  ])('%s', (encoding, body) => {
    expect(Buffer.from(decompress(body, encoding, payload.length))).toEqual(payload);
  });

  it('inflates into a buffer of its own, freed whole by releaseDecompressed, never into the shared pool', () => {
    expect(canReleaseBuffers()).toBe(true);
    // One chunk sized for 8x the body, the output a view of its start; and several chunks (1 MB of zeros: ~1000x).
    for (const raw of [Buffer.from('short body '.repeat(10)), Buffer.alloc(1 << 20)]) {
      const pooled = Buffer.from('in the pool');
      const out = decompress(zlib.gzipSync(raw), 'gzip', 1 << 21);
      expect(Buffer.from(out)).toEqual(raw);
      expect(out.buffer).not.toBe(pooled.buffer);
      expect(out.buffer.byteLength).toBeGreaterThanOrEqual(16 * 1024);
      releaseDecompressed(out);
      expect(out.buffer.byteLength).toBe(0);
      expect(pooled.toString()).toBe('in the pool');
    }
  });

  it('identity returns the same bytes without copying', () => {
    const body = new Uint8Array([1, 2, 3]);
    expect(decompress(body, 'identity', 10)).toBe(body);
  });

  it('multi-member gzip is decoded whole', () => {
    const body = Buffer.concat([zlib.gzipSync('ab'), zlib.gzipSync('cd')]);
    expect(Buffer.from(decompress(body, 'gzip', 100)).toString()).toBe('abcd');
  });

  it('unsupported encodings → UnsupportedEncodingError (415, not retryable)', () => {
    for (const enc of ['zstd', 'compress', 'gzip, br', 'snappy']) {
      const call = () => decompress(payload, enc, 1e9);
      expect(call).toThrow(UnsupportedEncodingError);
      try {
        call();
      } catch (e) {
        const err = e as UnsupportedEncodingError;
        expect(err.code).toBe('unsupported_encoding');
        expect(err.httpStatus).toBe(415);
        expect(err.retryable).toBe(false);
        expect(isDecodeFailure(err)).toBe(true);
      }
    }
    expect(normalizeEncoding(undefined)).toBe('identity');
    expect(normalizeEncoding('zstd')).toBeUndefined();
  });

  it('limit is inclusive: exactly maxBytes passes, one byte less fails', () => {
    for (const [enc, body] of [
      ['gzip', zlib.gzipSync(payload)],
      ['deflate', zlib.deflateSync(payload)],
      ['deflate', zlib.deflateRawSync(payload)],
      ['br', zlib.brotliCompressSync(payload)],
      ['identity', payload],
    ] as const) {
      expect(decompress(body, enc, payload.length).length).toBe(payload.length);
      expect(() => decompress(body, enc, payload.length - 1), enc).toThrow(PayloadTooLargeError);
    }
  });

  it('empty bodies', () => {
    expect(decompress(zlib.gzipSync(Buffer.alloc(0)), 'gzip', 0).length).toBe(0);
    expect(decompress(new Uint8Array(0), 'identity', 0).length).toBe(0);
  });

  it('PayloadTooLargeError carries its code, status and limit', () => {
    try {
      decompress(zlib.gzipSync(payload), 'gzip', 10);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PayloadTooLargeError);
      const err = e as PayloadTooLargeError;
      expect([err.code, err.httpStatus, err.retryable, err.limitBytes]).toEqual(['too_large', 413, false, 10]);
    }
  });

  it('a 1 GB gzip bomb → PayloadTooLargeError quickly, with bounded memory', () => {
    // 1024 gzip members of 1 MiB of zeros each: ~1 MB on the wire, 1 GiB inflated.
    const member = zlib.gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    expect(bomb.length).toBeLessThan(2 << 20);
    const before = process.memoryUsage();
    const t0 = performance.now();
    expect(() => decompress(bomb, 'gzip', 16 << 20)).toThrow(PayloadTooLargeError);
    const ms = performance.now() - t0;
    const after = process.memoryUsage();
    expect(ms).toBeLessThan(2000);
    // Nothing near 1 GB was ever allocated (rss only grows, so this bounds the peak).
    expect(after.rss - before.rss).toBeLessThan(256 << 20);
  });

  it('single-stream deflate/zlib/brotli bombs stop at the limit too', () => {
    const zeros = Buffer.alloc(32 << 20);
    const cases: [string, Buffer][] = [
      ['deflate', zlib.deflateSync(zeros, { level: 9 })],
      ['deflate', zlib.deflateRawSync(zeros, { level: 9 })],
      ['gzip', zlib.gzipSync(zeros, { level: 9 })],
      ['br', zlib.brotliCompressSync(zeros)],
    ];
    for (const [enc, body] of cases) {
      expect(body.length).toBeLessThan(1 << 20);
      const before = process.memoryUsage().rss;
      expect(() => decompress(body, enc, 256 << 10)).toThrow(PayloadTooLargeError);
      expect(process.memoryUsage().rss - before).toBeLessThan(24 << 20);
    }
  });

  it('corrupt or truncated streams → DecodeError (400)', () => {
    const gz = zlib.gzipSync(payload);
    const flipped = Buffer.from(gz);
    for (let i = 20; i < flipped.length - 10; i += 7) flipped[i] ^= 0x55;
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6] ^= 0xff;
    const cases: [string, Uint8Array][] = [
      ['gzip', flipped],
      ['gzip', gz.subarray(0, gz.length >> 1)],
      ['gzip', badCrc],
      ['gzip', Buffer.from('not gzip at all')],
      ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00])],
      ['deflate', zlib.deflateSync(payload).subarray(0, 30)],
      ['deflate', Buffer.from([0xff, 0xff, 0xff])],
      ['br', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ];
    for (const [enc, body] of cases) {
      try {
        decompress(body, enc, 1 << 20);
        expect.unreachable(`${enc} ${Buffer.from(body.subarray(0, 8)).toString('hex')} decoded`);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        expect((e as DecodeError).code).toBe('bad_payload');
        expect((e as DecodeError).httpStatus).toBe(400);
      }
    }
  });
});
