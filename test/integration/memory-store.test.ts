import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { post, startKeytally, type Keytally } from '../helpers/server.js';

// The memory store through the real server: no files, a bound that holds, evictions in /metrics.
let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--store', 'memory', '--memory-store-mb', '1', '--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{backend="memory"\\} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name}{backend="memory"} not in /metrics`);
  return Number(m[1]);
}

describe('memory store (--store memory)', () => {
  it('answers the API, is ready, and writes no file', async () => {
    const body = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'mem' }, logs: [{ body: 'hello 1', severityText: 'INFO', attrs: { a: '1' } }] }]));
    expect((await post(k, '/v1/logs', body)).status).toBe(200);
    const s = await k.get('/api/v1/services');
    expect(s.body.items).toEqual([expect.objectContaining({ name: 'mem', log_records: 1 })]);
    expect((await k.get('/ready')).status).toBe(200);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(k.dataDir)).toEqual([]);
  });

  it('pushed past --memory-store-mb stays under it and counts its evictions', async () => {
    // 40 requests of 250 distinct keys: about 10,000 key rows, several MB of rows against a 1 MB bound.
    for (let r = 0; r < 40; r++) {
      const logs = Array.from({ length: 250 }, (_, i) => ({ body: 'x', severityText: 'INFO', attrs: { [`k${r}-${i}`]: `v${i}` } }));
      expect((await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'mem' }, logs }])))).status).toBe(200);
    }
    // The writer reports every second: wait for a report after the last commit.
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = (await k.get('/metrics')).body as string;
      if (metric(text, 'keytally_store_evictions_total') > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metric(text, 'keytally_store_evictions_total')).toBeGreaterThan(0);
    expect(metric(text, 'keytally_store_bytes')).toBeLessThanOrEqual(1024 * 1024);
    const keys = await k.get('/api/v1/keys?limit=0');
    expect(keys.body.total).toBeGreaterThan(100);
    expect(keys.body.total).toBeLessThan(10_000);
    // The most recent request's keys are kept.
    expect((await k.get('/api/v1/keys?q=k39-&limit=0')).body.total).toBe(250);
  });
});
