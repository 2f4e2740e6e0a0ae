import { describe, expect, it } from 'vitest';
import { Packr, Unpackr } from 'msgpackr';
import { Extractor } from '../../src/extract/extractor.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { WriterState, type ChangeSet } from '../../src/writer/state.js';
import type { DeltaBatch } from '../../src/model/delta.js';
import type { Attr, LogsRequest, MetricsRequest } from '../../src/model/otlp.js';
import { unionSorted } from '../../src/model/delta.js';
import { severityOf } from '../../src/extract/severity.js';
import { Hll } from '../../src/sketch/hll.js';

// The writer without workers, the workers without SQLite: extractor batches
// go through msgpack (as over the channel) into WriterState, and what comes
// out is compared.
const SALT = 0x1234_5678_9abc_def0n;
const opts = { precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 100_000 };
// Sizes are synthetic here (the decoders' sizes are tested against protobufjs elsewhere): what matters is that they add.
const attrs = (o: Record<string, string>): Attr[] => Object.entries(o).map(([key, value]) => ({ key, value, bytes: key.length + value.length + 4 }));

function logs(service: string, lines: Array<{ body: string; sev: string; a: Record<string, string> }>): LogsRequest {
  return {
    resources: [
      {
        attrs: attrs({ 'service.name': service, host: 'h' }),
        scopes: [{ scopeName: 's', records: lines.map((l) => ({ timeUnixMs: 0, severityNumber: 0, severityText: l.sev, body: l.body, attrs: attrs(l.a), bytes: 20 + l.body.length })) }],
      },
    ],
  };
}

function metrics(service: string, n: number, offset: number): MetricsRequest {
  return {
    resources: [
      {
        attrs: attrs({ 'service.name': service }),
        scopes: [
          {
            scopeName: 's',
            metrics: [
              {
                name: 'm',
                description: '',
                unit: 'ms',
                type: 'histogram',
                monotonic: false,
                temporality: 2,
                points: Array.from({ length: n }, (_, i) => ({ attrs: attrs({ route: `/r${(i + offset) % 7}`, pod: `p${i + offset}` }), buckets: 4, bytes: 30 + (i % 5) })),
              },
            ],
          },
        ],
      },
    ],
  };
}

const roundTrip = (b: DeltaBatch): DeltaBatch => new Unpackr({ useRecords: true }).unpack(new Packr({ useRecords: true }).pack(b)) as DeltaBatch;

function summary(c: ChangeSet) {
  const by = <T,>(xs: T[], key: (x: T) => string) => Object.fromEntries(xs.map((x) => [key(x), x]));
  return {
    services: by(c.services, (s) => s.name),
    logs: Object.fromEntries(c.logs.map((l) => [`${l.service}/${l.severity}`, [l.count, l.bytes, l.attributeKeys, l.resourceKeys]])),
    keys: Object.fromEntries(c.keys.map((k) => [`${k.service}/${k.scope}/${k.key}`, [k.samples, k.bytes, Math.round(k.sketch.estimate())]])),
    metrics: Object.fromEntries(c.metrics.map((m) => [`${m.service}/${m.name}`, [m.points, m.bytes, m.labelKeys, m.buckets, Math.round(m.series.estimate())]])),
    labels: Object.fromEntries(c.labels.map((l) => [`${l.metric}/${l.key}`, [l.samples, l.bytes, Math.round(l.sketch.estimate())]])),
    templates: Object.fromEntries(c.templates.map((t) => [`${t.service}/${t.severity}/${t.cluster.template()}`, [t.count, t.bytes]])),
    history: Object.fromEntries(c.history.map((h) => [`${h.minute}/${h.kind}/${h.service}/${h.name}/${h.sub}`, [h.count, h.bytes]])),
  };
}

const workload = Array.from({ length: 12 }, (_, r) =>
  logs(`svc${r % 2}`, Array.from({ length: 30 }, (_, i) => ({ body: `request ${r * 30 + i} served in ${i} ms`, sev: i % 4 === 0 ? 'WARN' : 'INFO', a: { user: `u${(r * 30 + i) % 45}`, path: `/p${i % 3}` } }))),
);

