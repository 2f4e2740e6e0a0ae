/**
 * The memory store's slow UI calls, in process: `npm run bench:memory-lists [-- --rounds 15] [--old DIR] [--steady]`.
 *
 * Fills a MemoryStore the way `bench:ui --store memory` does (20 services × 1,000 templates, 100,000 keys, all
 * new; --steady: the same sent 54, 30 and 6 hours ago, as bench/ui.ts --steady) through the extractor and the
 * writer state, then times the routes /changes (a `since` moving a minute a call, as the UI's) and the service
 * page's overview, each `--rounds` times.
 * --old DIR: another build's dist/ (e.g. main's, built in a temporary checkout): it fills its own store from the
 * same lines, and the two builds' calls alternate (old, new, old, new…) in the same minutes, so the machine's
 * load hits both alike. Prints each call's p50 and p95 and the ratio of the medians (new / old).
 */
import { fileURLToPath } from 'node:url';
import { body } from './ui/big.js';
import { parseBenchArgs } from './args.js';

const USAGE = `usage: npm run bench:memory-lists -- [--rounds 15] [--old DIR] [--steady] [--ingest] [--only NAME] [--services 20] [--templates 1000] [--keys 100000]
  the memory store's slowest UI calls in process (p50/p95); --old DIR: another build's dist/, alternated with this one`;

const { values } = parseBenchArgs(USAGE, {
  options: {
    rounds: { type: 'string', default: '15' },
    old: { type: 'string' },
    steady: { type: 'boolean', default: false },
    /** Before every call, a commit of a few hundred lines of the fill's own templates and keys (untimed): each call meets a new store state, as under ingest. */
    ingest: { type: 'boolean', default: false },
    /** Only the calls whose name holds this (e.g. to profile one: node --cpu-prof). */
    only: { type: 'string' },
    services: { type: 'string', default: '20' },
    templates: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '100000' },
  },
});
const rounds = Number(values.rounds);
const o = { services: Number(values.services), templates: Number(values.templates), keys: Number(values.keys) };
const MIN = 60_000;

interface Build {
  name: string;
  /** The route functions and the store, from that build's dist/src. */
  changesRoute: (store: unknown, query: string, now?: number) => Promise<unknown>;
  serviceOverview: (store: unknown, name: string, query: string) => Promise<unknown>;
  read: <T>(fn: (q: unknown) => Promise<T>) => Promise<T>;
  /** Commits one small batch of lines of the fill's templates, each with a few of its service's first keys (--ingest). */
  ingest: (i: number) => Promise<void>;
}

/** Records of one fill, per service, in the model's shape (src/model/otlp.ts), as bench/ui/big.ts sends them. */
function records(s: number, shift: number): Array<{ severityText: string; severityNumber: number; body: string; attrs: Array<{ key: string; value: string; bytes: number }> }> {
  const out = [];
  for (let j = 0; j < o.templates; j++) {
    const sev = j % 2 ? 'ERROR' : 'INFO';
    for (let rep = 0; rep < 1 + ((j + (j % 3 === 0 ? 0 : shift)) % 8); rep++) {
      out.push({ severityText: sev, severityNumber: sev === 'ERROR' ? 17 : 9, body: body(s, j, rep), attrs: [] });
    }
  }
  const perService = Math.ceil(o.keys / o.services);
  for (let k = 0; k < perService; k += 100) {
    const attrs = [];
    for (let i = k; i < Math.min(k + 100, perService); i++) {
      const key = `attr.${String(i).padStart(5, '0')}`;
      const value = `v${i % 97}`;
      attrs.push({ key, value, bytes: key.length + value.length + 6 });
    }
    const carrier = { severityText: 'DEBUG', severityNumber: 5, body: 'keys carrier', attrs };
    out.push(carrier);
    if (shift && (k / 100 + shift) % 3 === 0) out.push(carrier);
  }
  return out;
}

