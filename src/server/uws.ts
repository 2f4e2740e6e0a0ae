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

/** How much of an over-limit body is read and thrown away before answering 413, as a multiple of the limit. */
const DRAIN_FACTOR = 4;

/**
 * Reads a whole request body with a size limit. Calls back once: with the
 * bytes, or with 'too_large', or never if aborted. An over-limit body of up
 * to DRAIN_FACTOR × limit is read to its end and discarded first (`drained`
 * true), so that the client, still writing, gets the 413 instead of a broken
 * pipe; past that the answer comes at once and the connection is closed.
 */
export function readBody(
  res: HttpResponse,
  limit: number,
  declaredLength: number,
  done: (body: Uint8Array | 'too_large', drained: boolean) => void,
  /** Bytes received so far, after each chunk of a body whose length was not declared (chunked). */
  progress?: (received: number) => void,
): void {
  const drainCap = limit * DRAIN_FACTOR;
  if (declaredLength > drainCap) {
    done('too_large', false);
    return;
  }
  let tooLarge = declaredLength > limit;
  // Content-Length known: one allocation, chunks copied straight in.
  let buf = tooLarge ? new Uint8Array(0) : new Uint8Array(declaredLength > 0 ? declaredLength : 64 * 1024);
  let len = 0;
  let finished = false;
  res.onData((chunk, isLast) => {
    if (finished) return;
    len += chunk.byteLength;
    if (!tooLarge && len > limit) {
      tooLarge = true;
      buf = new Uint8Array(0);
    }
    if (tooLarge) {
      if (len > drainCap) {
        finished = true;
        done('too_large', false);
      } else if (isLast) {
        finished = true;
        done('too_large', true);
      }
      return;
    }
    const start = len - chunk.byteLength;
    if (len > buf.length) {
      const bigger = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, len)));
      bigger.set(buf.subarray(0, start));
      buf = bigger;
    }
    buf.set(new Uint8Array(chunk), start);
    if (progress && declaredLength === 0) progress(len);
    if (isLast) {
      finished = true;
      done(len === buf.length ? buf : buf.slice(0, len), true);
    }
  });
}

/**
 * Reads a body that will not be used and throws it away, then calls back
 * once: `drained` true when it was read to its end within the bound (the
 * connection can stay open for the next request), false when it is over
 * `maxBytes` (declared or seen) or still arriving after `maxMs`. After an
 * abort it may still be called (by the timer): the caller's answer checks.
 */
export function discardBody(res: HttpResponse, declaredLength: number, bound: { maxBytes: number; maxMs: number }, done: (drained: boolean) => void): void {
  if (declaredLength > bound.maxBytes) {
    done(false);
    return;
  }
  let seen = 0;
  let finished = false;
  const finish = (drained: boolean) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(drained);
  };
  const timer = setTimeout(() => finish(false), bound.maxMs);
  // No onAborted here: uWS keeps one handler per response, the caller's, which must see the abort (its answer is then dropped).
  res.onData((chunk, isLast) => {
    if (finished) return;
    seen += chunk.byteLength;
    if (isLast) finish(true);
    else if (seen > bound.maxBytes) finish(false);
  });
}
