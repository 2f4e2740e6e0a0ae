/**
 * Bounds applied by both decoders. They cap work and memory per record; going
 * past them is counted, never fatal (a noisy client should lose detail, not data).
 */

/** Attributes kept per record (resource, log record, data point, span, event, kvlist body). */
export const DEFAULT_MAX_ATTRIBUTES = 256;
/** Attribute keys are cut to this many UTF-16 code units. */
export const DEFAULT_MAX_KEY_LENGTH = 256;
/** Canonical attribute values are cut to this many UTF-16 code units (they are only hashed). */
export const DEFAULT_MAX_VALUE_LENGTH = 4096;
/** AnyValue arrays/kvlists nested deeper than this are rejected as malformed. */
export const MAX_ANYVALUE_DEPTH = 32;

export interface DecodeOptions {
  /** Default DEFAULT_MAX_ATTRIBUTES. */
  maxAttributes?: number;
  /** Default DEFAULT_MAX_KEY_LENGTH. */
  maxKeyLength?: number;
  /** Default DEFAULT_MAX_VALUE_LENGTH. */
  maxValueLength?: number;
}

/**
 * What the decoder had to cut. It is returned on the request object itself
 * (the decoded types are plain data, so the extra fields cost nothing and the
 * worker can add them to its /metrics counters without a second return value).
 */
export interface DecodeStats {
  /**
   * Attributes dropped because a record had more than maxAttributes (the first
   * maxAttributes of each record are kept). Named `truncated` because the
   * ingest worker reads it under that name.
   */
  truncated: number;
  /** Keys or attribute values cut to maxKeyLength / maxValueLength. */
  truncatedStrings: number;
}

export type Decoded<T> = T & DecodeStats;
