/**
 * Time buckets of the history (DESIGN §9): counts and bytes per minute,
 * rolled up to hours and days, by the time keytally received the records.
 * Buckets are named by their start in unix ms, in UTC.
 */

export interface HistoryLevel {
  name: 'minute' | 'hour' | 'day';
  ms: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Finest first. */
export const HISTORY_LEVELS: readonly HistoryLevel[] = [
  { name: 'minute', ms: MINUTE_MS },
  { name: 'hour', ms: HOUR_MS },
  { name: 'day', ms: DAY_MS },
];

/** Start of the bucket of `size` ms that holds `ms` (UTC; unix time has no leap seconds). */
export function bucketOf(ms: number, size: number): number {
  return ms - (((ms % size) + size) % size);
}
