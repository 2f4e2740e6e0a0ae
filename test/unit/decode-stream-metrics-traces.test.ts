import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/errors.js';
import { decodeMetrics, decodeTraces, streamMetrics, streamTraces, type MetricsSink, type TracesSink } from '../../src/decode/otlp-proto.js';
import { validateMetrics, validateTraces } from '../../src/decode/proto-validate.js';
import { ProtoReader } from '../../src/decode/proto-reader.js';
import { Extractor } from '../../src/extract/extractor.js';
import type { Attr, DataPoint, Metric, MetricsRequest, Span, TracesRequest } from '../../src/model/otlp.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { Hll } from '../../src/sketch/hll.js';
import { Adapter, Gen, MetricsReq, TracesReq, encode, pb, rng } from '../helpers/otlp-fixtures.js';

// The one-pass metrics and traces paths (issue 13, point 4), held to what the logs path is held to
// (decode-stream.test.ts): the same records as the tree decoder and protobufjs, the same verdict on malformed input,
// nothing handed to the sink for a request malformed half-way, and the same delta map as decode-then-fold.

type Limits = { maxAttributes?: number; maxKeyLength?: number; maxValueLength?: number };
type Stats = { truncated: number; truncatedStrings: number };

/** A metrics sink that rebuilds the tree (one scope per resource, scope names dropped). */
function collectMetrics(bytes: Uint8Array, opts?: Limits): MetricsRequest & Stats {
  const resources: Array<{ attrs: Attr[]; metrics: Metric[] }> = [];
  const sink: MetricsSink<{ attrs: Attr[]; metrics: Metric[] }, Metric> = {
    resource: (attrs) => ({ attrs, metrics: [] }),
    metric: (r, m, points) => {
      expect(m.points).toEqual([]);
      expect(points).toBeGreaterThanOrEqual(0);
      r.metrics.push(m);
      // Every metric rebuilt whole here, rejected ones too (the fold answers undefined for those and gets no points).
      return m;
    },
    point: (_r, m, p) => void m.points.push(plainPoint(bytes, p)),
    endResource: (r) => void resources.push(r),
  };
  const stats = streamMetrics(bytes, opts, sink);
  return { resources: resources.map((r) => ({ attrs: r.attrs, scopes: [{ scopeName: '', metrics: r.metrics }] })), ...stats };
}

function collectTraces(bytes: Uint8Array, opts?: Limits): TracesRequest & Stats {
  const resources: Array<{ attrs: Attr[]; spans: Span[] }> = [];
  const sink: TracesSink<{ attrs: Attr[]; spans: Span[] }> = {
    resource: (attrs) => ({ attrs, spans: [] }),
    // The span and its attributes are reused for the next one: keep copies.
    span: (r, s) => void r.spans.push(copySpan(s)),
    endResource: (r) => void resources.push(r),
  };
  const stats = streamTraces(bytes, opts, sink);
  return { resources: resources.map((r) => ({ attrs: r.attrs, scopes: [{ scopeName: '', spans: r.spans }] })), ...stats };
}

/**
 * The point as the tree decoder gives it, once the range of its attributes' bytes (what the extractor caches series
 * hashes by) is checked: the request's own bytes, and a run of length-delimited fields of one tag, as many as the
 * attributes read (a limit drops, never adds), ending exactly at attrsTo.
 */
function plainPoint(bytes: Uint8Array, p: DataPoint): DataPoint {
  const { attrsUtf8, attrsView, attrsFrom, attrsTo, ...plain } = p;
  expect(attrsUtf8).toBe(bytes);
  expect(attrsView!.buffer).toBe(bytes.buffer);
  expect([attrsView!.byteOffset, attrsView!.byteLength]).toEqual([bytes.byteOffset, bytes.byteLength]);
  if (attrsFrom! >= 0) {
    const r = new ProtoReader(bytes);
    r.pos = attrsFrom!;
    const tag = r.tag();
    let fields = 0;
    r.pos = attrsFrom!;
    while (r.pos < attrsTo!) {
      expect(r.tag()).toBe(tag);
      r.pos = r.lenEnd(attrsTo!);
      fields++;
    }
    expect(r.pos).toBe(attrsTo);
    expect(fields).toBeGreaterThanOrEqual(p.attrs.length);
    expect(p.attrs.length).toBeGreaterThan(0);
  } else expect(attrsTo).toBe(-1);
  return plain;
}

