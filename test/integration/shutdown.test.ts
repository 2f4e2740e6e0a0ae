import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { startKeytally, post } from '../helpers/server.js';
import { encodeProto, logsRequest, tracesRequest } from '../helpers/otlp-build.js';

// Accepted-mode acks answer before the commit: only a clean drain on the
// signal makes every accepted record reach the database.
describe.each(['SIGTERM', 'SIGINT'] as const)('shutdown on %s', (signal) => {
  it('stops intake, drains workers, flushes, checkpoints, exits 0 and loses nothing', async () => {
    // A long flush interval, so that without the drain the records would still sit in the workers.
    const k = await startKeytally({ args: ['--ack', 'accepted', '--flush-ms', '60000', '--commit-ms', '60000', '--workers', '2'] });
    let sent = 0;
    let spans = 0;
    const requests: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      const n = 1 + (i % 17);
      sent += n;
      const body = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'drain' }, logs: Array.from({ length: n }, (_, j) => ({ body: `line ${i} ${j}` })) }]));
      requests.push(post(k, '/v1/logs', body).then((r) => expect(r.status).toBe(200)));
      spans += 2;
      requests.push(post(k, '/v1/traces', encodeProto('traces', tracesRequest([{ resource: { 'service.name': 'drain' }, spans: [{ name: 'a' }, { name: 'b' }] }]))).then((r) => expect(r.status).toBe(200)));
    }
    await Promise.all(requests);
    expect(await k.stop(signal)).toBe(0);
    expect(k.stdout()).toMatch(/keytally stopped/);
    const dbFile = join(k.dataDir, 'keytally.db');
    // The final checkpoint leaves the WAL empty (truncated) or removed.
    const wal = dbFile + '-wal';
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const db = new Database(dbFile, { readonly: true });
    const row = db.prepare(`SELECT log_records, spans FROM services WHERE name = 'drain'`).get() as { log_records: number; spans: number };
    const templates = db.prepare(`SELECT sum(count) AS n FROM body_templates WHERE service = 'drain'`).get() as { n: number };
    const logs = db.prepare(`SELECT sum(sample_count) AS n FROM logs_metadata WHERE service = 'drain'`).get() as { n: number };
    db.close();
    expect(row.log_records).toBe(sent);
    expect(row.spans).toBe(spans);
    expect(logs.n).toBe(sent);
    expect(templates.n).toBe(sent);
    k.cleanup();
  });
});

describe('shutdown refuses new work', () => {
  it('a second signal during drain does not break the exit code', async () => {
    const k = await startKeytally({ args: ['--workers', '1'] });
    k.proc.kill('SIGTERM');
    k.proc.kill('SIGTERM');
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
