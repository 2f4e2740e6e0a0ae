/**
 * Errors raised while turning a request body into decoded OTLP objects.
 *
 * Each carries a stable `code` (logged and counted in /metrics, so it must not
 * change with message wording), the HTTP status the front end should answer
 * with, and `retryable = false`: resending the same bytes can never succeed, so
 * an OTLP client must not retry them (OTLP/HTTP: 400/413/415 are not retryable).
 */

export type DecodeErrorCode = 'bad_payload' | 'too_large' | 'unsupported_encoding';

abstract class KeytallyDecodeFailure extends Error {
  abstract readonly code: DecodeErrorCode;
  abstract readonly httpStatus: number;
  readonly retryable = false as const;
}

/** The payload is not valid protobuf / JSON / compressed data for the signal. */
export class DecodeError extends KeytallyDecodeFailure {
  readonly code = 'bad_payload' as const;
  readonly httpStatus = 400;
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** The body, or what it decompresses to, is larger than the configured limit. */
export class PayloadTooLargeError extends KeytallyDecodeFailure {
  readonly code = 'too_large' as const;
  readonly httpStatus = 413;
  constructor(
    message: string,
    /** The limit that was exceeded, in bytes. */
    readonly limitBytes: number,
  ) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}

/** Content-Encoding keytally does not decompress. */
export class UnsupportedEncodingError extends KeytallyDecodeFailure {
  readonly code = 'unsupported_encoding' as const;
  readonly httpStatus = 415;
  constructor(readonly encoding: string) {
    super(`unsupported Content-Encoding: ${JSON.stringify(encoding)}`);
    this.name = 'UnsupportedEncodingError';
  }
}

/** True for any of the three errors above (they share a base class that is not exported). */
export function isDecodeFailure(e: unknown): e is DecodeError | PayloadTooLargeError | UnsupportedEncodingError {
  return e instanceof KeytallyDecodeFailure;
}
