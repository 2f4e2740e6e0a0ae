/**
 * gRPC status details for OTLP/gRPC refusals: a `google.rpc.Status` carrying
 * a `google.rpc.RetryInfo`, sent in the `grpc-status-details-bin` trailer.
 * The OTLP specification makes RESOURCE_EXHAUSTED retryable only when the
 * server says so this way; UNAVAILABLE carries it too, as a hint.
 */
import { bytesField, field, statusBody, varint } from './otlp-response.js';

const RETRY_INFO_TYPE = new TextEncoder().encode('type.googleapis.com/google.rpc.RetryInfo');

/** google.rpc.Status{code, message, details: [Any{RetryInfo{retry_delay: Duration{seconds}}}]}, protobuf-encoded. */
export function retryStatusDetails(code: number, message: string, retrySeconds: number): Buffer {
  const duration: number[] = [];
  field(duration, 1, 0);
  varint(duration, retrySeconds);
  const retryInfo: number[] = [];
  bytesField(retryInfo, 1, duration);
  const any: number[] = [];
  bytesField(any, 1, RETRY_INFO_TYPE);
  bytesField(any, 2, retryInfo);
  const details: number[] = [];
  bytesField(details, 3, any);
  // Status fields 1 and 2 from the shared encoder, field 3 appended: protobuf fields may come in any order.
  const head = statusBody('protobuf', code, message);
  const out = Buffer.allocUnsafe(head.length + details.length);
  out.set(head, 0);
  out.set(details, head.length);
  return out;
}
