import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/errors.js';
import { decodeRequest, getDecoder } from '../../src/decode/index.js';
import { decodeLogs, decodeMetrics, decodeTraces } from '../../src/decode/otlp-proto.js';
import { int64ToString, nanosToMs } from '../../src/decode/proto-reader.js';
import { Adapter, Gen, LogsReq, MetricsReq, TracesReq, encode, pb, rng, withoutSizes } from '../helpers/otlp-fixtures.js';

const SIGNALS = [
  { name: 'logs', type: LogsReq, gen: (g: Gen) => g.logs(), ours: decodeLogs, ref: (a: Adapter, m: unknown) => a.logs(m) },
  { name: 'metrics', type: MetricsReq, gen: (g: Gen) => g.metrics(), ours: decodeMetrics, ref: (a: Adapter, m: unknown) => a.metrics(m) },
  { name: 'traces', type: TracesReq, gen: (g: Gen) => g.traces(), ours: decodeTraces, ref: (a: Adapter, m: unknown) => a.traces(m) },
] as const;

/** Every decode outcome on hostile input must be a result or a DecodeError: nothing else. */
function decodeOrDecodeError(fn: (b: Uint8Array) => unknown, bytes: Uint8Array): 'ok' | 'error' {
  try {
    fn(bytes);
    return 'ok';
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return 'error';
  }
}

describe('protobuf decoder vs protobufjs (otlp-transformer generated code)', () => {
  for (const s of SIGNALS) {
    it(`${s.name}: 300 generated requests decode identically`, () => {
      let records = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const obj = s.gen(new Gen(seed));
        const bytes = encode(s.type, obj);
        const expected = s.ref(new Adapter(), s.type.decode(bytes));
        const got = s.ours(bytes);
        expect(got, `seed ${seed}`).toEqual(expected);
        records += bytes.length;
      }
      expect(records).toBeGreaterThan(10_000);
    });

    it(`${s.name}: unknown fields of every wire type in every message are skipped`, () => {
      for (let seed = 1000; seed < 1100; seed++) {
        const obj = s.gen(new Gen(seed));
        const plain = encode(s.type, obj);
        const bytes = encode(s.type, obj, true);
        expect(bytes.length).toBeGreaterThan(plain.length);
        // Sizes differ here by design: a record's bytes are its length on the wire, unknown fields included.
        const expected = s.ref(new Adapter(), s.type.decode(bytes));
        expect(withoutSizes(s.ours(bytes)), `seed ${seed}`).toEqual(withoutSizes(expected));
        expect(withoutSizes(s.ours(bytes))).toEqual(withoutSizes(s.ours(plain)));
      }
    });

    it(`${s.name}: custom limits`, () => {
      const limits = { maxAttributes: 2, maxKeyLength: 5, maxValueLength: 7 };
      for (let seed = 2000; seed < 2050; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        const expected = s.ref(new Adapter(limits), s.type.decode(bytes));
        expect(s.ours(bytes, limits), `seed ${seed}`).toEqual(expected);
      }
    });

    it(`${s.name}: empty request and empty containers`, () => {
      expect(s.ours(new Uint8Array(0))).toEqual({ resources: [], truncated: 0, truncatedStrings: 0 });
      const key = s.name === 'logs' ? 'resourceLogs' : s.name === 'metrics' ? 'resourceMetrics' : 'resourceSpans';
      const inner = s.name === 'logs' ? 'scopeLogs' : s.name === 'metrics' ? 'scopeMetrics' : 'scopeSpans';
      const bytes = encode(s.type, { [key]: [{}, { resource: {}, [inner]: [{}, { scope: {} }] }] });
      expect(s.ours(bytes)).toEqual(s.ref(new Adapter(), s.type.decode(bytes)));
      expect(s.ours(bytes).resources).toHaveLength(2);
    });
  }

  it('dispatches through decodeRequest / getDecoder', () => {
    const bytes = encode(LogsReq, new Gen(7).logs());
    expect(decodeRequest('logs', 'protobuf', bytes)).toEqual(decodeLogs(bytes));
    expect(getDecoder('traces', 'protobuf')).toBe(decodeTraces);
    expect(() => getDecoder('nope' as never, 'protobuf')).toThrow(DecodeError);
  });
});

