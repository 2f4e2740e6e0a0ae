/**
 * The OTLP/HTTP receiver on uWebSockets.js. It reads bodies (size-limited),
 * picks the signal from the path and the format from Content-Type, hands
 * the raw bytes to the pipeline (transferred, not copied) and answers. It
 * never decodes a payload and never runs SQL.
 */
import type { Config } from '../config.js';
import type { Signal, WireFormat } from '../model/otlp.js';
import type { MemoryHold, Pipeline } from './pipeline.js';
import { CONTENT_TYPE, exportResponse, GRPC, statusBody } from './otlp-response.js';
import { discardBody, readBody, type HttpResponse, type ListenSocket, type TemplatedApp, type Uws } from './uws.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { checkBearer } from './auth.js';
import { listenUws } from './listen.js';

const SIGNALS: Record<string, Signal> = { '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/traces': 'traces' };

/** Content-Type → wire format, decided here once per request (no parsing of the body). */
function formatOf(contentType: string): WireFormat | undefined {
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (base === 'application/x-protobuf' || base === 'application/protobuf') return 'protobuf';
  if (base === 'application/json') return 'json';
  return undefined;
}

/** The test clock's header (see Config.testClock). */
export const TEST_TIME_HEADER = 'x-keytally-received-at';

const SUPPORTED_ENCODINGS = new Set(['', 'identity', 'gzip', 'deflate', 'br']);

/**
 * How much of a refused request's body is read and thrown away before the answer: bytes (4 x the default body limit) and
 * time (a client that trickles its body does not hold the connection longer). Past either the answer comes at once and
 * the connection is closed.
 */
const DISCARD_BOUND = { maxBytes: 64 * 1024 * 1024, maxMs: 5_000 };

export class OtlpHttpServer {
  private app: TemplatedApp | undefined;
  private socket: ListenSocket | undefined;
  port = 0;

  constructor(
    private readonly uws: Uws,
    private readonly config: Config,
    private readonly pipeline: Pipeline,
    private readonly metrics: IngestMetrics,
  ) {}

