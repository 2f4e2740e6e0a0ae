/**
 * A worker's stages, in process, on the load bench's own request pool: CPU
 * time per record of decompress, decode (to the object tree), fold (walk the
 * tree into the delta map: extract, mine, hash into sketches), the one-pass
 * path that does decode and fold together (protobuf logs), and flush (delta
 * map to a msgpack batch, as sent to the writer). And the transient heap of
 * one request: what a worker holds above its steady state while it decodes
 * and folds a request, against the request's protobuf size.
 *
 *   npm run build && npm run bench:stages --  [--mix logs=1] [--gzip] [--batch 512] [--requests 400] [--runs 5]
 *
 * Heap: what stays reachable while a request is processed (live data is what
 * V8 promotes to the old generation and what grows a worker's RSS; garbage
 * dies in the young generation). The tree path's is the decoded tree: heap
 * in use after decode minus before, forced GCs around it. The one-pass path's
 * is the most heap in use after a forced GC at every 256th record, minus
 * before (the delta map's own growth included).
 */
import { Packr } from 'msgpackr';
import { decodeRequest } from '../src/decode/index.js';
import { decompress } from '../src/decode/decompress.js';
import { streamLogs, type LogsSink } from '../src/decode/otlp-proto.js';
import { Extractor, type LogsResourceFold } from '../src/extract/extractor.js';
import { createKeyedHasher } from '../src/sketch/hash.js';
import { buildPool } from './load/encode.js';
import { parseMix } from './load/options.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const MIX = parseMix(opt('mix', 'logs=1,metrics=0,traces=0'));
const GZIP = argv.includes('--gzip');
const BATCH = Number(opt('batch', '512'));
const REQUESTS = Number(opt('requests', '400'));
const RUNS = Number(opt('runs', '5'));
const gc = (globalThis as { gc?: () => void }).gc;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

