/**
 * History questions shared by every backend: time windows, series and the
 * sums behind "what changed" (DESIGN §9). Buckets are minutes, hours and
 * days (src/model/history.ts); a window is answered from the coarsest
 * buckets that tile it, so a week is a handful of day rows per entity, not
 * ten thousand minute rows.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../model/history.js';
import type { HistoryKind } from '../writer/state.js';

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

/** The window a store answers for `w`: whole minutes, `from` rounded down and `to` up. */
export function snapWindow(w: Window): Window {
  const from = bucketOf(w.from, MINUTE_MS);
  const to = bucketOf(w.to + MINUTE_MS - 1, MINUTE_MS);
  return { from, to: Math.max(from, to) };
}

/**
 * Tiles a snapped window with the fewest buckets: whole days in the middle,
 * whole hours beside them, minutes at the edges. Every minute of the window
 * is in exactly one range, so sums over the ranges are exact.
 */
export function windowRanges(w: Window): LevelRange[] {
  const { from, to } = snapWindow(w);
  if (from >= to) return [];
  const out: LevelRange[] = [];
  const dayFrom = bucketOf(from + DAY_MS - 1, DAY_MS);
  const dayTo = bucketOf(to, DAY_MS);
  if (dayFrom < dayTo) {
    out.push({ level: 'day', from: dayFrom, to: dayTo });
    tileHours(from, dayFrom, out);
    tileHours(dayTo, to, out);
  } else {
    tileHours(from, to, out);
  }
  return out;
}

function tileHours(from: number, to: number, out: LevelRange[]): void {
  if (from >= to) return;
  const hourFrom = bucketOf(from + HOUR_MS - 1, HOUR_MS);
  const hourTo = bucketOf(to, HOUR_MS);
  if (hourFrom < hourTo) {
    out.push({ level: 'hour', from: hourFrom, to: hourTo });
    if (from < hourFrom) out.push({ level: 'minute', from, to: hourFrom });
    if (hourTo < to) out.push({ level: 'minute', from: hourTo, to });
  } else {
    out.push({ level: 'minute', from, to });
  }
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

/** Retention of the detail: buckets older than now minus these are dropped (whole buckets, per level). */
export interface Retention {
  minuteMs: number;
  hourMs: number;
  dayMs: number;
}

/** The oldest bucket each level keeps at `now`. */
export function retentionCutoffs(now: number, r: Retention): Record<HistoryLevelName, number> {
  return {
    minute: bucketOf(now - r.minuteMs, MINUTE_MS),
    hour: bucketOf(now - r.hourMs, HOUR_MS),
    day: bucketOf(now - r.dayMs, DAY_MS),
  };
}
