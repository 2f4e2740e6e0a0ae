import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { startKeytally, waitFor, type Keytally } from '../helpers/server.js';
import { decodeProtoResponse, encodeProto, logsRequest, metricsRequest } from '../helpers/otlp-build.js';
import { grpcCall, GRPC_PATHS, type GrpcAnswer } from '../helpers/grpc-raw.js';

// Bad input over OTLP/gRPC gets the status the OTLP specification asks for and
// changes nothing: after every case a valid message is sent and the service's
// total must grow by exactly its count. The client is a bare HTTP/2 one
// (test/helpers/grpc-raw.ts), so it can send what a real client would not.

const OK = 0;
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

const MAX_BODY = 256 * 1024;
const MAX_INFLATED = 2 * 1024 * 1024;
const TOKEN = 'grpc-secret';
const auth = { authorization: `Bearer ${TOKEN}` };

// google.rpc.Status and RetryInfo, read with protobufjs (not keytally's encoder).
const rpc = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message RetryInfo { Duration retry_delay = 1; }
`).root;
const StatusType = rpc.lookupType('google.rpc.Status');
const RetryInfoType = rpc.lookupType('google.rpc.RetryInfo');

/** The RetryInfo delay in seconds carried by an answer's status details, or undefined. */
function retryDelay(a: GrpcAnswer): number | undefined {
  if (!a.details) return undefined;
  // protobufjs names fields in camelCase.
  const s = StatusType.toObject(StatusType.decode(a.details), { longs: Number }) as { code: number; message: string; details?: Array<{ typeUrl: string; value: Uint8Array }> };
  expect(s.code).toBe(a.code);
  expect(s.message).toBe(a.message);
  const info = s.details?.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo');
  if (!info) return undefined;
  return (RetryInfoType.toObject(RetryInfoType.decode(info.value), { longs: Number }) as { retryDelay: { seconds: number } }).retryDelay.seconds;
}


const logs = (service: string, n: number) =>
  encodeProto('logs', logsRequest([{ resource: { 'service.name': service }, logs: Array.from({ length: n }, (_, i) => ({ body: `ok ${i}` })) }]));

describe('OTLP/gRPC bad input gets the right status and changes nothing', () => {
  let k: Keytally;
  let expected = 0;
  beforeAll(async () => {
    k = await startKeytally({
      args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--auth-token', TOKEN, '--max-body-bytes', String(MAX_BODY), '--max-decompressed-bytes', String(MAX_INFLATED)],
      env: { KEYTALLY_TEST_CRASH_MARKER: 'CRASH-ME' },
    });
  });
  afterAll(async () => {
    if (!k) return;
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });

  const call = (message: Uint8Array, opts: Parameters<typeof grpcCall>[3] = {}, path: string = GRPC_PATHS.logs) =>
    grpcCall(k.grpcPort, path, message, { ...opts, metadata: { ...auth, ...opts.metadata } });

  async function expectStillCounting(): Promise<void> {
    const r = await call(logs('good', 3));
    expect(r.code).toBe(OK);
    expected += 3;
    const s = await k.get('/api/v1/services', { headers: auth });
    expect(s.body.items.map((i: any) => i.name)).toEqual(['good']);
    expect(s.body.items[0].log_records).toBe(expected);
  }

  it('valid messages are counted, plain and gzip, with an empty ExportLogsServiceResponse', async () => {
    const r = await call(logs('good', 4));
    expect(r).toMatchObject({ code: OK });
    expect(r.response).toEqual(Buffer.alloc(0));
    const z = await call(gzipSync(logs('good', 5)), { compressed: true, encoding: 'gzip' });
    expect(z.code).toBe(OK);
    expected += 9;
    await expectStillCounting();
  });

  it('partial success: rejected data points are counted in the response, the rest stored', async () => {
    const m = encodeProto(
      'metrics',
      metricsRequest([{ resource: { 'service.name': 'good' }, metrics: [{ name: 'ok.metric', type: 'gauge', points: [{ a: '1' }] }, { name: '', type: 'gauge', points: [{ a: '1' }, { a: '2' }] }] }]),
    );
    const r = await call(m, {}, GRPC_PATHS.metrics);
    expect(r.code).toBe(OK);
    const body = decodeProtoResponse('metrics', r.response!);
    expect(Number(body.partialSuccess.rejectedDataPoints)).toBe(2);
    expect(body.partialSuccess.errorMessage).toMatch(/name/);
    const s = await k.get('/api/v1/services', { headers: auth });
    expect(s.body.items[0].metric_points).toBe(1);
    await expectStillCounting();
  });

  it('a missing or wrong bearer token → UNAUTHENTICATED', async () => {
    const none = await grpcCall(k.grpcPort, GRPC_PATHS.logs, logs('good', 1));
    expect(none.code).toBe(UNAUTHENTICATED);
    const wrong = await grpcCall(k.grpcPort, GRPC_PATHS.logs, logs('good', 1), { metadata: { authorization: 'Bearer nope' } });
    expect(wrong.code).toBe(UNAUTHENTICATED);
    expect(wrong.message).toMatch(/bearer token/);
    await expectStillCounting();
  });

  it('a malformed message → INVALID_ARGUMENT, not retryable (no RetryInfo)', async () => {
    const bytes = logs('good', 5);
    const truncated = await call(bytes.subarray(0, bytes.length - 7));
    expect(truncated.code).toBe(INVALID_ARGUMENT);
    expect(truncated.message.length).toBeGreaterThan(0);
    expect(retryDelay(truncated)).toBeUndefined();
    expect((await call(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).code).toBe(INVALID_ARGUMENT);
    await expectStillCounting();
  });

  it('corrupt gzip → INVALID_ARGUMENT; an encoding keytally does not take → UNIMPLEMENTED', async () => {
    const corrupt = await call(Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]), { compressed: true, encoding: 'gzip' });
    expect(corrupt.code).toBe(INVALID_ARGUMENT);
    expect(corrupt.message).toMatch(/gzip/);
    const zstd = await call(logs('good', 1), { compressed: true, encoding: 'zstd' });
    expect(zstd.code).toBe(UNIMPLEMENTED);
    expect(zstd.message).toMatch(/gzip, deflate or identity/);
    await expectStillCounting();
  });

  it('a message over --max-body-bytes → RESOURCE_EXHAUSTED without RetryInfo (not retryable)', async () => {
    const r = await call(new Uint8Array(MAX_BODY + 1));
    expect(r.code).toBe(RESOURCE_EXHAUSTED);
    expect(retryDelay(r)).toBeUndefined();
    await expectStillCounting();
  });

  it('the decompressed limit is --max-decompressed-bytes, as over HTTP: more than the body limit inflates, a bomb does not', async () => {
    // ~1 MB of log records, gzip-compressed far under the 256 KiB body limit: inflated past the body limit, under the decompressed one.
    const big = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'good' }, logs: Array.from({ length: 10_000 }, (_, i) => ({ body: `line ${i % 10} ${'x'.repeat(80)}` })) }]));
    expect(big.length).toBeGreaterThan(MAX_BODY);
    expect(big.length).toBeLessThan(MAX_INFLATED);
    const z = gzipSync(big);
    expect(z.length).toBeLessThan(MAX_BODY);
    expect((await call(z, { compressed: true, encoding: 'gzip' })).code).toBe(OK);
    expected += 10_000;
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const r = await call(bomb, { compressed: true, encoding: 'gzip' });
    expect(r.code).toBe(RESOURCE_EXHAUSTED);
    expect(r.message).toMatch(new RegExp(`exceeds ${MAX_INFLATED} bytes`));
    expect(retryDelay(r)).toBeUndefined();
    await expectStillCounting();
  });

  it('an unknown service or method → UNIMPLEMENTED', async () => {
    expect((await call(logs('good', 1), {}, '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export')).code).toBe(UNIMPLEMENTED);
    expect((await call(logs('good', 1), {}, '/opentelemetry.proto.collector.logs.v1.LogsService/Import')).code).toBe(UNIMPLEMENTED);
    await expectStillCounting();
  });

  it('a worker that dies mid-message → UNAVAILABLE with RetryInfo; nothing of it is stored', async () => {
    const r = await call(logs('CRASH-ME', 7));
    expect(r.code).toBe(UNAVAILABLE);
    expect(retryDelay(r)).toBe(1);
    await waitFor(() => k.get('/ready'), (x) => x.status === 200);
    await expectStillCounting();
    expect((await k.get('/api/v1/services?q=CRASH', { headers: auth })).body.total).toBe(0);
  });

  it('/metrics counts gRPC under protocol="grpc", by gRPC status name', async () => {
    const m = (await k.get('/metrics', { headers: auth })).body as string;
    expect(m).toMatch(/keytally_requests_total\{protocol="grpc",signal="logs",code="OK"\} [1-9]/);
    expect(m).toMatch(/keytally_requests_total\{protocol="grpc",signal="logs",code="INVALID_ARGUMENT"\} [1-9]/);
    expect(m).toMatch(/keytally_requests_total\{protocol="grpc",signal="logs",code="UNAUTHENTICATED"\} 2/);
    expect(m).toMatch(/keytally_dropped_requests_total\{protocol="grpc",signal="logs",reason="unauthorized"\} 2/);
    expect(m).toMatch(new RegExp(`keytally_records_total\\{protocol="grpc",signal="logs"\\} ${expected}\\b`));
    expect(m).toMatch(/keytally_records_total\{protocol="http",signal="logs"\} 0\b/);
    expect(m).toMatch(/keytally_request_duration_seconds_count\{protocol="grpc",signal="logs"\} [1-9]/);
  });
});

describe('OTLP/gRPC under backpressure', () => {
  it('messages refused for a full queue get RESOURCE_EXHAUSTED with RetryInfo, and change nothing', async () => {
    // One worker and a queue of one: while a slow message runs, at most one more can wait; the rest are refused
    // (--queue-wait-ms 0: refused at once rather than after waiting their turn). Every task takes at least 1.5 s
    // (KEYTALLY_TEST_TASK_MS, a slow host), so the first is still running when the burst comes, however fast the
    // decoder is (a request merely slow to decode had finished before the test saw it in flight).
    const k = await startKeytally({
      args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '1', '--max-queue', '1', '--queue-wait-ms', '0'],
      env: { KEYTALLY_TEST_TASK_MS: '1500' },
    });
    try {
      const inflight = async () => {
        const text = (await k.get('/metrics')).body as string;
        return Number(/^keytally_worker_inflight_requests (\d+)/m.exec(text)?.[1] ?? 0);
      };
      const first = grpcCall(k.grpcPort, GRPC_PATHS.logs, logs('slow', 1));
      await waitFor(inflight, (n) => n >= 1);
      const burst = await Promise.all(Array.from({ length: 8 }, () => grpcCall(k.grpcPort, GRPC_PATHS.logs, logs('burst', 5))));
      expect((await first).code).toBe(OK);
      const refused = burst.filter((r) => r.code === RESOURCE_EXHAUSTED);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.message).toMatch(/queue/);
        expect(retryDelay(r)).toBe(1);
      }
      const accepted = burst.filter((r) => r.code === OK).length;
      expect(accepted + refused.length).toBe(burst.length);
      const s = await k.get('/api/v1/services?sort=name&order=asc');
      expect(s.body.items.map((i: any) => [i.name, i.log_records])).toEqual([
        ...(accepted > 0 ? [['burst', 5 * accepted]] : []),
        ['slow', 1],
      ]);
      expect((await k.get("/metrics")).body).toMatch(new RegExp(`keytally_dropped_requests_total\\{protocol="grpc",signal="logs",reason="backpressure"\\} ${refused.length}\\b`));
      expect(await k.stop()).toBe(0);
    } finally {
      await k.stop();
      k.cleanup();
    }
  });
});
