/**
 * OTLP/HTTP response bodies: Export*ServiceResponse (with partial_success
 * when records were rejected) and google.rpc.Status for errors, each in the
 * request's encoding. Tiny hand-written protobuf encoders: two fields each.
 */
import type { Signal, WireFormat } from '../model/otlp.js';

const encoder = new TextEncoder();

export function varint(out: number[], v: number): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function field(out: number[], num: number, wire: number): void {
  varint(out, (num << 3) | wire);
}

export function bytesField(out: number[], num: number, bytes: Uint8Array | number[]): void {
  field(out, num, 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** The partial_success field's name for the rejected count, per signal. */
const REJECTED_FIELD: Record<Signal, string> = {
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
};

export function exportResponse(signal: Signal, format: WireFormat, rejected: number, message: string): Uint8Array {
  if (format === 'json') {
    if (rejected === 0 && message === '') return encoder.encode('{}');
    // int64 fields are strings in the protobuf JSON mapping.
    return encoder.encode(JSON.stringify({ partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message } }));
  }
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const inner: number[] = [];
  if (rejected > 0) {
    field(inner, 1, 0);
    varint(inner, rejected);
  }
  if (message !== '') bytesField(inner, 2, encoder.encode(message));
  const out: number[] = [];
  bytesField(out, 1, inner);
  return Uint8Array.from(out);
}

/** gRPC status codes used in Status bodies. */
export const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

export function statusBody(format: WireFormat, code: number, message: string): Uint8Array {
  if (format === 'json') return encoder.encode(JSON.stringify({ code, message }));
  const out: number[] = [];
  field(out, 1, 0);
  varint(out, code);
  bytesField(out, 2, encoder.encode(message));
  return Uint8Array.from(out);
}

export const CONTENT_TYPE: Record<WireFormat, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};