describe('protobuf decoder details', () => {
  it('keeps the first 256 attributes and counts the rest', () => {
    const attributes = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const bytes = encode(LogsReq, { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes }] }] }] });
    const got = decodeLogs(bytes);
    const attrs = got.resources[0]!.scopes[0]!.records[0]!.attrs;
    expect(attrs).toHaveLength(256);
    expect(attrs[255]).toMatchObject({ key: 'k255', value: '255' });
    expect(got.truncated).toBe(44);
    expect(decodeLogs(bytes, { maxAttributes: 10 }).truncated).toBe(290);
  });

  it('cuts a 10 KB service.name to 4096 characters', () => {
    const name = 'svc-'.repeat(2500);
    const bytes = encode(TracesReq, { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: name } }] } }] });
    const got = decodeTraces(bytes);
    expect(got.resources[0]!.attrs[0]!.value).toBe(name.slice(0, 4096));
    expect(got.truncatedStrings).toBe(1);
  });

  it('canonical attribute values', () => {
    const v = (value: unknown) => ({ key: 'k', value });
    const attributes = [
      v({ stringValue: 'plain' }),
      v({ intValue: '-9223372036854775808' }),
      v({ intValue: '9007199254740993' }),
      v({ intValue: -42 }),
      v({ doubleValue: 0.1 }),
      v({ doubleValue: NaN }),
      v({ boolValue: false }),
      v({ bytesValue: new Uint8Array([0, 1, 255]) }),
      v({ arrayValue: { values: [{ stringValue: 'a"b' }, { intValue: 1 }, {}, { arrayValue: {} }, { bytesValue: new Uint8Array([1]) }] } }),
      v({ kvlistValue: { values: [{ key: 'x', value: { boolValue: true } }, { key: 'y' }, { key: 'z', value: { kvlistValue: {} } }] } }),
      { key: 'noval' },
    ];
    const got = decodeLogs(encode(LogsReq, { resourceLogs: [{ resource: { attributes } }] }));
    expect(got.resources[0]!.attrs.map((a) => a.value)).toEqual([
      'plain',
      '-9223372036854775808',
      '9007199254740993',
      '-42',
      '0.1',
      'NaN',
      'false',
      'AAH/',
      '["a\\"b",1,null,[],"AQ=="]',
      '{"x":true,"y":null,"z":{}}',
      '',
    ]);
  });

  it('log bodies: string, kvlist as attributes, other kinds canonical, unset undefined', () => {
    const rec = (body?: unknown) => ({ body });
    const bytes = encode(LogsReq, {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                rec({ stringValue: 'hello' }),
                rec({ kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'hi' } }, { key: 'n', value: { intValue: 3 } }] } }),
                rec({ intValue: 5 }),
                rec({}),
                rec(),
                rec({ bytesValue: new Uint8Array(0) }),
              ],
            },
          ],
        },
      ],
    });
    const bodies = decodeLogs(bytes).resources[0]!.scopes[0]!.records.map((r) => r.body);
    expect(withoutSizes(bodies)).toEqual(['hello', [{ key: 'msg', value: 'hi' }, { key: 'n', value: '3' }], '5', undefined, undefined, '']);
  });

  it('time: time_unix_nano, else observed; exact ms', () => {
    const bytes = encode(LogsReq, {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: '1700000000123999999', observedTimeUnixNano: '1' },
                { observedTimeUnixNano: '1700000000555000000' },
                {},
                { timeUnixNano: '18446744073709551615' },
              ],
            },
          ],
        },
      ],
    });
    expect(decodeLogs(bytes).resources[0]!.scopes[0]!.records.map((r) => r.timeUnixMs)).toEqual([1700000000123, 1700000000555, 0, 18446744073709]);
  });

  it('nanosToMs is exact for random 64-bit values', () => {
    const r = rng(3);
    for (let i = 0; i < 20000; i++) {
      const hi = Math.floor(r() * 2 ** 32);
      const lo = i % 3 === 0 ? (Math.floor(r() * 4295) * 1_000_000) % 2 ** 32 : Math.floor(r() * 2 ** 32);
      const ref = ((BigInt(hi) << 32n) | BigInt(lo)) / 1_000_000n;
      expect(nanosToMs(lo, hi)).toBe(Number(ref));
    }
  });

  it('int64ToString matches BigInt for random values', () => {
    const r = rng(4);
    for (let i = 0; i < 20000; i++) {
      const hi = i % 4 === 0 ? Math.floor(r() * 0x200000) : i % 4 === 1 ? 0xffffffff - Math.floor(r() * 0x200000) : Math.floor(r() * 2 ** 32);
      const lo = Math.floor(r() * 2 ** 32);
      expect(int64ToString(lo, hi)).toBe(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString());
    }
  });

  it('negative enums (10-byte varints) and booleans', () => {
    const bytes = encode(TracesReq, { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'x', kind: -1, status: { code: -2 } }] }] }] });
    const span = decodeTraces(bytes).resources[0]!.scopes[0]!.spans[0]!;
    expect(span.kind).toBe(-1);
    expect(span.statusCode).toBe(-2);
  });

  it('unpacked repeated fields count like packed ones', () => {
    // HistogramDataPoint with explicit_bounds (7) unpacked and an ExponentialHistogram Buckets.bucket_counts (2) unpacked.
    const W = pb.Writer;
    const hp = W.create();
    for (let i = 0; i < 3; i++) hp.uint32((7 << 3) | 1).double(i);
    const histPoint = hp.finish();
    const buckets = W.create();
    for (let i = 0; i < 4; i++) buckets.uint32((2 << 3) | 0).uint64(i * 1000);
    const ep = W.create().uint32((8 << 3) | 2).bytes(buckets.finish()).finish();
    const metric = (field: number, point: Uint8Array) =>
      W.create().uint32((1 << 3) | 2).string('m').uint32((field << 3) | 2).bytes(W.create().uint32((1 << 3) | 2).bytes(point).finish()).finish();
    const sm = W.create().uint32((2 << 3) | 2).bytes(metric(9, histPoint)).uint32((2 << 3) | 2).bytes(metric(10, ep)).finish();
    const rm = W.create().uint32((2 << 3) | 2).bytes(sm).finish();
    const req = W.create().uint32((1 << 3) | 2).bytes(rm).finish();
    const got = decodeMetrics(req);
    expect(got.resources[0]!.scopes[0]!.metrics.map((m) => [m.type, m.points[0]!.buckets])).toEqual([
      ['histogram', 4],
      ['exponential_histogram', 5],
    ]);
    // Unpacked on the wire is longer than protobufjs's packed re-encoding: compare all but the sizes.
    expect(withoutSizes(got)).toEqual(withoutSizes(new Adapter().metrics(MetricsReq.decode(req))));
  });
});

