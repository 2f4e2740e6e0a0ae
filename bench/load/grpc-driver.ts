/**
 * The OTLP/gRPC side of the load driver (`npm run bench -- --protocol grpc`):
 * the same pool of pre-encoded bodies as the HTTP run, sent as unary Export
 * calls on plain node:http2 sessions, framed by hand (gzip bodies with the
 * compressed flag and `grpc-encoding: gzip`). Like the HTTP drivers it
 * costs the client no encoding during the run, so the two protocols are
 * compared on the server's work.
 *
 * One HTTP/2 session per --connections, one call in flight on each (closed
 * loop), or calls released at even intervals to whichever session is idle
 * (open loop, --rate). Stopping: each session finishes its call in flight and
 * then closes, so every call the server answered OK is counted.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import type { Signal } from '../../src/model/otlp.js';
import type { Pool } from './encode.js';
import type { DriverInit, DriverMessage, DriverResult } from './protocol.js';
import { startPacer, Tally } from './tally.js';

export const GRPC_PATHS: Record<Signal, string> = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/** Each body framed once before the run: 1 flag byte (compressed or not), 4 length bytes, the message. */
function frames(pool: Pool): Buffer[] {
  return pool.bodies.map((b) => {
    const f = Buffer.allocUnsafe(5 + b.body.length);
    f[0] = pool.gzip ? 1 : 0;
    f.writeUInt32BE(b.body.length, 1);
    b.body.copy(f, 5);
    return f;
  });
}

/** One unary call; resolves with its grpc-status (-1 for a transport error) and whether the deadline passed. */
function unary(session: ClientHttp2Session, path: string, frame: Buffer, gzip: boolean, timeoutMs: number): Promise<{ code: number; timedOut: boolean }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    if (gzip) headers['grpc-encoding'] = 'gzip';
    const stream = session.request(headers);
    let code = -1;
    let settled = false;
    const done = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, timedOut });
    };
    const timer = setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      done(true);
    }, timeoutMs);
    // A trailers-only answer (an error) carries grpc-status in the response headers.
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) code = Number(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) code = Number(t['grpc-status']);
    });
    stream.on('data', () => undefined);
    stream.on('error', () => done(false));
    stream.on('close', () => done(false));
    stream.end(frame);
  });
}

export function runGrpc(init: DriverInit, pool: Pool, send: (m: DriverMessage) => void): Promise<DriverResult> {
  const bodies = pool.bodies;
  const framed = frames(pool);
  const url = init.url;
  const target = new URL(url);
  const paced = init.rate > 0;
  const t = new Tally(send);
  let next = 0;
  let stopping = false;
  const waiting: Array<() => void> = [];

  /** Open loop: wait for the pacer's go; closed loop: go at once. */
  const slot = () => (paced ? new Promise<void>((r) => waiting.push(r)) : Promise.resolve());

  const worker = async () => {
    // TCP_NODELAY, as gRPC clients set it (grpc-go, and so the Collector, by default): Nagle would hold each call's
    // later frames for the server's delayed ACK.
    const session = connect(url, { createConnection: () => netConnect({ host: target.hostname, port: Number(target.port), noDelay: true }) });
    session.on('error', () => undefined);
    try {
      while (!stopping) {
        await slot();
        if (stopping) break;
        const i = next++ % bodies.length;
        const b = bodies[i]!;
        t.sent(b);
        const t0 = performance.now();
        const { code, timedOut } = await unary(session, GRPC_PATHS[b.signal], framed[i]!, pool.gzip, 60_000);
        const ms = performance.now() - t0;
        t.touched();
        if (timedOut) {
          t.timeouts++;
          continue;
        }
        if (code < 0) {
          t.errors++;
          if (session.destroyed || session.closed) break;
          continue;
        }
        // Latency of OK answers only, as the HTTP drivers do for 2xx.
        t.answered(code, code === 0, ms);
        if (code === 0) t.accept(b);
      }
    } finally {
      session.close();
    }
  };

  const pacer = paced
    ? startPacer(t, init.rate / init.batch, () => {
        const w = waiting.shift();
        w?.();
        return w !== undefined;
      })
    : undefined;
  const stopTimer = setTimeout(() => {
    stopping = true;
    if (pacer) clearInterval(pacer);
    // Idle sessions waiting for the pacer close now; busy ones after their call in flight.
    for (const w of waiting.splice(0)) w();
  }, init.duration * 1000);

  return Promise.all(Array.from({ length: init.connections }, worker)).then(() => {
    clearTimeout(stopTimer);
    if (pacer) clearInterval(pacer);
    return t.result();
  });
}
