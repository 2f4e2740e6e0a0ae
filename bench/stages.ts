/**
 * A worker's stages, in process, on the load bench's own request pool: CPU
 * time per record of decompress, decode (to the object tree), fold (walk the
 * tree into the delta map: extract, mine, hash into sketches), the one-pass
 * path that does decode and fold together (what a worker runs), and flush (delta
 * map to a msgpack batch, as sent to the writer). And the transient heap of
 * one request: what a worker holds above its steady state while it decodes
 * and folds a request, against the request's protobuf size, per signal.
 *
 *   npm run build && npm run bench:stages --  [--mix logs=1] [--gzip] [--batch 512] [--requests 400] [--runs 5]
 *
 * Heap: what stays reachable while a request is processed (live data is what
 * V8 promotes to the old generation and what grows a worker's RSS; garbage
 * dies in the young generation). The tree path's is the decoded tree: heap
 * in use after decode minus before, forced GCs around it. The one-pass path's
 * is the most heap in use after a forced GC at every 64th record, minus
 * before (the delta map's own growth included).
 *
 * The reading has an absolute noise floor of about 200 KB (what a gc() leaves of
 * floating garbage varies from sample to sample: heap snapshots taken at records the
 * reading put at 1.5–3x of a 120 KB request found 0.2x or less), so the worst of 20
 * small requests can read above 1.5x while none is. Quote the bound on requests of the
 * size it is about, e.g. `--batch 8192` (2 MB): there the worst reads 0.1–0.2x.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { Packr } from 'msgpackr';
import { decodeRequest } from '../src/decode/index.js';
import { decompress } from '../src/decode/decompress.js';
import { streamLogs, streamMetrics, streamTraces, type LogsSink, type MetricsSink, type TracesSink } from '../src/decode/otlp-proto.js';
import { Extractor, type LogsResourceFold, type MetricAcc, type MetricsResourceFold, type TracesResourceFold } from '../src/extract/extractor.js';
import type { Signal } from '../src/model/otlp.js';
import { createKeyedHasher } from '../src/sketch/hash.js';
import { buildPool } from './load/encode.js';
import { parseMix } from './load/options.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:stages -- [--mix logs=1] [--gzip] [--batch 512] [--requests 400] [--runs 5]
  a worker's stages in process: CPU per record and the transient heap of one request`, { values: ['mix', 'batch', 'requests', 'runs'], flags: ['gzip'] });

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
let hashBytesOf: ((u: Uint8Array, out: Uint32Array) => void) | undefined;

/**
 * The body as a view, not a copy: `new Uint8Array(buffer)` of a Buffer copies it, which this bench used to charge to
 * "decompress" (231 ns per record of an uncompressed body). A worker gets its body as a transferred ArrayBuffer and views it.
 */
const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/**
 * Heap in use by data: every V8 space but the code spaces. The first requests a fresh extractor folds make V8
 * compile the hot functions again (120–220 KB of code space measured between two samples), which heapUsed counts
 * and which made the one-pass peak read 1.4–2.6x on requests whose data peak was under 1x; code is not the request's.
 */
const dataHeap = () => {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (!s.space_name.startsWith('code_') && s.space_name !== 'read_only_space') n += s.space_used_size;
  return n;
};
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