describe('delta maps merge commutatively', () => {
  it('one extractor or three, in any order, give the writer the same totals', async () => {
    const hasher = await createKeyedHasher(SALT);
    // One worker sees everything.
    const single = new Extractor(hasher, { workerId: 1, ...opts });
    for (const req of workload) single.foldLogs(req, 1000);
    single.foldMetrics(metrics('svc0', 40, 0), 1000);
    single.foldMetrics(metrics('svc0', 40, 40), 1000);
    const w1 = new WriterState(opts);
    w1.applyBatch(roundTrip(single.flush()));

    // Three workers see a round-robin split; their batches arrive in reverse order.
    const ex = [0, 1, 2].map((i) => new Extractor(hasher, { workerId: i, ...opts }));
    workload.forEach((req, i) => ex[i % 3]!.foldLogs(req, 1000));
    ex[1]!.foldMetrics(metrics('svc0', 40, 0), 1000);
    ex[2]!.foldMetrics(metrics('svc0', 40, 40), 1000);
    const w3 = new WriterState(opts);
    for (const e of ex.reverse()) w3.applyBatch(roundTrip(e.flush()));

    const a = summary(w1.takeChanges());
    const b = summary(w3.takeChanges());
    expect(b).toEqual(a);
    expect(a.services['svc0']!.logRecords).toBe(6 * 30);
    expect(a.keys['svc0/log/user']![0]).toBe(6 * 30);
    expect(a.keys['svc0/log/user']![2]).toBe(45);
    expect(a.keys['svc0/resource/host']![0]).toBe(6 * 30);
    expect(a.keys['svc0/resource/service.name']![0]).toBe(6 * 30 + 80);
    expect(a.metrics['svc0/m']).toEqual([80, 80 * 30 + 16 * (0 + 1 + 2 + 3 + 4), ['pod', 'route'], 4, 80]);
    expect(a.labels['m/route']![2]).toBe(7);
    expect(Object.values(a.templates).reduce((x, y) => x + y[0]!, 0)).toBe(12 * 30);
    // Bytes: every record's size lands once in its service, its severity and its template.
    const logBytes = workload.flatMap((r) => r.resources[0]!.scopes[0]!.records).filter((_, i) => Math.floor(i / 30) % 2 === 0).reduce((x, r) => x + r.bytes, 0);
    expect(a.services['svc0']!.logBytes).toBe(logBytes);
    expect(a.logs['svc0/INFO']![1] + a.logs['svc0/WARN']![1]).toBe(logBytes);
    const tplBytes = Object.entries(a.templates).filter(([k]) => k.startsWith('svc0/')).reduce((x, [, v]) => x + v[1]!, 0);
    expect(tplBytes).toBe(logBytes);
    // A key's bytes are its KeyValues' sizes (synthetic: 'host' + 'h' + 4, once per resource as on the wire, six svc0 requests).
    expect(a.keys['svc0/resource/host']![1]).toBe(6 * (4 + 1 + 4));
    // Minute buckets (all in minute 0 here) hold the same counts and bytes as the totals.
    expect(a.history['0/log/svc0/INFO/']![1] + a.history['0/log/svc0/WARN/']![1]).toBe(logBytes);
    expect(a.history['0/metric/svc0/m/']).toEqual([80, a.metrics['svc0/m']![1]]);
  });

  it('takeChanges resets increments but keeps key sets and sketches', async () => {
    const hasher = await createKeyedHasher(SALT);
    const e = new Extractor(hasher, { workerId: 1, ...opts });
    const w = new WriterState(opts);
    e.foldLogs(workload[0]!, 1);
    w.applyBatch(e.flush());
    expect(w.takeChanges().services[0]!.logRecords).toBe(30);
    expect(w.hasChanges()).toBe(false);
    e.foldLogs(workload[2]!, 2);
    w.applyBatch(e.flush());
    const c = w.takeChanges();
    expect(c.services[0]!.logRecords).toBe(30);
    expect(c.services[0]!.firstSeen).toBe(1);
    expect(c.services[0]!.lastSeen).toBe(2);
    expect(Math.round(c.keys.find((k) => k.key === 'user')!.sketch.estimate())).toBe(45);
  });

  it('durable ack tokens ride with the batch that holds the request', async () => {
    const hasher = await createKeyedHasher(SALT);
    const e = new Extractor(hasher, { workerId: 1, ...opts });
    e.foldLogs(workload[0]!, 1);
    e.addAck(41);
    e.addAck(42);
    const w = new WriterState(opts);
    w.applyBatch(roundTrip(e.flush()));
    expect(w.takeChanges().acks).toEqual([41, 42]);
    expect(e.flush().acks).toEqual([]);
  });
});

