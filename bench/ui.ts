/**
 * Web UI speed: `npm run bench:ui [-- --services 20 --templates 1000 --keys 100000 --runs 7] [--steady] [--store memory|postgres]`.
 * Fills a fresh keytally (SQLite, or --store memory, or postgres: a temporary cluster, scripts/postgres.sh) with services × templates and keys through OTLP, then measures
 *  - first render of each page in Chromium: from navigation start until the page's data is on screen
 *    (median and worst of --runs fresh page loads);
 *  - the API calls each page makes, each repeated --calls times one after another: p50 and p95.
 * --steady: a store that has run for days (the usual case): the same services, templates and keys sent 54, 30 and
 * 6 hours ago (the server's test clock), some templates and keys louder each time, some quieter, a third the same,
 * so every entity is active in both of /changes' windows and nothing is new in the last 24 h. Without it every
 * entity is new (all sent now).
 * --store postgres: the tables are vacuumed and analyzed after the fill (--no-analyze: not, as in the first minute before autovacuum has).
 * --cpu-prof DIR: the server's threads profiled (node --cpu-prof), a .cpuprofile each in DIR when it stops.
 * --hold: keep it all running afterwards (prints the API's and the cluster's URLs) until SIGINT, to look at plans.
 * The machine is shared: numbers are noisy; run it more than once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from './load/postgres.js';
import { startSidecarWith, type SidecarProcess } from './load/server.js';
import { fillBig } from './ui/big.js';
import { startIngest } from './ui/ingest.js';
import { startBrowser } from './ui/browser.js';
import { parseBenchArgs } from './args.js';

const USAGE = `usage: npm run bench:ui -- [--services 20] [--templates 1000] [--keys 100000] [--runs 7] [--calls 40]
    [--store sqlite|memory|postgres] [--steady] [--api-only] [--pages overview,templates,keys,service,changes]
    [--ingest R] [--fill-only] [--data DIR] [--hold] [--cpu-prof DIR] [--no-analyze]
  the web UI on a big store: each page's API calls (first, p50, p95) and first render in Chromium`;

const { values } = parseBenchArgs(USAGE, {
  allowNegative: true,
  options: {
    services: { type: 'string', default: '20' },
    templates: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '7' },
    calls: { type: 'string', default: '40' },
    /** Fill only, stop the server and print the data directory (kept), for looking at query plans. */
    'fill-only': { type: 'boolean', default: false },
    /** Reuse a directory kept by --fill-only (no fill; the window must still cover when it was filled). */
    data: { type: 'string' },
    /** Measure the API calls only, not the browser. */
    'api-only': { type: 'boolean', default: false },
    /** A steady store (see above) instead of an all-new one. */
    steady: { type: 'boolean', default: false },
    /** Only these pages (comma-separated names: overview,templates,keys,service,changes). */
    pages: { type: 'string' },
    /** PostgreSQL: VACUUM (ANALYZE) after the fill, as autovacuum does within a minute (--no-analyze: measure before it has). */
    analyze: { type: 'boolean', default: true },
    /** After the fill (and the measurements), keep the server (and the cluster) running and print where, until SIGINT: for query plans on any store. */
    hold: { type: 'boolean', default: false },
    /** `serve --store`: sqlite (default), memory or postgres (the fleet's store, in a temporary cluster). */
    store: { type: 'string', default: 'sqlite' },
    /** Profile the server's threads (node --cpu-prof) into this directory: one .cpuprofile per thread, written when it stops. */
    'cpu-prof': { type: 'string' },
    /** During the API calls, send about this many log records a second of the fill's own entities (bench/ui/ingest.ts). */
    ingest: { type: 'string', default: '0' },
  },
});
const o = { services: Number(values.services), templates: Number(values.templates), keys: Number(values.keys) };
const runs = Number(values.runs);
const calls = Number(values.calls);
const ingestRate = Number(values.ingest);
if (!Number.isInteger(ingestRate) || ingestRate < 0) throw new Error(`--ingest: records a second (0 or more), got "${values.ingest}"`);

/** The default window (24 h) as the UI sends it: `from`, rounded down to the minute. */
const FROM = Math.floor((Date.now() - 86_400_000) / 60_000) * 60_000;

/** A service in the middle of the store. */
const SVC = `service-${String(Math.floor(o.services / 2)).padStart(2, '0')}`;

/** Each page, what shows that its data is on screen (selectors joined by |, all must be there), and the API calls it makes on first load. */
/** A call: its URL, or its URL for the i-th repetition. */
type Call = string | ((i: number) => string);