function plainAttr(a: Attr): Attr {
  return a.hashHi === undefined ? { key: a.key, value: a.value, bytes: a.bytes } : { ...a };
}

function copySpan(s: Span): Span {
  return { ...s, attrs: s.attrs.map(plainAttr), events: s.events.map((e) => ({ name: e.name, attrs: e.attrs.map(plainAttr) })) };
}

/** Streams with a sink that only counts its calls (a rejected request must make none). */
function countCalls(stream: 'metrics' | 'traces', bytes: Uint8Array, opts: Limits | undefined, onCall: () => void): void {
  if (stream === 'metrics') streamMetrics(bytes, opts, { resource: onCall, metric: () => (onCall(), 0), point: onCall, endResource: onCall });
  else streamTraces(bytes, opts, { resource: onCall, span: onCall, endResource: onCall }, () => undefined);
}

function flatMetrics(req: MetricsRequest & Stats) {
  return {
    resources: req.resources.map((r) => ({ attrs: r.attrs, scopes: [{ scopeName: '', metrics: r.scopes.flatMap((s) => s.metrics) }] })),
    truncated: req.truncated,
    truncatedStrings: req.truncatedStrings,
  };
}

/** Span start times 0: the one-pass path does not read them (nothing folds them). */
function flatTraces(req: TracesRequest & Stats) {
  return {
    resources: req.resources.map((r) => ({
      attrs: r.attrs,
      scopes: [{ scopeName: '', spans: r.scopes.flatMap((s) => s.spans).map((span) => ({ ...span, startUnixMs: 0 })) }],
    })),
    truncated: req.truncated,
    truncatedStrings: req.truncatedStrings,
  };
}

function outcome(fn: () => unknown): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return 'error';
  }
}

const SIGNALS = [
  {
    name: 'metrics',
    type: MetricsReq,
    gen: (g: Gen) => g.metrics(),
    collect: collectMetrics,
    tree: (b: Uint8Array, o?: Limits) => flatMetrics(decodeMetrics(b, o)),
    ref: (b: Uint8Array) => flatMetrics(new Adapter().metrics(MetricsReq.decode(b)) as never),
    validate: validateMetrics,
    decode: decodeMetrics,
  },
  {
    name: 'traces',
    type: TracesReq,
    gen: (g: Gen) => g.traces(),
    collect: collectTraces,
    tree: (b: Uint8Array, o?: Limits) => flatTraces(decodeTraces(b, o)),
    ref: (b: Uint8Array) => flatTraces(new Adapter().traces(TracesReq.decode(b)) as never),
    validate: validateTraces,
    decode: decodeTraces,
  },
] as const;

