/**
 * Overload (issue 13): many keep-alive connections, each sending large
 * protobuf log requests in a loop, far more than the sidecar can fold. What
 * counts is how refusals reach the client, not the rate:
 *   - every response's status (200, 429, 503, 413 ...) and whether refusals
 *     carry Retry-After;
 *   - client-side errors (EPIPE, ECONNRESET, timeouts): the goal is none;
 *   - the sidecar's peak RSS (VmHWM of the whole process, every thread: the
 *     kernel keeps the peak, so spikes between samples count) against its
 *     --memory-limit-mb, and whether it comes back under the soft limit and
 *     accepts again after the load (recovery);
 *   - records accepted against records committed (nothing acknowledged lost).
 *
 *   npm run build && node dist/bench/overload.js [--connections 256] [--duration 12]
 *       [--records 24000] [--bodies 4] [--gzip] [--memory-limit-mb 512] [-- extra serve flags]
 *
 * The client is Node's own http module with a keep-alive agent, as a plain
 * application would send. Exits 1 on any client error, a refusal without
 * Retry-After, a peak RSS over the hard limit, a loss, or no recovery.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeProto, kv } from './otlp-reference.js';
import { startSidecarWith } from './load/server.js';
import { readProcMemory, MemorySampler } from './memory-server/proc.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:overload -- [--connections 256] [--duration 12] [--records 24000] [--bodies N] [--gzip] [--memory-limit-mb 512] [-- SERVE_FLAGS]
  keep-alive connections sending large log requests in a loop: statuses, client errors, peak RSS against the limit`, { values: ['connections', 'duration', 'records', 'bodies', 'memory-limit-mb'], flags: ['gzip'] });

const MB = 1024 * 1024;
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const extra = dashdash >= 0 ? argv.slice(dashdash + 1) : [];

function opt(name: string, def: number): number {
  const i = own.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(own[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
const CONNECTIONS = opt('connections', 256);
const DURATION_S = opt('duration', 12);
const RECORDS = opt('records', 24_000);
const BODIES = opt('bodies', 4);
const LIMIT_MB = opt('memory-limit-mb', 512);
const GZIP = own.includes('--gzip');
/** A request that takes longer than this is a client error (the sidecar must answer, even if only to refuse). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Log requests of the issue's shape: RECORDS records of about 85 protobuf bytes (a short
 * templated body, two attributes), so 24,000 records make a 2 MB request.
 */
