/**
 * The writer's side of the series estimates over time (src/store/series-estimates.ts):
 * each minute's end is recorded even when one commit spans several minutes,
 * label keys beside the series, the largest estimate per bucket at every
 * level, nothing with history off; and the route's carry-forward.
 */
import { describe, expect, it } from 'vitest';
import { emptyCounters, type DeltaBatch, type LabelDelta, type MetricDelta } from '../../src/model/delta.js';
import { Hll } from '../../src/sketch/hll.js';
import { MemoryStore } from '../../src/store/memory/store.js';
import { answerFromBuckets, carryForward, estimateBuckets, EstimateRecorder } from '../../src/store/series-estimates.js';
import { WriterState } from '../../src/writer/state.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const opts = { precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 100 };

/** A sketch of the values [from, to). */
function sketch(from: number, to: number): Uint8Array {
  const h = new Hll(14);
  for (let v = from; v < to; v++) h.add((v * 2654435761) >>> 0, (v * 40503 + 17) >>> 0);
  return h.serialize();
}

function batch(minute: number, from: number, to: number): DeltaBatch {
  const metric: MetricDelta = {
    service: 's', name: 'm', type: 'gauge', unit: '', description: '', monotonic: false, temporality: 0, labelKeys: ['pod'], resourceKeys: [],
    points: to - from, bytes: 10, overflowPoints: 0, buckets: 0, series: sketch(from, to), firstSeen: minute, lastSeen: minute,
  };
  const label: LabelDelta = { service: 's', metric: 'm', key: 'pod', samples: to - from, bytes: 5, sketch: sketch(from, to), firstSeen: minute, lastSeen: minute };
  return { worker: 1, seq: 1, minute, acks: [], services: [], metrics: [metric], labels: [label], spans: [], logs: [], keys: [], templates: [], versions: [], counters: emptyCounters() };
}