async function open(name: string, dist: string, fills: Array<{ at: number; shift: number }>): Promise<Build> {
  const m = async (p: string) => import(new URL(`src/${p}`, `file://${dist.replace(/\/?$/, '/')}`).href);
  const { Extractor } = await m('extract/extractor.js');
  const { createKeyedHasher } = await m('sketch/hash.js');
  const { WriterState } = await m('writer/state.js');
  const { MemoryStore } = await m('store/memory/store.js');
  const { changesRoute } = await m('api/history.js');
  const { serviceOverview } = await m('api/services.js');
  const opts = { precision: 14, minerMaxClusters: 2000, minerMaxLineLength: 4096, sketchCacheRows: 200_000 };
  const store = new MemoryStore({ maxBytes: 3 * 2 ** 30 });
  const state = new WriterState(opts, store.loader());
  const x = new Extractor(await createKeyedHasher(0x5eedn), { workerId: 0, ...opts });
  for (const { at, shift } of fills) {
    for (let s = 0; s < o.services; s++) {
      const recs = records(s, shift);
      const service = `service-${String(s).padStart(2, '0')}`;
      for (let i = 0; i < recs.length; i += 500) {
        x.foldLogs({ resources: [{ attrs: [{ key: 'service.name', value: service, bytes: 14 + service.length }], scopes: [{ scopeName: 'ui-bench', records: recs.slice(i, i + 500).map((r) => ({ ...r, timeUnixMs: at, bytes: r.body.length + 20 })) }] }] }, at);
      }
      state.applyBatch(x.flush());
      await store.commit(state.takeChanges());
    }
  }
  const ingest = async (n: number) => {
    // As bench/ui/ingest.ts: 300 lines of existing templates, 5 of a service's first 200 keys on each, no entity new.
    const service = `service-${String(n % o.services).padStart(2, '0')}`;
    const recs = Array.from({ length: 300 }, (_, i) => {
      const j = (i * 7 + n) % o.templates;
      const attrs = Array.from({ length: 5 }, (_, a) => {
        const key = `attr.${String((i + a * 11) % 200).padStart(5, '0')}`;
        const value = `v${(i * 31 + a + n) % 997}`;
        return { key, value, bytes: key.length + value.length + 6 };
      });
      const sev = j % 2 ? 'ERROR' : 'INFO';
      const b = body(n % o.services, j, i);
      return { severityText: sev, severityNumber: sev === 'ERROR' ? 17 : 9, body: b, attrs, timeUnixMs: now, bytes: b.length + 20 };
    });
    x.foldLogs({ resources: [{ attrs: [{ key: 'service.name', value: service, bytes: 14 + service.length }], scopes: [{ scopeName: 'ui-bench', records: recs }] }] }, now);
    state.applyBatch(x.flush());
    await store.commit(state.takeChanges());
  };
  const reader = store.localReader();
  console.log(`${name}: ${store.tables.count('services')} services, ${store.tables.count('templates')} templates, ${store.tables.count('keys')} keys`);
  return { name, changesRoute, serviceOverview, read: (fn) => reader.read(fn), ingest };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

const now = Date.now();
const fills = values.steady ? [[54, 2], [30, 0], [6, 1]].map(([h, shift]) => ({ at: now - h! * 3_600_000, shift: shift! })) : [{ at: now, shift: 0 }];
const here = fileURLToPath(new URL('../', import.meta.url));
const builds: Build[] = [];
if (values.old) builds.push(await open('old', values.old, fills));
builds.push(await open('new', here, fills));
const FROM = Math.floor((now - 86_400_000) / MIN) * MIN;
const SVC = `service-${String(Math.floor(o.services / 2)).padStart(2, '0')}`;
const calls: Array<{ name: string; run: (b: Build, i: number) => Promise<unknown> }> = [
  { name: `/changes?since=<moving>&limit=100`, run: (b, i) => b.read((q) => b.changesRoute(q, `since=${FROM + (i + 1) * MIN}&limit=100`, now)) },
  { name: `/changes?since=${FROM}&limit=100 (fixed)`, run: (b) => b.read((q) => b.changesRoute(q, `since=${FROM}&limit=100`, now)) },
  { name: `/services/${SVC}/overview`, run: (b) => b.read((q) => b.serviceOverview(q, SVC, '')) },
  // The keys page's lists in the default window (the UI's from, up to now).
  ...([['cardinality_estimate', 'desc', 0], ['key', 'asc', 50_000]] as const).map(([sort, order, offset]) => ({
    name: `/keys?sort=${sort}&order=${order}&offset=${offset}&from=FROM`,
    run: (b: Build) => b.read((q) => (q as { keys(x: object): Promise<unknown> }).keys({ window: { from: FROM, to: now + MIN }, page: { sort, order, limit: 100, offset } })),
  })),
];
console.log(`memory store in process: ${o.services} services × ${o.templates} templates, ${o.keys} keys${values.steady ? ', steady' : ', all new'}${values.ingest ? ', a commit before every call' : ''}; ${rounds} rounds, builds alternating\n`);
console.log(`${'call'.padEnd(44)} ${builds.map((b) => `${b.name} p50   p95`.padStart(16)).join(' ')}   ratio of p50s`);
for (const c of calls.filter((x) => values.only === undefined || x.name.includes(values.only))) {
  const ts = builds.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (const [k, b] of builds.entries()) {
      if (values.ingest) await b.ingest(i);
      const s = performance.now();
      JSON.stringify(await c.run(b, i));
      ts[k]!.push(performance.now() - s);
    }
  }
  const p50 = ts.map((t) => quantile(t, 0.5));
  console.log(`${c.name.padEnd(44)} ${ts.map((t) => `${quantile(t, 0.5).toFixed(1).padStart(8)} ${quantile(t, 0.95).toFixed(1).padStart(6)}`).join(' ')}   ${builds.length > 1 ? (p50[1]! / p50[0]!).toFixed(2) + '×' : ''}`);
}
