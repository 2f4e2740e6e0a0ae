import { describe, expect, it } from 'vitest';
import { emptyCounters, type DeltaBatch, type KeyDelta } from '../../src/model/delta.js';
import { Hll } from '../../src/sketch/hll.js';
import { MemoryStore } from '../../src/store/memory/store.js';
import { WriterState } from '../../src/writer/state.js';

const opts = { precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 100 };

function keyDelta(i: number, values: number): KeyDelta {
  const h = new Hll(14);
  for (let v = 0; v < values; v++) h.add((i * 7919 + v * 104729) >>> 0, (v * 2654435761) >>> 0);
  return { service: 'svc', scope: 'log', key: `key-${i}`, samples: values, bytes: 10 * values, sketch: h.serialize(), firstSeen: 1000 + i, lastSeen: 2000 + i };
}

function batch(keys: KeyDelta[]): DeltaBatch {
  return { worker: 1, seq: 1, minute: 60_000, acks: [], services: [], metrics: [], labels: [], spans: [], logs: [], keys, templates: [], versions: [], counters: emptyCounters() };
}

describe('memory store', () => {
  it('pushed past its bound stays under it, evicting the least recently updated rows first', async () => {
    const maxBytes = 200_000;
    const store = new MemoryStore({ maxBytes });
    const state = new WriterState(opts, store.loader());
    // 0 is updated again after the others, so it is the most recently updated and must survive.
    for (let round = 0; round < 20; round++) {
      state.applyBatch(batch(Array.from({ length: 100 }, (_, j) => keyDelta(round * 100 + j + 1, 20))));
      state.applyBatch(batch([keyDelta(0, 20)]));
      await store.commit(state.takeChanges());
      expect(store.size().bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(store.evictions()).toBeGreaterThan(0);
    const answer = await store.localReader().read((q) => q.keys({ page: { limit: 10_000, offset: 0, sort: 'key', order: 'asc' } }));
    const kept = new Set(answer.items.map((k) => k.key));
    expect(kept.has('key-0')).toBe(true);
    // The oldest rows went first: the first round's keys are gone, the last round's are all there.
    expect(kept.has('key-1')).toBe(false);
    for (let j = 1; j <= 100; j++) expect(kept.has(`key-${1900 + j}`)).toBe(true);
    expect(answer.total + store.evictions()).toBe(2001);
    // key-0 was updated 20 times: its count is the sum, its estimate the sketch's.
    expect(answer.items.find((k) => k.key === 'key-0')).toMatchObject({ sample_count: 400, cardinality_estimate: 20 });
  });

  it('keeps its salt, and refuses another one', async () => {
    const store = new MemoryStore({ maxBytes: 1 << 20 });
    const s = await store.salt(42n);
    expect(s).toBe(42n);
    expect(await store.salt()).toBe(42n);
    await expect(store.salt(43n)).rejects.toThrow(/differs from the salt this store was created with/);
  });
});