async function main(): Promise<void> {
  const pool = buildPool({ mix: MIX, count: REQUESTS, batch: BATCH, format: 'protobuf', gzip: GZIP, seed: 1 });
  const records = pool.bodies.reduce((a, b) => a + b.records, 0);
  const hasher = await createKeyedHasher(7n);
  const extractorOpts = { workerId: 1, precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096 };
  const hashBytes = (u: Uint8Array, out: Uint32Array) => hasher.hashBytes(u, out);
  const packr = new Packr({ useRecords: true, moreTypes: false });
  const opts = { maxAttributes: 256 };
  console.log(`stages: ${pool.bodies.length} protobuf requests${GZIP ? ' (gzip)' : ''}, ${records} records, mix ${JSON.stringify(MIX)}, ${RUNS} runs (ns of CPU per record, medians)`);

  const t = { decompress: [] as number[], decode: [] as number[], fold: [] as number[], onePass: [] as number[], flush: [] as number[] };
  const now = Date.now();
  for (let run = 0; run < RUNS; run++) {
    const inflated = pool.bodies.map((b) => ({ signal: b.signal, raw: decompress(new Uint8Array(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024) }));
    let c = cpuNs();
    for (const b of pool.bodies) decompress(new Uint8Array(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024);
    t.decompress.push((cpuNs() - c) / records);

    c = cpuNs();
    const trees = inflated.map((b) => decodeRequest(b.signal, 'protobuf', b.raw, opts));
    t.decode.push((cpuNs() - c) / records);

    const tree = new Extractor(hasher, extractorOpts);
    c = cpuNs();
    for (let i = 0; i < trees.length; i++) {
      const s = inflated[i]!.signal;
      if (s === 'logs') tree.foldLogs(trees[i] as never, now);
      else if (s === 'metrics') tree.foldMetrics(trees[i] as never, now);
      else tree.foldTraces(trees[i] as never, now);
    }
    t.fold.push((cpuNs() - c) / records);
    trees.length = 0;

    // The worker's path: logs in one pass, metrics and traces through the tree.
    const one = new Extractor(hasher, extractorOpts);
    c = cpuNs();
    for (const b of inflated) {
      if (b.signal === 'logs') {
        const sink = one.logsSink(now);
        streamLogs(b.raw, opts, sink, hashBytes);
        sink.result();
      } else if (b.signal === 'metrics') one.foldMetrics(decodeRequest('metrics', 'protobuf', b.raw, opts), now);
      else one.foldTraces(decodeRequest('traces', 'protobuf', b.raw, opts), now);
    }
    t.onePass.push((cpuNs() - c) / records);

    c = cpuNs();
    const batch = one.flush();
    packr.pack(batch);
    t.flush.push((cpuNs() - c) / records);
    tree.flush();
  }
  const f = (xs: number[]) => median(xs).toFixed(0).padStart(6);
  console.log(`  decompress             ${f(t.decompress)} ns/record`);
  console.log(`  decode (tree)          ${f(t.decode)} ns/record`);
  console.log(`  fold (tree walk)       ${f(t.fold)} ns/record   (extract, mine, hash into sketches)`);
  console.log(`  decode+fold, tree      ${(median(t.decode) + median(t.fold)).toFixed(0).padStart(6)} ns/record`);
  console.log(`  decode+fold, one pass  ${f(t.onePass)} ns/record   (protobuf logs in one pass; metrics, traces through the tree)`);
  console.log(`  flush + msgpack        ${f(t.flush)} ns/record`);
  console.log(`  ratio one pass / tree  ${(median(t.onePass) / (median(t.decode) + median(t.fold))).toFixed(2)}`);

  if (!gc) {
    console.log('heap: run with node --expose-gc for the transient heap per request');
    return;
  }
  // Transient heap of one request, logs only (the one-pass path).
  const logs = pool.bodies.filter((b) => b.signal === 'logs').slice(0, 20);
  if (logs.length === 0) return;
  const treeRatios: number[] = [];
  const oneRatios: number[] = [];
  const ex = new Extractor(hasher, extractorOpts);
  for (const b of logs) {
    const raw = decompress(new Uint8Array(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024);
    // Fold this request once first, so what is measured is transient, not the delta map growing.
    ex.foldLogs(decodeRequest('logs', 'protobuf', raw, opts), now);
    // The tree: heap with it reachable minus heap once it is dropped.
    let req: unknown = decodeRequest('logs', 'protobuf', raw, opts);
    gc();
    const withTree = process.memoryUsage().heapUsed;
    ex.foldLogs(req as never, now);
    req = undefined;
    gc();
    const base = process.memoryUsage().heapUsed;
    treeRatios.push((withTree - base) / raw.byteLength);
    // One pass: the most heap reachable at any sampled record, minus the same base.
    let peak = base;
    let n = 0;
    const inner = ex.logsSink(now);
    const sink: LogsSink<LogsResourceFold> = {
      resource: (a) => inner.resource(a),
      record: (s, rec) => {
        inner.record(s, rec);
        if ((++n & 255) === 0) {
          gc();
          const h = process.memoryUsage().heapUsed;
          if (h > peak) peak = h;
        }
      },
      endResource: (s) => inner.endResource(s),
    };
    streamLogs(raw, opts, sink, hashBytes);
    oneRatios.push((peak - base) / raw.byteLength);
  }
  const size = logs.reduce((a, b) => a + b.body.byteLength, 0) / logs.length;
  console.log(`heap: transient heap per request / its protobuf size (${logs.length} log requests of ${(size / 1024).toFixed(0)} KB${GZIP ? ' gzip' : ''}):`);
  console.log(`  tree (decoded request)  ${median(treeRatios).toFixed(2)}x`);
  console.log(`  one pass (peak)         ${median(oneRatios).toFixed(2)}x`);
  console.log(`  (max over requests: tree ${Math.max(...treeRatios).toFixed(2)}x, one pass ${Math.max(...oneRatios).toFixed(2)}x)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
