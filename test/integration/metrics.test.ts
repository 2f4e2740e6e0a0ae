import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';
import { encodeJson, encodeProto, logsRequest, metricsRequest, tracesRequest } from '../helpers/otlp-build.js';

// /metrics tells the truth: known traffic (good, partly invalid and bad
// requests) moves each counter by exactly its amount, and the whole
// exposition passes `promtool check metrics`.

/** Samples of a text exposition, keyed by `name{a="x",b="y"}` with labels sorted (so lookups do not depend on label order). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

function key(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

/** A sample's value, 0 if absent (a labelled counter appears on its first increment). */
function val(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  return samples.get(key(name, labels)) ?? 0;
}

/** promtool comes from Debian's prometheus package; install it if missing, and fail (not skip) with the reason if that cannot be done. */
function ensurePromtool(): void {
  try {
    execFileSync(join(ROOT, 'scripts', 'prometheus.sh'), ['install'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot install promtool (scripts/prometheus.sh install): ${e.stderr?.toString() || e.message}`);
  }
}

const MAX_BODY = 64 * 1024;
let k: Keytally;

async function scrape(): Promise<{ text: string; samples: Map<string, number> }> {
  const r = await fetch(`${k.apiUrl}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { text, samples: parseExposition(text) };
}

beforeAll(async () => {
  ensurePromtool();
  // Durable acks: a 200 means the writer has committed, so committed counts follow the request counts.
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--max-body-bytes', String(MAX_BODY)] });
}, 660_000);
afterAll(async () => {
  if (!k) return;
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

describe('/metrics', () => {
  it('counters move by exactly the traffic sent', async () => {
    const before = (await scrape()).samples;
    const logs = (n: number, service: string) => logsRequest([{ resource: { 'service.name': service }, logs: Array.from({ length: n }, (_, i) => ({ body: `user ${i} logged in`, severityText: 'INFO' })) }]);

    const sentBytes = { logs: 0, metrics: 0, traces: 0 };
    const send = async (signal: 'logs' | 'metrics' | 'traces', body: Uint8Array | string, headers?: Record<string, string>) => {
      const r = await post(k, `/v1/${signal}`, body, headers);
      return r.status;
    };

    // logs: 5 (protobuf) + 3 (JSON) + 4 (gzip protobuf) accepted.
    const l1 = encodeProto('logs', logs(5, 'checkout'));
    const l2 = encodeJson(logs(3, 'cart'));
    const l3 = gzipSync(encodeProto('logs', logs(4, 'checkout')));
    expect(await send('logs', l1)).toBe(200);
    expect(await send('logs', l2, { 'content-type': 'application/json' })).toBe(200);
    expect(await send('logs', l3, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).toBe(200);
    sentBytes.logs += l1.byteLength + Buffer.byteLength(l2) + l3.byteLength;

    // A malformed request: 400, dropped as bad_payload, its bytes received but no records.
    const truncated = l1.subarray(0, l1.length - 7);
    expect(await send('logs', truncated)).toBe(400);
    sentBytes.logs += truncated.byteLength;
    // Over the body limit: 413, dropped as too_large before the body is taken, so no bytes counted.
    expect(await send('logs', new Uint8Array(MAX_BODY * 2))).toBe(413);
    // Unsupported media type: answered 415 before anything else.
    expect(await send('logs', 'x', { 'content-type': 'text/plain' })).toBe(415);

    // metrics: 3 good points, and a nameless metric whose 2 points are rejected (partial success).
    const m = encodeProto(
      'metrics',
      metricsRequest([
        {
          resource: { 'service.name': 'checkout' },
          metrics: [
            { name: 'http.server.duration', type: 'histogram', unit: 's', points: [{ route: '/a' }, { route: '/b' }] },
            { name: 'queue.size', type: 'gauge', points: [{ queue: 'q1' }] },
            { name: '', type: 'gauge', points: [{ a: '1' }, { a: '2' }] },
          ],
        },
      ]),
    );
    expect(await send('metrics', m)).toBe(200);
    sentBytes.metrics += m.byteLength;

    // traces: 3 named spans accepted, 1 nameless span rejected.
    const t = encodeProto('traces', tracesRequest([{ resource: { 'service.name': 'checkout' }, spans: [{ name: 'GET /a' }, { name: 'GET /b' }, { name: '' }, { name: 'db.query' }] }]));
    expect(await send('traces', t)).toBe(200);
    sentBytes.traces += t.byteLength;

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => val(after, name, labels) - val(before, name, labels);

    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'logs', code: '200' })).toBe(3);
    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'logs', code: '400' })).toBe(1);
    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'logs', code: '413' })).toBe(1);
    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'logs', code: '415' })).toBe(1);
    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'metrics', code: '200' })).toBe(1);
    expect(delta('keytally_requests_total', { protocol: 'http', signal: 'traces', code: '200' })).toBe(1);

    expect(delta('keytally_records_total', { protocol: 'http', signal: 'logs' })).toBe(12);
    expect(delta('keytally_records_total', { protocol: 'http', signal: 'metrics' })).toBe(3);
    expect(delta('keytally_records_total', { protocol: 'http', signal: 'traces' })).toBe(3);
    expect(delta('keytally_rejected_records_total', { protocol: 'http', signal: 'logs' })).toBe(0);
    expect(delta('keytally_rejected_records_total', { protocol: 'http', signal: 'metrics' })).toBe(2);
    expect(delta('keytally_rejected_records_total', { protocol: 'http', signal: 'traces' })).toBe(1);

    expect(delta('keytally_dropped_requests_total', { protocol: 'http', signal: 'logs', reason: 'bad_payload' })).toBe(1);
    expect(delta('keytally_dropped_requests_total', { protocol: 'http', signal: 'logs', reason: 'too_large' })).toBe(1);
    expect(delta('keytally_dropped_requests_total', { protocol: 'http', signal: 'metrics', reason: 'bad_payload' })).toBe(0);

    expect(delta('keytally_received_bytes_total', { protocol: 'http', signal: 'logs' })).toBe(sentBytes.logs);
    expect(delta('keytally_received_bytes_total', { protocol: 'http', signal: 'metrics' })).toBe(sentBytes.metrics);
    expect(delta('keytally_received_bytes_total', { protocol: 'http', signal: 'traces' })).toBe(sentBytes.traces);

    // Every answered request is timed, errors included: 6 on logs.
    expect(delta('keytally_request_duration_seconds_count', { protocol: 'http', signal: 'logs' })).toBe(6);
    expect(delta('keytally_request_duration_seconds_count', { protocol: 'http', signal: 'traces' })).toBe(1);
    expect(delta('keytally_request_duration_seconds_sum', { protocol: 'http', signal: 'logs' })).toBeGreaterThan(0);
    const p50 = val(after, 'keytally_request_duration_seconds', { protocol: 'http', signal: 'logs', quantile: '0.5' });
    const p999 = val(after, 'keytally_request_duration_seconds', { protocol: 'http', signal: 'logs', quantile: '0.999' });
    expect(p50).toBeGreaterThan(0);
    expect(p999).toBeGreaterThanOrEqual(p50);
    expect(p999).toBeLessThan(10); // seconds, not ms or µs

    // Pool: every request whose body was taken ran on a worker (4 on logs incl. the 400, 1 metrics, 1 traces).
    expect(delta('keytally_worker_task_run_seconds_count')).toBe(6);
    expect(delta('keytally_worker_task_wait_seconds_count')).toBe(6);
    expect(val(after, 'keytally_worker_threads')).toBeGreaterThan(0);
    expect(val(after, 'keytally_worker_queue_depth')).toBe(0);
    expect(val(after, 'keytally_inflight_bytes')).toBe(0);
  });

  it('writer counters are cumulative and catch up with what was committed', async () => {
    // The writer reports by message once a second: poll until its totals reach the front end's.
    const { samples } = await waitFor(
      () => scrape(),
      ({ samples: s }) =>
        val(s, 'keytally_committed_records_total', { signal: 'logs' }) === val(s, 'keytally_records_total', { protocol: 'http', signal: 'logs' }) &&
        val(s, 'keytally_committed_records_total', { signal: 'metrics' }) === val(s, 'keytally_records_total', { protocol: 'http', signal: 'metrics' }) &&
        val(s, 'keytally_committed_records_total', { signal: 'traces' }) === val(s, 'keytally_records_total', { protocol: 'http', signal: 'traces' }),
    );
    expect(val(samples, 'keytally_committed_records_total', { signal: 'logs' })).toBe(12);
    expect(val(samples, 'keytally_committed_records_total', { signal: 'metrics' })).toBe(3);
    expect(val(samples, 'keytally_committed_records_total', { signal: 'traces' })).toBe(3);
    const batches = val(samples, 'keytally_writer_batches_total');
    const rows = val(samples, 'keytally_writer_rows_total');
    const commits = val(samples, 'keytally_writer_commit_duration_seconds_count');
    expect(batches).toBeGreaterThan(0);
    expect(rows).toBeGreaterThan(0);
    expect(commits).toBeGreaterThan(0);
    expect(val(samples, 'keytally_writer_commit_duration_seconds_sum')).toBeGreaterThan(0);
    expect(val(samples, 'keytally_templates')).toBeGreaterThan(0);
    expect(val(samples, 'keytally_keys')).toBeGreaterThan(0);
    expect(val(samples, 'keytally_database_bytes')).toBeGreaterThan(0);
    expect(samples.has(key('keytally_wal_bytes'))).toBe(true);

    // More traffic: cumulative counters grow from where they were (a per-interval value would restart low).
    const r = await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'cart' }, logs: [{ body: 'cart 7 emptied' }] }])));
    expect(r.status).toBe(200);
    const later = (
      await waitFor(
        () => scrape(),
        ({ samples: s }) => val(s, 'keytally_committed_records_total', { signal: 'logs' }) === 13,
      )
    ).samples;
    expect(val(later, 'keytally_writer_batches_total')).toBeGreaterThan(batches);
    expect(val(later, 'keytally_writer_rows_total')).toBeGreaterThan(rows);
    expect(val(later, 'keytally_writer_commit_duration_seconds_count')).toBeGreaterThan(commits);
  });

  it('reports the V8 heap of every thread: main, writer, reader and each ingest worker that sent a batch', async () => {
    // The workers sent batches in the tests above; the writer reports every second, the reader every 2 s.
    const { samples } = await waitFor(
      () => scrape(),
      ({ samples: s }) => [...s.keys()].some((k) => k.startsWith('keytally_thread_heap_bytes{') && k.includes('thread="reader"')),
    );
    const threads = new Set<string>();
    for (const [k, v] of samples) {
      const m = /^keytally_thread_heap_bytes\{kind="(\w+)",thread="([\w-]+)"\}$/.exec(k);
      if (!m) continue;
      threads.add(m[2]!);
      // Every thread has a heap of some MB and at least a little external memory.
      if (m[1] === 'total') expect(v, k).toBeGreaterThan(1024 * 1024);
      if (m[1] === 'used') expect(v, k).toBeGreaterThan(1024 * 1024);
      if (m[1] === 'external') expect(v, k).toBeGreaterThan(0);
    }
    expect(threads.has('main')).toBe(true);
    expect(threads.has('writer')).toBe(true);
    expect(threads.has('reader')).toBe(true);
    const ingest = [...threads].filter((t) => /^ingest-\d+$/.test(t));
    expect(ingest.length).toBeGreaterThanOrEqual(1);
    expect(threads.size).toBe(3 + ingest.length);
    // Used never exceeds committed.
    for (const t of threads) expect(val(samples, 'keytally_thread_heap_bytes', { thread: t, kind: 'used' })).toBeLessThanOrEqual(val(samples, 'keytally_thread_heap_bytes', { thread: t, kind: 'total' }));
  });

  it('exposes every documented family with its type', async () => {
    const { text } = await scrape();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const expected: Record<string, string> = {
      keytally_requests_total: 'counter',
      keytally_records_total: 'counter',
      keytally_received_bytes_total: 'counter',
      keytally_rejected_records_total: 'counter',
      keytally_dropped_requests_total: 'counter',
      keytally_request_duration_seconds: 'summary',
      keytally_worker_queue_depth: 'gauge',
      keytally_worker_inflight_requests: 'gauge',
      keytally_inflight_bytes: 'gauge',
      keytally_worker_utilization_ratio: 'gauge',
      keytally_worker_threads: 'gauge',
      keytally_worker_restarts_total: 'counter',
      keytally_worker_task_wait_seconds: 'summary',
      keytally_worker_task_run_seconds: 'summary',
      keytally_writer_batches_total: 'counter',
      keytally_writer_rows_total: 'counter',
      keytally_writer_commit_duration_seconds: 'summary',
      keytally_writer_lag_seconds: 'gauge',
      keytally_writer_backlog_batches: 'gauge',
      keytally_committed_records_total: 'counter',
      keytally_wal_bytes: 'gauge',
      keytally_wal_checkpoints_total: 'counter',
      keytally_database_bytes: 'gauge',
      keytally_templates: 'gauge',
      keytally_keys: 'gauge',
      keytally_miner_evictions_total: 'counter',
      keytally_miner_overflow_total: 'counter',
      keytally_truncated_attributes_total: 'counter',
      keytally_thread_heap_bytes: 'gauge',
      keytally_process_cpu_seconds_total: 'counter',
      keytally_process_resident_memory_bytes: 'gauge',
      keytally_nodejs_eventloop_lag_p99_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect([name, types.get(name)]).toEqual([name, type]);
    for (const [name, type] of types) {
      expect(name.startsWith('keytally_'), name).toBe(true);
      expect(name.endsWith('_total'), `${name} (${type})`).toBe(type === 'counter');
    }
  });

  it('passes promtool check metrics', async () => {
    const { text } = await scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`);
    expect({ status: r.status, problems: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });
});