function buildBodies(): { bodies: Array<{ body: Buffer; records: number }>; bytes: number; headers: Record<string, string> } {
  const bodies: Array<{ body: Buffer; records: number }> = [];
  let bytes = 0;
  for (let b = 0; b < BODIES; b++) {
    const logRecords = Array.from({ length: RECORDS }, (_, i) => ({
      timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: `request ${b * RECORDS + i} served in ${i % 97} ms` },
      attributes: kv({ 'http.route': `/r/${i % 20}`, 'user.id': `u${(b * RECORDS + i) % 5000}` }),
    }));
    const raw = encodeProto('logs', {
      resourceLogs: [{ resource: { attributes: kv({ 'service.name': 'overload' }) }, scopeLogs: [{ scope: { name: 'bench' }, logRecords }] }],
    });
    const body = GZIP ? gzipSync(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    bytes += body.byteLength;
    bodies.push({ body, records: RECORDS });
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf' };
  if (GZIP) headers['Content-Encoding'] = 'gzip';
  return { bodies, bytes, headers };
}

async function metric(apiPort: number, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  console.log(`overload: ${CONNECTIONS} keep-alive connections x ${RECORDS}-record protobuf log requests${GZIP ? ' (gzip)' : ''}, ${DURATION_S} s, --memory-limit-mb ${LIMIT_MB}`);
  const pool = buildBodies();
  console.log(`bodies: ${pool.bodies.length}, ${(pool.bytes / pool.bodies.length / MB).toFixed(2)} MB each as sent`);

  const dataDir = mkdtempSync(join(tmpdir(), 'keytally-overload-'));
  const server = await startSidecarWith(['--memory-limit-mb', String(LIMIT_MB), ...extra], dataDir);
  const sampler = new MemorySampler(server.pid, 20);
  sampler.start();
  const idle = readProcMemory(server.pid)!;

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  let noRetryAfter = 0;
  let accepted = 0;
  let sent = 0;
  const stopAt = Date.now() + DURATION_S * 1000;

  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const b = pool.bodies[i % pool.bodies.length]!;
      const req = http.request(
        { host: '127.0.0.1', port: server.otlpPort, path: '/v1/logs', method: 'POST', agent, timeout: REQUEST_TIMEOUT_MS, headers: { ...pool.headers, 'Content-Length': b.body.byteLength } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const s = res.statusCode ?? 0;
            statuses.set(s, (statuses.get(s) ?? 0) + 1);
            if (s === 200) accepted += b.records;
            else if ((s === 429 || s === 503) && res.headers['retry-after'] === undefined) noRetryAfter++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? e.message;
        errors.set(code, (errors.get(code) ?? 0) + 1);
        resolve();
      });
      sent++;
      req.end(b.body);
    });
  const loop = async (c: number): Promise<void> => {
    for (let i = c; Date.now() < stopAt; i += CONNECTIONS) await one(i);
  };
  const t0 = Date.now();
  // Progress every 2 s: the limiter as /metrics shows it.
  const progress = setInterval(() => {
    void (async () => {
      const m = new Map<string, number>();
      for (const name of ['keytally_memory_limiter_state', 'keytally_memory_limiter_rss_bytes', 'keytally_memory_limiter_reserved_bytes', 'keytally_worker_inflight_requests', 'keytally_worker_queue_depth', 'keytally_worker_utilization_ratio']) {
        for (const [k, v] of await metric(server.apiPort, name)) m.set(k, v);
      }
      const g = (k: string) => m.get(k) ?? NaN;
      console.log(
        `  t=${((Date.now() - t0) / 1000).toFixed(0)}s state ${g('keytally_memory_limiter_state')} rss ${(g('keytally_memory_limiter_rss_bytes') / MB).toFixed(0)} MB reserved ${(g('keytally_memory_limiter_reserved_bytes') / MB).toFixed(0)} MB in flight ${g('keytally_worker_inflight_requests')} queued ${g('keytally_worker_queue_depth')} util ${g('keytally_worker_utilization_ratio').toFixed(2)}; ${[...statuses.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}`,
      );
    })().catch(() => undefined);
  }, 2000);
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => loop(c)));
  const loadS = (Date.now() - t0) / 1000;
  clearInterval(progress);
  agent.destroy();
  const peak = readProcMemory(server.pid)!;

  // Recovery: the limiter must leave its refusing state by itself, and a request must be accepted again.
  const r0 = Date.now();
  let recovered = false;
  let recoveryMs = 0;
  const probe = pool.bodies[0]!;
  while (Date.now() - r0 < 60_000) {
    const state = await metric(server.apiPort, 'keytally_memory_limiter_state');
    const st = state.get('keytally_memory_limiter_state') ?? -1;
    if (st === 0) {
      const r = await fetch(`http://127.0.0.1:${server.otlpPort}/v1/logs`, { method: 'POST', headers: pool.headers, body: probe.body });
      await r.arrayBuffer();
      if (r.status === 200) {
        accepted += probe.records;
        recovered = true;
        recoveryMs = Date.now() - r0;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = sampler.sample();
  const refusals = await metric(server.apiPort, 'keytally_memory_limiter_refusals_total');
  const code = await server.stop();
  sampler.stop();
  // Committed records are in the store; a fresh read-only look after the drain.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dataDir, 'keytally.db'), { readonly: true });
  const committed = (db.prepare('SELECT COALESCE(SUM(sample_count), 0) AS n FROM logs_metadata').get() as { n: number }).n;
  db.close();
  rmSync(dataDir, { recursive: true, force: true });

  const soft = LIMIT_MB * 0.8;
  const fmt = (m: Map<number | string, number>) => [...m.entries()].sort().map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  console.log(`requests: ${sent} in ${loadS.toFixed(1)} s; statuses: ${fmt(statuses)}`);
  console.log(`client errors: ${fmt(errors)}; refusals without Retry-After: ${noRetryAfter}`);
  console.log(`memory limiter refusals: ${[...refusals.entries()].map(([k, v]) => `${k.replace('keytally_memory_limiter_refusals_total', '')} ${v}`).join(', ') || 'none'}`);
  console.log(`RSS: idle ${(idle.rss / MB).toFixed(1)} MB, peak ${(peak.hwm / MB).toFixed(1)} MB (VmHWM) against the hard limit ${LIMIT_MB} MB (soft ${soft.toFixed(0)}), after ${((after?.rss ?? 0) / MB).toFixed(1)} MB`);
  console.log(`recovery: ${recovered ? `accepting again ${recoveryMs} ms after the load` : 'NOT recovered within 60 s'}`);
  console.log(`records: ${accepted} accepted, ${committed} committed (${((accepted / loadS) | 0).toLocaleString('en-US')} accepted/s); sidecar exit ${code}`);

  const failures: string[] = [];
  if (sum(errors as Map<string, number>) > 0) failures.push('client errors');
  if (noRetryAfter > 0) failures.push('refusals without Retry-After');
  if (peak.hwm > LIMIT_MB * MB) failures.push('peak RSS over the hard limit');
  if (!recovered) failures.push('no recovery');
  if (committed !== accepted) failures.push(`accepted ${accepted} but committed ${committed}`);
  if (code !== 0) failures.push(`sidecar exited ${code}`);
  if (failures.length > 0) {
    console.log(`FAIL: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else console.log('OK');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
