import { describe, expect, it } from 'vitest';
import { dataDirWithSalt, startKeytally, post, type Keytally } from '../helpers/server.js';
import { encodeProto, logsRequest, metricsRequest, tracesRequest } from '../helpers/otlp-build.js';

/** A deterministic workload: services, templated bodies with variables, keys of several cardinalities. */
function workload(): Array<{ path: string; body: Uint8Array }> {
  const out: Array<{ path: string; body: Uint8Array }> = [];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const templates = [
    (i: number) => `Accepted password for user${rnd(50)} from 192.168.${rnd(255)}.${rnd(255)} port ${1024 + rnd(60000)} ssh2`,
    (i: number) => `Received block blk_${rnd(1e9)} of size ${rnd(1e8)} from /10.250.${rnd(20)}.${rnd(255)}`,
    (i: number) => `GET /api/items/${rnd(1000)} completed in ${rnd(500)}ms status=200`,
    (i: number) => `cache miss for key session:${rnd(1e6).toString(16)} after ${rnd(9)} retries`,
    (i: number) => `worker ${rnd(8)} finished job ${i} of batch ${rnd(100)}`,
  ];
  for (let r = 0; r < 60; r++) {
    const service = `svc-${r % 3}`;
    const logs = Array.from({ length: 40 }, (_, i) => ({
      body: templates[(r + i) % templates.length]!(r * 40 + i),
      severityText: ['INFO', 'WARN', 'ERROR'][(r + i) % 3],
      attrs: { 'user.id': `u${rnd(300)}`, region: `r${rnd(4)}`, 'request.id': `req-${r}-${i}` },
    }));
    out.push({ path: '/v1/logs', body: encodeProto('logs', logsRequest([{ resource: { 'service.name': service, 'pod': `p${r % 5}` }, logs }])) });
    if (r % 3 === 0) {
      out.push({
        path: '/v1/metrics',
        body: encodeProto('metrics', metricsRequest([{ resource: { 'service.name': service }, metrics: [{ name: 'reqs', type: 'sum', points: Array.from({ length: 10 }, () => ({ route: `/r${rnd(20)}`, code: String(200 + rnd(3) * 100) })) }] }])),
      });
      out.push({
        path: '/v1/traces',
        body: encodeProto('traces', tracesRequest([{ resource: { 'service.name': service }, spans: Array.from({ length: 10 }, () => ({ name: `op${rnd(4)}`, kind: 1 + rnd(3), attrs: { 'db.statement.id': `q${rnd(100)}` } })) }])),
      });
    }
  }
  return out;
}

// Times, the one kept example line and the ids the writer hands out follow arrival order; everything else must not.
const ORDER_DEPENDENT = new Set(['first_seen', 'last_seen', 'example', 'template_id']);
const strip = (body: any): any => JSON.parse(JSON.stringify(body, (key, value) => (ORDER_DEPENDENT.has(key) ? undefined : value)));

async function answers(k: Keytally): Promise<Record<string, unknown>> {
  const paths = [
    '/api/v1/services?sort=name&order=asc',
    '/api/v1/metrics?sort=name&order=asc&limit=1000',
    '/api/v1/metrics/reqs?service=svc-0',
    '/api/v1/spans?sort=name&order=asc&limit=1000',
    '/api/v1/logs?sort=severity&order=asc&limit=1000',
    '/api/v1/logs/templates?sort=template&order=asc&limit=1000',
    '/api/v1/keys?sort=key&order=asc&limit=1000',
  ];
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const r = await k.get(p);
    expect(r.status, p).toBe(200);
    out[p] = strip(r.body);
  }
  return out;
}

async function run(workers: number, concurrency: number): Promise<{ answers: Record<string, unknown>; k: Keytally }> {
  const k = await startKeytally({ dataDir: await dataDirWithSalt(0x5eed_5a17_0000_0001n), args: ['--ack', 'durable', '--flush-ms', '10', '--commit-ms', '5', '--workers', String(workers)] });
  const queue = workload();
  const next = async (): Promise<void> => {
    const item = queue.shift();
    if (!item) return;
    const r = await post(k, item.path, item.body);
    expect(r.status).toBe(200);
    return next();
  };
  await Promise.all(Array.from({ length: concurrency }, next));
  return { answers: await answers(k), k };
}

describe('totals do not depend on the worker count or order', () => {
  it('1 worker sequentially and 4 workers concurrently give identical answers, templates included', async () => {
    const one = await run(1, 1);
    const four = await run(4, 8);
    expect(four.answers).toEqual(one.answers);
    const t = one.answers['/api/v1/logs/templates?sort=template&order=asc&limit=1000'] as any;
    // 5 templates × 3 services; every severity sees every template.
    expect(t.total).toBeGreaterThanOrEqual(15);
    const counts = t.items.reduce((a: number, i: any) => a + i.count, 0);
    expect(counts).toBe(60 * 40);
    for (const k of [one.k, four.k]) {
      expect(await k.stop()).toBe(0);
    }
    one.k.cleanup();

    // The canonical templates survive a restart: the same lines again land in the same templates.
    const again = await startKeytally({ dataDir: four.k.dataDir, args: ['--ack', 'durable', '--flush-ms', '10', '--commit-ms', '5', '--workers', '2'] });
    const before = (four.answers['/api/v1/logs/templates?sort=template&order=asc&limit=1000'] as any).items;
    for (const item of workload()) expect((await post(again, item.path, item.body)).status).toBe(200);
    const after = (await again.get('/api/v1/logs/templates?sort=template&order=asc&limit=1000')).body.items;
    expect(after.map((i: any) => [i.service, i.severity, i.template])).toEqual(before.map((i: any) => [i.service, i.severity, i.template]));
    expect(after.map((i: any) => i.count)).toEqual(before.map((i: any) => i.count * 2));
    expect(await again.stop()).toBe(0);
    again.cleanup();
  });
});
