/**
 * Decode benchmark: records/s for OTLP protobuf log batches of 512 records,
 * keytally's hand-written decoder against the protobufjs generated decoder
 * shipped in @opentelemetry/otlp-transformer, in the same process and run.
 * Also reports the OTLP/JSON decoder on the same batches for reference.
 *
 *   npm run build && node dist/bench/decode.js [--runs 7] [--ms 1000]
 *
 * Each run measures every decoder for ~ms milliseconds over 16 distinct
 * batches (interleaved, so drift hits all alike); the medians over runs are
 * printed last.
 */
import { decodeLogs as decodeLogsJson } from '../src/decode/otlp-json.js';
import { decodeLogs } from '../src/decode/otlp-proto.js';
import { exportType } from './otlp-reference.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run build && node dist/bench/decode.js [--runs 7] [--ms 1000]
  protobuf and JSON decoding of log batches against protobufjs`, { values: ['runs', 'ms'] });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const LogsReq: Any = exportType('logs');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('--runs', 7);
const MS = arg('--ms', 1000);
const RECORDS = 512;
const BATCHES = 16;

let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
const str = (s: string) => ({ stringValue: s });

const ROUTES = ['/api/users/{id}', '/api/orders', '/health', '/api/cart/{id}/items', '/login'];
const BODIES = [
  () => `Request ${pick(['GET', 'POST'])} ${pick(ROUTES)} completed in ${Math.floor(rand() * 900)}ms status=${pick([200, 201, 404, 500])}`,
  () => `User ${Math.floor(rand() * 1e6)} logged in from 10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`,
  () => `Cache miss for key session:${Math.floor(rand() * 1e9).toString(16)}`,
  () => `Connection pool exhausted, waiting ${Math.floor(rand() * 100)}ms (active=${Math.floor(rand() * 50)}, idle=0)`,
  () => `Payment ${crypto.randomUUID()} authorised for €${(rand() * 500).toFixed(2)}`,
];

function batch(): Uint8Array {
  const svc = pick(['checkout', 'cart', 'frontend', 'payments']);
  const logRecords = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < RECORDS; i++) {
    const attributes: Any[] = [
      { key: 'http.method', value: str(pick(['GET', 'POST', 'PUT'])) },
      { key: 'http.route', value: str(pick(ROUTES)) },
      { key: 'http.status_code', value: { intValue: pick([200, 201, 404, 500]) } },
      { key: 'user.id', value: str(`user-${Math.floor(rand() * 100000)}`) },
      { key: 'duration_ms', value: { doubleValue: rand() * 1000 } },
    ];
    const extra = Math.floor(rand() * 6);
    const pool = [
      { key: 'thread.name', value: str(`worker-${Math.floor(rand() * 16)}`) },
      { key: 'code.function', value: str(pick(['handle', 'authorize', 'lookup'])) },
      { key: 'retry', value: { boolValue: rand() < 0.1 } },
      { key: 'net.peer.ip', value: str(`10.0.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`) },
      { key: 'tenant', value: str(pick(['acme', 'globex', 'initech'])) },
    ];
    for (let j = 0; j < extra; j++) attributes.push(pool[j]!);
    logRecords.push({
      timeUnixNano: String(now + BigInt(i) * 1000n),
      observedTimeUnixNano: String(now + BigInt(i) * 1000n + 500n),
      severityNumber: pick([9, 9, 9, 13, 17]),
      severityText: pick(['INFO', 'INFO', 'WARN', 'ERROR']),
      body: str(pick(BODIES)()),
      attributes,
      traceId: crypto.getRandomValues(new Uint8Array(16)),
      spanId: crypto.getRandomValues(new Uint8Array(8)),
      flags: 1,
    });
  }
  const req = {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str(svc) },
            { key: 'service.version', value: str('1.4.2') },
            { key: 'host.name', value: str(`ip-10-0-1-${Math.floor(rand() * 255)}`) },
            { key: 'k8s.pod.name', value: str(`${svc}-7f9c8d-${Math.floor(rand() * 1e5).toString(36)}`) },
            { key: 'telemetry.sdk.language', value: str('java') },
          ],
        },
        scopeLogs: [{ scope: { name: 'io.opentelemetry.logback', version: '2.1.0' }, logRecords }],
      },
    ],
  };
  return LogsReq.encode(LogsReq.fromObject(req)).finish();
}

const batches = Array.from({ length: BATCHES }, batch);
const jsonBatches = batches.map((b) =>
  new TextEncoder().encode(JSON.stringify(LogsReq.toObject(LogsReq.decode(b), { longs: String, bytes: String, json: true }))),
);

// Keep results alive so nothing is optimised away.
let sink = 0;
const decoders: Record<string, (i: number) => void> = {
  keytally: (i) => {
    sink += decodeLogs(batches[i]!).resources.length;
  },
  protobufjs: (i) => {
    sink += LogsReq.decode(batches[i]!).resourceLogs.length;
  },
  'keytally-json': (i) => {
    sink += decodeLogsJson(jsonBatches[i]!).resources.length;
  },
};

/** Records per second for one decoder over ~ms milliseconds. */
function measure(fn: (i: number) => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < BATCHES; k++) fn(k);
    n += BATCHES;
    t = performance.now();
  }
  return (n * RECORDS) / ((t - t0) / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const avgBytes = batches.reduce((a, b) => a + b.length, 0) / BATCHES;
console.log(`node ${process.version}; ${BATCHES} batches x ${RECORDS} log records, ${Math.round(avgBytes)} bytes/batch protobuf`);

// Warm-up so every decoder is optimised before the first measured run.
for (const fn of Object.values(decoders)) measure(fn, 300);

const results: Record<string, number[]> = {};
const ratios: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const line: string[] = [];
  const r: Record<string, number> = {};
  for (const [name, fn] of Object.entries(decoders)) {
    r[name] = measure(fn, MS);
    (results[name] ??= []).push(r[name]);
    line.push(`${name} ${(r[name] / 1e6).toFixed(2)} M rec/s`);
  }
  ratios.push(r.keytally! / r.protobufjs!);
  console.log(`run ${run}: ${line.join(', ')}, ratio ${(r.keytally! / r.protobufjs!).toFixed(2)}x`);
}
console.log('--- medians');
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(14)} ${(median(xs) / 1e6).toFixed(2)} M records/s`);
console.log(`keytally / protobufjs: ${median(ratios).toFixed(2)}x (median of per-run ratios)`);
if (sink === 0) console.log('');