async function main(): Promise<void> {
  const pool = buildPool({ mix: MIX, count: REQUESTS, batch: BATCH, format: 'protobuf', gzip: GZIP, seed: 1 });
  const records = pool.bodies.reduce((a, b) => a + b.records, 0);
  const hasher = await createKeyedHasher(7n);
  const extractorOpts = { workerId: 1, precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096 };
  hashBytesOf = (u: Uint8Array, out: Uint32Array) => hasher.hashBytes(u, out);
  const packr = new Packr({ useRecords: true, moreTypes: false });
  const opts = { maxAttributes: 256 };
  console.log(`stages: ${pool.bodies.length} protobuf requests${GZIP ? ' (gzip)' : ''}, ${records} records, mix ${JSON.stringify(MIX)}, ${RUNS} runs (ns of CPU per record, medians)`);

  const t = { decompress: [] as number[], decode: [] as number[], fold: [] as number[], onePass: [] as number[], flush: [] as number[] };
  const now = Date.now();
  for (let run = 0; run < RUNS; run++) {
    const inflated = pool.bodies.map((b) => ({ signal: b.signal, raw: decompress(view(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024) }));
    let c = cpuNs();
    for (const b of pool.bodies) decompress(view(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024);
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

    // The worker's path: every signal in one pass.
    const one = new Extractor(hasher, extractorOpts);
    c = cpuNs();
    for (const b of inflated) onePass(one, b.signal, b.raw, now);
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
  console.log(`  decode+fold, one pass  ${f(t.onePass)} ns/record   (streamLogs, streamMetrics, streamTraces: what a worker runs)`);
  console.log(`  flush + msgpack        ${f(t.flush)} ns/record`);
  console.log(`  ratio one pass / tree  ${(median(t.onePass) / (median(t.decode) + median(t.fold))).toFixed(2)}`);

  if (!gc) {
    console.log('heap: run with node --expose-gc for the transient heap per request');
    return;
  }
  // Transient heap of one request per signal: the tree against the one-pass path.
  for (const signal of ['logs', 'metrics', 'traces'] as const) {
    const sample = pool.bodies.filter((b) => b.signal === signal).slice(0, 20);
    if (sample.length === 0) continue;
    const treeRatios: number[] = [];
    const oneRatios: number[] = [];
    let worstBytes = 0;
    const ex = new Extractor(hasher, extractorOpts);
    for (const b of sample) {
      const raw = decompress(view(b.body), GZIP ? 'gzip' : '', 64 * 1024 * 1024);
      // Fold this request once first, so what is measured is transient, not the delta map growing.
      onePass(ex, signal, raw, now);
      // The tree: heap with it reachable minus heap once it is dropped.
      let req: unknown = decodeRequest(signal, 'protobuf', raw, opts);
      gc();
      const withTree = dataHeap();
      req = undefined;
      gc();
      const base = dataHeap();
      treeRatios.push((withTree - base) / raw.byteLength);
      // One pass: the most heap reachable at any sampled record (every 64th), minus the same base.
      let peak = base;
      let n = 0;
      const sample = () => {
        if ((++n & 63) === 0) {
          gc!();
          const h = dataHeap();
          if (h > peak) peak = h;
        }
      };
      onePass(ex, signal, raw, now, sample);
      oneRatios.push((peak - base) / raw.byteLength);
      worstBytes = Math.max(worstBytes, peak - base);
      void req;
    }
    const size = sample.reduce((a, b) => a + b.body.byteLength, 0) / sample.length;
    console.log(`heap, ${signal}: transient heap per request / its protobuf size (${sample.length} requests of ${(size / 1024).toFixed(0)} KB${GZIP ? ' gzip' : ''}):`);
    console.log(`  tree (decoded request)  ${median(treeRatios).toFixed(2)}x`);
    console.log(`  one pass (peak)         ${median(oneRatios).toFixed(2)}x   (max over requests ${Math.max(...oneRatios).toFixed(2)}x = ${(worstBytes / 1024).toFixed(0)} KB; tree max ${Math.max(...treeRatios).toFixed(2)}x)`);
  }
}

/** What a worker runs for one protobuf request; `each` (the heap probe) runs after every record folded. */
function onePass(ex: Extractor, signal: Signal, raw: Uint8Array, now: number, each?: () => void): void {
  const opts = { maxAttributes: 256 };
  if (signal === 'logs') {
    const inner = ex.logsSink(now);
    const sink: LogsSink<LogsResourceFold> = each
      ? { resource: (a) => inner.resource(a), record: (s, rec) => (inner.record(s, rec), each()), endResource: (s) => inner.endResource(s), rawBodies: inner.rawBodies }
      : inner;
    streamLogs(raw, opts, sink, hashBytesOf!);
    inner.result();
  } else if (signal === 'metrics') {
    const inner = ex.metricsSink(now);
    const sink: MetricsSink<MetricsResourceFold, MetricAcc> = each
      ? { resource: (a) => inner.resource(a), metric: (s, m, n) => inner.metric(s, m, n), point: (s, m, p) => (inner.point(s, m, p), each()), endResource: (s) => inner.endResource(s) }
      : inner;
    streamMetrics(raw, opts, sink);
    inner.result();
  } else {
    const inner = ex.tracesSink(now);
    const sink: TracesSink<TracesResourceFold> = each
      ? { resource: (a) => inner.resource(a), span: (s, sp) => (inner.span(s, sp), each()), endResource: (s) => inner.endResource(s) }
      : inner;
    streamTraces(raw, opts, sink, hashBytesOf!);
    inner.result();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
