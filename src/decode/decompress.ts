/**
 * Content-Encoding handling for OTLP/HTTP bodies.
 *
 * The one rule that matters: a small compressed body must never be allowed to
 * inflate into an unbounded buffer (a "zip bomb"). zlib's `maxOutputLength`
 * makes the synchronous inflaters stop as soon as the output would pass the
 * limit, so at most `maxBytes` (plus one internal chunk) is ever allocated.
 */
import * as zlib from 'node:zlib';
import { DecodeError, PayloadTooLargeError, UnsupportedEncodingError } from './errors.js';
import { releaseBuffer } from '../util/release.js';

export type ContentEncoding = 'gzip' | 'deflate' | 'br' | 'identity';

/**
 * Normalises a Content-Encoding header value, or returns undefined when keytally
 * cannot decode it. Empty / absent means identity. Exported so the front end can
 * answer 415 before queueing the body.
 */
export function normalizeEncoding(encoding: string | undefined): ContentEncoding | undefined {
  if (encoding === undefined) return 'identity';
  // Header values arrive in any case and sometimes padded; no regex on this path.
  const e = encoding.trim().toLowerCase();
  switch (e) {
    case '':
    case 'identity':
      return 'identity';
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    case 'br':
      return 'br';
    default:
      return undefined;
  }
}

/**
 * Decompresses `body` according to `encoding`.
 *
 * @throws UnsupportedEncodingError for an encoding other than gzip, deflate, br or identity
 * @throws PayloadTooLargeError when the output (or an identity body) exceeds `maxBytes`
 * @throws DecodeError when the compressed stream is corrupt or truncated
 */
export function decompress(body: Uint8Array, encoding: ContentEncoding | string, maxBytes: number): Uint8Array {
  const enc = normalizeEncoding(encoding);
  if (enc === undefined) throw new UnsupportedEncodingError(encoding);
  if (enc === 'identity') {
    if (body.length > maxBytes) throw tooLarge(maxBytes);
    return body;
  }
  // zlib throws on an output length of 0; a limit of 0 can only hold an empty body.
  const opts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, maxBytes), chunkSize: outputChunk(body.length, maxBytes) };
  try {
    let out: Buffer;
    if (enc === 'gzip') {
      out = zlib.gunzipSync(body, opts);
    } else if (enc === 'br') {
      out = zlib.brotliDecompressSync(body, { maxOutputLength: opts.maxOutputLength, chunkSize: opts.chunkSize });
    } else if (hasZlibHeader(body)) {
      // HTTP "deflate" means the zlib format (RFC 9110), but many clients send a
      // raw deflate stream. A raw stream can start with bytes that look like a
      // zlib header, so if the zlib parse fails on data, try raw once.
      try {
        out = zlib.inflateSync(body, opts);
      } catch (e) {
        if (isTooLarge(e)) throw e;
        out = zlib.inflateRawSync(body, opts);
      }
    } else {
      out = zlib.inflateRawSync(body, opts);
    }
    if (out.length > maxBytes) throw tooLarge(maxBytes);
    return out;
  } catch (e) {
    if (e instanceof PayloadTooLargeError) throw e;
    if (isTooLarge(e)) throw tooLarge(maxBytes);
    const msg = e instanceof Error ? e.message : String(e);
    throw new DecodeError(`corrupt ${enc} body: ${msg}`);
  }
}

/** zlib's smallest output chunk, and its default (Z_DEFAULT_CHUNK). */
const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 4 * 1024 * 1024;
/** The compression ratio the output chunk is sized for (OTLP gzip: 5-9x; the memory limiter assumes 8). */
const EXPECTED_RATIO = 8;

/**
 * zlib's output chunk for a body of `n` compressed bytes: about its expected output, so that a request inflates in one
 * native call into one buffer. With zlib's default of 16 KiB, a 120 KB request took eight calls and a copy joining
 * their chunks: gunzip of the load bench's gzip mix measured 0.72-0.75x the CPU with a chunk of its size (3
 * alternating runs of 200 requests, 346-352 → 246-257 ns per record). Never under 16 KiB, so the output never comes
 * from Buffer's shared pool (see releaseDecompressed).
 */
function outputChunk(n: number, maxBytes: number): number {
  return Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, maxBytes, n * EXPECTED_RATIO));
}

/**
 * Frees the memory of what decompress() inflated (not an identity body, which it returns as given). Its buffer is
 * zlib's own — one output chunk of at least 16 KiB (the output a view of its start when it was larger than needed), or
 * the concatenation of several, never a slice of Buffer's shared pool — so it can be freed whole, which releaseView
 * would not do for a view that does not cover its buffer.
 */
export function releaseDecompressed(out: Uint8Array): void {
  // Checked all the same: Buffer's shared pool (8 KiB slabs) is always smaller than a zlib chunk.
  if (out.buffer.byteLength >= MIN_CHUNK) releaseBuffer(out.buffer);
}

/** RFC 1950 header: CM = 8 (deflate), CINFO <= 7, and the 16-bit header is a multiple of 31. */
function hasZlibHeader(b: Uint8Array): boolean {
  if (b.length < 2) return false;
  const cmf = b[0]!;
  const flg = b[1]!;
  return (cmf & 0x0f) === 8 && cmf >>> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

function isTooLarge(e: unknown): boolean {
  return e instanceof RangeError && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`decompressed body exceeds ${maxBytes} bytes`, maxBytes);
}
