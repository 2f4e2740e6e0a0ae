/**
 * Memory of the writer's long-lived sketches (issue 4, point 4).
 *
 * Builds, in this one process and the way the writer holds them (a Map from entity
 * key to Hll, fed only by merging serialized worker deltas):
 *   - 100,000 low-cardinality (service, key) sketches, 1..50 distinct values each,
 *     each value reaching the writer in several deltas from several workers;
 *   - 1,000 high-cardinality sketches of 100,000 distinct values each, arriving as
 *     per-flush worker deltas of 10,000 values.
 * Then reports RSS (current and peak) and bytes per key, and exits 1 if the peak RSS
 * is over the limit (300 MB, or --limit-mb N).
 *
 *   npm run build && npm run bench:memory
 *
 * Values are hashed with a cheap integer mixer instead of the keyed xxhash64: the
 * memory held does not depend on which 64-bit hash fills the sketch, and 100M keyed
 * hashes would only make this run minutes long (hash speed is in bench/hll.ts).
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_PRECISION, Hll } from '../src/sketch/hll.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:memory -- [--limit-mb 300]
  the writer's sketches alone: 100,000 low- and 1,000 high-cardinality keys`, { values: ['limit-mb'] });

const LOW_KEYS = 100_000;
const LOW_MAX_VALUES = 50;
const HIGH_KEYS = 1_000;
const HIGH_VALUES = 100_000;
const HIGH_PER_DELTA = 10_000;
const WORKERS = 4;

const limitArg = process.argv.indexOf('--limit-mb');
const LIMIT_MB = limitArg > 0 ? Number(process.argv[limitArg + 1]) : 300;

// A full GC before each reading, so the figures are live memory rather than garbage
// from the deltas (the flag must be set before the first vm context asks for gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;

function mix(x: number, seed: number): number {
  let h = Math.imul(x ^ seed, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ 0x27d4eb2f, 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** The 64-bit "hash" of value v of key k. */
function addValue(h: Hll, k: number, v: number): void {
  const x = Math.imul(k, 0x9e3779b1) ^ v;
  h.add(mix(x, 0x1b873593), mix(x + v, 0xcc9e2d51));
}

interface Reading {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

function read(): Reading {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

/** JS heap plus typed-array backing stores (which live outside the heap). */
const live = (r: Reading): number => r.heapUsed + r.external;

function fmt(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

const t0 = Date.now();
const writer = new Map<string, Hll>();
const base = read();

// Low-cardinality keys: each worker sees a random subset of the key's values in each of
// a few flush intervals and sends a fresh sketch per interval.
let lowDeltas = 0;
let lowTrue = 0;
let lowExact = 0;
for (let k = 0; k < LOW_KEYS; k++) {
  const distinct = 1 + (mix(k, 7) % LOW_MAX_VALUES);
  lowTrue += distinct;
  const key = `svc-${k % 500}\u0000span\u0000attr.key.${k}`;
  let sketch = writer.get(key);
  if (sketch === undefined) writer.set(key, (sketch = new Hll(DEFAULT_PRECISION)));
  for (let w = 0; w < WORKERS; w++) {
    const delta = new Hll(DEFAULT_PRECISION);
    // Each worker sees about two thirds of the values; together they see all of them.
    for (let v = 0; v < distinct; v++) if ((v + w) % 3 !== 0 || w === 0) addValue(delta, k, v);
    sketch.mergeSerialized(delta.serialize());
    lowDeltas++;
  }
  if (sketch.estimate() === distinct) lowExact++;
}
const afterLow = read();

// High-cardinality keys: per key, the values arrive in flush-sized deltas; consecutive
// deltas overlap by a tenth (a value recurring in the next interval or on another worker).
let highDeltas = 0;
let highErrSum = 0;
let highErrMax = 0;
for (let k = 0; k < HIGH_KEYS; k++) {
  const key = `svc-${k % 50}\u0000metric\u0000label.${k}`;
  const sketch = new Hll(DEFAULT_PRECISION);
  writer.set(key, sketch);
  for (let start = 0; start < HIGH_VALUES; start += HIGH_PER_DELTA) {
    const delta = new Hll(DEFAULT_PRECISION);
    for (let v = Math.max(0, start - HIGH_PER_DELTA / 10); v < start + HIGH_PER_DELTA; v++) addValue(delta, LOW_KEYS + k, v);
    sketch.mergeSerialized(delta.serialize());
    highDeltas++;
  }
  const err = Math.abs(sketch.estimate() / HIGH_VALUES - 1);
  highErrSum += err;
  highErrMax = Math.max(highErrMax, err);
}
const afterHigh = read();
const peakRss = process.resourceUsage().maxRSS * 1024;

let sketchBytes = 0;
let dense = 0;
for (const h of writer.values()) {
  sketchBytes += h.byteSize();
  if (h.isDense) dense++;
}

const lowPerKey = (live(afterLow) - live(base)) / LOW_KEYS;
const highPerKey = (live(afterHigh) - live(afterLow)) / HIGH_KEYS;
const lowRssPerKey = (afterLow.rss - base.rss) / LOW_KEYS;

console.log(`node ${process.version}, precision ${DEFAULT_PRECISION}, ${((Date.now() - t0) / 1000).toFixed(1)} s, load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`low-cardinality keys : ${LOW_KEYS.toLocaleString()} (1..${LOW_MAX_VALUES} values, ${(lowTrue / LOW_KEYS).toFixed(1)} on average), ${lowDeltas.toLocaleString()} deltas merged, estimate exact for ${lowExact.toLocaleString()}`);
console.log(`high-cardinality keys: ${HIGH_KEYS.toLocaleString()} (${HIGH_VALUES.toLocaleString()} values each), ${highDeltas.toLocaleString()} deltas merged, mean |error| ${(highErrSum / HIGH_KEYS * 100).toFixed(2)}%, max ${(highErrMax * 100).toFixed(2)}%`);
console.log(`dense sketches       : ${dense.toLocaleString()} of ${writer.size.toLocaleString()}`);
console.log('');
console.log(`bytes per low-cardinality key  : ${lowPerKey.toFixed(0)} (heap + external, incl. Map entry and key string), ${lowRssPerKey.toFixed(0)} by RSS`);
console.log(`bytes per high-cardinality key : ${highPerKey.toFixed(0)} (heap + external)`);
console.log(`Hll.byteSize() total           : ${fmt(sketchBytes)}`);
console.log(`RSS at start                   : ${fmt(base.rss)}`);
console.log(`RSS after low-cardinality keys : ${fmt(afterLow.rss)}`);
console.log(`RSS after all keys             : ${fmt(afterHigh.rss)} (heap ${fmt(afterHigh.heapUsed)}, external ${fmt(afterHigh.external)})`);
console.log(`peak RSS                       : ${fmt(peakRss)} (limit ${LIMIT_MB} MB)`);

if (peakRss > LIMIT_MB * MB) {
  console.error(`FAIL: peak RSS ${fmt(peakRss)} is over ${LIMIT_MB} MB`);
  process.exit(1);
}
console.log('OK');
