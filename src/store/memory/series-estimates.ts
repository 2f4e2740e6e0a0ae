/**
 * The memory store's series estimates over time (src/store/series-estimates.ts):
 * one Map of buckets per entity (kind, service, metric, label), so a question
 * walks one metric's buckets only. Bounded by retention and by `maxBytes`
 * (oldest minute buckets dropped first, then hours, then days); its size
 * counts in the store's size().
 */
import { entityKey } from '../../model/delta.js';
import { retentionCutoffs, type HistoryLevelName, type Retention } from '../history.js';
import { answerFromBuckets, estimateBuckets, EstimateRecorder, type EstimateBucket, type SeriesEstimateQuery, type SeriesEstimateRaw } from '../series-estimates.js';
import { compareCodePoints } from '../queries.js';
import type { ChangeSet } from '../../writer/state.js';

/** A rough per-row size: the strings' characters plus the object and its Map entry. */
const ROW_OVERHEAD = 180;
const LEVELS: readonly HistoryLevelName[] = ['minute', 'hour', 'day'];

export class MemoryEstimates {
  private readonly byEntity = new Map<string, Map<string, EstimateBucket>>();
  bytes = 0;
  /** Rows dropped to stay within maxBytes (not retention). */
  evictions = 0;

  constructor(private readonly maxBytes: number) {}

  private readonly last = new EstimateRecorder();

  write(c: ChangeSet): number {
    const rows = estimateBuckets(c, this.last);
    this.last.confirm(c);
    for (const r of rows) {
      const ek = entityKey(r.kind, r.service, r.metric, r.label);
      let m = this.byEntity.get(ek);
      if (!m) {
        m = new Map();
        this.byEntity.set(ek, m);
      }
      const k = `${r.level}:${r.bucket}`;
      const o = m.get(k);
      if (o) o.estimate = Math.max(o.estimate, r.estimate);
      else {
        m.set(k, r);
        this.bytes += ROW_OVERHEAD + 2 * (r.service.length + r.metric.length + r.label.length);
      }
    }
    while (this.bytes > this.maxBytes) {
      const n = this.dropOldest();
      if (n === 0) break;
      this.evictions += n;
    }
    return rows.length;
  }

  private drop(keep: (b: EstimateBucket) => boolean): number {
    let n = 0;
    for (const [ek, m] of this.byEntity) {
      for (const [k, b] of m) {
        if (keep(b)) continue;
        m.delete(k);
        this.bytes -= ROW_OVERHEAD + 2 * (b.service.length + b.metric.length + b.label.length);
        n++;
      }
      if (m.size === 0) this.byEntity.delete(ek);
    }
    return n;
  }

  retain(now: number, retention: Retention): number {
    const cut = retentionCutoffs(now, retention);
    return this.drop((b) => b.bucket >= cut[b.level]);
  }

  /** Drops the oldest bucket of the finest level that has any. */
  private dropOldest(): number {
    for (const level of LEVELS) {
      let oldest = Infinity;
      for (const m of this.byEntity.values()) for (const b of m.values()) if (b.level === level && b.bucket < oldest) oldest = b.bucket;
      if (oldest !== Infinity) return this.drop((b) => b.level !== level || b.bucket !== oldest);
    }
    return 0;
  }

  query(q: SeriesEstimateQuery): SeriesEstimateRaw {
    return answerFromBuckets(this.byEntity.get(entityKey(q.kind, q.service, q.metric, q.label))?.values() ?? [], q);
  }

  /** Every row, in the SQL backends' dump order (primary key). */
  rows(): EstimateBucket[] {
    const all: EstimateBucket[] = [];
    for (const m of this.byEntity.values()) for (const b of m.values()) all.push({ ...b });
    const key = (b: EstimateBucket) => [b.service, b.metric, b.kind, b.label, b.level].join('\u0000');
    return all.sort((a, b) => compareCodePoints(key(a), key(b)) || a.bucket - b.bucket);
  }
}
