import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startKeytally, post } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';

function walSize(dir: string): number {
  try {
    return statSync(join(dir, 'keytally.db-wal')).size;
  } catch {
    return 0;
  }
}

describe('WAL stays bounded while readers are active', () => {
  it('checkpoints keep the -wal file near its limit under writes and concurrent API reads', async () => {
    const k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '10', '--commit-ms', '5', '--wal-limit-mb', '1', '--wal-autocheckpoint-pages', '64'] });
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const r = await k.get('/api/v1/keys?limit=500&sort=sample_count&order=desc');
        expect(r.status).toBe(200);
        reads++;
      }
    })();
    let maxWal = 0;
    for (let r = 0; r < 150; r++) {
      // Fresh keys every request: every commit inserts new rows with sketches, so the WAL grows fast.
      const logs = Array.from({ length: 40 }, (_, i) => ({ body: 'x', attrs: { [`key_${r}_${i}`]: `v${i}`, shared: `s${r}` } }));
      expect((await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'wal' }, logs }])))).status).toBe(200);
      maxWal = Math.max(maxWal, walSize(k.dataDir));
    }
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(10);
    const keys = await k.get('/api/v1/keys?service=wal&scope=log&limit=1');
    expect(keys.body.total).toBe(150 * 40 + 1);
    // The limit is 1 MiB; one commit's pages may come on top before the next truncation.
    expect(maxWal).toBeLessThan(4 * 1024 * 1024);
    const metrics = await k.get('/metrics');
    expect(metrics.body).toMatch(/keytally_wal_bytes \d+/);
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
