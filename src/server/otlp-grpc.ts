/**
 * The OTLP/gRPC receiver on @grpc/grpc-js: the three Export services, unary.
 * Like the OTLP/HTTP receiver it never decodes a payload: the services are
 * registered with pass-through (de)serializers, so a message arrives here as
 * its raw protobuf bytes and goes to the same pipeline (admission, workers,
 * ack modes) as an HTTP body. Compressed messages are not inflated here
 * either: the worker inflates them with the same output limit as HTTP.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  setLogger,
  status,
  type sendUnaryData,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import { splitHostPort, type Config } from '../config.js';
import type { Signal } from '../model/otlp.js';
import type { Logger } from '../util/log.js';
import { checkBearer } from './auth.js';
import { retryStatusDetails } from './grpc-status.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { bindErrorCode, listenFailure } from './listen.js';
import { exportResponse } from './otlp-response.js';
import type { Pipeline } from './pipeline.js';

const SERVICES: ReadonlyArray<{ signal: Signal; service: string }> = [
  { signal: 'logs', service: 'opentelemetry.proto.collector.logs.v1.LogsService' },
  { signal: 'metrics', service: 'opentelemetry.proto.collector.metrics.v1.MetricsService' },
  { signal: 'traces', service: 'opentelemetry.proto.collector.trace.v1.TraceService' },
];

/** RetryInfo of a refusal found after admission (queue wait over, worker or writer gone), as HTTP's Retry-After: 1. */
const RETRY_SECONDS = 1;

/** How long shutdown waits for calls in flight before closing the connections anyway. */
const DRAIN_GRACE_MS = 30_000;

/** grpc-encoding values the workers inflate (gRPC's "deflate" is the zlib format; the worker takes raw too). */
const ENCODINGS = new Set(['identity', 'gzip', 'deflate']);

const passThrough = (b: Buffer): Buffer => b;

/** A gRPC message frame: 1 compressed-flag byte and a 4-byte length before the message. */
const FRAME_HEADER = 5;

/**
 * The grpc-encoding of each received message body, set by `keepCompressed`
 * and read once by the handler. Keyed by the Buffer itself: grpc-js gives the
 * handler no per-call hook that sees the message encoding.
 */
const wireEncoding = new WeakMap<Buffer, string>();

/** What `keepCompressed` touches of grpc-js's BaseServerInterceptingCall (1.14): its inflate step, and its HTTP/2 stream. */
interface InflatingCall {
  decompressMessage(framed: Buffer, encoding: string): Buffer | Promise<Buffer>;
  stream: ServerHttp2Stream;
}

/** HTTP/2 flow-control windows the receiver grants (per stream, and per connection), instead of HTTP/2's 64 KiB. */
const STREAM_WINDOW = 16 * 1024 * 1024;
const SESSION_WINDOW = 64 * 1024 * 1024;
const widened = new WeakSet<Http2Session>();

/**
 * TCP_NODELAY on the listener's connections. An answer is three writes (headers, message, trailers); with Nagle's
 * algorithm the later ones wait for the client's delayed ACK. Measured with `npm run bench -- --protocol grpc`
 * (16 connections, 120 KiB requests, shared machine): 21-26k committed records/s without, 54-67k with it on both
 * ends. grpc-js has no option for it, but hands its `commonServerOptions` to http2.createServer (a net.Server),
 * which takes `noDelay`; set before bindAsync creates the server.
 */
function noDelay(server: Server, log: Logger): void {
  const common = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions;
  if (common && typeof common === 'object') common['noDelay'] = true;
  else log.warn('grpc-js has no commonServerOptions: OTLP/gRPC connections keep Nagle on (slower answers)');
}

/**
 * With HTTP/2's default 64 KiB windows, a client sending a 120 KiB message stops to wait for a WINDOW_UPDATE
 * from our event loop, a round trip through a busy main thread. grpc-js has no server option for the windows,
 * so they are raised on each connection's first call (through the call's stream, a grpc-js internal; skipped
 * when absent). On the shared machine its effect was within the noise of the bench; it bounds nothing, since the
 * message size limit still holds.
 */
