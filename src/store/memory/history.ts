/**
 * The memory store's history: minute, hour and day buckets in one Map per
 * level, keyed like the SQL primary key (kind, service, name, sub, bucket).
 * Not under the rows' LRU bound (evicting a bucket would make a window's sum
 * silently wrong): retention bounds it, and its size counts in size().
 */
import { entityKey } from '../../model/delta.js';
import { HISTORY_LEVELS, bucketOf } from '../../model/history.js';
import type { HistoryRow } from '../../writer/state.js';
import type { MirrorRow } from '../../mirror/clickhouse.js';
import { compareCodePoints } from '../queries.js';
import { seriesLevel, windowRanges, type HistoryFilter, type HistoryLevelName, type HistorySum, type SeriesPoint, type SeriesQuery, type Window } from '../history.js';

interface Bucket {
  kind: string;
  service: string;
  name: string;
  sub: string;
  bucket: number;
  count: number;
  bytes: number;
}

/** A rough per-bucket size for size(): the five strings' characters plus the object. */
const BUCKET_OVERHEAD = 160;

export class MemoryHistory {
  private readonly levels = new Map<HistoryLevelName, Map<string, Bucket>>(HISTORY_LEVELS.map((l) => [l.name, new Map()]));
  bytes = 0;

  /**
   * Adds one commit's minute increments to every level (as the SQL backends'
   * rollup at write time); `touched`, when given, gets the minute and hour
   * buckets' new absolute values (the mirror's input).
   */
  add(rows: HistoryRow[], touched?: MirrorRow[]): void {
    for (const h of rows) {
      for (const level of HISTORY_LEVELS) {
        const bucket = bucketOf(h.minute, level.ms);
        const map = this.levels.get(level.name)!;
        const k = entityKey(h.kind, h.service, h.name, h.sub, bucket);
        const b = map.get(k);
        if (b) {
          b.count += h.count;
          b.bytes += h.bytes;
        } else {
          map.set(k, { kind: h.kind, service: h.service, name: h.name, sub: h.sub, bucket, count: h.count, bytes: h.bytes });
          this.bytes += BUCKET_OVERHEAD + 2 * (h.service.length + h.name.length + h.sub.length);
        }
        if (touched && level.name !== 'day') {
          const t = map.get(k)!;
          touched.push({ level: level.name, kind: h.kind, service: h.service, name: h.name, sub: h.sub, bucket, count: t.count, bytes: t.bytes });
        }
      }
    }
  }

  /** Buckets of one level with bucket >= from, in primary-key order, after `after`. */
  page(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): MirrorRow[] {
    const key = (b: { kind: string; service: string; name: string; sub: string; bucket: number }) => [b.kind, b.service, b.name, b.sub, b.bucket] as const;
    const cmp = (a: ReturnType<typeof key>, b: ReturnType<typeof key>) => {
      for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return compareCodePoints(a[i] as string, b[i] as string);
      return a[4] - b[4];
    };
    const rows = [...this.levels.get(level)!.values()].filter((b) => b.bucket >= from && (!after || cmp(key(b), key(after)) > 0));
    rows.sort((a, b) => cmp(key(a), key(b)));
    return rows.slice(0, limit).map((b) => ({ level, kind: b.kind as MirrorRow['kind'], service: b.service, name: b.name, sub: b.sub, bucket: b.bucket, count: b.count, bytes: b.bytes }));
  }

  private *matching(level: HistoryLevelName, f: HistoryFilter, from: number, to: number): Generator<Bucket> {
    for (const b of this.levels.get(level)!.values()) {
      if (b.kind !== f.kind || b.bucket < from || b.bucket >= to) continue;
      if (f.service !== undefined && b.service !== f.service) continue;
      if (f.name !== undefined && b.name !== f.name) continue;
      if (f.sub !== undefined && b.sub !== f.sub) continue;
      yield b;
    }
  }

  sums(f: HistoryFilter, w: Window): HistorySum[] {
    const out = new Map<string, HistorySum>();
    for (const r of windowRanges(w)) {
      for (const b of this.matching(r.level, f, r.from, r.to)) {
        const k = entityKey(b.service, b.name, b.sub);
        const s = out.get(k);
        if (s) {
          s.count += b.count;
          s.bytes += b.bytes;
        } else {
          out.set(k, { service: b.service, name: b.name, sub: b.sub, count: b.count, bytes: b.bytes });
        }
      }
    }
    return [...out.values()];
  }

  series(q: SeriesQuery): SeriesPoint[] {
    const { level } = seriesLevel(q.step);
    const out = new Map<number, SeriesPoint>();
    for (const b of this.matching(level, q, q.from, q.to)) {
      const t = q.from + Math.floor((b.bucket - q.from) / q.step) * q.step;
      const p = out.get(t);
      if (p) {
        p.count += b.count;
        p.bytes += b.bytes;
      } else {
        out.set(t, { t, count: b.count, bytes: b.bytes });
      }
    }
    return [...out.values()].sort((a, b) => a.t - b.t);
  }

  /**
   * Drops the oldest bucket time of the finest level that has any (all its
   * rows), to stay within a memory bound; returns the rows dropped (0: empty).
   */
  dropOldest(): number {
    for (const [level, map] of this.levels) {
      if (map.size === 0) continue;
      let oldest = Infinity;
      for (const b of map.values()) if (b.bucket < oldest) oldest = b.bucket;
      const cut = { minute: -Infinity, hour: -Infinity, day: -Infinity };
      cut[level] = oldest + 1;
      return this.retain(cut);
    }
    return 0;
  }

  /** Drops whole buckets older than each level's cutoff; returns how many. */
  retain(cutoffs: Record<HistoryLevelName, number>): number {
    let n = 0;
    for (const [level, map] of this.levels) {
      for (const [k, b] of map) {
        if (b.bucket >= cutoffs[level]) continue;
        map.delete(k);
        this.bytes -= BUCKET_OVERHEAD + 2 * (b.service.length + b.name.length + b.sub.length);
        n++;
      }
    }
    return n;
  }
}
