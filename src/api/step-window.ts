/**
 * The `from`/`to`/`step` of the time-series routes (/api/v1/series, a
 * metric's series estimates): `to` defaults to now, `from` to a day before
 * it, `step` (seconds, a multiple of 60) to a minute up to 6 hours, an hour
 * up to 30 days, a day beyond; both edges aligned to the buckets the step is
 * read from, and at most MAX_POINTS steps.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from '../model/history.js';
import { seriesLevel, type HistoryLevelName } from '../store/history.js';
import { badRequest } from './errors.js';
import type { Params } from './params.js';

/** Points one series may have. */
export const MAX_POINTS = 10_000;

export interface StepWindow {
  from: number;
  to: number;
  /** In ms. */
  step: number;
  /** The level the steps are read from. */
  level: HistoryLevelName;
}

function defaultStep(span: number): number {
  if (span <= 6 * HOUR_MS) return MINUTE_MS;
  if (span <= 30 * DAY_MS) return HOUR_MS;
  return DAY_MS;
}

export function parseStepWindow(p: Params, now: number): StepWindow {
  const to0 = p.time('to') ?? now;
  const from0 = p.time('from') ?? to0 - DAY_MS;
  if (from0 > to0) throw badRequest(`parameter 'from' (${from0}) is after 'to' (${to0})`);
  const stepS = p.int('step', undefined, 60, 366 * 86400);
  const step = stepS !== undefined ? stepS * 1000 : defaultStep(to0 - from0);
  if (step % MINUTE_MS !== 0) throw badRequest(`parameter 'step' must be a multiple of 60 seconds (the finest bucket is a minute), got ${stepS}`);
  // Aligned to the buckets the series is read from, so each point sums whole buckets.
  const { level, ms } = seriesLevel(step);
  const from = bucketOf(from0, ms);
  const to = Math.max(from, bucketOf(to0 + ms - 1, ms));
  const points = Math.ceil((to - from) / step);
  if (points > MAX_POINTS) throw badRequest(`the window holds ${points} steps of ${step / 1000} s; at most ${MAX_POINTS}: use a larger 'step'`);
  return { from, to, step, level };
}
