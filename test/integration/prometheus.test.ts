import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, post, startKeytally, tempDir, waitFor, type Keytally } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';

// A real Prometheus server (Debian's package, started by scripts/prometheus.sh
// on loopback) scrapes keytally's API port every second; the test reads `up`
// and a keytally counter back through Prometheus's query API. If Prometheus
// cannot be installed or started, the test fails with the reason.

const SCRIPT = join(ROOT, 'scripts', 'prometheus.sh');
const RECORDS = 7;

let k: Keytally | undefined;
let prom: ChildProcess | undefined;
let promExit: Promise<unknown> | undefined;
let promDir: string | undefined;
let promUrl = '';
let promErr = '';

/** A port free on loopback now (Prometheus takes no port 0); if another process wins it, Prometheus exits and the test says so. */
async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function promExited(): boolean {
  return !prom || prom.exitCode !== null || prom.signalCode !== null;
}

/** One instant-vector query; the samples' values as numbers. */
async function query(expr: string): Promise<number[]> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: Array<{ value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data!.result.map((s) => Number(s.value[1]));
}

/** Polls until ok(); fails early, with Prometheus's stderr, if Prometheus dies meanwhile. */
function pollProm<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  return waitFor(
    async () => {
      if (promExited()) throw new Error(`prometheus exited (code ${prom?.exitCode}, signal ${prom?.signalCode}):\n${promErr}`);
      return fn();
    },
    ok,
    timeoutMs,
  );
}

beforeAll(async () => {
  try {
    execFileSync(SCRIPT, ['install'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot install prometheus (scripts/prometheus.sh install): ${e.stderr?.toString() || e.message}`);
  }

  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
  const body = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'scraped' }, logs: Array.from({ length: RECORDS }, (_, i) => ({ body: `job ${i} done` })) }]));
  expect((await post(k, '/v1/logs', body)).status).toBe(200);

  promDir = tempDir('keytally-prometheus-');
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  // The script execs Prometheus, so this child is Prometheus itself and killing it by pid stops it.
  prom = spawn(SCRIPT, ['start', promDir, String(port), `127.0.0.1:${k.apiPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  promExit = once(prom, 'exit');
  prom.stderr!.on('data', (d: Buffer) => (promErr += d.toString()));
  await pollProm(
    () => fetch(`${promUrl}/-/ready`).then((r) => r.status, () => 0),
    (status) => status === 200,
  );
}, 660_000);

afterAll(async () => {
  if (prom && !promExited()) {
    prom.kill('SIGTERM');
    // Bounded: a Prometheus that does not stop on SIGTERM in 10 s is killed.
    const timer = setTimeout(() => prom?.kill('SIGKILL'), 10_000);
    await promExit;
    clearTimeout(timer);
  }
  if (promDir) rmSync(promDir, { recursive: true, force: true });
  if (k) {
    expect(await k.stop()).toBe(0);
    k.cleanup();
  }
}, 30_000);

describe('a real Prometheus scrapes keytally', () => {
  it('sees the target up', async () => {
    const up = await pollProm(
      () => query('up{job="keytally"}'),
      (v) => v.length === 1 && v[0] === 1,
    );
    expect(up).toEqual([1]);
  });

  it('reads keytally counters with the right values', async () => {
    const records = await pollProm(
      () => query('keytally_records_total{job="keytally",protocol="http",signal="logs"}'),
      (v) => v.length === 1 && v[0] === RECORDS,
    );
    expect(records).toEqual([RECORDS]);
    const committed = await pollProm(
      () => query('keytally_committed_records_total{job="keytally",signal="logs"}'),
      (v) => v.length === 1 && v[0] === RECORDS,
    );
    expect(committed).toEqual([RECORDS]);
    // A summary arrives as its quantile, _sum and _count series.
    const count = await pollProm(
      () => query('keytally_request_duration_seconds_count{job="keytally",protocol="http",signal="logs"}'),
      (v) => v.length === 1 && v[0]! >= 1,
    );
    expect(count).toEqual([1]);
    // The whole exposition was ingested, not just the first few families.
    const scraped = await query('scrape_samples_scraped{job="keytally"}');
    expect(scraped[0]).toBeGreaterThan(50);
  });
});
