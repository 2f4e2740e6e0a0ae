/**
 * A bare OTLP/gRPC client on node:http2, for the cases a real client will not
 * send: a corrupt compressed message, a message compressed by hand, a
 * grpc-encoding keytally does not take. One HTTP/2 session per call.
 */
import { connect, constants } from 'node:http2';

export const GRPC_PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
} as const;

export interface GrpcAnswer {
  /** grpc-status (0 = OK). */
  code: number;
  message: string;
  /** grpc-status-details-bin, decoded from base64, when sent. */
  details: Buffer | undefined;
  /** The response message (without its 5-byte frame), when one was sent. */
  response: Buffer | undefined;
}

export async function grpcCall(
  port: number,
  path: string,
  message: Uint8Array,
  opts: { compressed?: boolean; encoding?: string; metadata?: Record<string, string> } = {},
): Promise<GrpcAnswer> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise<GrpcAnswer>((resolve, reject) => {
      session.once('error', reject);
      const headers: Record<string, string> = {
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...(opts.encoding ? { 'grpc-encoding': opts.encoding } : {}),
        ...opts.metadata,
      };
      const stream = session.request(headers);
      const chunks: Buffer[] = [];
      let head: Record<string, unknown> = {};
      stream.on('response', (h) => (head = h));
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('trailers', (t) => (head = { ...head, ...t }));
      stream.on('error', reject);
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const details = head['grpc-status-details-bin'];
        resolve({
          code: Number(head['grpc-status']),
          message: decodeURIComponent(String(head['grpc-message'] ?? '')),
          details: typeof details === 'string' ? Buffer.from(details, 'base64') : undefined,
          response: body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : undefined,
        });
      });
      const frame = Buffer.alloc(5 + message.length);
      frame[0] = opts.compressed ? 1 : 0;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      stream.end(frame);
    });
  } finally {
    session.close();
  }
}
