/**
 * Series estimates over time: each metric's HLL estimate of distinct label
 * sets (metrics_metadata.series_estimate) and each of its label keys'
 * cardinality estimate, recorded at the end of every minute, hour and day
 * bucket of receive time (the buckets of src/model/history.ts), in a table of
 * their own (`metric_series_estimates`) in every backend.
 *
 * A bucket holds the largest estimate committed while it was the current one:
 * an all-time sketch only gains registers, so that is its estimate at the end
 * of the bucket. Taking the maximum also makes every write idempotent and
 * order-free — commits of several PostgreSQL instances, a retried commit, an
 * imported dump all merge by GREATEST.
 *
 * Shared by every backend: which rows a ChangeSet writes (estimateBuckets),
 * the question (SeriesEstimateQuery) and the carry-forward of its answer.
 */
import { HISTORY_LEVELS, bucketOf } from '../model/history.js';
import { rounded } from './derive.js';
import type { HistoryLevelName } from './history.js';
import type { ChangeSet } from '../writer/state.js';

/** 'series': the metric's distinct label sets (label is ''); 'label': one label key's distinct values. */
export type EstimateKind = 'series' | 'label';
export const ESTIMATE_KINDS: readonly EstimateKind[] = ['series', 'label'];

/** An estimate as it was when the minute `minute` closed (taken by the writer when a later minute's data arrived). */
export interface EstimateSample {
  kind: EstimateKind;
  service: string;
  metric: string;
  label: string;
  minute: number;
  estimate: number;
}

/** One stored row: the largest estimate recorded in one bucket of one level. */
export interface EstimateBucket {
  level: HistoryLevelName;
  kind: EstimateKind;
  service: string;
  metric: string;
  label: string;
  bucket: number;
  estimate: number;
}

const LEVEL_MS: Record<HistoryLevelName, number> = Object.fromEntries(HISTORY_LEVELS.map((l) => [l.name, l.ms])) as Record<HistoryLevelName, number>;

export function levelMs(level: HistoryLevelName): number {
  return LEVEL_MS[level];
}

const bucketKey = (b: Omit<EstimateBucket, 'estimate'>) => `${b.level}\u0000${b.kind}\u0000${b.service}\u0000${b.metric}\u0000${b.label}\u0000${b.bucket}`;

/**
 * The estimate rows one commit writes, one per (entity, level, bucket) with
 * the largest value (a statement may touch a row once): the writer's samples
 * of minutes that closed inside the commit, then every committed metric and
 * label row at the minute it last received data (its sketch as committed:
 * on PostgreSQL merged with the other instances' registers first), then rows
 * given whole (a dump's).
 *
 * A sample whose estimate equals the one last written for its entity is left
 * out (`last`): the read side carries a value forward through buckets without
 * a row, so the rows only mark changes. Most metrics stop gaining series soon,
 * and then cost no write at all. (Measured by `npm run bench:series-estimates`.)
 */
export function estimateBuckets(c: ChangeSet, last?: EstimateRecorder): EstimateBucket[] {
  const out = new Map<string, EstimateBucket>();
  const written = new Map<string, number>();
  const put = (b: EstimateBucket) => {
    const k = bucketKey(b);
    const o = out.get(k);
    if (!o) out.set(k, b);
    else if (b.estimate > o.estimate) o.estimate = b.estimate;
  };
  const sample = (s: EstimateSample) => {
    const ek = `${s.kind}\u0000${s.service}\u0000${s.metric}\u0000${s.label}`;
    const prev = written.get(ek) ?? last?.get(ek);
    if (prev === s.estimate) return;
    written.set(ek, s.estimate);
    for (const l of HISTORY_LEVELS) put({ level: l.name, kind: s.kind, service: s.service, metric: s.metric, label: s.label, bucket: bucketOf(s.minute, l.ms), estimate: s.estimate });
  };
  for (const s of c.estimateSamples ?? []) sample(s);
  for (const r of c.metrics) {
    if (r.estimateMinute !== undefined) sample({ kind: 'series', service: r.service, metric: r.name, label: '', minute: r.estimateMinute, estimate: rounded(r.series) });
  }
  for (const r of c.labels) {
    if (r.estimateMinute !== undefined) sample({ kind: 'label', service: r.service, metric: r.metric, label: r.key, minute: r.estimateMinute, estimate: rounded(r.sketch) });
  }
  for (const b of c.estimateBuckets ?? []) put({ ...b });
  last?.pend(c, written);
  return [...out.values()];
}

