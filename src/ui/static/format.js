// Number, time and size formatting. Everything returns plain strings, rendered as text.
const intFmt = new Intl.NumberFormat('en-US');

export const int = (n) => (typeof n === 'number' ? intFmt.format(n) : '–');

export const pct = (p) => (typeof p === 'number' ? `${p >= 10 || p === 0 ? p.toFixed(1) : p.toPrecision(2)}%` : '–');

export function bytes(n) {
  if (typeof n !== 'number') return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Exact byte count for a title attribute: "4,410 bytes". */
export const exactBytes = (n) => (typeof n === 'number' ? `${intFmt.format(n)} bytes` : '');

export const iso = (ms) => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString().replace('.000Z', 'Z') : '–');

/** "3 min ago"; the exact time goes in a title attribute. */
export function ago(ms, now = Date.now()) {
  if (typeof ms !== 'number' || ms <= 0) return '–';
  const s = Math.round((now - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The window switch: name → milliseconds. */
export const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };
export const DEFAULT_WINDOW = '24h';
export const windowMs = (w) => WINDOWS[w] ?? WINDOWS[DEFAULT_WINDOW];

/**
 * The window's start for the API's `from`, rounded down to the minute (the API's finest bucket) so that a live
 * refresh within the same minute asks the same question.
 */
export const windowFrom = (w) => Math.floor((Date.now() - windowMs(w)) / 60_000) * 60_000;
