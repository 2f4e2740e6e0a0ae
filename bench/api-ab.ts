/**
 * Two keytally servers answering the same store (e.g. old and new code on one PostgreSQL cluster kept by
 * `npm run bench:ui -- --store postgres --hold`), timed alternately on the same API paths, so a loaded machine's
 * noise falls on both: `npm run bench:api-ab -- --a URL --b URL [--calls 15] PATH…`. In a path, `{min}` is
 * replaced by the call's index in minutes (60,000 × i), added to the number before it (`since=1796087940000+{min}`),
 * as the UI's `since` moves a minute each minute. Prints each side's p50 and p95 and the ratio of the medians (b / a).
 */
import { parseBenchArgs } from './args.js';

const USAGE = `usage: npm run bench:api-ab -- --a URL --b URL [--calls 15] PATH…
  two servers on one store called alternately on the same paths; {min} after a number adds a minute a call`;

const { values, positionals } = parseBenchArgs(USAGE, {
  allowPositionals: true,
  options: { a: { type: 'string' }, b: { type: 'string' }, calls: { type: 'string', default: '15' } },
});
if (!values.a || !values.b || positionals.length === 0) {
  console.error(USAGE);
  process.exit(2);
}
const calls = Number(values.calls);
if (!Number.isInteger(calls) || calls < 1) throw new Error(`--calls: a positive integer, got "${values.calls}"`);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const at = (path: string, i: number) => path.replace(/(\d+)\+\{min\}/g, (_, n: string) => String(Number(n) + i * 60_000));

for (const path of positionals) {
  const t: Record<'a' | 'b', number[]> = { a: [], b: [] };
  for (let i = 0; i < calls; i++) {
    // Alternate which side goes first, so neither always runs on the other's warmed caches.
    for (const side of i % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
      const started = performance.now();
      const r = await fetch(values[side] + at(path, i));
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${side}: ${at(path, i)}: ${r.status}`);
      t[side].push(performance.now() - started);
    }
  }
  const f = (side: 'a' | 'b') => `p50 ${quantile(t[side], 0.5).toFixed(1)} p95 ${quantile(t[side], 0.95).toFixed(1)}`;
  console.log(`${path}\n  a ${f('a')}   b ${f('b')}   b/a (p50) ${(quantile(t.b, 0.5) / quantile(t.a, 0.5)).toFixed(2)}`);
}