/**
 * What each store last wrote per entity, so unchanged estimates are not
 * written again. Updated only once a commit succeeded (confirm), so a commit
 * retried after a failure writes the same rows. Bounded: past `maxEntities`
 * it starts over (which only costs rows written again).
 */
export class EstimateRecorder {
  private readonly last = new Map<string, number>();
  private readonly pending = new WeakMap<ChangeSet, Map<string, number>>();

  constructor(private readonly maxEntities = 200_000) {}

  get(entity: string): number | undefined {
    return this.last.get(entity);
  }

  pend(c: ChangeSet, written: Map<string, number>): void {
    this.pending.set(c, written);
  }

  /** The commit of `c` succeeded: its rows are in the store. */
  confirm(c: ChangeSet): void {
    const w = this.pending.get(c);
    if (!w) return;
    this.pending.delete(c);
    if (this.last.size + w.size > this.maxEntities) this.last.clear();
    for (const [k, v] of w) this.last.set(k, v);
  }
}

/** One metric's (or one of its labels') estimates, read from the level whose buckets divide `step`. */
export interface SeriesEstimateQuery {
  kind: EstimateKind;
  service: string;
  metric: string;
  label: string;
  level: HistoryLevelName;
  /** Aligned to the level's buckets. */
  from: number;
  to: number;
  /** ms, a multiple of the level's bucket. */
  step: number;
}

/** What a backend answers: the largest estimate per step that has buckets, and the last known before `from`. */
export interface SeriesEstimateRaw {
  /** Largest estimate of the buckets (any level) that ended at or before `from`; null when none is kept. */
  before: number | null;
  /** Steps in [from, to) with at least one bucket: t = from + k·step, estimate = the largest in it. */
  points: Array<{ t: number; estimate: number }>;
}

/** The API's points: every step of the window, empty ones carrying the last known value forward (null before any). */
export function carryForward(raw: SeriesEstimateRaw, from: number, to: number, step: number): Array<{ t: number; estimate: number | null }> {
  const byT = new Map(raw.points.map((p) => [p.t, p.estimate]));
  const items: Array<{ t: number; estimate: number | null }> = [];
  let last: number | null = raw.before;
  for (let t = from; t < to; t += step) {
    const v = byT.get(t);
    if (v !== undefined) last = last === null ? v : Math.max(last, v);
    items.push({ t, estimate: last });
  }
  return items;
}

/** Walks rows of one (kind, service, metric, label) in code: the memory store's answer, and the reference for the SQL ones. */
export function answerFromBuckets(rows: Iterable<EstimateBucket>, q: SeriesEstimateQuery): SeriesEstimateRaw {
  let before: number | null = null;
  const points = new Map<number, number>();
  for (const b of rows) {
    if (b.kind !== q.kind || b.service !== q.service || b.metric !== q.metric || b.label !== q.label) continue;
    if (b.bucket + LEVEL_MS[b.level] <= q.from) {
      if (before === null || b.estimate > before) before = b.estimate;
    }
    if (b.level !== q.level || b.bucket < q.from || b.bucket >= q.to) continue;
    const t = q.from + Math.floor((b.bucket - q.from) / q.step) * q.step;
    points.set(t, Math.max(points.get(t) ?? 0, b.estimate));
  }
  return { before, points: [...points.entries()].sort((a, b) => a[0] - b[0]).map(([t, estimate]) => ({ t, estimate })) };
}