function widenWindows(session: Http2Session | undefined): void {
  if (!session || widened.has(session) || session.destroyed) return;
  widened.add(session);
  session.setLocalWindowSize(SESSION_WINDOW);
  session.settings({ initialWindowSize: STREAM_WINDOW });
}

let warnedNoHook = false;

/**
 * grpc-js inflates a compressed message on the main thread, with its message
 * size limit as the output limit. That would make the decompressed limit over
 * gRPC the body limit (16 MiB, where HTTP allows --max-decompressed-bytes) and
 * put zlib on the main thread. This interceptor replaces the call's inflate
 * step with one that hands the compressed bytes on and remembers their
 * encoding; the worker inflates them (src/decode/decompress.ts). It relies on
 * a grpc-js internal, so where that is missing it leaves grpc-js to inflate
 * (with grpc-js's limit) and says so once in the log.
 */
function keepCompressed(log: Logger): ServerInterceptor {
  return (_method, call) => {
    const base = call as unknown as Partial<InflatingCall>;
    widenWindows(base.stream?.session);
    if (typeof base.decompressMessage === 'function') {
      base.decompressMessage = (framed, encoding) => {
        // A framed message is 1 flag byte, 4 length bytes, then the message; encoding is 'identity' when the flag is 0.
        const message = framed.subarray(FRAME_HEADER);
        wireEncoding.set(message, encoding);
        return message;
      };
    } else if (!warnedNoHook) {
      warnedNoHook = true;
      log.warn('grpc-js has no decompressMessage hook: compressed OTLP/gRPC messages are inflated by grpc-js, limited to --max-body-bytes');
    }
    return new ServerInterceptingCall(call);
  };
}

