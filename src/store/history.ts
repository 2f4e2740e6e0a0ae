/**
 * History questions shared by every backend: time windows, series and the
 * sums behind "what changed" (DESIGN §9). Each entity's history is a list
 * of running totals, one row per minute it had records in (CumRow), so the
 * sum over any window is two lookups per entity, however long the window:
 * a week of 20,000 templates is 40,000 index seeks, not millions of bucket
 * rows. Per-bucket counts are the differences of consecutive rows.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../model/history.js';
import type { HistoryKind } from '../writer/state.js';
import type { MirrorRow } from '../mirror/clickhouse.js';

export type { HistoryKind } from '../writer/state.js';
export type HistoryLevelName = 'minute' | 'hour' | 'day';

/** [from, to) in unix ms. */
export interface Window {
  from: number;
  to: number;
}

export interface LevelRange {
  level: HistoryLevelName;
  from: number;
  to: number;
}

/**
 * How far retention has thinned the detail (all unix ms, 0 = not at all).
 * The history keeps, per entity, its running totals at the start of every
 * bucket it had records in (see HISTORY_SENTINEL); retention thins those
 * rows instead of dropping counts: before `hoursUntil` only the first row of
 * each hour is left, before `daysUntil` only the first of each day, and
 * before `keptFrom` nothing. Windows and series are answered at the
 * resolution that is left at each edge (resolveWindow).
 */
export interface HistoryMarks {
  hoursUntil: number;
  daysUntil: number;
  keptFrom: number;
}

export const NO_MARKS: HistoryMarks = { hoursUntil: 0, daysUntil: 0, keptFrom: 0 };

/** The `meta` keys the SQL stores keep the marks under (set in the transaction that thins). */
export const MARK_KEYS: Record<keyof HistoryMarks, string> = {
  hoursUntil: 'history_hours_until',
  daysUntil: 'history_days_until',
  keptFrom: 'history_kept_from',
};

export function marksFrom(get: (key: string) => string | undefined): HistoryMarks {
  const n = (k: keyof HistoryMarks) => Number(get(MARK_KEYS[k]) ?? 0);
  return { hoursUntil: n('hoursUntil'), daysUntil: n('daysUntil'), keptFrom: n('keptFrom') };
}

/**
 * The bucket of a history row that holds an entity's all-time totals (its
 * running totals "at the end of time"). Every entity has one, so the first
 * row at or after any time always exists.
 */
export const HISTORY_SENTINEL = Number.MAX_SAFE_INTEGER;

/** The resolution retention left at time `t`: a minute, an hour or a day. */
function resolutionAt(t: number, m: HistoryMarks): number {
  if (t < m.daysUntil) return DAY_MS;
  if (t < m.hoursUntil) return HOUR_MS;
  return MINUTE_MS;
}

/** An edge of a window at the resolution left there: `from` rounded down, `to` up; never before `keptFrom`. */
function resolveEdge(t: number, m: HistoryMarks, up: boolean): number {
  if (t <= m.keptFrom) return m.keptFrom;
  const size = resolutionAt(t, m);
  return up ? bucketOf(t + size - 1, size) : bucketOf(t, size);
}

/**
 * The window a store answers for `w`: whole minutes (`from` rounded down,
 * `to` up), or whole hours or days where retention has thinned the detail,
 * and nothing before the oldest bucket kept. A window's sum is then exact:
 * the running totals at both edges, subtracted.
 */
export function resolveWindow(w: Window, m: HistoryMarks): Window {
  const from = resolveEdge(w.from, m, false);
  const to = resolveEdge(Math.min(w.to, HISTORY_SENTINEL - DAY_MS), m, true);
  return { from, to: Math.max(from, to) };
}

/** One row of an entity's running totals: count and bytes of all its records received before `bucket`. */
export interface CumRow {
  bucket: number;
  count: number;
  bytes: number;
}

/**
 * The first row at or after `t` in rows sorted by bucket (the last is the
 * sentinel, so there always is one): the totals before `t`.
 */
export function cumAt(rows: readonly CumRow[], t: number): CumRow {
  return rows[indexAtOrAfter(rows, t)]!;
}

