import { describe, expect, it } from 'vitest';
import { startKeytally, post } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';

const body = (service: string, n: number) =>
  encodeProto('logs', logsRequest([{ resource: { 'service.name': service }, logs: Array.from({ length: n }, (_, i) => ({ body: `line ${i}` })) }]));

describe('a worker that dies mid-task', () => {
  it('fails its request retryably (503), is replaced, and every acknowledged record is still counted exactly', async () => {
    // KEYTALLY_TEST_CRASH_MARKER makes a worker exit after folding a request that carries the marker.
    const k = await startKeytally({ args: ['--ack', 'durable', '--workers', '1', '--flush-ms', '50', '--commit-ms', '5'], env: { KEYTALLY_TEST_CRASH_MARKER: 'CRASH-ME' } });
    let acked = 0;
    for (let i = 0; i < 5; i++) {
      const r = await post(k, '/v1/logs', body('steady', 10));
      expect(r.status).toBe(200);
      acked += 10;
    }
    const crash = await post(k, '/v1/logs', body('CRASH-ME', 7));
    expect(crash.status).toBe(503);
    expect(crash.headers.get('retry-after')).toBe('1');
    // Requests in flight beside a crash: each is either acknowledged and stored, or refused with 503.
    const together = await Promise.all([
      ...Array.from({ length: 6 }, () => post(k, '/v1/logs', body('steady', 10))),
      post(k, '/v1/logs', body('CRASH-ME', 7)),
      ...Array.from({ length: 6 }, () => post(k, '/v1/logs', body('steady', 10))),
    ]);
    for (const r of together.slice(0, 6).concat(together.slice(7))) {
      expect([200, 503]).toContain(r.status);
      if (r.status === 200) acked += 10;
    }
    expect(together[6]!.status).toBe(503);
    // The pool replaces the worker; the next requests are served and committed.
    for (let i = 0; i < 5; i++) {
      const r = await post(k, '/v1/logs', body('steady', 10));
      expect(r.status).toBe(200);
      acked += 10;
    }
    const s = await k.get('/api/v1/services?q=steady');
    expect(s.body.items[0].log_records).toBe(acked);
    // Nothing of the failed request was committed.
    expect((await k.get('/api/v1/services?q=CRASH')).body.total).toBe(0);
    expect((await k.get('/ready')).status).toBe(200);
    const metrics = await k.get('/metrics');
    expect(metrics.body).toMatch(/keytally_worker_restarts_total 2/);
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