describe('time buckets: one batch holds one receive minute', () => {
  it('the extractor asks for a flush at a new minute and refuses to mix minutes', async () => {
    const hasher = await createKeyedHasher(SALT);
    const e = new Extractor(hasher, { workerId: 1, ...opts });
    const t = Date.UTC(2026, 0, 1, 12, 0, 30);
    expect(e.needsFlushFor(t)).toBe(false);
    e.foldLogs(workload[0]!, t);
    expect(e.needsFlushFor(t + 29_000)).toBe(false);
    expect(e.needsFlushFor(t + 30_000)).toBe(true);
    expect(() => e.foldLogs(workload[1]!, t + 30_000)).toThrow(/flush first/);
    const first = e.flush();
    expect(first.minute).toBe(Date.UTC(2026, 0, 1, 12, 0));
    e.foldLogs(workload[1]!, t + 30_000);
    expect(e.flush().minute).toBe(Date.UTC(2026, 0, 1, 12, 1));
  });

  it('the writer keeps each batch\'s counts and bytes in its minute, and same-minute batches add', async () => {
    const hasher = await createKeyedHasher(SALT);
    const w = new WriterState(opts);
    const m0 = Date.UTC(2026, 0, 1, 12, 0);
    for (const [i, at] of [m0 + 1, m0 + 59_999, m0 + 60_000].entries()) {
      const e = new Extractor(hasher, { workerId: i, ...opts });
      e.foldLogs(workload[0]!, at);
      w.applyBatch(roundTrip(e.flush()));
    }
    const c = w.takeChanges();
    const perMinute = (m: number) => c.history.filter((h) => h.minute === m && h.kind === 'log').reduce((x, h) => x + h.count, 0);
    expect(perMinute(m0)).toBe(60);
    expect(perMinute(m0 + 60_000)).toBe(30);
    const tpl = c.history.filter((h) => h.kind === 'template');
    expect(tpl.reduce((x, h) => x + h.bytes, 0)).toBe(c.services[0]!.logBytes);
    expect(w.takeChanges().history).toEqual([]);
  });
});

describe('the writer keeps a bounded number of key rows in memory', () => {
  it('evicts committed rows past sketchCacheRows and reads them back from the store when touched', async () => {
    const hasher = await createKeyedHasher(SALT);
    // A recording store: what takeChanges hands over is what a later load finds.
    const store = new Map<string, { sketch: Uint8Array; firstSeen: number; lastSeen: number }>();
    const loader = {
      key: (service: string, scope: string, key: string) => store.get(`${service}/${scope}/${key}`),
      label: () => undefined,
    };
    const small = new WriterState({ ...opts, sketchCacheRows: 100 }, loader);
    const big = new WriterState(opts);
    const request = (round: number): LogsRequest =>
      logs('svc', Array.from({ length: 50 }, (_, i) => ({ body: 'x', sev: 'INFO', a: Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`k${(round * 7 + i + j) % 400}`, `v${(round + i) % 13}`])) })));
    const estimates = new Map<string, number>();
    for (let round = 0; round < 30; round++) {
      const e = new Extractor(hasher, { workerId: 1, ...opts });
      e.foldLogs(request(round), round + 1);
      const batch = roundTrip(e.flush());
      small.applyBatch(batch);
      big.applyBatch(roundTrip(batch));
      for (const k of small.takeChanges().keys) {
        store.set(`${k.service}/${k.scope}/${k.key}`, { sketch: k.sketch.serialize(), firstSeen: k.firstSeen, lastSeen: k.lastSeen });
        estimates.set(k.key, k.sketch.estimate());
      }
      const bigKeys = big.takeChanges().keys;
      for (const k of bigKeys) expect(estimates.get(k.key), k.key).toBe(k.sketch.estimate());
      expect(small.keys.rows.size).toBeLessThanOrEqual(100);
    }
    // Keys k0..k261 (round 29 reaches 29*7 + 49 + 9) plus 2 resource keys, though only 100 rows were held at once.
    expect(big.keys.rows.size).toBe(264);
    expect(small.keyCount).toBe(264);
  });
});