describe('series estimates over time: the writer', () => {
  it('one commit spanning three minutes records the end of each; hour and day buckets hold the latest', () => {
    const state = new WriterState(opts);
    state.applyBatch(batch(T0, 0, 10));
    state.applyBatch(batch(T0, 10, 20));
    state.applyBatch(batch(T0 + MIN, 20, 50));
    state.applyBatch(batch(T0 + 5 * MIN, 50, 100));
    const rows = estimateBuckets(state.takeChanges());
    const of = (kind: string, level: string) =>
      rows.filter((r) => r.kind === kind && r.level === level).sort((a, b) => a.bucket - b.bucket).map((r) => [r.bucket - T0, r.estimate]);
    expect(of('series', 'minute')).toEqual([[0, 20], [MIN, 50], [5 * MIN, 100]]);
    expect(of('series', 'hour')).toEqual([[0, 100]]);
    expect(of('series', 'day')).toEqual([[0, 100]]);
    expect(of('label', 'minute')).toEqual([[0, 20], [MIN, 50], [5 * MIN, 100]]);
    expect(rows.every((r) => r.service === 's' && r.metric === 'm' && r.label === (r.kind === 'label' ? 'pod' : ''))).toBe(true);
  });

  it('a minute already committed is not sampled again; a late batch of an earlier minute counts in the latest', () => {
    const state = new WriterState(opts);
    state.applyBatch(batch(T0, 0, 10));
    expect(estimateBuckets(state.takeChanges()).filter((r) => r.level === 'minute' && r.kind === 'series')).toEqual([
      expect.objectContaining({ bucket: T0, estimate: 10 }),
    ]);
    state.applyBatch(batch(T0 + MIN, 10, 30));
    state.applyBatch(batch(T0, 30, 40));
    const minutes = estimateBuckets(state.takeChanges()).filter((r) => r.level === 'minute' && r.kind === 'series');
    expect(minutes.map((r) => [r.bucket - T0, r.estimate])).toEqual([[MIN, 40]]);
  });

  it('an unchanged estimate is not written again, once its commit is confirmed (a retried commit writes the same rows)', () => {
    const state = new WriterState(opts);
    const last = new EstimateRecorder();
    state.applyBatch(batch(T0, 0, 10));
    const first = state.takeChanges();
    expect(estimateBuckets(first, last)).toHaveLength(6);
    // Not confirmed (the commit failed): the retry of the same ChangeSet writes the same rows.
    expect(estimateBuckets(first, last)).toHaveLength(6);
    last.confirm(first);
    // The same values a minute later: the estimates did not move, nothing to write (reads carry the value).
    state.applyBatch(batch(T0 + MIN, 0, 10));
    expect(estimateBuckets(state.takeChanges(), last)).toEqual([]);
    // New values: written again, at the new minute only.
    state.applyBatch(batch(T0 + 2 * MIN, 10, 15));
    const rows = estimateBuckets(state.takeChanges(), last);
    expect(rows.filter((r) => r.level === 'minute').map((r) => [r.kind, r.bucket - T0, r.estimate])).toEqual([['series', 2 * MIN, 15], ['label', 2 * MIN, 15]]);
  });

  it('with history off nothing is recorded', () => {
    const state = new WriterState({ ...opts, history: 'off' });
    state.applyBatch(batch(T0, 0, 10));
    state.applyBatch(batch(T0 + MIN, 10, 20));
    expect(estimateBuckets(state.takeChanges())).toEqual([]);
  });

  it('the memory store keeps the largest per bucket, answers per step, and drops by retention', async () => {
    const store = new MemoryStore({ maxBytes: 1 << 24 });
    const state = new WriterState(opts, store.loader());
    state.applyBatch(batch(T0 + 10 * MIN, 0, 10));
    await store.commit(state.takeChanges());
    state.applyBatch(batch(T0 + 2 * HOUR + 5 * MIN, 10, 30));
    await store.commit(state.takeChanges());
    const q = { kind: 'series' as const, service: 's', metric: 'm', label: '', level: 'hour' as const, from: T0 + HOUR, to: T0 + 4 * HOUR, step: HOUR };
    const raw = await store.localReader().read((r) => r.seriesEstimates(q));
    expect(raw).toEqual({ before: 10, points: [{ t: T0 + 2 * HOUR, estimate: 30 }] });
    expect(carryForward(raw, q.from, q.to, q.step).map((p) => p.estimate)).toEqual([10, 30, 30]);
    // At 3 h, minutes kept 60 min and hours 2 h: minute 0:10 and hour 0 go (series and label: 4 rows); 2:05 and hour 2 stay.
    const dropped = await store.retainEstimates(T0 + 3 * HOUR, { minuteMs: 60 * MIN, hourMs: 2 * HOUR, dayMs: 400 * 24 * HOUR });
    expect(dropped).toBe(4);
    const read = (over: Partial<typeof q>) => store.localReader().read((r) => r.seriesEstimates({ ...q, ...over }));
    expect(await read({ level: 'minute', from: T0, to: T0 + 3 * HOUR, step: MIN })).toEqual({ before: null, points: [{ t: T0 + 2 * HOUR + 5 * MIN, estimate: 30 }] });
    expect(await read({ from: T0 })).toEqual({ before: null, points: [{ t: T0 + 2 * HOUR, estimate: 30 }] });
    // The day bucket still knows the day's latest.
    expect(await read({ level: 'day', from: T0, to: T0 + 24 * HOUR, step: 24 * HOUR })).toEqual({ before: null, points: [{ t: T0, estimate: 30 }] });
  });

  it('carry-forward: null before any value, the last value through empty steps, never down', () => {
    expect(carryForward({ before: null, points: [{ t: 2, estimate: 5 }, { t: 4, estimate: 3 }] }, 0, 6, 1).map((p) => p.estimate)).toEqual([null, null, 5, 5, 5, 5]);
    expect(answerFromBuckets([], { kind: 'series', service: 's', metric: 'm', label: '', level: 'minute', from: 0, to: MIN, step: MIN })).toEqual({ before: null, points: [] });
  });
});
