/**
 * Memory of the whole sidecar process under a cardinality-heavy workload
 * (issue 4, point 4). bench/memory.ts measures the writer's sketches alone, in
 * process; this runs the real `keytally serve` as a child process (main
 * thread, writer, reader and ingest workers, SQLite) and reads its RSS from
 * /proc, so per-interval worker sketches, msgpack batches, request bodies in
 * flight and the SQLite caches all count.
 *
 * Workload, sent as OTLP/protobuf logs over HTTP by a few concurrent senders:
 *   - low cardinality: 100 services x 1,000 keys = 100,000 (service, key) pairs,
 *     key k of service s taking 1 + (7s + k) mod 50 distinct values (1..50);
 *     one request per service, 200 records of 250 attributes;
 *   - high cardinality: 20 services x 50 keys = 1,000 keys of 100,000 distinct
 *     values each, records of 50 attributes, requests of 2,000 records sent
 *     round-robin over the services (so every high key is live in every
 *     worker's interval at once, the worst case for worker memory).
 * Then it checks through the API that every key is there with the right
 * estimate, and reports peak RSS, RSS after, bytes per key, DB size and time.
 * Exits 1 when the peak RSS is over the limit or an estimate is out of bounds.
 *
 *   npm run build && node dist/bench/memory-server.js [--runs 3] [--limit-mb 300]
 *       [--concurrency 4] [--high-values 100000] [--records 2000] [-- extra serve flags]
 *
 * With KEYTALLY_TRACE_HEAP=MS in the environment, every thread of the sidecar
 * prints its V8 heap statistics every MS ms (src/util/heap-trace.ts) into a
 * file in the temp directory named at the start. KEYTALLY_BENCH_NODE_ARGS
 * (space-separated) are node/V8 flags for the sidecar process, to try GC
 * settings (e.g. "--heap-growing-percent=25").
 *
 * Flags after `--` go to `keytally serve` (e.g. `-- --workers 1 --flush-ms 100`),
 * to measure what bounds which thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { standardError } from '../src/sketch/hll.js';
import { MemorySampler, type ProcMemory } from './memory-server/proc.js';
import { buildLogTemplate, fill, writeDigits, type LogTemplate } from './memory-server/otlp-template.js';
import { sidecarCommand } from './launch.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:memory-server -- [--runs 3] [--limit-mb 300] [--low-services N] [--low-keys N] [--high-services N] [--high-keys N] [--high-values N] [--records N] [--concurrency N] [--timeout-s N] [-- SERVE_FLAGS]
  the whole sidecar's RSS under the cardinality workload`, { values: ['runs', 'limit-mb', 'low-services', 'low-keys', 'high-services', 'high-keys', 'high-values', 'records', 'concurrency', 'timeout-s'] });

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MB = 1024 * 1024;

// ------------------------------------------------------------ options

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const ownArgs = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const serverArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];

function opt(name: string, def: number): number {
  const i = ownArgs.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(ownArgs[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

const RUNS = opt('runs', 3);
const LIMIT_MB = opt('limit-mb', 300);
const CONCURRENCY = opt('concurrency', 4);
const LOW_SERVICES = opt('low-services', 100);
const LOW_KEYS = opt('low-keys', 1000);
const LOW_MAX = 50;
/** Keys per low-cardinality record (the decoder keeps at most --max-attributes, 256 by default). */
const LOW_GROUP = 250;
const HIGH_SERVICES = opt('high-services', 20);
const HIGH_KEYS = opt('high-keys', 50);
const HIGH_VALUES = opt('high-values', 100_000);
const HIGH_RECORDS = opt('records', 2000);
const PRECISION = 14;
const DEADLINE_MS = opt('timeout-s', 900) * 1000;
/** Node/V8 flags for the sidecar process (KEYTALLY_BENCH_NODE_ARGS, space-separated), to try GC settings. */
const NODE_ARGS = (process.env['KEYTALLY_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
/** KEYTALLY_TRACE_HEAP=MS makes every thread of the sidecar print its heap statistics; they go to this file. */
const TRACE_HEAP = process.env['KEYTALLY_TRACE_HEAP'] ? join(tmpdir(), `keytally-heap-trace-${process.pid}.jsonl`) : undefined;

if (LOW_KEYS % LOW_GROUP !== 0) throw new Error(`--low-keys must be a multiple of ${LOW_GROUP}`);
if (LOW_SERVICES > 999 || LOW_KEYS > 9999 || HIGH_SERVICES > 99 || HIGH_KEYS > 99 || HIGH_VALUES > 999_999) {
  throw new Error('the fixed-width names and values hold at most 999 low services, 9,999 low keys, 99 high services, 99 high keys, 999,999 high values');
}
if (HIGH_RECORDS > HIGH_VALUES) throw new Error('--records must not exceed --high-values');

// ------------------------------------------------------------ workload

const lowService = (s: number) => `lsvc-${String(s).padStart(3, '0')}`;
const lowKey = (k: number) => `lk.${String(k).padStart(4, '0')}`;
/** True number of distinct values of low key k of service s. */
const lowTrue = (s: number, k: number) => 1 + ((7 * s + k) % LOW_MAX);
const highService = (h: number) => `hsvc-${String(h).padStart(2, '0')}`;
const highKey = (j: number) => `hk.${String(j).padStart(2, '0')}`;

/**
 * Low-cardinality request template: for each group of LOW_GROUP keys, LOW_MAX
 * records carrying all of them, so record r gives key k value r mod lowTrue(k):
 * every value of every key is seen. Values: 9 digits, service|key|value, so no
 * two keys share a value (independent sketches).
 */
function lowTemplate(): LogTemplate {
  const records: string[][] = [];
  for (let g = 0; g < LOW_KEYS / LOW_GROUP; g++) {
    const keys = Array.from({ length: LOW_GROUP }, (_, i) => lowKey(g * LOW_GROUP + i));
    for (let r = 0; r < LOW_MAX; r++) records.push(keys);
  }
  return buildLogTemplate(records, lowService(0).length, 9);
}

function lowRequest(t: LogTemplate, s: number): Buffer {
  return fill(t, lowService(s), (slot, buf, at) => {
    const record = Math.floor(slot / LOW_GROUP);
    const k = Math.floor(record / LOW_MAX) * LOW_GROUP + (slot % LOW_GROUP);
    const r = record % LOW_MAX;
    writeDigits(buf, at, s * 1_000_000 + k * 100 + (r % lowTrue(s, k)), 9);
  });
}

/** High-cardinality template: HIGH_RECORDS records with all HIGH_KEYS keys. Values: 10 digits, service|key|counter. */
function highTemplate(): LogTemplate {
  const keys = Array.from({ length: HIGH_KEYS }, (_, j) => highKey(j));
  return buildLogTemplate(Array.from({ length: HIGH_RECORDS }, () => keys), highService(0).length, 10);
}

/** Chunk c of service h: values base..base+HIGH_RECORDS-1 (the last chunk overlaps the one before: repeats add nothing). */
function highRequest(t: LogTemplate, h: number, c: number): Buffer {
  const base = Math.min(c * HIGH_RECORDS, HIGH_VALUES - HIGH_RECORDS);
  return fill(t, highService(h), (slot, buf, at) => {
    const j = slot % HIGH_KEYS;
    const v = base + Math.floor(slot / HIGH_KEYS);
    writeDigits(buf, at, h * 100_000_000 + j * 1_000_000 + v, 10);
  });
}

// ------------------------------------------------------------ the sidecar

interface Sidecar {
  proc: ChildProcess;
  pid: number;
  dataDir: string;
  otlp: string;
  api: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startSidecar(): Promise<Sidecar> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keytally-memory-'));
  const args = ['serve', '--data', dataDir, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0', '--ack', 'durable', '--log-level', 'warn', ...serverArgs];
  const c = sidecarCommand(args, NODE_ARGS);
  const proc = spawn(c.command, c.args, { cwd: ROOT, env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (TRACE_HEAP) appendFileSync(TRACE_HEAP, d);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => (children.delete(proc), resolve(code))));
  const ports = await new Promise<{ otlp: number; api: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keytally did not print its listening line in 30 s:\n${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /keytally listening otlp=(\d+) api=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ otlp: Number(m[1]), api: Number(m[2]) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`keytally exited with ${code} before listening:\n${err}`));
    });
  });
  return { proc, pid: proc.pid!, dataDir, otlp: `http://127.0.0.1:${ports.otlp}`, api: `http://127.0.0.1:${ports.api}`, stderr: () => err, exited };
}