const ALL_PAGES: { name: string; path: string; ready: string; api: Call[] }[] = [
  {
    name: 'overview', path: '/', ready: '#services-table tbody tr|#noisiest-title|.stat',
    api: [
      `/api/v1/services?limit=100&offset=0&sort=bytes&order=desc&from=${FROM}`,
      `/api/v1/logs/templates?limit=0&from=${FROM}`, `/api/v1/keys?limit=0&from=${FROM}`, `/api/v1/metrics?limit=0&from=${FROM}`, `/api/v1/spans?limit=0&from=${FROM}`,
      `/api/v1/services?limit=1&sort=bytes&order=desc&from=${FROM}`, `/api/v1/services?limit=1&sort=log_records&order=desc&from=${FROM}`, `/api/v1/services?limit=1&sort=spans&order=desc&from=${FROM}`, `/api/v1/services?limit=1&sort=metric_points&order=desc&from=${FROM}`,
      `/api/v1/logs/templates?limit=1&sort=bytes&order=desc&from=${FROM}`, `/api/v1/keys?limit=1&sort=cardinality_estimate&order=desc&from=${FROM}`, `/api/v1/metrics?limit=1&sort=series_estimate&order=desc&from=${FROM}`,
      `/api/v1/logs/templates?limit=5&sort=first_seen&order=desc&from=${FROM}`, `/api/v1/keys?limit=5&sort=first_seen&order=desc&from=${FROM}`, `/api/v1/metrics?limit=5&sort=first_seen&order=desc&from=${FROM}`,
      // One service's sparkline: its three signals.
      `/api/v1/series?signal=logs&service=${SVC}&from=${FROM}`, `/api/v1/series?signal=traces&service=${SVC}&from=${FROM}`, `/api/v1/series?signal=metrics&service=${SVC}&from=${FROM}`,
    ],
  },
  {
    name: 'templates', path: '/templates', ready: '#templates-table tbody tr',
    api: [`/api/v1/logs/templates?limit=100&offset=0&sort=count&order=desc&from=${FROM}`, '/api/v1/services?limit=1000&sort=name&order=asc', '/api/v1/logs/severities',
      `/api/v1/logs/templates?service=${SVC}&q=ab&limit=100&offset=0&sort=percentage&order=desc&from=${FROM}`,
      // One template's sparkline.
      `/api/v1/series?signal=logs&service=${SVC}&severity=INFO&template=1&from=${FROM}`],
  },
  {
    name: 'keys', path: '/keys', ready: '#keys-table tbody tr',
    api: [`/api/v1/keys?limit=100&offset=0&sort=cardinality_estimate&order=desc&from=${FROM}`, `/api/v1/keys?limit=100&offset=50000&sort=key&order=asc&from=${FROM}`, `/api/v1/keys?q=attr.0999&limit=100&offset=0&sort=cardinality_estimate&order=desc&from=${FROM}`],
  },
  {
    name: 'service', path: `/service?name=${SVC}`, ready: '#top-templates tbody tr',
    api: [`/api/v1/services/${SVC}/overview`, `/api/v1/services/${SVC}/versions`, `/api/v1/keys?service=${SVC}&limit=100&offset=0&sort=cardinality_estimate&order=desc&from=${FROM}`],
  },
  {
    name: 'changes', path: '/changes', ready: '#new-templates tbody tr',
    api: [`/api/v1/changes?since=${FROM}&limit=100`, '/api/v1/services?limit=1000&sort=name&order=asc',
      // The UI's default `since` (the window back from now) moves a minute every minute: here at every call.
      (i) => `/api/v1/changes?since=${FROM + (i + 1) * 60_000}&limit=100`],
  },
];

const PAGES = values.pages === undefined ? ALL_PAGES : ALL_PAGES.filter((p) => values.pages!.split(',').includes(p.name));

/** The page's global, typed here without the DOM library (this file is compiled for Node). */
interface PageGlobal {
  document: { querySelector(q: string): unknown };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

const dir = values.data ?? mkdtempSync(join(tmpdir(), 'keytally-bench-ui-'));
const store = values.store!;
if (!['sqlite', 'memory', 'postgres'].includes(store)) throw new Error(`--store: sqlite, memory or postgres, got "${store}"`);
if (store !== 'sqlite' && (values.data !== undefined || values['fill-only'])) throw new Error('--data and --fill-only are for the SQLite store (the memory store and the PostgreSQL cluster here do not outlive the bench)');
const pgBench = store === 'postgres' ? await startPostgres() : undefined;
let server: SidecarProcess | undefined;
/** Stops what the bench started, once (the end of the run, or a signal, whichever comes first). */
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    try {
      await server?.stop();
    } finally {
      pgBench?.stop();
      if (values.data === undefined) rmSync(dir, { recursive: true, force: true });
    }
  })());
/**
 * SIGINT or SIGTERM: during --hold the run goes on to its end (and its cleanup); at any other time — the fill, the
 * calls, a server that died under them — the bench cleans up and exits 130, so no server or cluster outlives it
 * (the signal's default action would leave them).
 */
