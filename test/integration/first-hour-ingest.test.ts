/**
 * What a new user's first data showed wrongly: the truncation counter, partial_success messages,
 * severities grouped apart by spelling and filtered by case, and `%ZZ` in a query answered 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtoResponse, encodeProto, logsRequest, metricsRequest } from '../helpers/otlp-build.js';
import { post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';

let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
});
afterAll(async () => {
  await k.stop();
  k.cleanup();
});

async function metric(name: string): Promise<number> {
  const text = (await k.get('/metrics')).body as string;
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('keytally_truncated_attributes_total', () => {
  it('counts dropped attributes, a cut key, a cut value and a cut service.name', async () => {
    const before = await metric('keytally_truncated_attributes_total');
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) many[`k${i}`] = 'v';
    const req = logsRequest([
      {
        resource: { 'service.name': 's'.repeat(300) },
        logs: [
          { body: 'many attributes', attrs: many }, // 300 > 256: 44 dropped
          { body: 'long key', attrs: { ['k'.repeat(300)]: 'v' } }, // key over 256
          { body: 'long value', attrs: { v: 'x'.repeat(5000) } }, // value over 4096
        ],
      },
    ]);
    expect((await post(k, '/v1/logs', encodeProto('logs', req))).status).toBe(200);
    await waitFor(() => metric('keytally_truncated_attributes_total'), (n) => n === before + 44 + 3);
  });
});

describe('partial_success', () => {
  it('names each reason with its count', async () => {
    const req = metricsRequest([{ resource: { 'service.name': 'svc-why' }, metrics: [{ name: 'ok.metric', type: 'gauge', points: [{ a: '1' }] }] }]);
    const metrics = req.resourceMetrics[0].scopeMetrics[0].metrics;
    metrics.push({ name: '', gauge: { dataPoints: [{ asInt: 1 }, { asInt: 2 }] } });
    metrics.push({ name: 'no.data' });
    const r = await post(k, '/v1/metrics', encodeProto('metrics', req));
    expect(r.status).toBe(200);
    const ps = decodeProtoResponse('metrics', r.body).partialSuccess;
    expect(ps.rejectedDataPoints).toBe(3);
    expect(ps.errorMessage).toMatch(/^3 data points rejected: /);
    expect(ps.errorMessage).toContain('2 from metric without a name');
    expect(ps.errorMessage).toContain('1 from metric "no.data" without data');
  });
});

describe('severity', () => {
  it('groups by the OpenTelemetry severity: number first, then common spellings in any case; unknown texts kept', async () => {
    const logs = [
      { body: 'disk almost full', severityText: 'warning' },
      { body: 'disk almost full', severityText: 'WARN' },
      { body: 'disk almost full', severityText: 'Warn' },
      { body: 'disk almost full', severityText: 'whatever', severityNumber: 13 },
      { body: 'db down', severityText: 'err' },
      { body: 'db down', severityText: 'ERROR' },
      { body: 'core dumped', severityText: 'crit' },
      { body: 'core dumped', severityText: 'fatal' },
      { body: 'hello', severityText: 'INFO' },
      { body: 'hello', severityText: 'Notice-ish' },
    ];
    expect((await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'svc-sev' }, logs }])))).status).toBe(200);
    const r = await waitFor(
      () => k.get('/api/v1/logs?service=svc-sev&sort=severity&order=asc'),
      (x) => x.status === 200 && x.body.items.reduce((n: number, i: { sample_count: number }) => n + i.sample_count, 0) === logs.length,
    );
    const counts = Object.fromEntries(r.body.items.map((i: { severity: string; sample_count: number }) => [i.severity, i.sample_count]));
    expect(counts).toEqual({ WARN: 4, ERROR: 2, FATAL: 2, INFO: 1, 'Notice-ish': 1 });
  });

  it('filters case-insensitively, and by any spelling of a known severity', async () => {
    for (const q of ['info', 'INFO', 'Info']) {
      const r = await k.get(`/api/v1/logs?service=svc-sev&severity=${q}`);
      expect(r.body.items.map((i: { severity: string }) => i.severity), q).toEqual(['INFO']);
    }
    const warn = await k.get('/api/v1/logs/templates?service=svc-sev&severity=warning');
    expect(warn.body.items.map((i: { severity: string; count: number }) => [i.severity, i.count])).toEqual([['WARN', 4]]);
    const unknown = await k.get('/api/v1/logs?service=svc-sev&severity=notice-ISH');
    expect(unknown.body.items.map((i: { severity: string }) => i.severity)).toEqual(['Notice-ish']);
  });
});

describe('percent-encoding', () => {
  it('a malformed %-escape is a 400 in a query as in a path', async () => {
    const q = await k.get('/api/v1/services?q=%ZZ');
    expect(q.status).toBe(400);
    expect(q.body.error).toMatch(/malformed percent-encoding in parameter 'q'/);
    expect((await k.get('/api/v1/services/%ZZ/overview')).status).toBe(400);
    expect((await k.get('/api/v1/logs?severity=%E2%82')).status).toBe(400);
    expect((await k.get('/api/v1/services?q=a%20b')).status).toBe(200);
  });
});
