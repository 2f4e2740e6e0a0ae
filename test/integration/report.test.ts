import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { startKeytally, post, BIN, ROOT, type Keytally } from '../helpers/server.js';
import { encodeProto, logsRequest, metricsRequest } from '../helpers/otlp-build.js';
import { CONFORMANCE_SALT } from '../conformance/backends.js';

// keytally report reads a store beside (or after) a running sidecar and gates CI by exit code.
let k: Keytally;
beforeAll(async () => {
  // A fixed salt: the estimates below are exact for it; a random one gave 299 series of 300 now and then.
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--hash-salt', CONFORMANCE_SALT.toString()] });
  const points = Array.from({ length: 300 }, (_, i) => ({ 'user.id': `u${i}`, route: `/r${i % 3}` }));
  await post(k, '/v1/metrics', encodeProto('metrics', metricsRequest([{ resource: { 'service.name': 'shop' }, metrics: [{ name: 'http.requests', type: 'sum', points }, { name: 'small', type: 'gauge', points: [{ a: '1' }] }] }])));
  await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'shop' }, logs: Array.from({ length: 20 }, (_, i) => ({ body: `order ${i} paid`, attrs: { order: `o${i}` } })) }])));
  expect(await k.stop()).toBe(0);
});
afterAll(() => k.cleanup());

const report = (...args: string[]) => spawnSync(process.execPath, [BIN, 'report', '--data', k.dataDir, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('keytally report', () => {
  it('prints top keys, metrics and templates as text and exits 0 without limits', () => {
    const r = report();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Top keys by cardinality/);
    expect(r.stdout).toMatch(/user\.id\s+300/);
    expect(r.stdout).toMatch(/http\.requests/);
    expect(r.stdout).toMatch(/order <NUM> paid/);
    expect(r.stdout).toMatch(/Limits: OK/);
  });

  it('json output is machine-readable and sorted by cardinality and series', () => {
    const r = report('--format', 'json', '--top', '2');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.keys).toHaveLength(2);
    expect(j.keys[0]).toMatchObject({ key: 'user.id', cardinality_estimate: 300 });
    expect(j.metrics[0]).toMatchObject({ name: 'http.requests', series_estimate: 300 });
    expect(j.templates[0]).toMatchObject({ count: 20, percentage: 100 });
    expect(j.status).toBe('ok');
  });

  it('markdown output has tables', () => {
    const r = report('--format', 'markdown');
    expect(r.stdout).toMatch(/^# keytally report/);
    expect(r.stdout).toMatch(/\| service \| scope \| key \| cardinality \| samples \|/);
  });

  it('exits 1 past a warning limit and 2 past a failure limit', () => {
    const warn = report('--warn-key-cardinality', '100');
    expect(warn.status).toBe(1);
    expect(warn.stdout).toMatch(/WARN: key shop\/metric\/user\.id cardinality 300 > 100/);
    const fail = report('--warn-key-cardinality', '10', '--max-series', '250');
    expect(fail.status).toBe(2);
    expect(fail.stdout).toMatch(/FAIL: metric shop\/http\.requests series 300 > 250/);
    expect(report('--max-series', '1000', '--max-key-cardinality', '1000').status).toBe(0);
  });

  it('bad usage exits 2 with a clear message', () => {
    const a = report('--format', 'yaml');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--format must be text, json or markdown/);
    const b = report('--max-series', 'lots');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--max-series must be a non-negative integer/);
    const c = spawnSync(process.execPath, [BIN, 'report', '--data', '/nonexistent/dir'], { encoding: 'utf8' });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/no keytally store/);
  });
});
