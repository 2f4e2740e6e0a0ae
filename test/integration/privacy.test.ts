import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKeytally, post } from '../helpers/server.js';
import { encodeProto, logsRequest, metricsRequest, tracesRequest } from '../helpers/otlp-build.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('privacy: attribute values never reach the data directory', () => {
  it('no marker string appears in any file (database, WAL, shm), sketches included', async () => {
    // --wal-limit-mb high and a long commit interval: keep data in the WAL while we look at it too.
    const k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
    const markers: string[] = [];
    const m = (i: number) => {
      const s = `MARKER${i}x${Math.random().toString(36).slice(2)}Q`;
      markers.push(s);
      return s;
    };
    for (let i = 0; i < 20; i++) {
      await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'priv', 'host.name': m(i) }, logs: [{ body: 'static body', attrs: { secret: m(i + 100), token: m(i + 200) } }] }])));
      await post(k, '/v1/traces', encodeProto('traces', tracesRequest([{ resource: { 'service.name': 'priv' }, spans: [{ name: 'op', attrs: { 'user.email': m(i + 300) }, events: [{ name: 'ev', attrs: { payload: m(i + 400) } }] }] }])));
      await post(k, '/v1/metrics', encodeProto('metrics', metricsRequest([{ resource: { 'service.name': 'priv' }, metrics: [{ name: 'm', type: 'sum', points: [{ customer: m(i + 500) }] }] }])));
    }
    const keys = await k.get('/api/v1/keys?service=priv&limit=1000');
    expect(keys.body.items.find((i: any) => i.key === 'secret').cardinality_estimate).toBe(20);
    const check = () => {
      for (const f of filesUnder(k.dataDir)) {
        const bytes = readFileSync(f);
        for (const marker of markers) expect(bytes.includes(Buffer.from(marker)), `${marker} found in ${f}`).toBe(false);
        // Also no prefix of a marker long enough to identify it.
        expect(bytes.includes(Buffer.from('MARKER')), `MARKER found in ${f}`).toBe(false);
      }
    };
    check();
    expect(await k.stop()).toBe(0);
    check();
    k.cleanup();
  });
});
