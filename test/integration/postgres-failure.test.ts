/**
 * The PostgreSQL store failing: a bad URL stops start-up with an error that
 * names it; kill -9 of keytally under durable load loses nothing it
 * acknowledged; PostgreSQL stopped and started again under load: 503 with
 * Retry-After and /ready failing while it is down, then full recovery, nothing
 * acknowledged lost.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { freePort, freshDatabase, startCluster, sql, type Cluster } from '../helpers/postgres.js';
import { BIN, post, ROOT, startKeytally, waitFor, type Keytally } from '../helpers/server.js';

const ARGS = ['--store', 'postgres', '--ack', 'durable', '--workers', '1', '--flush-ms', '20', '--commit-ms', '5'];
const body = (tag: string, n: number) =>
  encodeProto('logs', logsRequest([{ resource: { 'service.name': 'durable' }, logs: Array.from({ length: 10 }, (_, i) => ({ body: `event ${n} ${i}`, severityText: 'INFO', attrs: { tag } })) }]));

/** Sends requests one after another until `stop()`; counts what was acknowledged (200) and every status seen. */
function load(k: Keytally, tag: string) {
  let running = true;
  const seen = { acked: 0, sent: 0, statuses: new Map<number, number>(), retryAfter: 0 };
  const done = (async () => {
    for (let n = 0; running; n++) {
      seen.sent += 10;
      let r;
      try {
        r = await post(k, '/v1/logs', body(tag, n));
      } catch {
        // The process was killed under us: this request's fate is unknown, it was not acknowledged.
        break;
      }
      seen.statuses.set(r.status, (seen.statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) seen.acked += 10;
      else {
        if (r.headers.get('retry-after')) seen.retryAfter++;
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  })();
  return { seen, stop: async () => ((running = false), await done) };
}

const clusters: Cluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.destroy();
});

describe('PostgreSQL store failures', () => {
  it('a server that does not answer stops start-up with an error naming it', async () => {
    const port = await freePort();
    const url = `postgres://keytally@127.0.0.1:${port}/nowhere`;
    const proc = spawn(process.execPath, [BIN, 'serve', '--store', 'postgres', '--postgres-url', url, '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(proc, 'exit');
    expect(code).not.toBe(0);
    expect(err).toContain(`cannot connect to PostgreSQL at ${url}`);
  });

  it('a missing or malformed --postgres-url is a configuration error naming the flag', async () => {
    for (const args of [['--store', 'postgres'], ['--store', 'postgres', '--postgres-url', 'mysql://x']]) {
      const proc = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = await once(proc, 'exit');
      expect(code).toBe(2);
      expect(err).toMatch(/--postgres-url/);
    }
  });

  it('kill -9 under durable load loses nothing acknowledged', async () => {
    const url = await freshDatabase('kt_kill');
    const k = await startKeytally({ args: [...ARGS, '--postgres-url', url] });
    const l = load(k, 'kill');
    await waitFor(async () => l.seen.acked, (n) => n >= 500, 30_000);
    k.proc.kill('SIGKILL');
    await l.stop();
    // The process may have exited while the load loop wound down: once() would then wait for an event already past.
    if (k.proc.exitCode === null && k.proc.signalCode === null) await once(k.proc, 'exit');
    const [row] = await sql(url, `SELECT log_records FROM services WHERE name = 'durable'`);
    expect(Number(row!.log_records)).toBeGreaterThanOrEqual(l.seen.acked);
    expect(Number(row!.log_records)).toBeLessThanOrEqual(l.seen.sent);
    // A new instance on the same database carries on from there.
    const k2 = await startKeytally({ args: [...ARGS, '--postgres-url', url] });
    expect((await post(k2, '/v1/logs', body('kill', -1))).status).toBe(200);
    expect((await k2.get('/api/v1/services?q=durable')).body.items[0].log_records).toBe(Number(row!.log_records) + 10);
    expect(await k2.stop()).toBe(0);
  }, 60_000);

  it('PostgreSQL stopped and started under load: 503 + Retry-After and /ready failing, then full recovery', async () => {
    const cluster = await startCluster();
    clusters.push(cluster);
    const k = await startKeytally({ args: [...ARGS, '--postgres-url', cluster.url] });
    const l = load(k, 'restart');
    await waitFor(async () => l.seen.acked, (n) => n >= 200, 30_000);
    await cluster.stop();
    // While it is down: ingest answers 503 with Retry-After, /ready fails and says why. A probe of its own
    // (the load's request in flight at the stop waits for its commit, which waits for the server).
    const probe = async () => {
      try {
        const r = await fetch(`${k.otlpUrl}/v1/logs`, { method: 'POST', body: body('probe', -2), headers: { 'content-type': 'application/x-protobuf' }, signal: AbortSignal.timeout(2000) });
        return `${r.status} ${r.headers.get('retry-after')}`;
      } catch {
        return 'pending';
      }
    };
    await waitFor(probe, (v) => /^503 \d+$/.test(v), 30_000);
    const ready = await k.get('/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body), k.stderr().slice(-3000)).toMatch(/store/);
    expect((await k.get('/api/v1/services')).status).toBe(503);
    const ackedWhileDown = l.seen.acked;
    await cluster.restart();
    // Back: requests are acknowledged again and /ready recovers, by itself.
    await waitFor(async () => l.seen.acked, (n) => n >= ackedWhileDown + 200, 30_000);
    await waitFor(async () => (await k.get('/ready')).status, (s) => s === 200, 30_000);
    await l.stop();
    const svc = (await k.get('/api/v1/services?q=durable')).body.items[0];
    expect(svc.log_records).toBeGreaterThanOrEqual(l.seen.acked);
    // Probes may have been stored too (10 records each, at most one per 50 ms of the outage).
    expect(svc.log_records).toBeLessThanOrEqual(l.seen.sent + 10 * 1000);
    // The writer reports every second: wait for the report that counts the reconnect.
    const reconnects = async () => Number(/^keytally_store_reconnects_total\{backend="postgres"\} (\d+)/m.exec((await k.get('/metrics')).body as string)?.[1]);
    expect(await waitFor(reconnects, (n) => n >= 1, 10_000)).toBeGreaterThanOrEqual(1);
    expect(await k.stop()).toBe(0);
  }, 120_000);
});