describe('protobuf decoder on malformed input', () => {
  const bad = (bytes: number[]) => new Uint8Array(bytes);

  it.each([
    ['truncated tag varint', [0x8a]],
    ['varint longer than 10 bytes', [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['tag varint longer than 10 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['length past end', [0x0a, 0x05, 0x01]],
    ['huge length', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['known field, wrong wire type', [0x08, 0x01]],
    ['known field, fixed32 wire type', [0x0d, 0, 0, 0, 0]],
    ['field number 0', [0x02, 0x00]],
    ['wire type 6', [0x0e]],
    ['wire type 7', [0x0f]],
    ['stray end group', [0x0c]],
    ['unterminated group', [0xa3, 0x01, 0x08, 0x01]],
    ['mismatched end group', [0xa3, 0x01, 0xac, 0x01]],
    ['truncated fixed64', [0x09, 1, 2, 3]],
    ['nested message overruns its parent', [0x0a, 0x03, 0x12, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00]],
    ['field inside nested message straddles its end', [0x0a, 0x02, 0x12, 0x03, 0x0a, 0x01, 0x41]],
  ])('%s → DecodeError', (_name, bytes) => {
    for (const fn of [decodeLogs, decodeMetrics, decodeTraces]) {
      expect(() => fn(bad(bytes))).toThrow(DecodeError);
    }
  });

  it('deeply nested AnyValue arrays → DecodeError, not a stack overflow', () => {
    let av = pb.Writer.create().uint32(10).string('leaf').finish() as Uint8Array;
    for (let i = 0; i < 5000; i++) {
      const arr = pb.Writer.create().uint32(10).bytes(av).finish();
      av = pb.Writer.create().uint32(42).bytes(arr).finish();
    }
    const kv = pb.Writer.create().uint32(10).string('k').uint32(18).bytes(av).finish();
    const res = pb.Writer.create().uint32(10).bytes(kv).finish();
    const rl = pb.Writer.create().uint32(10).bytes(res).finish();
    const req = pb.Writer.create().uint32(10).bytes(rl).finish();
    expect(() => decodeLogs(req)).toThrow(/nested deeper/);
  });

  it('deeply nested unknown groups → DecodeError', () => {
    const bytes: number[] = [];
    for (let i = 0; i < 10000; i++) bytes.push(0xa3, 0x01);
    expect(() => decodeLogs(bad(bytes))).toThrow(DecodeError);
  });

  for (const s of SIGNALS) {
    it(`${s.name}: every truncation of a valid request is a result or a DecodeError`, () => {
      const bytes = encode(s.type, s.gen(new Gen(42)), true);
      // Every prefix is O(n^2) on large fixtures: every prefix in the first 4 KB, then a stride.
      let errors = 0;
      let tried = 0;
      const stride = Math.max(1, Math.floor(bytes.length / 4000));
      for (let n = 0; n < bytes.length; n += n < 4096 ? 1 : stride) {
        tried++;
        if (decodeOrDecodeError(s.ours, bytes.subarray(0, n)) === 'error') errors++;
      }
      // Nearly every cut lands inside a field or nested message.
      expect(errors).toBeGreaterThan(tried * 0.9);
    });

    it(`${s.name}: random corruption never escapes as another error`, () => {
      const r = rng(99);
      const base = encode(s.type, s.gen(new Gen(43)));
      for (let i = 0; i < 3000; i++) {
        const b = Uint8Array.from(base);
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        decodeOrDecodeError(s.ours, b);
      }
      for (let i = 0; i < 2000; i++) {
        const b = new Uint8Array(1 + Math.floor(r() * 64));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
        decodeOrDecodeError(s.ours, b);
      }
    });
  }
});
