import { describe, expect, it } from 'vitest';
import { createKeyedHasher, type KeyedHasher } from '../../src/sketch/hash.js';
import { DEFAULT_PRECISION, Hll, SketchFormatError, standardError } from '../../src/sketch/hll.js';

const SALT = 0x5eed5eed5eed5eedn;
// Top-level await: describe() bodies below build fixtures while collecting tests.
const hasher: KeyedHasher = await createKeyedHasher(SALT);
const out = new Uint32Array(2);

function addValue(h: Hll, value: string, with_: KeyedHasher = hasher): void {
  with_.hash(value, out);
  h.add(out[0]!, out[1]!);
}

function build(values: Iterable<string>, p = DEFAULT_PRECISION, with_: KeyedHasher = hasher): Hll {
  const h = new Hll(p);
  for (const v of values) addValue(h, v, with_);
  return h;
}

function* range(from: number, to: number, prefix = 'v'): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}-${i}`;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const roundTrip = (h: Hll): Hll => Hll.deserialize(h.serialize());

/**
 * What the pipeline does: WORKERS workers each see every value of their share (plus
 * a slice of a neighbour's, so the same value reaches several workers), build a fresh
 * sketch per flush interval and ship serialize() bytes; the writer merges every
 * delta into one long-lived sketch; a restart reloads it from its bytes.
 */
function pipeline(n: number, p = DEFAULT_PRECISION): Hll {
  const WORKERS = 4;
  const FLUSH_EVERY = 20_000; // values per worker per flush interval
  const writer = new Hll(p);
  for (let w = 0; w < WORKERS; w++) {
    const from = Math.floor((n * w) / WORKERS);
    const to = Math.floor((n * (w + 1)) / WORKERS);
    const overlapTo = Math.min(n, to + Math.ceil((to - from) / 10));
    let delta = new Hll(p);
    let inDelta = 0;
    for (let i = from; i < overlapTo; i++) {
      addValue(delta, `value-${i}`);
      if (++inDelta === FLUSH_EVERY) {
        writer.merge(Hll.deserialize(delta.serialize()));
        delta = new Hll(p);
        inDelta = 0;
      }
    }
    if (inDelta > 0) writer.merge(Hll.deserialize(delta.serialize()));
  }
  return roundTrip(writer);
}

describe('Hll accuracy through workers, merge and restart', () => {
  const se = standardError(DEFAULT_PRECISION);
  for (const n of [1, 10, 1_000, 100_000, 1_000_000]) {
    it(`true cardinality ${n}`, () => {
      const h = pipeline(n);
      const est = h.estimate();
      const relErr = (est - n) / n;
      // Reported so the figures can be quoted; the assertion is the contract.
      console.log(`[hll p=${DEFAULT_PRECISION}] n=${n} estimate=${est} relative error=${relErr.toFixed(5)} (3 SE = ${(3 * se).toFixed(5)}) dense=${h.isDense}`);
      if (n <= 1_000) {
        expect(h.isDense).toBe(false);
        expect(est).toBe(n);
      } else {
        expect(Math.abs(relErr)).toBeLessThanOrEqual(3 * se);
      }
    });
  }

  it('stays within 3 standard errors at other precisions', () => {
    for (const p of [4, 10, 12, 16, 18]) {
      const n = 100_000;
      const est = pipeline(n, p).estimate();
      expect(Math.abs(est - n) / n, `p=${p} estimate ${est}`).toBeLessThanOrEqual(3 * standardError(p));
    }
  });

  it('has no visible bias around the sparse-to-dense switch (mean over 20 sketches)', () => {
    const p = 12;
    for (const n of [1_100, 2_000, 4_000, 10_000, 30_000]) {
      let sum = 0;
      for (let rep = 0; rep < 20; rep++) sum += build(range(0, n, `r${rep}`), p).estimate() / n - 1;
      // 20 samples: the mean's own standard error is SE/sqrt(20); allow 3 of those.
      expect(Math.abs(sum / 20), `n=${n}`).toBeLessThan((3 * standardError(p)) / Math.sqrt(20));
    }
  });

  it('estimates 0 when empty and ignores repeated values', () => {
    expect(new Hll().estimate()).toBe(0);
    const h = new Hll();
    for (let i = 0; i < 10_000; i++) addValue(h, `same-${i % 7}`);
    expect(h.estimate()).toBe(7);
  });
});

describe('Hll representation', () => {
  it('gives the same registers whether a value went in sparse and was densified or went in dense', () => {
    const a = build(range(0, 30_000)); // first 4,096 values sparse, then densified
    const b = build(range(15_000, 30_000)); // dense before values 0..15,000 arrive
    for (const v of range(0, 15_000)) addValue(b, v);
    expect(a.isDense && b.isDense).toBe(true);
    expect(hex(a.serialize())).toBe(hex(b.serialize()));
  });

  it('goes dense at 2^p / 4 entries, not before', () => {
    const h = new Hll(10);
    for (const v of range(0, 256)) addValue(h, v);
    expect(h.isDense).toBe(false);
    for (const v of range(256, 400)) addValue(h, v);
    expect(h.isDense).toBe(true);
  });

  it('serializes 50 values in a few hundred bytes', () => {
    const h = build(range(0, 50));
    const bytes = h.serialize();
    expect(bytes.length).toBeLessThanOrEqual(300);
    expect(bytes[0]).toBe(1); // format version first
    expect(roundTrip(h).estimate()).toBe(50);
  });

  it('sends a just-densified delta as a register list smaller than the registers', () => {
    const h = build(range(0, 5_000));
    expect(h.isDense).toBe(true);
    expect(h.serialize().length).toBeLessThan(1 << DEFAULT_PRECISION);
    const full = build(range(0, 500_000));
    expect(full.serialize().length).toBe(3 + (1 << DEFAULT_PRECISION));
    expect(hex(roundTrip(h).serialize())).toBe(hex(h.serialize()));
    expect(hex(roundTrip(full).serialize())).toBe(hex(full.serialize()));
  });

  it('reports its memory roughly', () => {
    // As the writer holds them: built by merging deserialized deltas (no add buffer).
    const small = roundTrip(build(range(0, 50)));
    const big = build(range(0, 100_000));
    expect(small.byteSize()).toBeLessThan(600);
    expect(big.byteSize()).toBeGreaterThanOrEqual(1 << DEFAULT_PRECISION);
  });

  it('validates precision', () => {
    expect(() => new Hll(3)).toThrow(RangeError);
    expect(() => new Hll(19)).toThrow(RangeError);
    expect(() => new Hll(14.5)).toThrow(RangeError);
    expect(standardError(14)).toBeCloseTo(1.04 / 128, 10);
  });
});

describe('Hll merge', () => {
  const shapes: Record<string, () => Hll> = {
    'empty': () => new Hll(),
    'sparse': () => build(range(0, 300)),
    'sparse2': () => build(range(200, 700)),
    'dense': () => build(range(0, 20_000)),
    'dense2': () => build(range(10_000, 60_000)),
  };
  const names = Object.keys(shapes);

  it('is commutative for every pair of representations', () => {
    for (const x of names) {
      for (const y of names) {
        const xy = shapes[x]!();
        xy.merge(shapes[y]!());
        const yx = shapes[y]!();
        yx.merge(shapes[x]!());
        expect(hex(xy.serialize()), `${x} ∪ ${y}`).toBe(hex(yx.serialize()));
        expect(xy.estimate()).toBe(yx.estimate());
      }
    }
  });

  it('is idempotent', () => {
    for (const x of names) {
      const h = shapes[x]!();
      const before = hex(h.serialize());
      h.merge(roundTrip(h));
      h.merge(h);
      expect(hex(h.serialize()), x).toBe(before);
    }
  });

  it('is associative and equals one sketch over the union', () => {
    const a = build(range(0, 3_000));
    const b = build(range(2_000, 9_000));
    const c = build(range(8_000, 8_100));
    const left = roundTrip(a);
    left.merge(b);
    left.merge(c);
    const bc = roundTrip(b);
    bc.merge(c);
    const right = roundTrip(a);
    right.merge(bc);
    const all = build(range(0, 9_000));
    expect(hex(left.serialize())).toBe(hex(all.serialize()));
    expect(hex(right.serialize())).toBe(hex(all.serialize()));
  });

  it('mergeSerialized equals merge(deserialize()) and leaves the sketch unchanged on bad bytes', () => {
    for (const x of names) {
      for (const y of names) {
        const viaObject = shapes[x]!();
        viaObject.merge(Hll.deserialize(shapes[y]!().serialize()));
        const viaBytes = shapes[x]!();
        viaBytes.mergeSerialized(shapes[y]!().serialize());
        expect(hex(viaBytes.serialize()), `${x} ∪ ${y}`).toBe(hex(viaObject.serialize()));
      }
    }
    const h = build(range(0, 40));
    const before = hex(h.serialize());
    const bad = build(range(100, 140)).serialize();
    expect(() => h.mergeSerialized(bad.subarray(0, bad.length - 1))).toThrow(SketchFormatError);
    expect(hex(h.serialize())).toBe(before);
  });

  it('merges sparse sketches that stay exact', () => {
    const a = build(range(0, 30));
    a.merge(build(range(20, 50)));
    expect(a.isDense).toBe(false);
    expect(a.estimate()).toBe(50);
  });

  it('merges different precisions at the lower one, exactly', () => {
    const hi = build(range(0, 40_000), 14);
    const lo = build(range(30_000, 80_000), 12);
    const want = build(range(0, 80_000), 12);
    const x = roundTrip(hi);
    x.merge(lo);
    const y = roundTrip(lo);
    y.merge(hi);
    expect(x.precision).toBe(12);
    expect(hex(x.serialize())).toBe(hex(want.serialize()));
    expect(hex(y.serialize())).toBe(hex(want.serialize()));
    // A higher-precision register-list delta (a worker's fresh dense sketch) folds down too.
    const delta14 = build(range(0, 5_000), 14).serialize();
    expect(delta14[1]).toBe(2);
    const z = build(range(4_000, 6_000), 12);
    z.mergeSerialized(delta14);
    expect(hex(z.serialize())).toBe(hex(build(range(0, 6_000), 12).serialize()));
  });
});

describe('Hll privacy', () => {
  it('two salts give different registers for the same values', async () => {
    const other = await createKeyedHasher(SALT + 1n);
    for (const n of [50, 100_000]) {
      const a = build(range(0, n, 'user'));
      const b = build(range(0, n, 'user'), DEFAULT_PRECISION, other);
      expect(hex(a.serialize()), `n=${n}`).not.toBe(hex(b.serialize()));
      // Same cardinality either way: the salt hides values, not counts.
      expect(Math.abs(a.estimate() - b.estimate()) / n).toBeLessThan(6 * standardError(DEFAULT_PRECISION));
    }
  });

  it('does not contain the raw value bytes', () => {
    const marker = 'MARKER-d1c3a9-secret';
    const bytes = Buffer.from(build([marker]).serialize());
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
    expect(bytes.includes(Buffer.from(marker.slice(0, 6)))).toBe(false);
  });
});

describe('Hll.deserialize validation', () => {
  const valid: Record<string, Uint8Array> = {
    sparse: build(range(0, 50)).serialize(),
    denseList: build(range(0, 5_000)).serialize(),
    dense: build(range(0, 200_000)).serialize(),
  };

  it('reads bytes at a non-zero offset of a larger buffer (as decoded messages are)', () => {
    const inner = valid.sparse!;
    const big = new Uint8Array(inner.length + 10);
    big.set(inner, 7);
    expect(Hll.deserialize(big.subarray(7, 7 + inner.length)).estimate()).toBe(50);
    expect(Hll.deserialize(Buffer.from(valid.dense!)).isDense).toBe(true);
  });

  it('rejects every truncation', () => {
    for (const [kind, bytes] of Object.entries(valid)) {
      // Dense payloads are long: every cut in the header region, then a spread of cuts.
      const cuts = new Set<number>();
      for (let i = 0; i < Math.min(bytes.length, 400); i++) cuts.add(i);
      for (let i = 400; i < bytes.length; i += 97) cuts.add(i);
      for (const cut of cuts) {
        expect(() => Hll.deserialize(bytes.subarray(0, cut)), `${kind} cut at ${cut}`).toThrow(SketchFormatError);
      }
    }
  });

  it('rejects trailing bytes, bad headers and out-of-range content with a clear message', () => {
    const s = valid.sparse!;
    const withTrailer = new Uint8Array(s.length + 1);
    withTrailer.set(s);
    expect(() => Hll.deserialize(withTrailer)).toThrow(/trailing/);
    expect(() => Hll.deserialize(new Uint8Array([2, 0, 14, 0]))).toThrow(/version 2/);
    expect(() => Hll.deserialize(new Uint8Array([1, 9, 14, 0]))).toThrow(/kind 9/);
    expect(() => Hll.deserialize(new Uint8Array([1, 0, 30, 0]))).toThrow(/precision 30/);
    expect(() => Hll.deserialize(new Uint8Array([1, 0, 14, 2, 65, 0]))).toThrow(/increasing/);
    expect(() => Hll.deserialize(new Uint8Array([1, 0, 14, 1, 0]))).toThrow(/out of range/); // rank 0
    expect(() => Hll.deserialize(new Uint8Array([1, 2, 14, 1, 0, 60]))).toThrow(/outside/); // register > 65-14
    expect(() => Hll.deserialize(new Uint8Array([1, 0, 14, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toThrow(SketchFormatError);
    const dense = valid.dense!.slice();
    dense[100] = 200;
    expect(() => Hll.deserialize(dense)).toThrow(/exceeds/);
    expect(() => Hll.deserialize('nope' as unknown as Uint8Array)).toThrow(SketchFormatError);
  });

  it('rejects random garbage', () => {
    let s = 99;
    const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    let rejected = 0;
    for (let t = 0; t < 500; t++) {
      const len = 1 + (next() % 64);
      const g = new Uint8Array(len);
      for (let i = 0; i < len; i++) g[i] = next();
      // Half of them get a plausible header so the payload checks are exercised too.
      if (t % 2 === 0 && len >= 3) {
        g[0] = 1;
        g[1] = t % 3;
        g[2] = 14;
      }
      try {
        // A few random byte strings are well-formed sketches (e.g. [1, 0, 14, 1, <varint>]
        // is one sparse entry); those must then behave like any other sketch.
        const h = Hll.deserialize(g);
        expect(Number.isFinite(h.estimate())).toBe(true);
        expect(Hll.deserialize(h.serialize()).estimate()).toBe(h.estimate());
      } catch (err) {
        expect(err).toBeInstanceOf(SketchFormatError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThanOrEqual(495);
  });
});

describe('serializeChanges', () => {
  it('sends every register first, then only those that rose; merging the pieces rebuilds the sketch', () => {
    const h = new Hll(12);
    const copy = new Hll(12);
    let x = 12345;
    const next = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    };
    for (let i = 0; i < 20000; i++) h.add(next(), next());
    expect(h.isDense).toBe(true);
    copy.mergeSerialized(h.serializeChanges());
    expect(copy.serialize()).toEqual(h.serialize());
    expect(Hll.deserialize(h.serializeChanges()).estimate()).toBe(0);
    for (let i = 0; i < 500; i++) h.add(next(), next());
    const delta = h.serializeChanges();
    expect(delta.byteLength).toBeLessThan(h.serialize().byteLength / 4);
    copy.mergeSerialized(delta);
    expect(copy.serialize()).toEqual(h.serialize());
    expect(() => new Hll(12).serializeChanges()).toThrow(/dense/);
  });

  it('lists exactly the registers that rose, and keeps one bit per register rather than a copy', () => {
    const h = new Hll(12);
    let x = 99;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 40000; i++) h.add(next(), next());
    h.serializeChanges();
    const before = h.serialize();
    for (let i = 0; i < 3000; i++) h.add(next(), next());
    const after = h.serialize();
    // Both are full register arrays (kind 1) at this cardinality: count the registers that rose.
    expect(before[1]).toBe(1);
    expect(after[1]).toBe(1);
    let rose = 0;
    for (let i = 3; i < after.length; i++) if (after[i]! > before[i]!) rose++;
    expect(rose).toBeGreaterThan(0);
    const delta = h.serializeChanges();
    expect(delta[1]).toBe(2);
    // From byte 3: the varint count of listed registers.
    let listed = 0;
    for (let i = 3, shift = 0; ; i++, shift += 7) {
      listed += (delta[i]! & 0x7f) * 2 ** shift;
      if (delta[i]! < 0x80) break;
    }
    expect(listed).toBe(rose);
    // 2^12 register bytes + 2^12 / 8 change bits + object overheads: not a second register copy.
    expect(h.byteSize()).toBeLessThan(4096 + 512 + 600);
  });

  it('tracks changes at every precision, down to 16 registers (less than one word of change bits)', () => {
    for (const p of [4, 5, 9, 18]) {
      const h = new Hll(p);
      const copy = new Hll(p);
      let x = p;
      const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
      while (!h.isDense) h.add(next(), next());
      copy.mergeSerialized(h.serializeChanges());
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 200; i++) h.add(next(), next());
        copy.mergeSerialized(h.serializeChanges());
        expect(copy.serialize()).toEqual(h.serialize());
      }
    }
  });

  it('sends every register after a merge into the sketch, so merged-in registers are not lost', () => {
    const h = new Hll(12);
    const other = new Hll(12);
    const copy = new Hll(12);
    let x = 7;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20000; i++) h.add(next(), next());
    for (let i = 0; i < 20000; i++) other.add(next(), next());
    copy.mergeSerialized(h.serializeChanges());
    h.merge(other);
    copy.mergeSerialized(h.serializeChanges());
    expect(copy.serialize()).toEqual(h.serialize());
    // And only changes again after that.
    expect(Hll.deserialize(h.serializeChanges()).estimate()).toBe(0);
  });
});

describe('serializeTransient', () => {
  it('gives the bytes of serialize() in a reused buffer, overwritten by the next call', () => {
    const sparse = build(range(0, 100));
    const dense = build(range(0, 50_000));
    expect(dense.serializeTransient()).toEqual(dense.serialize());
    const a = sparse.serializeTransient();
    expect(a).toEqual(sparse.serialize());
    const b = dense.serializeTransient();
    expect(b).toEqual(dense.serialize());
    expect(b.buffer).toBe(a.buffer);
    // `a` now shows the start of the dense bytes: callers must copy (or bind) before the next call.
    expect(a[1]).toBe(b[1]);
    expect(Hll.deserialize(dense.serializeTransient()).estimate()).toBe(dense.estimate());
  });
});
