/**
 * Loads uWebSockets.js and refuses to run on its pure-JS fallback: the
 * native binary is the reason we use it (DESIGN §1).
 */
import { createRequire } from 'node:module';
import type * as UwsTypes from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export type Uws = typeof UwsTypes;
export type HttpResponse = UwsTypes.HttpResponse;
export type HttpRequest = UwsTypes.HttpRequest;
export type TemplatedApp = UwsTypes.TemplatedApp;
export type ListenSocket = UwsTypes.us_listen_socket;

export function loadNativeUws(): Uws {
  if (/^(true|1)$/i.test(process.env['UWS_USE_FALLBACK'] ?? '')) {
    throw new Error('UWS_USE_FALLBACK is set: keytally needs the native uWebSockets.js binary, not the ws fallback');
  }
  const uws = require('uWebSockets.js') as Uws;
  const native = Object.keys(require.cache).some((p) => /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(p));
  if (!native) {
    throw new Error(
      `uWebSockets.js did not load its native binary for ${process.platform}-${process.arch} (ABI ${process.versions.modules}); refusing the ws fallback`,
    );
  }
  return uws;
}

/** Reads a whole request body with a size limit. Calls back once: with the bytes, or with 'too_large', or never if aborted. */
export function readBody(
  res: HttpResponse,
  limit: number,
  declaredLength: number,
  done: (body: Uint8Array | 'too_large') => void,
): void {
  if (declaredLength > limit) {
    done('too_large');
    return;
  }
  // Content-Length known: one allocation, chunks copied straight in.
  let buf = new Uint8Array(declaredLength > 0 ? declaredLength : 64 * 1024);
  let len = 0;
  let finished = false;
  res.onData((chunk, isLast) => {
    if (finished) return;
    const bytes = new Uint8Array(chunk);
    if (len + bytes.length > limit) {
      finished = true;
      done('too_large');
      return;
    }
    if (len + bytes.length > buf.length) {
      const bigger = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, len + bytes.length)));
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
    buf.set(bytes, len);
    len += bytes.length;
    if (isLast) {
      finished = true;
      done(len === buf.length ? buf : buf.slice(0, len));
    }
  });
}
