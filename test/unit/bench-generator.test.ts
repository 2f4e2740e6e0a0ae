import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import type { LogsRequest, MetricsRequest, Signal, TracesRequest } from '../../src/model/otlp.js';
import { buildPool, encodeRequest, schedule } from '../../bench/load/encode.js';
import { TrafficGenerator } from '../../bench/load/generator.js';
import { parseMix } from '../../bench/load/options.js';

/** Records as the sidecar counts them: log records, metric data points, spans. */
function countRecords(signal: Signal, req: unknown): number {
  let n = 0;
  if (signal === 'logs') for (const r of (req as LogsRequest).resources) for (const s of r.scopes) n += s.records.length;
  if (signal === 'metrics') for (const r of (req as MetricsRequest).resources) for (const s of r.scopes) for (const m of s.metrics) n += m.points.length;
  if (signal === 'traces') for (const r of (req as TracesRequest).resources) for (const s of r.scopes) for (const sp of s.spans) n += sp.name === '' ? 0 : 1;
  return n;
}

describe('bench load generator', () => {
  for (const format of ['protobuf', 'json'] as const) {
    for (const signal of ['logs', 'metrics', 'traces'] as const) {
      it(`${signal} as ${format}: decodable with the declared record count`, () => {
        const gen = new TrafficGenerator(7);
        for (const records of [1, 2, 3, 100, 512]) {
          const g = gen.request(signal, records);
          expect(g.records).toBe(records);
          const bytes = encodeRequest(signal, g.request, format);
          const req = decodeRequest(signal, format, new Uint8Array(bytes));
          expect(countRecords(signal, req)).toBe(records);
        }
      });
    }
  }

  it('gzipped pool bodies follow the mix, decode, and hold the batch each', () => {
    const pool = buildPool({ mix: parseMix('logs=2,metrics=1,traces=1'), count: 20, batch: 64, format: 'protobuf', gzip: true, seed: 3 });
    expect(pool.bodies).toHaveLength(20);
    expect(pool.headers['Content-Encoding']).toBe('gzip');
    const per = { logs: 0, metrics: 0, traces: 0 };
    for (const b of pool.bodies) {
      per[b.signal]++;
      expect(b.records).toBe(64);
      const req = decodeRequest(b.signal, 'protobuf', new Uint8Array(gunzipSync(b.body)));
      expect(countRecords(b.signal, req)).toBe(64);
    }
    expect(per).toEqual({ logs: 10, metrics: 5, traces: 5 });
  });

  it('logs look like production: many services, templates, a severity mix, a high-cardinality attribute', () => {
    const gen = new TrafficGenerator(1);
    const services = new Set<string>();
    const severities = new Set<string>();
    const users = new Set<string>();
    const bodies = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const req = decodeRequest('logs', 'protobuf', new Uint8Array(encodeRequest('logs', gen.logs(512).request, 'protobuf')));
      for (const r of req.resources) {
        services.add(r.attrs.find((a) => a.key === 'service.name')!.value);
        for (const s of r.scopes) {
          for (const rec of s.records) {
            severities.add(rec.severityText);
            if (typeof rec.body === 'string') bodies.add(rec.body);
            const u = rec.attrs.find((a) => a.key === 'user.id');
            if (u) users.add(u.value);
          }
        }
      }
    }
    expect(services.size).toBeGreaterThanOrEqual(20);
    expect([...severities].sort()).toEqual(expect.arrayContaining(['DEBUG', 'ERROR', 'INFO', 'WARN']));
    expect(users.size).toBeGreaterThan(5000);
    // Variable fields: nearly every line differs.
    expect(bodies.size).toBeGreaterThan(10000);
  });

  it('schedule interleaves signals in proportion', () => {
    const s = schedule({ logs: 0.5, metrics: 0.25, traces: 0.25 }, 8);
    expect(s.filter((x) => x === 'logs')).toHaveLength(4);
    // No long runs of one signal: any two consecutive slots hold at most one non-log.
    expect(s.slice(0, 4).filter((x) => x === 'logs').length).toBeGreaterThanOrEqual(2);
    expect(() => parseMix('logs=0')).toThrow();
  });
});