describe('streamMetrics / streamTraces: one pass from bytes to a sink', () => {
  for (const s of SIGNALS) {
    it(`${s.name}: gives what the tree decoder decodes (300 requests, unknown fields, custom limits), and what protobufjs does`, () => {
      let items = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)), seed % 3 === 0);
        const got = s.collect(bytes);
        expect(got, `seed ${seed}`).toEqual(s.tree(bytes));
        if (seed % 3 !== 0) expect(got, `seed ${seed}`).toEqual(s.ref(bytes));
        items += got.resources.length;
      }
      expect(items).toBeGreaterThan(300);
      const limits = { maxAttributes: 2, maxKeyLength: 5, maxValueLength: 7 };
      for (let seed = 2000; seed < 2050; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        expect(s.collect(bytes, limits), `seed ${seed}`).toEqual(s.tree(bytes, limits));
      }
    });

    it(`${s.name}: validates exactly what the tree decoder rejects (1,500 random mutations)`, () => {
      const rand = rng(11);
      const base = Array.from({ length: 40 }, (_, j) => encode(s.type, s.gen(new Gen(100 + j)), j % 2 === 0));
      let errors = 0;
      for (let i = 0; i < 1500; i++) {
        const bytes = base[i % 40]!.slice();
        const kind = i % 4;
        const at = Math.floor(rand() * bytes.length);
        let mutated: Uint8Array;
        if (kind === 0) {
          bytes[at] = Math.floor(rand() * 256);
          mutated = bytes;
        } else if (kind === 1) {
          mutated = bytes.subarray(0, at);
        } else if (kind === 2) {
          bytes[at] ^= 1 << Math.floor(rand() * 8);
          mutated = bytes;
        } else {
          mutated = new Uint8Array([...bytes.subarray(0, at), Math.floor(rand() * 256), ...bytes.subarray(at)]);
        }
        const tree = outcome(() => s.decode(mutated));
        const valid = outcome(() => s.validate(new ProtoReader(mutated)));
        expect(valid, `mutation ${i} (kind ${kind} at ${at})`).toBe(tree);
        // What validates streams without an error too (the stream's own reads never throw after the sink starts), and
        // what does not reaches the sink not at all; with a limit of 2 attributes, the dropped ones are checked too.
        const opts = i % 2 === 0 ? { maxAttributes: 2 } : undefined;
        expect(outcome(() => s.collect(mutated, opts)), `mutation ${i}`).toBe(valid);
        if (valid === 'error') {
          let calls = 0;
          expect(outcome(() => countCalls(s.name, mutated, opts, () => void calls++))).toBe('error');
          expect(calls, `mutation ${i}`).toBe(0);
        }
        if (tree === 'error') errors++;
      }
      expect(errors).toBeGreaterThan(200);
    });
  }

  it('a request malformed half-way reaches the sink not at all (metrics: a bad packed explicit_bounds; traces: a bad status)', () => {
    // Metrics: a good request, then a ResourceMetrics whose histogram point has 7 bytes of packed doubles.
    const point = pb.Writer.create().uint32(58).bytes(new Uint8Array(7)).finish();
    const hist = pb.Writer.create().uint32(10).bytes(point).finish();
    const metric = pb.Writer.create().uint32(10).string('m').uint32(74).bytes(hist).finish();
    const sm = pb.Writer.create().uint32(18).bytes(metric).finish();
    const rm = pb.Writer.create().uint32(18).bytes(sm).finish();
    const badMetrics = new Uint8Array([...encode(MetricsReq, new Gen(5).metrics()), ...pb.Writer.create().uint32(10).bytes(rm).finish()]);
    expect(() => decodeMetrics(badMetrics)).toThrow(/multiple of 8/);
    let calls = 0;
    const msink: MetricsSink<number, number> = { resource: () => ++calls, metric: () => ++calls, point: () => void calls++, endResource: () => void calls++ };
    expect(() => streamMetrics(badMetrics, undefined, msink)).toThrow(/multiple of 8/);
    // Traces: a Status whose code has a wrong wire type.
    const span = pb.Writer.create().uint32(42).string('s').uint32(122).bytes(Uint8Array.from([0x1d, 0, 0, 0, 0])).finish();
    const ss = pb.Writer.create().uint32(18).bytes(span).finish();
    const rs = pb.Writer.create().uint32(18).bytes(ss).finish();
    const badTraces = new Uint8Array([...encode(TracesReq, new Gen(5).traces()), ...pb.Writer.create().uint32(10).bytes(rs).finish()]);
    expect(() => decodeTraces(badTraces)).toThrow(/wrong wire type/);
    const tsink: TracesSink<number> = { resource: () => ++calls, span: () => void calls++, endResource: () => void calls++ };
    expect(() => streamTraces(badTraces, undefined, tsink)).toThrow(/wrong wire type/);
    expect(calls).toBe(0);
  });

  it('traces: a request of parts too small for the scratch (50,000 empty spans) is validated first and streamed as before', () => {
    const ss = pb.Writer.create().uint32(18).bytes(new Uint8Array(new Array(50_000).fill([0x12, 0x00]).flat())).finish();
    const req = pb.Writer.create().uint32(10).bytes(ss).finish() as Uint8Array;
    const got = collectTraces(req);
    expect(got).toEqual(flatTraces(decodeTraces(req)));
    expect(got.resources[0]!.scopes[0]!.spans).toHaveLength(50_000);
    const bad = new Uint8Array([...req.subarray(0, req.length - 2), 0x12, 0x01]);
    let calls = 0;
    expect(() => countCalls('traces', bad, undefined, () => void calls++)).toThrow(DecodeError);
    expect(calls).toBe(0);
  });

  it('reads a Metric whose name and data come after one another in any order, the last data field winning', () => {
    const gaugePoint = pb.Writer.create().uint32(58).bytes(pb.Writer.create().uint32(10).string('k').finish()).finish();
    const gauge = pb.Writer.create().uint32(10).bytes(gaugePoint).uint32(10).bytes(gaugePoint).finish();
    const sum = pb.Writer.create().uint32(10).bytes(gaugePoint).uint32(16).int32(2).uint32(24).bool(true).finish();
    const metric = pb.Writer.create().uint32(42).bytes(gauge).uint32(58).bytes(sum).uint32(10).string('late.name').uint32(26).string('ms').finish();
    const req = pb.Writer.create()
      .uint32(10)
      .bytes(pb.Writer.create().uint32(18).bytes(pb.Writer.create().uint32(18).bytes(metric).finish()).finish())
      .finish() as Uint8Array;
    const got = collectMetrics(req);
    expect(got).toEqual(flatMetrics(decodeMetrics(req)));
    const m = got.resources[0]!.scopes[0]!.metrics[0]!;
    expect([m.name, m.unit, m.type, m.temporality, m.monotonic, m.points.length]).toEqual(['late.name', 'ms', 'sum', 2, true, 1]);
  });

  it('traces: span and event attribute values that are plain ASCII strings arrive hashed, the hash of the string', async () => {
    const hasher = await createKeyedHasher(42n);
    const kv = (k: string, v: string) =>
      pb.Writer.create().uint32(10).string(k).uint32(18).bytes(pb.Writer.create().uint32(10).string(v).finish()).finish();
    const event = pb.Writer.create().uint32(18).string('ev').uint32(26).bytes(kv('e', 'x-1')).finish();
    const span = pb.Writer.create().uint32(42).string('GET').uint32(74).bytes(kv('a', 'user-42')).uint32(74).bytes(kv('b', 'café')).uint32(90).bytes(event).finish();
    const req = pb.Writer.create()
      .uint32(10)
      .bytes(pb.Writer.create().uint32(18).bytes(pb.Writer.create().uint32(18).bytes(span).finish()).finish())
      .finish() as Uint8Array;
    const spans: Span[] = [];
    streamTraces(req, undefined, { resource: () => 0, span: (_r, sp) => void spans.push(copySpan(sp)), endResource: () => undefined }, (u, out) => hasher.hashBytes(u, out));
    const out = new Uint32Array(2);
    const h = (v: string) => (hasher.hash(v, out), [out[0], out[1]]);
    const row = (a: Attr) => [a.key, a.value, a.hashHi, a.hashLo];
    expect(spans[0]!.attrs.map(row)).toEqual([
      ['a', '', ...h('user-42')],
      ['b', 'café', undefined, undefined],
    ]);
    expect(spans[0]!.events[0]!.attrs.map(row)).toEqual([['e', '', ...h('x-1')]]);
  });

  it('the hash cache answers what the hasher would: 5,000 distinct values through 4,096 slots, then another salt', async () => {
    const a = await createKeyedHasher(1n);
    const b = await createKeyedHasher(2n);
    const kv = (v: string) => pb.Writer.create().uint32(10).string('k').uint32(18).bytes(pb.Writer.create().uint32(10).string(v).finish()).finish();
    const values = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `v${i % 700}` : `value-${i}`));
    let span = pb.Writer.create().uint32(42).string('s');
    for (const v of values) span = span.uint32(74).bytes(kv(v));
    const req = pb.Writer.create()
      .uint32(10)
      .bytes(pb.Writer.create().uint32(18).bytes(pb.Writer.create().uint32(18).bytes(span.finish()).finish()).finish())
      .finish() as Uint8Array;
    const out = new Uint32Array(2);
    const hashA = (u: Uint8Array, o: Uint32Array) => a.hashBytes(u, o);
    for (const hasher of [a, a, b]) {
      const fn = (u: Uint8Array, o: Uint32Array) => hasher.hashBytes(u, o);
      // Twice the same function (cache warm the second time), then another salt: the cache must not answer with a's.
      const spans: Span[] = [];
      streamTraces(req, { maxAttributes: 10_000 }, { resource: () => 0, span: (_r, sp) => void spans.push(copySpan(sp)), endResource: () => undefined }, hasher === b ? fn : hashA);
      const got = spans[0]!.attrs.map((x) => [x.hashHi, x.hashLo]);
      const want = values.map((v) => (hasher.hash(v, out), [out[0], out[1]]));
      expect(got).toEqual(want);
    }
  });

  it('folds to the same delta map and answers as decode-then-fold (metrics and traces)', async () => {
    const hasher = await createKeyedHasher(42n);
    const opts = { workerId: 1, precision: 10, minerMaxClusters: 100, minerMaxLineLength: 4096 };
    const a = new Extractor(hasher, opts);
    const b = new Extractor(hasher, opts);
    const now = 1_700_000_000_000;
    const hashBytes = (u: Uint8Array, out: Uint32Array) => hasher.hashBytes(u, out);
    let accepted = 0;
    let rejected = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const mb = encode(MetricsReq, new Gen(seed).metrics());
      const ma = a.foldMetrics(decodeMetrics(mb), now);
      const ms = b.metricsSink(now);
      streamMetrics(mb, undefined, ms);
      expect(ms.result(), `metrics seed ${seed}`).toEqual(ma);
      const tb = encode(TracesReq, new Gen(seed).traces());
      const ta = a.foldTraces(decodeTraces(tb), now);
      const ts = b.tracesSink(now);
      streamTraces(tb, undefined, ts, hashBytes);
      expect(ts.result(), `traces seed ${seed}`).toEqual(ta);
      accepted += ma.accepted + ta.accepted;
      rejected += ma.rejected + ta.rejected;
    }
    expect(accepted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(10);
    expect(b.flush()).toEqual(a.flush());
  });
});