/** Index of the first row at or after `t` in rows sorted by bucket and ending in the sentinel. */
export function indexAtOrAfter(rows: readonly CumRow[], t: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.bucket >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Minute and hour bucket values (the mirror's rows) of one entity's running-total rows, read at move epoch `epoch`. */
export function mirrorRows(e: HistoryEntity, rows: readonly CumRow[], epoch: number): MirrorRow[] {
  const out: MirrorRow[] = [];
  const hours = new Map<number, MirrorRow>();
  for (const b of bucketsOf(rows)) {
    out.push({ level: 'minute', kind: e.kind, service: e.service, name: e.name, sub: e.sub, bucket: b.bucket, count: b.count, bytes: b.bytes, epoch });
    const hour = bucketOf(b.bucket, HOUR_MS);
    const h = hours.get(hour);
    if (h) {
      h.count += b.count;
      h.bytes += b.bytes;
    } else hours.set(hour, { level: 'hour', kind: e.kind, service: e.service, name: e.name, sub: e.sub, bucket: hour, count: b.count, bytes: b.bytes, epoch });
  }
  return [...out, ...hours.values()];
}

/**
 * The mirror's rows for an entity a template move rewrote: its buckets'
 * values after the move, and a zero for every bucket it had before and has
 * no more (all of them, for a template merged away).
 */
export function movedMirrorRows(e: HistoryEntity, before: readonly CumRow[], after: readonly CumRow[], epoch: number): MirrorRow[] {
  const out = mirrorRows(e, after, epoch);
  const kept = new Set(out.map((r) => `${r.level}:${r.bucket}`));
  for (const r of mirrorRows(e, before, epoch)) if (!kept.has(`${r.level}:${r.bucket}`)) out.push({ ...r, count: 0, bytes: 0 });
  return out;
}

/**
 * The `meta` key of the store's move epoch: how many commits moved template
 * history (a merge or split takes counts out of buckets). The mirror's
 * versions start with it (mirrorVersion), so a moved bucket's new value wins.
 */
export const MIRROR_EPOCH_KEY = 'history_move_epoch';

/**
 * The `meta` key of the store's backfill epoch: one more for each commit that
 * adds to a minute more than BACKFILL_GRACE_MS older than the newest minute
 * the history had before it. Ingest adds to the current minute, so the
 * running totals at an older time never change otherwise (only a backfill,
 * a template move or retention changes them): SQLite's /changes keeps them
 * between questions while this epoch and the move epoch stay
 * (src/store/sqlite/changes.ts).
 */
export const BACKFILL_EPOCH_KEY = 'history_backfill_epoch';

/** How far behind the newest minute a commit may add without counting as a backfill (a batch straddling minutes, a slow worker). */
export const BACKFILL_GRACE_MS = 10 * MINUTE_MS;

/**
 * The `meta` key of a PostgreSQL fleet's newest history minute: the largest minute any instance has committed,
 * raised (GREATEST) in the commit that adds it. A fleet's instances each have a clock and a newest minute of their
 * own; a backfill is a commit adding more than BACKFILL_GRACE_MS before this one, the fleet's, so an instance whose
 * clock lags another's counts its commits as backfills rather than changing totals another instance's reader keeps
 * (src/store/postgres/history-write.ts, seal; src/store/postgres/changes.ts).
 */
export const FLEET_NEWEST_KEY = 'history_newest';

/**
 * Per-bucket counts of running-total rows (sorted, ending in the sentinel):
 * each row's count is the next row's totals minus its own.
 */
export function bucketsOf(rows: readonly CumRow[]): CumRow[] {
  const out: CumRow[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i]!;
    const b = rows[i + 1]!;
    if (b.count !== a.count || b.bytes !== a.bytes) out.push({ bucket: a.bucket, count: b.count - a.count, bytes: b.bytes - a.bytes });
  }
  return out;
}

/** Running-total rows (with the sentinel) from per-bucket counts sorted by bucket. */
export function cumOf(buckets: readonly CumRow[]): CumRow[] {
  const out: CumRow[] = [];
  let count = 0;
  let bytes = 0;
  for (const b of buckets) {
    out.push({ bucket: b.bucket, count, bytes });
    count += b.count;
    bytes += b.bytes;
  }
  out.push({ bucket: HISTORY_SENTINEL, count, bytes });
  return out;
}

/**
 * Series points of `step` ms in [from, to) from one entity's running-total
 * rows: each bucket's count lands in the step that holds the bucket (in a
 * thinned stretch a row stands for its whole hour or day).
 */
export function addSeries(rows: readonly CumRow[], from: number, to: number, step: number, into: Map<number, SeriesPoint>): void {
  for (const b of bucketsOf(rows)) {
    if (b.bucket < from || b.bucket >= to) continue;
    const t = from + Math.floor((b.bucket - from) / step) * step;
    const p = into.get(t);
    if (p) {
      p.count += b.count;
      p.bytes += b.bytes;
    } else into.set(t, { t, count: b.count, bytes: b.bytes });
  }
}

/** An entity of the history: what a `history_entity` row (or the memory store's entry) names. */
export interface HistoryEntity {
  kind: HistoryKind;
  service: string;
  name: string;
  sub: string;
}

/** Rows one retention step reads (a step stays a few ms long however busy the hour). */
export const THIN_CHUNK_ROWS = 2000;

/**
 * A stretch being thinned by a SQL store: its rows are walked in (bucket, id)
 * order from `after`; the first row of each entity in it stays (`seen`), the
 * others go. `drop` deletes every row before `to`.
 */
export interface ThinJob {
  level: 'hour' | 'day' | 'drop';
  from: number;
  to: number;
  after: { bucket: number; id: number };
  seen: Set<number>;
}

/** Retention's goals at `now`: the marks it thins towards (hour and day aligned). */
export function retentionTargets(now: number, r: Retention): HistoryMarks {
  return {
    hoursUntil: bucketOf(now - r.minuteMs, HOUR_MS),
    daysUntil: bucketOf(now - r.hourMs, DAY_MS),
    keptFrom: bucketOf(now - r.dayMs, DAY_MS),
  };
}

/** Which entities a history question is about: one kind, optionally one service, name and sub. */
export interface HistoryFilter {
  kind: HistoryKind;
  service?: string | undefined;
  name?: string | undefined;
  sub?: string | undefined;
}

/** One entity's counts and bytes summed over a window. */
export interface HistorySum {
  service: string;
  name: string;
  sub: string;
  count: number;
  bytes: number;
}

/** /changes' question of one kind: entities active before `since` whose bytes moved most between the two windows. */
export interface ChangesQuery {
  kind: HistoryKind;
  service?: string | undefined;
  before: Window;
  after: Window;
  /** Of each list. */
  limit: number;
}

/** One entity's counts and bytes in the window before and the window after. */
export interface ChangeSum {
  service: string;
  name: string;
  sub: string;
  count_before: number;
  count_after: number;
  bytes_before: number;
  bytes_after: number;
  /**
   * Kind `template`: the template's text, when its row is there (the history knows a template by its id; the
   * store looks up the few it lists in one go, not the route one by one: 200 list queries were 77 ms).
   */
  template?: string;
}

/**
 * Rose: bytes after > before, largest rise first; fell: the largest fall
 * first; both only entities with anything before, ties by (service, name,
 * sub) in code-point order, at most `limit` each.
 */
export interface ChangeLists {
  rose: ChangeSum[];
  fell: ChangeSum[];
}

export interface SeriesQuery extends HistoryFilter {
  /** Snapped to the level of `step`. */
  from: number;
  to: number;
  /** Bucket width in ms: a multiple of a minute. */
  step: number;
}

export interface SeriesPoint {
  t: number;
  count: number;
  bytes: number;
}

/** The level a series of `step` ms is read from: the coarsest whose bucket divides the step. */
export function seriesLevel(step: number): { level: HistoryLevelName; ms: number } {
  if (step % DAY_MS === 0) return { level: 'day', ms: DAY_MS };
  if (step % HOUR_MS === 0) return { level: 'hour', ms: HOUR_MS };
  return { level: 'minute', ms: MINUTE_MS };
}

/** One service.version a service sent: when it was first and last seen, and what it sent. */
export interface VersionItem {
  service: string;
  version: string;
  records: number;
  bytes: number;
  first_seen: number;
  last_seen: number;
}

/** Retention of the detail: minute detail is thinned to hours past minuteMs, hours to days past hourMs, and nothing is kept past dayMs. */
export interface Retention {
  minuteMs: number;
  hourMs: number;
  dayMs: number;
}

/** The oldest bucket each level keeps at `now` (the series estimates' retention, src/store/series-estimates.ts). */
export function retentionCutoffs(now: number, r: Retention): Record<HistoryLevelName, number> {
  return {
    minute: bucketOf(now - r.minuteMs, MINUTE_MS),
    hour: bucketOf(now - r.hourMs, HOUR_MS),
    day: bucketOf(now - r.dayMs, DAY_MS),
  };
}
