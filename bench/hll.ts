/**
 * Throughput of the sketch hot paths: keyed hashing in the workers, adds to sparse
 * and dense sketches, and the writer's deserialize+merge of worker deltas.
 *
 *   npm run build && npm run bench:hll
 *
 * Each figure is the median of RUNS timed runs after one warm-up run.
 */
import { loadavg } from 'node:os';
import xxhash from 'xxhash-wasm';
import { createKeyedHasher } from '../src/sketch/hash.js';
import { Hll } from '../src/sketch/hll.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:hll
  keyed hashing and sketch operations`, {});

const RUNS = 7;
const N = 1_000_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Runs fn (which does `ops` operations) RUNS+1 times and reports the median rate. */
function bench(name: string, ops: number, fn: () => void): void {
  fn();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push((ops / ns) * 1e9);
  }
  const rate = median(rates);
  console.log(`${name.padEnd(58)} ${(rate / 1e6).toFixed(2).padStart(7)} M/s  ${(1e9 / rate).toFixed(1).padStart(7)} ns/op`);
}

/** Cheap 64-bit stand-in hash of an integer (murmur3 fmix32 on two seeds) for add benchmarks. */
function mix(x: number, seed: number): number {
  let h = Math.imul(x ^ seed, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

async function main(): Promise<void> {
  const salt = 0x0123456789abcdefn;
  const hasher = await createKeyedHasher(salt);
  const api = await xxhash();
  const out = new Uint32Array(2);

  // Attribute-like values: ids, e-mails, paths (ASCII), and some non-ASCII text.
  const ascii: string[] = [];
  const unicode: string[] = [];
  for (let i = 0; i < N; i++) {
    ascii.push(i % 3 === 0 ? `/api/v1/orders/${mix(i, 1).toString(16)}` : i % 3 === 1 ? `user-${i}@example.com` : `${mix(i, 2)}`);
    unicode.push(`ünïcødé-straße-${i}`);
  }
  // Flatten the concatenated strings up front so the hash loop measures hashing only.
  let sink = 0;
  for (const s of ascii) sink += s.charCodeAt(0);
  for (const s of unicode) sink += s.charCodeAt(0);

  // Load average is printed because a busy machine (other builds, tests) skews every figure below.
  console.log(`node ${process.version}, ${N.toLocaleString()} values per run, median of ${RUNS} runs, load average ${loadavg()[0]!.toFixed(2)}\n`);
  console.log('hashing (worker side)');
  bench('keyed hash(): xxhash-wasm h64 + split to u32 halves, ASCII', N, () => {
    for (let i = 0; i < N; i++) {
      hasher.hash(ascii[i]!, out);
      sink ^= out[1]!;
    }
  });
  bench('keyed hash(): same, non-ASCII', N, () => {
    for (let i = 0; i < N; i++) {
      hasher.hash(unicode[i]!, out);
      sink ^= out[1]!;
    }
  });
  // The BigInt split cost is the difference between this line and the first one.
  bench('h64 alone (BigInt result kept, no split), ASCII', N, () => {
    let x = 0n;
    for (let i = 0; i < N; i++) x ^= api.h64(ascii[i]!, salt);
    sink ^= Number(x & 1n);
  });

  console.log('\nadds');
  const hi = new Uint32Array(N);
  const lo = new Uint32Array(N);
  for (let i = 0; i < N; i++) {
    hi[i] = mix(i, 0x9e3779b9);
    lo[i] = mix(i, 0x7f4a7c15);
  }
  bench('add, low-cardinality key (20 distinct values, sparse)', N, () => {
    const h = new Hll();
    for (let i = 0; i < N; i++) h.add(hi[i % 20]!, lo[i % 20]!);
    sink ^= h.estimate();
  });
  bench('add, distinct values into a dense sketch', N, () => {
    const h = new Hll();
    for (let i = 0; i < N; i++) h.add(hi[i]!, lo[i]!);
    sink ^= h.estimate();
  });
  const PER_FLUSH = 10_000;
  bench(`add, fresh sketch per flush, ${PER_FLUSH} distinct values (sparse -> dense)`, N, () => {
    for (let f = 0; f < N; f += PER_FLUSH) {
      const h = new Hll();
      for (let i = f; i < f + PER_FLUSH; i++) h.add(hi[i]!, lo[i]!);
      sink ^= h.serialize().length;
    }
  });
  bench('hash + add, 1,000-value key, ASCII values', N, () => {
    const h = new Hll();
    for (let i = 0; i < N; i++) {
      hasher.hash(ascii[i % 1000]!, out);
      h.add(out[0]!, out[1]!);
    }
    sink ^= h.estimate();
  });

  console.log('\nwriter: merge(deserialize(delta))');
  const sparseDeltas: Uint8Array[] = [];
  for (let k = 0; k < 1000; k++) {
    const h = new Hll();
    for (let i = 0; i < 50; i++) h.add(hi[k * 50 + i]!, lo[k * 50 + i]!);
    sparseDeltas.push(h.serialize());
  }
  bench('50-value sparse delta into a 50-value key (no change)', 100_000, () => {
    const target = Hll.deserialize(sparseDeltas[0]!);
    for (let i = 0; i < 100_000; i++) target.merge(Hll.deserialize(sparseDeltas[0]!));
    sink ^= target.estimate();
  });
  bench('same via mergeSerialized(bytes) (no intermediate sketch)', 100_000, () => {
    const target = Hll.deserialize(sparseDeltas[0]!);
    for (let i = 0; i < 100_000; i++) target.mergeSerialized(sparseDeltas[0]!);
    sink ^= target.estimate();
  });
  bench('50-value sparse delta into a growing sparse key', 100_000, () => {
    let target = new Hll();
    for (let i = 0; i < 100_000; i++) {
      if (i % 60 === 0) target = new Hll(); // stay below the sparse limit
      target.merge(Hll.deserialize(sparseDeltas[i % 1000]!));
    }
    sink ^= target.estimate();
  });
  const denseDelta = new Hll();
  for (let i = 0; i < 10_000; i++) denseDelta.add(hi[i]!, lo[i]!);
  const denseBytes = denseDelta.serialize();
  bench(`dense delta (${denseBytes.length} bytes) into a dense key`, 10_000, () => {
    const target = new Hll();
    for (let i = 0; i < 10_000; i++) target.merge(Hll.deserialize(denseBytes));
    sink ^= target.estimate();
  });
  bench('same via mergeSerialized(bytes)', 10_000, () => {
    const target = new Hll();
    for (let i = 0; i < 10_000; i++) target.mergeSerialized(denseBytes);
    sink ^= target.estimate();
  });
  bench('estimate() of a dense sketch (after a change)', 10_000, () => {
    const h = Hll.deserialize(denseBytes);
    for (let i = 0; i < 10_000; i++) {
      h.add(hi[500_000 + i]!, lo[500_000 + i]!); // new values: most change a register
      sink ^= h.estimate();
    }
  });
  if (sink === 0.5) console.log(sink); // keep the work observable to the optimizer
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
