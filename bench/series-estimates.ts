/**
 * `npm run bench:series-estimates`: what recording the series estimates over
 * time adds to a SQLite commit.
 *
 *   npm run build && npm run bench:series-estimates -- [--metrics 200] [--labels 5] [--commits 60] [--rounds 5]
 *
 * The writer's mirror (WriterState) takes one batch per minute touching every
 * metric and label row, in two scenarios: `churn` (50 new values a minute in
 * every sketch, so every estimate changes: the worst case) and `steady` (the
 * same values every minute after the first: no estimate changes, the usual
 * case once a metric's label sets are known);
 * each ChangeSet is committed to a fresh SQLite store twice over, in
 * alternating rounds: as is, and with the estimate fields stripped (the store
 * then writes no estimate row: the commit as it was before). Prints the
 * median commit time of each and their ratio. The machine may be shared:
 * compare the ratio, not the absolute times.
 *
 * Then the read side: one store of `--metrics` × `--labels` entities with
 * `--hours` of minute-by-minute churn (every estimate moving every minute:
 * the most rows), and the route's question as the metric page asks it (the
 * last 24 h at one-hour steps, and the last 6 h at one-minute steps, for one
 * metric and one label key): p50 and p95 of `--calls` calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyCounters, type DeltaBatch, type LabelDelta, type MetricDelta } from '../src/model/delta.js';
import { Hll } from '../src/sketch/hll.js';
import { migrateSqlite } from '../src/store/sqlite/migrations.js';
import { SqliteWriteStore } from '../src/store/sqlite/write.js';
import { WriterState, type ChangeSet } from '../src/writer/state.js';
import { SqliteQueries } from '../src/store/sqlite/read.js';
import { seriesEstimatesRoute } from '../src/api/series-estimates.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:series-estimates -- [--metrics 200] [--labels 5] [--commits 60] [--rounds 5] [--hours 6] [--calls N]
  what recording the series estimates over time adds to a SQLite commit, and the route's questions`, { values: ['metrics', 'labels', 'commits', 'rounds', 'hours', 'calls'] });

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const METRICS = arg('metrics', 200);
const LABELS = arg('labels', 5);
const COMMITS = arg('commits', 60);
const ROUNDS = arg('rounds', 5);
const HOURS = arg('hours', 6);
const CALLS = arg('calls', 200);
const TUNING = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 64 };
const T0 = Date.UTC(2026, 0, 5);

let steady = false;

/** 50 values per metric and label each minute: new ones (churn) or those of minute 0 (steady). */
function sketch(seed: number, minute0: number): Uint8Array {
  const minute = steady ? 0 : minute0;
  const h = new Hll(14);
  for (let v = 0; v < 50; v++) h.add((seed * 7919 + minute * 104729 + v * 2654435761) >>> 0, (v * 40503 + seed) >>> 0);
  return h.serialize();
}

function batch(minute: number): DeltaBatch {
  const metrics: MetricDelta[] = [];
  const labels: LabelDelta[] = [];
  const at = T0 + minute * 60_000;
  for (let m = 0; m < METRICS; m++) {
    metrics.push({
      service: `svc-${m % 10}`, name: `metric.${m}`, type: 'sum', unit: '1', description: '', monotonic: true, temporality: 2,
      labelKeys: Array.from({ length: LABELS }, (_, l) => `label.${l}`), resourceKeys: ['service.name'],
      points: 50, bytes: 2000, overflowPoints: 0, buckets: 0, series: sketch(m, minute), firstSeen: at, lastSeen: at,
    });
    for (let l = 0; l < LABELS; l++) {
      labels.push({ service: `svc-${m % 10}`, metric: `metric.${m}`, key: `label.${l}`, samples: 50, bytes: 400, sketch: sketch(m * 31 + l, minute), firstSeen: at, lastSeen: at });
    }
  }
  return { worker: 1, seq: minute, minute: at, acks: [], services: [], metrics, labels, spans: [], logs: [], keys: [], templates: [], versions: [], counters: emptyCounters() };
}

/** The same ChangeSet as the store saw it before series estimates: no sample, no row minute. */
function without(c: ChangeSet): ChangeSet {
  return { ...c, estimateSamples: [], metrics: c.metrics.map((r) => ({ ...r, estimateMinute: undefined })), labels: c.labels.map((r) => ({ ...r, estimateMinute: undefined })) };
}

async function round(strip: boolean): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-bench-estimates-'));
  try {
    await migrateSqlite(join(dir, 'keytally.db'));
    const store = new SqliteWriteStore(dir, TUNING);
    const state = new WriterState({ precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 1_000_000 });
    const times: number[] = [];
    for (let i = 0; i < COMMITS; i++) {
      state.applyBatch(batch(i));
      const c = state.takeChanges();
      const input = strip ? without(c) : c;
      const t = performance.now();
      await store.commit(input);
      times.push(performance.now() - t);
    }
    await store.close();
    return times;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${METRICS} metrics x ${LABELS} labels, ${COMMITS} commits (one minute each), ${ROUNDS} alternating rounds`);
for (const scenario of ['churn', 'steady'] as const) {
  steady = scenario === 'steady';
  const withEst: number[] = [];
  const withoutEst: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating, so both variants see the same machine load.
    withoutEst.push(median(await round(true)));
    withEst.push(median(await round(false)));
  }
  const a = median(withEst);
  const b = median(withoutEst);
  console.log(`${scenario}: commit median with estimates ${a.toFixed(2)} ms, without ${b.toFixed(2)} ms, ratio ${(a / b).toFixed(2)}`);
  console.log(`  rounds with: ${withEst.map((x) => x.toFixed(2)).join(' ')}; without: ${withoutEst.map((x) => x.toFixed(2)).join(' ')}`);
}

// ---- the read side
steady = false;
const dir = mkdtempSync(join(tmpdir(), 'keytally-bench-estimates-read-'));
try {
  await migrateSqlite(join(dir, 'keytally.db'));
  const store = new SqliteWriteStore(dir, TUNING);
  const state = new WriterState({ precision: 14, minerMaxClusters: 100, minerMaxLineLength: 4096, sketchCacheRows: 1_000_000 });
  for (let i = 0; i < HOURS * 60; i++) {
    state.applyBatch(batch(i));
    await store.commit(state.takeChanges());
  }
  const rows = (store.db.prepare('SELECT count(*) AS n FROM metric_series_estimates').get() as { n: number }).n;
  const q = new SqliteQueries(store.db);
  const now = T0 + HOURS * 3_600_000;
  const m = `metric.${Math.floor(METRICS / 2)}`;
  const svc = `svc-${Math.floor(METRICS / 2) % 10}`;
  const questions = [
    `service=${svc}&from=${now - 86_400_000}&to=${now}`,
    `service=${svc}&from=${now - 6 * 3_600_000}&to=${now}`,
    `service=${svc}&label=label.0&from=${now - 6 * 3_600_000}&to=${now}`,
  ];
  console.log(`read side: ${rows.toLocaleString('en-US')} estimate rows (${METRICS} metrics x ${LABELS} labels, ${HOURS} h of minutes)`);
  for (const question of questions) {
    const times: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await seriesEstimatesRoute(q, m, question, now);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`  ${question.replace(/&from=\d+&to=\d+/, '')} ${question.includes(String(now - 86_400_000)) ? '(24 h, 1 h steps)' : '(6 h, 1 min steps)'}: p50 ${times[Math.floor(CALLS / 2)]!.toFixed(2)} ms, p95 ${times[Math.floor(CALLS * 0.95)]!.toFixed(2)} ms`);
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