function definition(service: string): ServiceDefinition {
  return {
    Export: {
      path: `/${service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  };
}

export class OtlpGrpcServer {
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly config: Config,
    private readonly pipeline: Pipeline,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const address = this.config.otlpGrpc;
    // grpc-js writes its own errors to stderr (console.error); send them to our log instead. Its bind failure is
    // reported by us as one ListenError line (listen.ts), so that one is left out.
    const log = this.log;
    setLogger({
      error: (...args: unknown[]) => {
        const line = args.map(String).join(' ');
        if (!/No address added/.test(line)) log.warn({ grpc: line }, 'grpc-js');
      },
      info: (...args: unknown[]) => log.debug({ grpc: args.map(String).join(' ') }, 'grpc-js'),
      debug: (...args: unknown[]) => log.debug({ grpc: args.map(String).join(' ') }, 'grpc-js'),
    });
    const server = new Server({
      // The wire size of a message: the body limit, as for HTTP (grpc-js answers RESOURCE_EXHAUSTED past it, before the handler).
      'grpc.max_receive_message_length': this.config.maxBodyBytes,
      interceptors: [keepCompressed(this.log)],
    });
    noDelay(server, this.log);
    for (const { signal, service } of SERVICES) {
      server.addService(definition(service), {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => this.handle(signal, call, callback),
      });
    }
    const bound = await new Promise<{ port: number } | { error: string }>((resolve) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => resolve(err ? { error: err.message } : { port }));
    });
    if ('error' in bound) {
      // grpc-js reports the errno only inside its message text; node:net's exclusive bind says it plainly (listen.ts).
      const { host, port } = splitHostPort(address);
      const code = /\b(E[A-Z]{3,})\b/.exec(bound.error)?.[1] ?? (await bindErrorCode(host, port));
      throw listenFailure('OTLP/gRPC', address, '--otlp-grpc', code);
    }
    this.port = bound.port;
    this.server = server;
  }

  /**
   * Stops taking new calls and resolves once the calls in flight have been
   * answered (or after a grace period, when the rest are cut off). Run beside
   * Pipeline.shutdown: a message that arrives after intake stopped is
   * answered UNAVAILABLE, so the client retries it elsewhere or later.
   */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, DRAIN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private handle(signal: Signal, call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    const started = performance.now();
    const body = call.request;
    const answered = (code: status) => {
      this.metrics.request(signal, status[code] ?? String(code), 'grpc');
      this.metrics.latency(signal, performance.now() - started, 'grpc');
    };
    /** `retryS`: seconds of RetryInfo to send, which makes the refusal retryable; 0 for none. */
    const fail = (code: status, message: string, reason: string, retryS = 0) => {
      this.metrics.dropped(signal, reason, 'grpc');
      answered(code);
      const metadata = new Metadata();
      if (retryS > 0) metadata.set('grpc-status-details-bin', retryStatusDetails(code, message, retryS));
      callback(Object.assign(new Error(message), { code, details: message, metadata }));
    };

    const authorization = call.metadata.get('authorization')[0];
    if (!checkBearer(this.config.authToken, typeof authorization === 'string' ? authorization : '')) {
      fail(status.UNAUTHENTICATED, 'missing or wrong bearer token', 'unauthorized');
      return;
    }
    const encoding = wireEncoding.get(body) ?? 'identity';
    if (!ENCODINGS.has(encoding)) {
      fail(status.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}"; use gzip, deflate or identity`, 'unsupported_encoding');
      return;
    }
    const admission = this.pipeline.admit(body.byteLength, encoding === 'identity' ? '' : encoding);
    if (!admission.ok) {
      if (admission.status === 429) fail(status.RESOURCE_EXHAUSTED, admission.reason, 'backpressure', admission.retryAfterS);
      else fail(status.UNAVAILABLE, admission.reason, 'unavailable', admission.retryAfterS);
      return;
    }
    this.metrics.bytes(signal, body.byteLength, 'grpc');
    // grpc-js's buffer is the whole framed message (5 header bytes, then the message) from 4 KiB up: transfer it as it
    // is, the worker starts at bodyOffset. A copy instead, plus the garbage of grpc-js's buffer, cost the main thread 5x
    // the GC and postMessage time of the HTTP path (cpu-prof, 120 KiB requests). Smaller messages sit in a slab of
    // Node's buffer pool, which must not be detached: those are copied.
    const whole = body.byteOffset === FRAME_HEADER && body.buffer.byteLength === body.byteLength + FRAME_HEADER;
    const transfer = whole ? (body.buffer as ArrayBuffer) : (body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
    this.pipeline
      .ingest({ signal, format: 'protobuf', encoding: encoding === 'identity' ? '' : encoding, body: transfer, bodyOffset: whole ? FRAME_HEADER : 0 })
      .then((r) => {
        if (r.ok) {
          this.metrics.records(signal, r.accepted, r.rejected, 'grpc');
          answered(status.OK);
          const response = exportResponse(signal, 'protobuf', r.rejected, r.message);
          callback(null, Buffer.from(response.buffer, response.byteOffset, response.byteLength));
        } else if (r.status === 413) {
          // Inflated past --max-decompressed-bytes: gRPC's status for a message over a size limit. Without RetryInfo the
          // OTLP specification makes it not retryable, which it is not.
          fail(status.RESOURCE_EXHAUSTED, r.message, r.code);
        } else if (r.status === 415) {
          fail(status.UNIMPLEMENTED, r.message, r.code);
        } else {
          fail(status.INVALID_ARGUMENT, r.message, r.code);
        }
      })
      .catch((err: Error) => {
        // Queue full between admission and run, or the writer died while we waited for a durable ack: retryable.
        if (/queue/i.test(err.message)) fail(status.RESOURCE_EXHAUSTED, err.message, 'backpressure', RETRY_SECONDS);
        else fail(status.UNAVAILABLE, err.message, 'unavailable', RETRY_SECONDS);
      });
  }
}