/** Every child this process started, killed if the bench dies half-way. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => process.exit(130));
}

async function stopSidecar(k: Sidecar): Promise<number | null> {
  if (k.proc.exitCode === null && k.proc.signalCode === null) k.proc.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(r, 60_000, 'timeout').unref());
  const code = await Promise.race([k.exited, timeout]);
  if (code === 'timeout') {
    k.proc.kill('SIGKILL');
    throw new Error('keytally did not exit within 60 s of SIGTERM');
  }
  return code;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

async function api(k: Sidecar, path: string): Promise<any> {
  const r = await fetch(`${k.api}${path}`);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

// ------------------------------------------------------------ sending

interface SendStats {
  requests: number;
  bytes: number;
  retries: number;
}

/**
 * Sends the requests made by `make(i)`, i < n, over `CONCURRENCY` senders. With
 * durable acks a 200 means committed. 429/503 (backpressure) are retried after a
 * growing pause, a bounded number of times.
 */
async function sendAll(k: Sidecar, n: number, make: (i: number) => Buffer, stats: SendStats, deadline: number): Promise<void> {
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < n; i = next++) {
      const body = make(i);
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error('deadline passed while sending');
        const r = await fetch(`${k.otlp}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        const text = await r.text();
        if (r.status === 200) break;
        if ((r.status === 429 || r.status === 503) && attempt < 200) {
          stats.retries++;
          await new Promise((res) => setTimeout(res, Math.min(1000, 20 * (attempt + 1))));
          continue;
        }
        throw new Error(`request ${i}: HTTP ${r.status} ${text.slice(0, 500)}`);
      }
      stats.requests++;
      stats.bytes += body.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
}

// ------------------------------------------------------------ checks

interface KeyItem {
  service: string;
  scope: string;
  key: string;
  cardinality_estimate: number;
}

/** Every key row, paged (the API caps a page at 10,000). */
async function allKeys(k: Sidecar): Promise<KeyItem[]> {
  const out: KeyItem[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const page = (await api(k, `/api/v1/keys?sort=service&order=asc&limit=10000&offset=${offset}`)) as { items: KeyItem[]; total: number };
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}

/** Probability that a standard normal is above z in absolute value. */
function twoSidedTail(z: number): number {
  // Abramowitz-Stegun 7.1.26 erfc approximation (|error| < 1.5e-7), plenty for a threshold.
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * Math.exp(-x * x);
}

interface Accuracy {
  failures: string[];
  lowExact: number;
  lowOff: number;
  highMeanErr: number;
  highSdErr: number;
  highMaxZ: number;
  highOver3: number;
  zLimit: number;
}

/**
 * Low-cardinality keys must be exact, except that two values can share their
 * top 25 hash bits (sparse linear counting then counts one less): about
 * n^2 / 2^26 per key, ~1.2 keys expected of 100,000, so a handful off by one or
 * two is allowed and counted.
 *
 * High-cardinality keys: each estimate is off by N(0, SE) with SE = 1.04/sqrt(2^14)
 * = 0.81%, independently (every key has its own values). "Within 3 SE" for each
 * of 1,000 keys would fail 93% of correct runs (0.27% of keys are beyond 3 SE
 * by chance, 2.7 expected), so the per-key bound is the Bonferroni one for a 1%
 * false-failure rate over all keys (4.4 SE for 1,000), and the number beyond
 * 3 SE and the mean error (bias) are checked against what chance allows.
 */
function checkAccuracy(items: KeyItem[]): Accuracy {
  const failures: string[] = [];
  const se = standardError(PRECISION);
  const expectedTotal = LOW_SERVICES * LOW_KEYS + HIGH_SERVICES * HIGH_KEYS + LOW_SERVICES + HIGH_SERVICES;
  if (items.length !== expectedTotal) failures.push(`${items.length} key rows, expected ${expectedTotal}`);
  let lowSeen = 0, lowExact = 0, lowOff = 0;
  const errs: number[] = [];
  let maxZ = 0;
  let over3 = 0;
  const nHigh = HIGH_SERVICES * HIGH_KEYS;
  let zLimit = 3;
  while (twoSidedTail(zLimit) * nHigh > 0.01) zLimit += 0.01;
  for (const it of items) {
    const est = it.cardinality_estimate;
    if (it.scope === 'resource') {
      if (it.key !== 'service.name' || est !== 1) failures.push(`resource key ${it.service}/${it.key}: estimate ${est}, expected 1`);
      continue;
    }
    let m = /^lsvc-(\d{3})$/.exec(it.service);
    if (m) {
      const km = /^lk\.(\d{4})$/.exec(it.key);
      if (it.scope !== 'log' || !km) {
        failures.push(`unexpected key ${it.service}/${it.scope}/${it.key}`);
        continue;
      }
      lowSeen++;
      const truth = lowTrue(Number(m[1]), Number(km[1]));
      if (est === truth) lowExact++;
      else if (est < truth && est >= truth - 2) lowOff++;
      else failures.push(`low key ${it.service}/${it.key}: estimate ${est}, true ${truth}`);
      continue;
    }
    m = /^hsvc-(\d{2})$/.exec(it.service);
    if (m && /^hk\.\d{2}$/.test(it.key) && it.scope === 'log') {
      const err = est / HIGH_VALUES - 1;
      errs.push(err);
      const z = Math.abs(err) / se;
      maxZ = Math.max(maxZ, z);
      if (z > 3) over3++;
      if (z > zLimit) failures.push(`high key ${it.service}/${it.key}: estimate ${est}, ${(err * 100).toFixed(2)}% = ${z.toFixed(2)} SE off (limit ${zLimit.toFixed(2)})`);
      continue;
    }
    failures.push(`unexpected key ${it.service}/${it.scope}/${it.key}`);
  }
  if (lowSeen !== LOW_SERVICES * LOW_KEYS) failures.push(`${lowSeen} low-cardinality keys, expected ${LOW_SERVICES * LOW_KEYS}`);
  if (lowOff > 10) failures.push(`${lowOff} low-cardinality keys not exact (about 1 expected from hash collisions)`);
  if (errs.length !== nHigh) failures.push(`${errs.length} high-cardinality keys, expected ${nHigh}`);
  const mean = errs.reduce((a, b) => a + b, 0) / Math.max(1, errs.length);
  const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, errs.length - 1));
  // Beyond 3 SE: Poisson with mean 0.0027 n; more than mean + 4 sqrt(mean) + 3 is far past chance.
  const expOver3 = twoSidedTail(3) * nHigh;
  if (over3 > expOver3 + 4 * Math.sqrt(expOver3) + 3) failures.push(`${over3} high keys beyond 3 SE, ~${expOver3.toFixed(1)} expected by chance`);
  // The mean of n independent errors has SE / sqrt(n); a bias beyond 4 of those is the estimator, not chance.
  if (errs.length > 0 && Math.abs(mean) > (4 * se) / Math.sqrt(errs.length)) failures.push(`mean error ${(mean * 100).toFixed(3)}% is a bias`);
  return { failures, lowExact, lowOff, highMeanErr: mean, highSdErr: sd, highMaxZ: maxZ, highOver3: over3, zLimit };
}

// ------------------------------------------------------------ one run

interface RunResult {
  idle: ProcMemory;
  afterLow: ProcMemory;
  afterAll: ProcMemory;
  peakRss: number;
  peakSampled: number;
  keys: number;
  lowSeconds: number;
  highSeconds: number;
  wallSeconds: number;
  dbLive: number;
  dbStopped: number;
  sent: SendStats;
  acc: Accuracy;
  settled: boolean;
  exitCode: number | null;
}

const fmtMb = (b: number) => `${(b / MB).toFixed(1)} MB`;
const memLine = (m: ProcMemory) => `${fmtMb(m.rss)} (anon ${fmtMb(m.anon)}, file ${fmtMb(m.file)}, ${m.threads} threads)`;

async function run(n: number, low: LogTemplate, high: LogTemplate): Promise<RunResult> {
  const t0 = Date.now();
  const deadline = t0 + DEADLINE_MS;
  const k = await startSidecar();
  const sampler = new MemorySampler(k.pid);
  try {
    sampler.start();
    // Idle: after start-up allocations, before any request.
    const idle = (await sampler.settle(2000, 1 * MB, 15_000)).mem;
    const sent: SendStats = { requests: 0, bytes: 0, retries: 0 };

    const tLow = Date.now();
    await sendAll(k, LOW_SERVICES, (s) => lowRequest(low, s), sent, deadline);
    const lowSeconds = (Date.now() - tLow) / 1000;
    const afterLow = (await sampler.settle()).mem;

    const tHigh = Date.now();
    const chunks = Math.ceil(HIGH_VALUES / HIGH_RECORDS);
    await sendAll(k, chunks * HIGH_SERVICES, (i) => highRequest(high, i % HIGH_SERVICES, Math.floor(i / HIGH_SERVICES)), sent, deadline);
    const highSeconds = (Date.now() - tHigh) / 1000;
    const settledAll = await sampler.settle();
    const afterAll = settledAll.mem;

    // Durable acks: every 200 above was committed, so the API sees everything now.
    const items = await allKeys(k);
    const acc = checkAccuracy(items);
    const dbLive = dirBytes(k.dataDir);
    sampler.sample();
    const peakSampled = sampler.maxRss;
    const peakRss = Math.max(sampler.last?.hwm ?? 0, peakSampled);
    sampler.stop();
    const exitCode = await stopSidecar(k);
    if (exitCode !== 0) acc.failures.push(`keytally exited with ${exitCode} on SIGTERM: ${k.stderr().slice(-2000)}`);
    const dbStopped = dirBytes(k.dataDir);
    const r: RunResult = {
      idle, afterLow, afterAll, peakRss, peakSampled, keys: items.length, lowSeconds, highSeconds,
      wallSeconds: (Date.now() - t0) / 1000, dbLive, dbStopped, sent, acc, settled: settledAll.settled, exitCode,
    };
    printRun(n, r);
    return r;
  } finally {
    sampler.stop();
    if (children.has(k.proc)) await stopSidecar(k).catch(() => k.proc.kill('SIGKILL'));
    rmSync(k.dataDir, { recursive: true, force: true });
  }
}

function printRun(n: number, r: RunResult): void {
  const lowKeys = LOW_SERVICES * LOW_KEYS + LOW_SERVICES;
  const a = r.acc;
  console.log(`run ${n}: ${r.wallSeconds.toFixed(1)} s wall (low ${r.lowSeconds.toFixed(1)} s, high ${r.highSeconds.toFixed(1)} s), ${r.sent.requests} requests, ${fmtMb(r.sent.bytes)} sent, ${r.sent.retries} retries`);
  console.log(`  idle RSS          ${memLine(r.idle)}`);
  console.log(`  after low keys    ${memLine(r.afterLow)}  -> ${((r.afterLow.rss - r.idle.rss) / lowKeys).toFixed(0)} B per low key`);
  console.log(`  after all keys    ${memLine(r.afterAll)}${r.settled ? '' : ' (still moving after 20 s)'}`);
  console.log(`  peak RSS          ${fmtMb(r.peakRss)} (VmHWM; largest 50 ms sample ${fmtMb(r.peakSampled)})`);
  console.log(`  bytes per key     ${((r.afterAll.rss - r.idle.rss) / r.keys).toFixed(0)} over all ${r.keys.toLocaleString()} keys; ${((r.afterAll.rss - r.afterLow.rss) / (HIGH_SERVICES * HIGH_KEYS)).toFixed(0)} per high key`);
  console.log(`  DB size           ${fmtMb(r.dbLive)} live (with WAL), ${fmtMb(r.dbStopped)} after SIGTERM`);
  console.log(`  estimates         low: ${a.lowExact.toLocaleString()} exact, ${a.lowOff} one or two under (hash collision); high: mean error ${(a.highMeanErr * 100).toFixed(3)}%, sd ${(a.highSdErr * 100).toFixed(3)}% (SE ${(standardError(PRECISION) * 100).toFixed(3)}%), max ${a.highMaxZ.toFixed(2)} SE, ${a.highOver3} beyond 3 SE`);
  for (const f of a.failures.slice(0, 20)) console.log(`  FAIL ${f}`);
  if (a.failures.length > 20) console.log(`  ... and ${a.failures.length - 20} more failures`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ------------------------------------------------------------ main

const low = lowTemplate();
const high = highTemplate();
console.log(
  `keytally memory bench: node ${process.version}, ${LOW_SERVICES} x ${LOW_KEYS} low-cardinality keys (1..${LOW_MAX} values), ` +
    `${HIGH_SERVICES} x ${HIGH_KEYS} high-cardinality keys (${HIGH_VALUES.toLocaleString()} values), ${CONCURRENCY} senders, ` +
    `requests of ${fmtMb(low.bytes.length)} (low) and ${fmtMb(high.bytes.length)} (high), serve flags: ${['--ack durable', ...serverArgs].join(' ')}, load ${loadavg()[0]!.toFixed(2)}`,
);
if (TRACE_HEAP) console.log(`per-thread heap trace: ${TRACE_HEAP}`);
const results: RunResult[] = [];
for (let i = 1; i <= RUNS; i++) results.push(await run(i, low, high));

const med = (f: (r: RunResult) => number) => median(results.map(f));
console.log('');
console.log(`median of ${RUNS} run(s):`);
console.log(`  peak RSS        ${fmtMb(med((r) => r.peakRss))} (limit ${LIMIT_MB} MB)`);
console.log(`  idle RSS        ${fmtMb(med((r) => r.idle.rss))}`);
console.log(`  RSS after       ${fmtMb(med((r) => r.afterAll.rss))}`);
console.log(`  bytes per key   ${med((r) => (r.afterAll.rss - r.idle.rss) / r.keys).toFixed(0)} (${med((r) => r.keys).toLocaleString()} keys)`);
console.log(`  per low key     ${med((r) => (r.afterLow.rss - r.idle.rss) / (LOW_SERVICES * LOW_KEYS + LOW_SERVICES)).toFixed(0)} B, per high key ${med((r) => (r.afterAll.rss - r.afterLow.rss) / (HIGH_SERVICES * HIGH_KEYS)).toFixed(0)} B`);
console.log(`  DB size         ${fmtMb(med((r) => r.dbStopped))} after SIGTERM (${fmtMb(med((r) => r.dbLive))} live)`);
console.log(`  wall time       ${med((r) => r.wallSeconds).toFixed(1)} s (sending: low ${med((r) => r.lowSeconds).toFixed(1)} s, high ${med((r) => r.highSeconds).toFixed(1)} s)`);

let failed = false;
for (const [i, r] of results.entries()) {
  if (r.peakRss > LIMIT_MB * MB) {
    console.error(`FAIL run ${i + 1}: peak RSS ${fmtMb(r.peakRss)} is over ${LIMIT_MB} MB`);
    failed = true;
  }
  if (r.acc.failures.length > 0) {
    console.error(`FAIL run ${i + 1}: ${r.acc.failures.length} estimate/key check(s) failed (listed above)`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log('OK');
