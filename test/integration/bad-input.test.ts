import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { startKeytally, post, type Keytally } from '../helpers/server.js';
import { encodeJson, encodeProto, logsRequest } from '../helpers/otlp-build.js';

// Each bad request gets a clear error and changes nothing: after every case a
// valid request is sent and the service's total must grow by exactly its count.
let k: Keytally;
let expected = 0;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--max-body-bytes', String(4 * 1024 * 1024), '--max-decompressed-bytes', String(32 * 1024 * 1024)] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

const good = (n: number) => encodeProto('logs', logsRequest([{ resource: { 'service.name': 'good' }, logs: Array.from({ length: n }, (_, i) => ({ body: `ok ${i}` })) }]));

async function expectStillCounting(): Promise<void> {
  const r = await post(k, '/v1/logs', good(3));
  expect(r.status).toBe(200);
  expected += 3;
  const s = await k.get('/api/v1/services');
  const names = s.body.items.map((i: any) => i.name);
  expect(names).toEqual(['good']);
  expect(s.body.items[0].log_records).toBe(expected);
}

async function statusJson(r: { body: Uint8Array }) {
  return JSON.parse(Buffer.from(r.body).toString());
}

describe('bad input gets a clear error and changes nothing', () => {
  it('valid traffic is counted', async () => {
    await expectStillCounting();
  });

  it('malformed protobuf → 400 with a Status message', async () => {
    const bytes = good(5);
    const truncated = bytes.subarray(0, bytes.length - 7);
    const r = await post(k, '/v1/logs', truncated);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect(Buffer.from(r.body).toString('latin1')).toMatch(/\w+/);
    const garbage = await post(k, '/v1/logs', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(garbage.status).toBe(400);
    await expectStillCounting();
  });

  it('malformed JSON → 400 with a JSON Status naming the problem', async () => {
    const r = await post(k, '/v1/logs', '{"resourceLogs": [', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    const body = await statusJson(r);
    expect(body.code).toBe(3);
    expect(body.message.length).toBeGreaterThan(0);
    const wrongType = await post(k, '/v1/logs', '{"resourceLogs": 5}', { 'content-type': 'application/json' });
    expect(wrongType.status).toBe(400);
    await expectStillCounting();
  });

  it('a request whose later part is malformed stores nothing from its valid part', async () => {
    const req = logsRequest([{ resource: { 'service.name': 'half' }, logs: [{ body: 'a' }] }]);
    const json = encodeJson(req).replace(/}\]}$/, '},{"resource": 7}]}');
    const r = await post(k, '/v1/logs', json, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    await expectStillCounting();
  });

  it('body over the limit → 413', async () => {
    const r = await post(k, '/v1/logs', new Uint8Array(5 * 1024 * 1024));
    expect(r.status).toBe(413);
    await expectStillCounting();
  });

  it('a gzip bomb → 413 without exhausting memory', async () => {
    // 200 MB of zeros compress to ~200 KB: under the body limit, far past the decompressed limit.
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024);
    const r = await post(k, '/v1/logs', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    await expectStillCounting();
  });

  it('corrupt gzip → 400', async () => {
    const r = await post(k, '/v1/logs', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    await expectStillCounting();
  });

  it('corrupt br → 400, and a br bomb → 413', async () => {
    const r = await post(k, '/v1/logs', Uint8Array.from([0xff, 0x01, 0x02, 0x03, 0x04, 0x05]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' });
    expect(r.status).toBe(400);
    // Quality 4: brotli's default (11) took 10-20 s on 64 MB on a busy machine, blocking this process's event loop while its
    // idle keep-alive connection was closed by the server; the POST then went out on the closed socket ("other side closed").
    const bomb = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024), { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024);
    expect((await post(k, '/v1/logs', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' })).status).toBe(413);
    await expectStillCounting();
  });

  it('unsupported media type or encoding → 415', async () => {
    expect((await post(k, '/v1/logs', 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
    const zstd = await post(k, '/v1/logs', good(1), { 'content-type': 'application/x-protobuf', 'content-encoding': 'zstd' });
    expect(zstd.status).toBe(415);
    expect(Buffer.from(zstd.body).toString('latin1')).toMatch(/gzip, deflate, br or none/);
    await expectStillCounting();
  });

  it('unknown path → 404, wrong method → 405', async () => {
    expect((await post(k, '/v1/profiles', good(1))).status).toBe(404);
    const get = await fetch(`${k.otlpUrl}/v1/logs`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    await expectStillCounting();
  });

  it('a 10 KB service.name and a million attributes are bounded, not fatal', async () => {
    const huge = 's'.repeat(10 * 1024);
    const r1 = await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': huge }, logs: [{ body: 'x' }] }])));
    expect(r1.status).toBe(200);
    const attrs: Record<string, string> = {};
    for (let i = 0; i < 1_000_000; i++) attrs[`k${i}`] = 'v';
    const big = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'many-attrs' }, logs: [{ body: 'x', attrs }] }]));
    // ~16 MB of protobuf, gzip-compressed under the body limit and decompressed under the decompressed limit.
    const r2 = await post(k, '/v1/logs', gzipSync(big), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r2.status).toBe(200);
    const s = await k.get('/api/v1/services?sort=name&order=asc&limit=10');
    const long = s.body.items.find((i: any) => i.name.startsWith('sss'));
    expect(long.name.length).toBeLessThanOrEqual(256);
    expect(long.log_records).toBe(1);
    const keys = await k.get('/api/v1/keys?service=many-attrs&limit=10000');
    expect(keys.body.total).toBeLessThanOrEqual(256 + 1);
    const r3 = await post(k, '/v1/logs', good(3));
    expect(r3.status).toBe(200);
    expected += 3;
    const g = await k.get('/api/v1/services?q=good');
    expect(g.body.items[0].log_records).toBe(expected);
  });
});