describe('merge helpers', () => {
  it('unionSorted is a sorted set union', () => {
    expect(unionSorted(['a', 'c'], ['b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd']);
    expect(unionSorted([], ['x'])).toEqual(['x']);
    expect(unionSorted(['x'], [])).toEqual(['x']);
  });

  it('severity comes from the number range, else from a known spelling of the text, else the text', () => {
    expect(severityOf('Warning', 13)).toBe('WARN');
    expect(severityOf('warning', 0)).toBe('WARN');
    expect(severityOf(' Err ', 0)).toBe('ERROR');
    expect(severityOf('crit', 0)).toBe('FATAL');
    expect(severityOf('Custom', 0)).toBe('Custom');
    expect(severityOf('Custom', 9)).toBe('INFO');
    expect(severityOf('', 9)).toBe('INFO');
    expect(severityOf('', 12)).toBe('INFO');
    expect(severityOf('', 17)).toBe('ERROR');
    expect(severityOf('', 24)).toBe('FATAL');
    expect(severityOf('', 0)).toBe('UNSPECIFIED');
    expect(severityOf('', 99)).toBe('UNSPECIFIED');
  });
});

describe('high-cardinality keys keep a long-lived sketch in the worker', () => {
  it('send only the registers that rose, and the writer ends with the same sketch', async () => {
    const hasher = await createKeyedHasher(SALT);
    const e = new Extractor(hasher, { workerId: 1, ...opts });
    const w = new WriterState(opts);
    const reference = new Hll(14);
    const out = new Uint32Array(2);
    const sizes: number[] = [];
    for (let round = 0; round < 8; round++) {
      const values = Array.from({ length: 5000 }, (_, i) => `id-${round * 5000 + i}`);
      for (const v of values) {
        hasher.hash(v, out);
        reference.add(out[0]!, out[1]!);
      }
      e.foldLogs(logs('hc', values.map((v) => ({ body: 'x', sev: 'INFO', a: { id: v } }))), round + 1);
      const batch = roundTrip(e.flush());
      sizes.push(batch.keys.find((k) => k.key === 'id')!.sketch.byteLength);
      w.applyBatch(batch);
    }
    const row = w.takeChanges().keys.find((k) => k.key === 'id')!;
    expect(row.sketch.serialize()).toEqual(reference.serialize());
    expect(row.sketch.estimate()).toBe(reference.estimate());
    // Once the sketch has seen many values, a flush carries a fraction of the registers.
    expect(sizes[7]!).toBeLessThan(sizes[1]! / 2);
  });
});

describe('buffers freed early (src/util/release.ts) do not change what the writer gets', () => {
  // Many values per key, so the sketches' arrays are past releaseView's 1 KiB floor.
  const wide = (service: string, from: number, n: number) =>
    logs(service, Array.from({ length: n }, (_, i) => ({ body: `req ${i}`, sev: 'INFO', a: { user: `u${from + i}`, path: `/p/${(from + i) % 700}` } })));

  it('releasing a batch after encoding it, as the worker does, leaves the encoded copy whole', async () => {
    const hasher = await createKeyedHasher(SALT);
    const released = new Extractor(hasher, { workerId: 1, ...opts });
    const kept = new Extractor(hasher, { workerId: 2, ...opts });
    const w1 = new WriterState(opts);
    const w2 = new WriterState(opts);
    const packr = new Packr({ useRecords: true });
    const unpackr = new Unpackr({ useRecords: true });
    for (let round = 0; round < 3; round++) {
      released.foldLogs(wide('svc', round * 3000, 3000), round + 1);
      kept.foldLogs(wide('svc', round * 3000, 3000), round + 1);
      const batch = released.flush();
      const bytes = packr.pack(batch).slice();
      Extractor.releaseBatch(batch);
      // The batch's own sketch bytes are gone (detached, empty)...
      expect(batch.keys.find((k) => k.key === 'user')!.sketch.byteLength).toBe(0);
      w1.applyBatch(unpackr.unpack(bytes) as DeltaBatch);
      w2.applyBatch(roundTrip(kept.flush()));
    }
    // ...and the writer sees the same as from a batch never released.
    expect(summary(w1.takeChanges())).toEqual(summary(w2.takeChanges()));
  });

  it('sketchBytes counts the writer rows in memory and falls when the cache evicts', async () => {
    const hasher = await createKeyedHasher(SALT);
    const e = new Extractor(hasher, { workerId: 1, ...opts });
    const w = new WriterState({ ...opts, sketchCacheRows: 100 });
    const many: Record<string, string> = {};
    for (let i = 0; i < 250; i++) many[`k${i}`] = `v${i}`;
    e.foldLogs(logs('svc', [{ body: 'x', sev: 'INFO', a: many }]), 1);
    w.applyBatch(roundTrip(e.flush()));
    const before = w.sketchBytes();
    expect(before).toBeGreaterThan(250 * 88);
    w.takeChanges();
    expect(w.keys.rows.size).toBe(100);
    expect(w.sketchBytes()).toBeLessThan(before / 2);
  });
});