let holding: (() => void) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (holding) holding();
    else void cleanup().finally(() => process.exit(130));
  });
}
// The memory store holds 100,000 keys' sketches three times over (--steady): room for them, none evicted.
const memoryRoom = store === 'memory' ? ['--memory-store-mb', '3072', '--memory-limit-mb', '6144'] : [];
try {
  server = await startSidecarWith(['--ack', 'durable', '--store', store, ...memoryRoom, ...(pgBench ? ['--postgres-url', pgBench.url] : []),
    ...(values.steady ? ['--test-clock', 'on'] : [])], dir, values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []);
} catch (err) {
  await cleanup();
  throw err;
}
const base = `http://127.0.0.1:${server.apiPort}`;
try {
  const t0 = performance.now();
  const otlp = `http://127.0.0.1:${server.otlpPort}`;
  if (values.data === undefined && values.steady) {
    const now = Date.now();
    for (const [hoursAgo, shift] of [[54, 2], [30, 0], [6, 1]] as const) await fillBig(otlp, o, { receivedAt: now - hoursAgo * 3_600_000, shift });
  } else if (values.data === undefined) await fillBig(otlp, o);
  if (pgBench) {
    // Autovacuum vacuums and analyzes a table within a minute of a fill this size (autovacuum_naptime); until then the
    // planner guesses row counts and takes worse plans (keys at offset 50,000: a sort spilled to disk, about 3x
    // slower), and a steady store's pages carry the dead row versions of its three fills. The figures are for a store
    // at rest: vacuumed and analyzed now instead of waiting for it (--no-analyze measures the first minute).
    if (values.analyze) {
      const c = new pg.Client({ connectionString: pgBench.url });
      await c.connect();
      await c.query('VACUUM (ANALYZE)');
      await c.end();
    }
  }
  const totals = await Promise.all(['/api/v1/services?limit=0', '/api/v1/logs/templates?limit=0', '/api/v1/keys?limit=0'].map(async (p) => ((await (await fetch(base + p)).json()) as { total: number }).total));
  console.log(`store: ${totals[0]} services, ${totals[1]} templates, ${totals[2]} keys (filled in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (values['fill-only']) {
    await server.stop();
    console.log(`data kept in ${dir}`);
    process.exit(0);
  }

  const ingest = ingestRate > 0 ? startIngest(otlp, o, ingestRate) : undefined;
  const ingestFrom = performance.now();
  console.log(`\nAPI calls (sequential, ms; first: the first call, before anything is cached${ingest ? `; ingest of ~${ingestRate} records/s beside them` : ''})   first     p50     p95`);
  for (const p of PAGES) {
    const all: number[] = [];
    for (const call of p.api) {
      const ts: number[] = [];
      const url = typeof call === 'string' ? call : call(0);
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        const r = await fetch(base + (typeof call === 'string' ? call : call(i)));
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
        ts.push(performance.now() - s);
      }
      all.push(...ts);
      const label = (typeof call === 'string' ? url : `${url} (+1 min a call)`).slice(7);
      console.log(`  ${p.name.padEnd(10)} ${label.slice(0, 80).padEnd(80)} ${ts[0]!.toFixed(1).padStart(6)} ${quantile(ts, 0.5).toFixed(1).padStart(6)} ${quantile(ts, 0.95).toFixed(1).padStart(7)}`);
    }
    console.log(`  ${p.name.padEnd(10)} ${'all calls of the page'.padEnd(80)} ${''.padStart(6)} ${quantile(all, 0.5).toFixed(1).padStart(6)} ${quantile(all, 0.95).toFixed(1).padStart(7)}`);
  }
  if (ingest) {
    const { records, refused } = await ingest.stop();
    const secs = (performance.now() - ingestFrom) / 1000;
    console.log(`  ingest beside the calls: ${records.toLocaleString('en-US')} records accepted in ${secs.toFixed(1)} s (${Math.round(records / secs).toLocaleString('en-US')}/s), ${refused} requests refused`);
  }

  if (values.hold) {
    console.log(`\nholding: API ${base}${pgBench ? `, PostgreSQL ${pgBench.url}` : `, data in ${dir}`}; SIGINT or SIGTERM to stop`);
    await new Promise<void>((resolve) => (holding = resolve));
  } else if (!values['api-only']) {
    const browser = await startBrowser();
    try {
      console.log('\nfirst render in Chromium (ms from navigation start to data on screen)   median   worst');
      for (const p of PAGES) {
        const ts: number[] = [];
        for (let i = 0; i < runs; i++) {
          const page = await browser.context.newPage();
          await page.goto(base + p.path, { waitUntil: 'commit' });
          // Every selector of `ready` (|-separated) present: the page's data is on screen.
          await page.waitForFunction((sels) => sels.every((q) => (globalThis as unknown as PageGlobal).document.querySelector(q)), p.ready.split('|'), { timeout: 30_000, polling: 'raf' });
          ts.push(await page.evaluate(() => performance.now()));
          await page.close();
        }
        console.log(`  ${p.name.padEnd(70)} ${quantile(ts, 0.5).toFixed(0).padStart(6)} ${Math.max(...ts).toFixed(0).padStart(7)}`);
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  await cleanup();
}
