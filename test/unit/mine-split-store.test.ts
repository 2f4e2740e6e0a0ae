/**
 * Issue 11: a template that folds, then splits again once its words prove to be a
 * closed set, as the server stores it. Three workers' extractors (their own miners)
 * send batches to the writer's canonical miners, which commit to SQLite; the writer is
 * restarted from the store halfway. Stored counts stay exact per template, add up to
 * the lines sent, the percentages add up to 100, and no template is stored twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { Extractor } from '../../src/extract/extractor.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { WriterState } from '../../src/writer/state.js';
import { TemplateMiner } from '../../src/mine/miner.js';
import { SqliteWriteStore } from '../../src/store/sqlite/write.js';
import { SqliteQueries } from '../../src/store/sqlite/read.js';
import { dbPath } from '../../src/store/sqlite/connection.js';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { MemoryStore } from '../../src/store/memory/store.js';
import type { StoreQueries } from '../../src/store/queries.js';
import type { DeltaBatch } from '../../src/model/delta.js';
import type { LogsRequest } from '../../src/model/otlp.js';
import { generateLogs, rng } from '../helpers/log-generator.js';

const opts = { precision: 12, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 100_000 };
const tuning = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 16 };
const roundTrip = (b: DeltaBatch): DeltaBatch => new Unpackr({ useRecords: true }).unpack(new Packr({ useRecords: true }).pack(b)) as DeltaBatch;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A record's protobuf size, as the decoder would give it: any fixed function of the body will do here. */
const bytesOf = (body: string): number => body.length + 9;

function request(bodies: string[]): LogsRequest {
  return {
    resources: [
      {
        attrs: [{ key: 'service.name', value: 'svc', bytes: 17 }],
        scopes: [{ scopeName: 's', records: bodies.map((body) => ({ timeUnixMs: 0, severityNumber: 9, severityText: 'INFO', body, attrs: [], bytes: bytesOf(body) })) }],
      },
    ],
  };
}

/** Five states that each appear once before the fifth arrives (a fold), then recur (a split), among other templates. */
function workload(): { lines: string[]; truth: Map<string, number> } {
  const states = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
  const r = rng(11);
  const g = generateLogs({ seed: 11, lines: 3000 });
  const lines: string[] = [];
  const truth = new Map<string, number>();
  const add = (line: string, template: string) => {
    lines.push(line);
    truth.set(template, (truth.get(template) ?? 0) + 1);
  };
  for (let i = 0; i < 3000; i++) {
    const s = i < 5 ? i : Math.floor(r() * 5);
    add(`instance ${Math.floor(r() * 1e6)} lifecycle ${states[s]} by scheduler`, `instance <NUM> lifecycle ${states[s]} by scheduler`);
    add(g.lines[i]!, g.templates[g.truth[i]!]!);
  }
  return { lines, truth };
}

interface Backend {
  commit(c: ReturnType<WriterState['takeChanges']>): Promise<number>;
  load(state: WriterState): Promise<void>;
  loader(): ConstructorParameters<typeof WriterState>[1];
}

async function run(lines: string[], state: WriterState, store: Backend): Promise<void> {
  const hasher = await createKeyedHasher(0x5eedn);
  const workers = [0, 1, 2].map((workerId) => new Extractor(hasher, { workerId, ...opts }));
  for (let i = 0; i < lines.length; i += 30) {
    // Each worker gets every third slice; flush (and commit) every slice, as the writer does on its timer.
    const w = workers[(i / 30) % 3]!;
    w.foldLogs(request(lines.slice(i, i + 30)), i);
    state.applyBatch(roundTrip(w.flush()));
    await store.commit(state.takeChanges());
  }
}

type Stored = { template: string; count: number; percentage: number; bytes: number };

async function stored(q: StoreQueries): Promise<Stored[]> {
  const page = { limit: 1000, offset: 0, sort: 'count', order: 'desc' as const };
  return (await q.templates({ service: 'svc', page })).items.map((t) => ({ template: t.template, count: t.count, percentage: t.percentage, bytes: t.bytes }));
}

/** The checks on what a store holds after `sent` lines whose true templates are `truth` (null: only totals). */
function check(rows: Stored[], sent: string[], truth: Map<string, number> | null): void {
  expect(rows.reduce((a, t) => a + t.count, 0)).toBe(sent.length);
  // Record bytes move with the lines too.
  expect(rows.reduce((a, t) => a + t.bytes, 0)).toBe(sent.reduce((a, l) => a + bytesOf(l), 0));
  expect(rows.reduce((a, t) => a + t.percentage, 0)).toBeCloseTo(100, 9);
  expect(new Set(rows.map((t) => t.template)).size).toBe(rows.length);
  if (truth !== null) expect(new Map(rows.map((t) => [t.template, t.count]))).toEqual(truth);
}

describe('stored templates when the canonical miner folds and splits', () => {
  it('SQLite: stay exact per template across workers and a writer restart; percentages add up to 100', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keytally-split-'));
    dirs.push(dir);
    await migrateSqlite(dbPath(dir));
    const { lines, truth } = workload();
    const half = lines.length / 2;

    let store = new SqliteWriteStore(dir, tuning);
    let state = new WriterState(opts, store.loader());
    await store.load(state);
    await run(lines.slice(0, half), state, store);
    check(await stored(new SqliteQueries(store.db)), lines.slice(0, half), null);
    await store.close();

    // Restart: a new writer state loaded from the store, new workers.
    store = new SqliteWriteStore(dir, tuning);
    state = new WriterState(opts, store.loader());
    await store.load(state);
    await run(lines.slice(half), state, store);
    const rows = await stored(new SqliteQueries(store.db));
    await store.close();
    check(rows, lines, truth);
    // The fold happened (the five states were one template for a while: see the miner on
    // the first lines, one per state, alone) and was undone.
    const early = new TemplateMiner();
    for (const l of lines.filter((l) => l.startsWith('instance ')).slice(0, 5)) early.add(l);
    expect(early.clusters().map((c) => c.template())).toEqual(['instance <NUM> lifecycle <*> by scheduler']);
    expect(rows.some((t) => t.template.includes('lifecycle <*>'))).toBe(false);
  });

  it('memory store: the same', async () => {
    const { lines, truth } = workload();
    const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 });
    const state = new WriterState(opts, store.loader());
    await store.load(state);
    await run(lines, state, store);
    const rows = await store.localReader().read((q) => stored(q));
    check(rows, lines, truth);
  });
});
