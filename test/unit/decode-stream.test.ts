import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/errors.js';
import { decodeLogs, streamLogs, type LogsSink } from '../../src/decode/otlp-proto.js';
import { validateLogs } from '../../src/decode/proto-validate.js';
import { ProtoReader } from '../../src/decode/proto-reader.js';
import { Extractor } from '../../src/extract/extractor.js';
import type { Attr, LogRecord, LogsRequest } from '../../src/model/otlp.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { Adapter, Gen, LogsReq, encode, pb, rng } from '../helpers/otlp-fixtures.js';

// The one-pass logs path (issue 13, point 4): streamLogs validates a request, then hands its records to a sink one at
// a time. It must see exactly what the tree decoder (itself checked against protobufjs) decodes, fold to the same
// delta map, and give a malformed request's records to nobody.

/** A sink that rebuilds the tree, to compare with decodeLogs. */
function collect(bytes: Uint8Array, opts?: { maxAttributes?: number; maxKeyLength?: number; maxValueLength?: number }): LogsRequest & { truncated: number; truncatedStrings: number } {
  const resources: Array<{ attrs: Attr[]; records: LogRecord[] }> = [];
  const sink: LogsSink<{ attrs: Attr[]; records: LogRecord[] }> = {
    resource: (attrs) => ({ attrs, records: [] }),
    // The record and its attributes are reused for the next one: keep copies (the tree's shape, no unset hash).
    record: (r, rec) => {
      // A sink without rawBodies gets every body as a value: the raw range is unset (bodyFrom -1).
      expect(rec.bodyFrom ?? -1).toBe(-1);
      const { bodyUtf8: _u, bodyFrom: _f, bodyTo: _t, ...tree } = rec;
      r.records.push({ ...tree, attrs: rec.attrs.map(plainAttr) });
    },
    endResource: (r) => resources.push(r),
  };
  const stats = streamLogs(bytes, opts, sink);
  return { resources: resources.map((r) => ({ attrs: r.attrs, scopes: [{ scopeName: '', records: r.records }] })), ...stats };
}

function plainAttr(a: Attr): Attr {
  return a.hashHi === undefined ? { key: a.key, value: a.value, bytes: a.bytes } : { ...a };
}

/**
 * decodeLogs' tree with scopes merged per resource and scope names dropped (the logs fold ignores both), and record
 * times 0: the one-pass path does not read them (nothing folds them).
 */