describe("series hashes cached by the bytes of a point's attributes", () => {
  const w = () => pb.Writer.create();
  const kv = (k: string, v: string) => w().uint32(10).string(k).uint32(18).bytes(w().uint32(10).string(v).finish()).finish();
  /** A NumberDataPoint: its attributes (key, value) in the order given; `split` puts its time between the first two. */
  const point = (attrs: Array<[string, string]>, split = false) => {
    let p = w();
    attrs.forEach(([k, v], i) => {
      if (split && i === 1) p = p.uint32(25).fixed64(1_700_000_000_000_000_000);
      p = p.uint32(58).bytes(kv(k, v));
    });
    return p.uint32(49).sfixed64(7).finish();
  };
  const request = (service: string, points: Uint8Array[]) => {
    let sum = w();
    for (const p of points) sum = sum.uint32(10).bytes(p);
    sum = sum.uint32(16).int32(1).uint32(24).bool(true);
    const metric = w().uint32(10).string('requests').uint32(58).bytes(sum.finish()).finish();
    const resource = w().uint32(10).bytes(kv('service.name', service)).finish();
    const rm = w().uint32(10).bytes(resource).uint32(18).bytes(w().uint32(18).bytes(metric).finish()).finish();
    return w().uint32(10).bytes(rm).finish() as Uint8Array;
  };

  it('answers what hashing the fingerprint answers: the same series again, reordered, split by another field, under another resource', async () => {
    const hasher = await createKeyedHasher(9n);
    const opts = { workerId: 1, precision: 12, minerMaxClusters: 100, minerMaxLineLength: 4096 };
    const tree = new Extractor(hasher, opts);
    const stream = new Extractor(hasher, opts);
    const now = 1_700_000_000_000;
    const series = Array.from({ length: 300 }, (_, i): Array<[string, string]> => [['method', ['GET', 'PUT', 'POST'][i % 3]!], ['route', `/r/${i % 100}`], ['status', String(200 + (i % 7))]]);
    const requests: Uint8Array[] = [];
    for (const service of ['a', 'b']) {
      // Each series as sent, reversed, and with its attributes split by the time field (no byte range: not cached).
      requests.push(request(service, series.map((s) => point(s))));
      requests.push(request(service, series.map((s) => point([...s].reverse()))));
      requests.push(request(service, series.map((s) => point(s, true))));
    }
    // The range is that of the attributes alone: none where another field splits them.
    const ranges = (req: Uint8Array) => {
      const got: number[] = [];
      streamMetrics(req, undefined, { resource: () => 0, metric: () => 0, point: (_r, _m, p) => void got.push(p.attrsFrom!), endResource: () => undefined });
      return got;
    };
    expect(ranges(requests[0]!).every((from) => from > 0)).toBe(true);
    expect(ranges(requests[2]!).every((from) => from === -1)).toBe(true);
    // Three rounds: the cache is cold, then warm, then the other resource's entries have replaced some.
    for (let round = 0; round < 3; round++) {
      for (const req of requests) {
        tree.foldMetrics(decodeMetrics(req), now);
        const sink = stream.metricsSink(now);
        streamMetrics(req, undefined, sink);
        sink.result();
      }
    }
    const a = tree.flush();
    const b = stream.flush();
    expect(b).toEqual(a);
    // 300 distinct label sets under each of two services, whatever the order or the bytes: the estimate sees ~300 each.
    for (const m of b.metrics) {
      const est = Hll.deserialize(m.series).estimate();
      expect(Math.abs(est - 300) / 300).toBeLessThan(0.05);
    }
    expect(b.metrics.length).toBe(2);
  });
});
