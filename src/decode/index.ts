/**
 * Entry point of the decode stage: picks the decoder for a (signal, wire
 * format) pair from a table, so the choice is made once per request and the
 * decoders themselves never branch on format.
 */
import type { LogsRequest, MetricsRequest, Signal, TracesRequest, WireFormat } from '../model/otlp.js';
import { DecodeError } from './errors.js';
import type { DecodeOptions, Decoded } from './limits.js';
import * as json from './otlp-json.js';
import * as proto from './otlp-proto.js';

export type { DecodeOptions, DecodeStats, Decoded } from './limits.js';
export { DEFAULT_MAX_ATTRIBUTES, DEFAULT_MAX_KEY_LENGTH, DEFAULT_MAX_VALUE_LENGTH } from './limits.js';
export { DecodeError, PayloadTooLargeError, UnsupportedEncodingError, isDecodeFailure } from './errors.js';
export { decompress, normalizeEncoding } from './decompress.js';

export type AnyRequest = LogsRequest | MetricsRequest | TracesRequest;
export type RequestOf<S extends Signal> = S extends 'logs' ? LogsRequest : S extends 'metrics' ? MetricsRequest : TracesRequest;
export type Decoder<T> = (bytes: Uint8Array, opts?: DecodeOptions) => Decoded<T>;

const DECODERS = {
  logs: { protobuf: proto.decodeLogs, json: json.decodeLogs },
  metrics: { protobuf: proto.decodeMetrics, json: json.decodeMetrics },
  traces: { protobuf: proto.decodeTraces, json: json.decodeTraces },
} as const;

/** The decoder for a signal and wire format; a worker can look it up once and keep it. */
export function getDecoder<S extends Signal>(signal: S, format: WireFormat): Decoder<RequestOf<S>> {
  const bySignal = DECODERS[signal as Signal] as (typeof DECODERS)[Signal] | undefined;
  const fn = bySignal?.[format as WireFormat] as Decoder<AnyRequest> | undefined;
  if (fn === undefined) throw new DecodeError(`no decoder for signal ${String(signal)} in format ${String(format)}`);
  return fn as Decoder<RequestOf<S>>;
}

/**
 * Decodes an (already decompressed) OTLP request body.
 * @throws DecodeError when the bytes are not a valid request of that signal and format
 */
export function decodeRequest<S extends Signal>(signal: S, format: WireFormat, bytes: Uint8Array, opts?: DecodeOptions): Decoded<RequestOf<S>> {
  return getDecoder(signal, format)(bytes, opts);
}
