/** The `from`/`to` window every list route takes (history buckets, DESIGN §9). */
import type { Window } from '../store/history.js';
import { badRequest } from './errors.js';
import type { Params } from './params.js';

/**
 * Undefined when neither is given (all-time totals). `from` defaults to the
 * beginning, `to` to now; both are rounded to whole minutes, the finest bucket.
 */
export function parseWindow(p: Params, now = Date.now()): Window | undefined {
  const from = p.time('from');
  const to = p.time('to');
  if (from === undefined && to === undefined) return undefined;
  const w = { from: from ?? 0, to: to ?? now + 60_000 };
  if (w.from > w.to) throw badRequest(`parameter 'from' (${w.from}) is after 'to' (${w.to})`);
  return w;
}