function flatten(req: LogsRequest & { truncated: number; truncatedStrings: number }) {
  return {
    resources: req.resources.map((r) => ({
      attrs: r.attrs,
      scopes: [{ scopeName: '', records: r.scopes.flatMap((s) => s.records).map((rec) => ({ ...rec, timeUnixMs: 0 })) }],
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

describe('streamLogs: one pass from bytes to a sink', () => {
  it('gives the records decodeLogs decodes (300 generated requests, unknown fields, custom limits), and the same as protobufjs', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const obj = new Gen(seed).logs();
      const bytes = encode(LogsReq, obj, seed % 3 === 0);
      expect(collect(bytes), `seed ${seed}`).toEqual(flatten(decodeLogs(bytes)));
      if (seed % 3 !== 0) expect(collect(bytes)).toEqual(flatten(new Adapter().logs(LogsReq.decode(bytes)) as never));
    }
    const limits = { maxAttributes: 2, maxKeyLength: 5, maxValueLength: 7 };
    for (let seed = 2000; seed < 2050; seed++) {
      const bytes = encode(LogsReq, new Gen(seed).logs());
      expect(collect(bytes, limits), `seed ${seed}`).toEqual(flatten(decodeLogs(bytes, limits)));
    }
  });

  it('reads a resource that comes after its scope_logs before any of its records', () => {
    const kv = pb.Writer.create().uint32(10).string('service.name').uint32(18).bytes(pb.Writer.create().uint32(10).string('late').finish()).finish();
    const resource = pb.Writer.create().uint32(10).bytes(kv).finish();
    const record = pb.Writer.create().uint32(26).string('INFO').finish();
    const scopeLogs = pb.Writer.create().uint32(18).bytes(record).uint32(18).bytes(record).finish();
    const rl = pb.Writer.create().uint32(18).bytes(scopeLogs).uint32(10).bytes(resource).finish();
    const req = pb.Writer.create().uint32(10).bytes(rl).finish() as Uint8Array;
    const got = collect(req);
    expect(got.resources[0]!.attrs.map((a) => a.value)).toEqual(['late']);
    expect(got.resources[0]!.scopes[0]!.records).toHaveLength(2);
  });

  it('validates exactly what decodeLogs rejects: 1,500 random mutations of valid requests', () => {
    const rand = rng(7);
    const base = Array.from({ length: 40 }, (_, j) => encode(LogsReq, new Gen(100 + j).logs(), j % 2 === 0));
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
      const tree = outcome(() => decodeLogs(mutated));
      const valid = outcome(() => validateLogs(new ProtoReader(mutated)));
      expect(valid, `mutation ${i} (kind ${kind} at ${at})`).toBe(tree);
      if (tree === 'error') errors++;
    }
    expect(errors).toBeGreaterThan(200);
  });

  it('the fused walk rejects exactly what validateLogs rejects, and a rejected request reaches the sink not at all: 1,500 mutations', () => {
    const rand = rng(11);
    const base = Array.from({ length: 40 }, (_, j) => encode(LogsReq, new Gen(300 + j).logs(), j % 2 === 0));
    let errors = 0;
    for (let i = 0; i < 1500; i++) {
      const bytes = base[i % 40]!.slice();
      const at = Math.floor(rand() * bytes.length);
      const kind = i % 3;
      let mutated: Uint8Array;
      if (kind === 0) {
        bytes[at] = Math.floor(rand() * 256);
        mutated = bytes;
      } else if (kind === 1) mutated = bytes.subarray(0, at);
      else mutated = new Uint8Array([...bytes.subarray(0, at), Math.floor(rand() * 256), ...bytes.subarray(at)]);
      // A limit of 2 attributes: the dropped ones, skipped unread by the decoder, must be checked all the same.
      const opts = i % 2 === 0 ? { maxAttributes: 2 } : undefined;
      let calls = 0;
      const sink: LogsSink<number> = { resource: () => ++calls, record: () => void calls++, endResource: () => void calls++, rawBodies: i % 4 < 2 };
      const fused = outcome(() => streamLogs(mutated, opts, sink, () => undefined));
      expect(fused, `mutation ${i} (kind ${kind} at ${at})`).toBe(outcome(() => validateLogs(new ProtoReader(mutated))));
      if (fused === 'error') {
        errors++;
        expect(calls, `mutation ${i}`).toBe(0);
      }
    }
    expect(errors).toBeGreaterThan(200);
  });

  it('a request of parts too small for the scratch (40,000 empty records) is validated first and streamed as before', () => {
    const rl = pb.Writer.create().uint32(18).bytes(new Uint8Array(new Array(40_000).fill([0x12, 0x00]).flat())).finish();
    const req = pb.Writer.create().uint32(10).bytes(rl).finish() as Uint8Array;
    expect(collect(req)).toEqual(flatten(decodeLogs(req)));
    expect(collect(req).resources[0]!.scopes[0]!.records).toHaveLength(40_000);
    // The same, broken in its last record: the fallback's validation refuses it before the sink sees anything.
    const bad = new Uint8Array([...req.subarray(0, req.length - 2), 0x12, 0x01]);
    let calls = 0;
    expect(() => streamLogs(bad, undefined, { resource: () => ++calls, record: () => void calls++, endResource: () => void calls++ })).toThrow(DecodeError);
    expect(calls).toBe(0);
  });

  it('a request malformed half-way reaches the sink not at all', () => {
    const good = encode(LogsReq, new Gen(5).logs());
    // A second ResourceLogs whose LogRecord has severity_number with a wrong wire type.
    const badRecord = Uint8Array.from([0x15, 0, 0, 0, 0]);
    const scopeLogs = pb.Writer.create().uint32(18).bytes(badRecord).finish();
    const rl = pb.Writer.create().uint32(18).bytes(scopeLogs).finish();
    const bad = pb.Writer.create().uint32(10).bytes(rl).finish();
    const req = new Uint8Array([...good, ...bad]);
    expect(() => decodeLogs(req)).toThrow(DecodeError);
    let calls = 0;
    const sink: LogsSink<number> = { resource: () => ++calls, record: () => void calls++, endResource: () => void calls++ };
    expect(() => streamLogs(req, undefined, sink)).toThrow(/wrong wire type/);
    expect(calls).toBe(0);
  });

  it('hashes plain ASCII string values from the bytes: the hash of the string, and no string made', async () => {
    const hasher = await createKeyedHasher(42n);
    const value = (av: Uint8Array) => pb.Writer.create().uint32(10).string('k').uint32(18).bytes(av).finish();
    const str = (v: string) => pb.Writer.create().uint32(10).string(v).finish() as Uint8Array;
    const record = pb.Writer.create()
      .uint32(50).bytes(value(str('user-42')))
      .uint32(50).bytes(value(str('')))
      .uint32(50).bytes(value(str('café')))
      .uint32(50).bytes(value(pb.Writer.create().uint32(24).int64(7).finish()))
      .finish();
    const req = pb.Writer.create().uint32(10).bytes(pb.Writer.create().uint32(18).bytes(pb.Writer.create().uint32(18).bytes(record).finish()).finish()).finish() as Uint8Array;
    const got: Attr[] = [];
    streamLogs(req, undefined, { resource: () => 0, record: (_s, rec) => got.push(...rec.attrs.map(plainAttr)), endResource: () => undefined }, (u, out) => hasher.hashBytes(u, out));
    const out = new Uint32Array(2);
    const expected = (v: string) => (hasher.hash(v, out), [out[0], out[1]]);
    expect(got.map((a) => [a.value, a.hashHi, a.hashLo])).toEqual([
      ['', ...expected('user-42')],
      ['', ...expected('')],
      ['café', undefined, undefined], // not ASCII: decoded as before (invalid UTF-8 becomes U+FFFD, and its hash must stay that one's)
      ['7', undefined, undefined],
    ]);
  });

  it('folds to the same delta map as decode-then-fold', async () => {
    const hasher = await createKeyedHasher(42n);
    const opts = { workerId: 1, precision: 10, minerMaxClusters: 100, minerMaxLineLength: 4096 };
    const a = new Extractor(hasher, opts);
    const b = new Extractor(hasher, opts);
    const now = 1_700_000_000_000;
    let records = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const bytes = encode(LogsReq, new Gen(seed).logs());
      const tree = decodeLogs(bytes);
      const ra = a.foldLogs(tree, now);
      const sink = b.logsSink(now);
      // Values hashed from the bytes must land in the same sketch registers as values hashed as strings.
      streamLogs(bytes, undefined, sink, (u, out) => hasher.hashBytes(u, out));
      expect(sink.result()).toEqual(ra);
      records += ra.accepted;
    }
    expect(records).toBeGreaterThan(300);
    expect(b.flush()).toEqual(a.flush());
  });
});
