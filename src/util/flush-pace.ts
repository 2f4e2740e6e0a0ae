/**
 * How long an ingest worker keeps its delta map before the timer flushes it, from how busy it was since the last
 * timed flush (the share of that time its event loop spent running tasks: `performance.eventLoopUtilization()`).
 *
 * Why: a flush's cost is the entities in the delta map, not the records folded into it — msgpack of every touched
 * template, key and sketch, then on the writer the batch's merge and, since a commit follows the batches, a commit
 * (every entity the batch touched upserted). Under load the same ~500 keys and ~900 templates come back every
 * interval, so the shorter the interval the more each record pays. Measured (`npm run bench -- --flush-ms 200|1000`,
 * 5 alternating pairs): server CPU per committed record 0.85-0.88x at 1000 ms, the writer's 0.3-0.4x.
 *
 * An idle worker keeps `flushMs` (data visible, and at risk under `--ack accepted`, for no longer than before); a
 * busier one stretches the interval as 1 / (1 - busy), up to MAX_STRETCH times `flushMs`: 1.25x at 20 % busy, 2x at
 * 50 %, 5x from 80 %. Durable requests are not paced (they flush at once), nor are the minute's turn or a full delta map.
 */

/** The longest a busy worker stretches its flush interval, as a multiple of flushMs. */
export const MAX_STRETCH = 5;
/** The delay until the next timed flush, given flushMs and the share (0..1) of the last interval the worker was busy. */
export function flushDelay(flushMs: number, busy: number): number {
  // Not a number, or nothing measured yet: no stretch.
  if (!(busy > 0)) return flushMs;
  const stretch = busy >= 1 ? MAX_STRETCH : Math.min(MAX_STRETCH, 1 / (1 - busy));
  return Math.round(flushMs * stretch);
}
