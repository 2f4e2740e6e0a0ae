/**
 * Query-string validation. Every route declares the parameters it accepts, so
 * a typo (`?servce=x`) is a 400 instead of a silently unfiltered answer, and
 * every error names the parameter at fault.
 */
import { badRequest } from './errors.js';

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;

/** The paging parameters every list route takes. */
export const LIST_PARAMS = ['limit', 'offset', 'sort', 'order', 'from', 'to'] as const;

export type { Order } from '../store/queries.js';

/**
 * A malformed %-escape (`%ZZ`, a cut `%4`, bytes that are not UTF-8) is a 400 naming the parameter, as it is
 * in a path segment: URLSearchParams would keep it as literal text and filter on that.
 */
function checkEscapes(query: string): void {
  if (!query.includes('%')) return;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    for (const raw of eq < 0 ? [part] : [rawName, part.slice(eq + 1)]) {
      try {
        decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        let name = rawName;
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, ' '));
        } catch {
          // the name itself is the malformed part: show it raw
        }
        throw badRequest(`malformed percent-encoding in parameter '${name}'`);
      }
    }
  }
}

export class Params {
  private readonly values = new Map<string, string>();
  private readonly seen = new Set<string>();

  constructor(query: string, allowed: readonly string[]) {
    const allow = new Set(allowed);
    checkEscapes(query);
    for (const [name, value] of new URLSearchParams(query)) {
      if (!allow.has(name)) {
        const known = allowed.length ? `; accepted: ${[...allow].join(', ')}` : '; this route takes none';
        throw badRequest(`unknown parameter '${name}'${known}`);
      }
      // One value per name: a repeated filter would otherwise be ambiguous (AND? OR? last wins?).
      if (this.seen.has(name)) throw badRequest(`parameter '${name}' given more than once`);
      this.seen.add(name);
      // Empty means absent, for every parameter: a UI form with an empty field or an "all" choice
      // sends `?service=&type=`, and that must not filter on the empty string or fail.
      if (value !== '') this.values.set(name, value);
    }
  }

  /** A free-text or exact-match filter. */
  string(name: string): string | undefined {
    return this.values.get(name);
  }

  /** A non-negative decimal integer in [min, max]; no signs, exponents, fractions or blanks. */
  int(name: string, dflt: number, min: number, max: number): number;
  int(name: string, dflt: undefined, min: number, max: number): number | undefined;
  int(name: string, dflt: number | undefined, min: number, max: number): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return dflt;
    if (!/^-?\d{1,16}$/.test(v)) throw badRequest(`parameter '${name}' must be an integer, got '${v}'`);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw badRequest(`parameter '${name}' is out of range`);
    if (n < min) throw badRequest(`parameter '${name}' must be >= ${min}, got ${n}`);
    if (n > max) throw badRequest(`parameter '${name}' must be <= ${max}, got ${n}`);
    return n;
  }

  /** One of a fixed set of values (exact, case-sensitive: the values are our own lower-case names). */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      throw badRequest(`parameter '${name}' must be one of ${values.join(', ')}, got '${v}'`);
    }
    return v as T;
  }

  /**
   * A point in time: unix milliseconds (digits) or an RFC 3339 timestamp
   * (`2026-01-05T10:00:00Z`, `…+02:00`, fractions allowed); undefined when absent.
   */
  time(name: string): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (/^\d{1,15}$/.test(v)) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(v)) {
      const ms = Date.parse(v.replace(' ', 'T'));
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
    throw badRequest(`parameter '${name}' must be unix milliseconds or an RFC 3339 time (2026-01-05T10:00:00Z), got '${v}'`);
  }

  /** The raw value, for parameters with their own syntax (span kind). */
  raw(name: string): string | undefined {
    return this.values.get(name);
  }
}
