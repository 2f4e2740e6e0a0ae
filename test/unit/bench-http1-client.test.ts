import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAutocannon } from '../../bench/load/autocannon-driver.js';
import { buildPool, type Pool } from '../../bench/load/encode.js';
import { ResponseReader, type Answer } from '../../bench/load/http1-client.js';
import { runHttp1 } from '../../bench/load/http1-driver.js';
import { parseMix } from '../../bench/load/options.js';
import type { DriverInit, DriverResult } from '../../bench/load/protocol.js';

const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 2\r\n\r\n{}',
  'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\ncontent-length: 11\r\n\r\nslow down\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n',
  'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig',
];
const EXPECTED: Answer[] = [
  { status: 200, close: false },
  { status: 429, close: false },
  { status: 200, close: false },
  { status: 204, close: false },
  { status: 503, close: false },
  { status: 200, close: true },
  { status: 413, close: true },
];

describe('bench ResponseReader', () => {
  const wire = Buffer.from(RESPONSES.join(''), 'latin1');

  it('frames a stream of responses read whole', () => {
    expect(new ResponseReader().push(wire)).toEqual(EXPECTED);
  });

  it('frames them split at any byte, and byte by byte', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const r = new ResponseReader();
      expect([...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))], `cut at ${cut}`).toEqual(EXPECTED);
    }
    const r = new ResponseReader();
    const got: Answer[] = [];
    for (let i = 0; i < wire.length; i++) got.push(...r.push(wire.subarray(i, i + 1)));
    expect(got).toEqual(EXPECTED);
  });

  it('waits for a body that has not all arrived', () => {
    const r = new ResponseReader();
    expect(r.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345'))).toEqual([]);
    expect(r.push(Buffer.from('6789'))).toEqual([]);
    expect(r.push(Buffer.from('0'))).toEqual([{ status: 200, close: false }]);
  });

  it('rejects what it cannot frame, with the reason', () => {
    expect(() => new ResponseReader().push(Buffer.from('HTTP/2 200\r\n\r\n'))).toThrow(/status line/);
    expect(() => new ResponseReader().push(Buffer.from('garbage\r\n\r\n'))).toThrow(/status line/);
    expect(() => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'))).toThrow(/Content-Length/);
    expect(() => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'))).toThrow(/header line/);
    expect(() => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))).toThrow(/chunk size/);
    expect(() => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc'))).toThrow(/CRLF/);
  });
});

/**
 * A stand-in OTLP endpoint that checks every body is one of the pool's, whole, and answers by a fixed rule on the
 * request's number: every third 429 with Retry-After, every seventh 200 with `Connection: close`, the rest 200.
 */
class CountingServer {
  readonly server: Server;
  requests = 0;
  statuses: Record<string, number> = {};
  acceptedRecords = 0;
  badBodies = 0;
  constructor(records: Map<string, number>) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const n = records.get(createHash('sha1').update(body).digest('hex'));
        const i = ++this.requests;
        if (n === undefined || body.length !== Number(req.headers['content-length'])) this.badBodies++;
        const status = i % 3 === 0 ? 429 : 200;
        this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        if (status === 200) this.acceptedRecords += n ?? 0;
        const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
        if (status === 429) headers['retry-after'] = '1';
        if (i % 7 === 0) headers['connection'] = 'close';
        res.writeHead(status, headers).end(status === 200 ? '' : 'slow down');
      });
    });
  }
}

describe('bench load drivers against a counting server', () => {
  let pool: Pool;
  let records: Map<string, number>;
  beforeAll(() => {
    pool = buildPool({ mix: parseMix('logs=0.5,metrics=0.3,traces=0.2'), count: 12, batch: 16, format: 'protobuf', gzip: false, seed: 3 });
    records = new Map(pool.bodies.map((b) => [createHash('sha1').update(b.body).digest('hex'), b.records]));
  });
  const servers: CountingServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.server.close(r))));
  });

  async function start(): Promise<{ s: CountingServer; init: DriverInit }> {
    const s = new CountingServer(records);
    servers.push(s);
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    const port = (s.server.address() as AddressInfo).port;
    const init: DriverInit = {
      protocol: 'http', client: 'lean', url: `http://127.0.0.1:${port}`, mix: parseMix('logs=1'), pool: 12, batch: 16, format: 'protobuf',
      gzip: false, seed: 3, connections: 4, rate: 0, duration: 0.6, warmup: 0,
    };
    return { s, init };
  }

  /** What a driver reports must be what the server saw: every request answered and counted, by status and records. */
  function expectAgrees(r: DriverResult, s: CountingServer): void {
    expect(s.badBodies).toBe(0);
    expect(s.requests).toBeGreaterThan(10);
    expect(r.errors).toBe(0);
    expect(r.timeouts).toBe(0);
    expect(r.responses).toBe(s.requests);
    expect(r.statusCounts).toEqual(s.statuses);
    expect(r.ok).toBe(s.statuses['200']);
    expect(r.non2xx).toBe(s.statuses['429']);
    expect(r.accepted.logs + r.accepted.metrics + r.accepted.traces).toBe(s.acceptedRecords);
    // Every request sent was answered (stopping waits for the one in flight): offered is what was answered.
    const offered = r.offered.logs + r.offered.metrics + r.offered.traces;
    expect(offered).toBeGreaterThanOrEqual(s.acceptedRecords);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
  }

  it('the lean client, closed loop, counts what the server answered, across connections the server closes', async () => {
    const { s, init } = await start();
    const r = await runHttp1(init, pool, () => undefined);
    expectAgrees(r, s);
    // Some of the connections were closed by the server after its answer and replaced (every 7th request).
    expect(s.requests).toBeGreaterThanOrEqual(7);
  });

  it('autocannon, the same load on the same kind of server, agrees with it too', async () => {
    const { s, init } = await start();
    const r = await runAutocannon({ ...init, client: 'autocannon' }, pool, () => undefined);
    expectAgrees(r, s);
  });

  it('the lean client, open loop, sends at the rate asked and not in bursts', async () => {
    const { s, init } = await start();
    // 100 requests/s for 0.6 s: about 60 requests, released one by one.
    const r = await runHttp1({ ...init, rate: 100 * init.batch, duration: 0.6 }, pool, () => undefined);
    expectAgrees(r, s);
    expect(s.requests).toBeGreaterThanOrEqual(40);
    expect(s.requests).toBeLessThanOrEqual(70);
  });

  it('counts errors, not answers, when nothing listens', async () => {
    const { s, init } = await start();
    await new Promise((r) => s.server.close(r));
    servers.splice(servers.indexOf(s), 1);
    const r = await runHttp1({ ...init, duration: 0.2 }, pool, () => undefined);
    expect(r.responses).toBe(0);
    expect(r.ok).toBe(0);
    // Connection refused is not a request in flight: nothing was sent, nothing offered.
    expect(r.offered.logs + r.offered.metrics + r.offered.traces).toBe(0);
  });
});