  async start(): Promise<void> {
    const app = this.uws.App();
    this.app = app;
    for (const [path, signal] of Object.entries(SIGNALS)) {
      app.post(path, (res, req) =>
        this.handle(
          signal, res, req.getHeader('content-type'), req.getHeader('content-encoding'), req.getHeader('content-length'), req.getHeader('authorization'),
          this.config.testClock === 'on' ? req.getHeader(TEST_TIME_HEADER) : '',
        ),
      );
      app.any(path, (res, req) => {
        const method = req.getMethod().toUpperCase();
        this.metrics.request(signal, 405);
        res.cork(() => {
          res.writeStatus('405 Method Not Allowed').writeHeader('Allow', 'POST').writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ code: GRPC.UNIMPLEMENTED, message: `method ${method} not allowed on ${path}; use POST` }), true);
        });
      });
    }
    app.any('/*', (res, req) => {
      const url = req.getUrl();
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ code: GRPC.NOT_FOUND, message: `no such path ${url}; OTLP/HTTP paths are /v1/logs, /v1/metrics, /v1/traces` }), true);
      });
    });
    this.socket = await listenUws(this.uws, app, this.config.otlpHttp, 'OTLP/HTTP', '--otlp-http');
    this.port = this.uws.us_socket_local_port(this.socket);
  }

  /** Stops accepting connections; requests already being read still finish. */
  stop(): void {
    if (this.socket) this.uws.us_listen_socket_close(this.socket);
    this.socket = undefined;
  }

  private handle(
    signal: Signal, res: HttpResponse, contentType: string, encodingHeader: string, lengthHeader: string, authorization: string, testTime: string,
  ): void {
    const started = performance.now();
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
      hold?.release();
    });
    let hold: MemoryHold | undefined;
    // An answer keeps the connection only once the body has been read to its end: the unread rest would otherwise be parsed
    // as the next request.
    let bodyRead = false;
    const reply = (status: string, format: WireFormat, body: Uint8Array, extra?: Record<string, string>) => {
      if (aborted) return;
      const code = Number(status.slice(0, 3));
      this.metrics.request(signal, code);
      this.metrics.latency(signal, performance.now() - started);
      res.cork(() => {
        res.writeStatus(status).writeHeader('Content-Type', CONTENT_TYPE[format]);
        if (extra) for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v);
        res.end(body, !bodyRead);
      });
    };
    const fail = (status: string, format: WireFormat, grpc: number, message: string, extra?: Record<string, string>) =>
      reply(status, format, statusBody(format, grpc, message), extra);
    const declared = lengthHeader === '' ? 0 : Number(lengthHeader);
    const known = Number.isFinite(declared) && declared >= 0 ? declared : 0;
    /**
     * A refusal decided on the headers: the body is read and thrown away first (within DISCARD_BOUND), so that a client
     * still writing it reads the answer, and the connection is kept. Answering at once and closing, as before, broke the
     * pipe under the client: 399-4,257 EPIPE in the overload bench (256 connections, 2 MB requests), 0 with the discard.
     * Answering at once without closing and without onData (uWS then skips the body itself) measured the same rate
     * under overload (95,664 vs 91,890 records/s accepted) but curl then closed its connection: the discard stays.
     */
    const refuse = (status: string, format: WireFormat, grpc: number, message: string, extra?: Record<string, string>) =>
      discardBody(res, known, DISCARD_BOUND, (drained) => {
        bodyRead = drained;
        fail(status, format, grpc, message, extra);
      });

    const format = formatOf(contentType);
    if (!format) {
      this.metrics.dropped(signal, 'unsupported_media_type');
      refuse('415 Unsupported Media Type', 'json', GRPC.INVALID_ARGUMENT, `unsupported Content-Type "${contentType}"; use application/x-protobuf or application/json`);
      return;
    }
    if (!checkBearer(this.config.authToken, authorization)) {
      this.metrics.dropped(signal, 'unauthorized');
      refuse('401 Unauthorized', format, GRPC.UNAUTHENTICATED, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    // Test clock (--test-clock on only): the request says when it was received, so a test can replay a week in seconds.
    const receivedAt = testTime === '' ? 0 : /^\d{1,15}$/.test(testTime) ? Number(testTime) : -1;
    if (receivedAt < 0) {
      refuse('400 Bad Request', format, GRPC.INVALID_ARGUMENT, `${TEST_TIME_HEADER} must be unix milliseconds, got "${testTime.slice(0, 64)}"`);
      return;
    }
    const encoding = encodingHeader.trim().toLowerCase();
    if (!SUPPORTED_ENCODINGS.has(encoding)) {
      this.metrics.dropped(signal, 'unsupported_encoding');
      refuse('415 Unsupported Media Type', format, GRPC.INVALID_ARGUMENT, `unsupported Content-Encoding "${encodingHeader}"; use gzip, deflate, br or none`);
      return;
    }
    // Without a Content-Length (chunked, as the OpenTelemetry JS exporters send), the hold grows with the bytes received.
    const expected = Math.min(known, this.config.maxBodyBytes);
    const admission = this.pipeline.admit(expected, encoding);
    if (!admission.ok) {
      this.metrics.dropped(signal, admission.status === 429 ? 'backpressure' : 'unavailable');
      const text = admission.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable';
      refuse(text, format, admission.status === 429 ? GRPC.RESOURCE_EXHAUSTED : GRPC.UNAVAILABLE, admission.reason, { 'Retry-After': String(admission.retryAfterS) });
      return;
    }
    hold = this.pipeline.hold(expected, encoding);
    readBody(res, this.config.maxBodyBytes, known, (body, drained) => {
      bodyRead = drained;
      if (body === 'too_large') {
        hold!.release();
        this.metrics.dropped(signal, 'too_large');
        fail('413 Content Too Large', format, GRPC.INVALID_ARGUMENT, `request body over the limit of ${this.config.maxBodyBytes} bytes`);
        return;
      }
      hold!.resize(body.byteLength);
      this.metrics.bytes(signal, body.byteLength);
      // A fresh ArrayBuffer of exactly the body, so it can be transferred to the worker.
      const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
      this.pipeline
        .ingest({ signal, format, encoding, body: owned.buffer as ArrayBuffer, receivedAt }, hold)
        .then((r) => {
          if (r.ok) {
            this.metrics.records(signal, r.accepted, r.rejected);
            reply('200 OK', format, exportResponse(signal, format, r.rejected, r.message));
          } else {
            this.metrics.dropped(signal, r.code);
            const text = r.status === 400 ? '400 Bad Request' : r.status === 413 ? '413 Content Too Large' : '415 Unsupported Media Type';
            fail(text, format, GRPC.INVALID_ARGUMENT, r.message);
          }
        })
        .catch((err: Error) => {
          // Queue full between admission and run, or the writer died while we waited for a durable ack: retryable.
          const full = /queue/i.test(err.message);
          this.metrics.dropped(signal, full ? 'backpressure' : 'unavailable');
          fail(full ? '429 Too Many Requests' : '503 Service Unavailable', format, full ? GRPC.RESOURCE_EXHAUSTED : GRPC.UNAVAILABLE, err.message, { 'Retry-After': '1' });
        });
    }, (received) => hold!.resize(received));
  }
}
