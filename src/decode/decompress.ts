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
  const opts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    let out: Buffer;
    if (enc === 'gzip') {
      out = zlib.gunzipSync(body, opts);
    } else if (enc === 'br') {
      out = zlib.brotliDecompressSync(body, { maxOutputLength: opts.maxOutputLength });
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
