/**
 * Dumps: a versioned, gzip'd, JSON-lines copy of a whole store.
 *
 *   line 1   header  {"format":"keytally-dump","version":2,"schema":N,"salt":"…","precision":P,"dump_id":"…","created":ms,"from":"sqlite"}
 *   lines    rows    {"t":"services","d":{…}} — each row as the delta the workers send (src/model/delta.ts),
 *                    sketches in keytally's own serialized form, base64; history rows are bucket counts (a minute, or the hour or day retention thinned it to);
 *                    estimate rows (version 2) are series estimates over time, every level as stored
 *   last     trailer {"end":true,"rows":N,"sha256":"…"} — the count and a hash of every line before it
 *
 * Import goes through the writer's normal merge path (WriterState.applyBatch,
 * then one commit), so a dump merges into a store that already has data as
 * traffic would. Everything is read and checked before anything is written: a
 * truncated, corrupted or newer dump, another salt into a non-empty store, or a
 * dump already imported gets a clear error and leaves the target unchanged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import {
  emptyCounters,
  entityKey,
  type DeltaBatch,
  type KeyDelta,
  type LabelDelta,
  type LogDelta,
  type MetricDelta,
  type ServiceDelta,
  type SpanDelta,
  type TemplateDelta,
  type VersionDelta,
} from '../model/delta.js';
import type { Cluster } from '../mine/cluster.js';
import type { HistoryRow } from '../writer/state.js';
import { WriterState } from '../writer/state.js';
import type { WriteStore } from './store.js';
import { ESTIMATE_KINDS, type EstimateBucket } from './series-estimates.js';
import { HISTORY_LEVELS } from '../model/history.js';

export const DUMP_FORMAT = 'keytally-dump';
/**
 * 2: adds `estimates` rows (metric_series_estimates). A version 1 dump is
 * still imported (it has no estimates: the target's charts start at the import);
 * a keytally that reads only version 1 refuses a version 2 dump by its header.
 */
export const DUMP_VERSION = 2;

export interface DumpHeader {
  format: typeof DUMP_FORMAT;
  version: number;
  schema: number;
  salt: string;
  precision: number;
  dump_id: string;
  created: number;
  from: string;
}

/** One row of a dump: the table and the row as a delta. */
export type DumpItem =
  | { t: 'services'; d: ServiceDelta }
  | { t: 'metrics'; d: MetricDelta }
  | { t: 'labels'; d: LabelDelta }
  | { t: 'spans'; d: SpanDelta }
  | { t: 'logs'; d: LogDelta }
  | { t: 'keys'; d: KeyDelta }
  | { t: 'templates'; d: TemplateDelta & { /** The template's id in the exporting store. */ id?: number } }
  | { t: 'versions'; d: VersionDelta }
  | { t: 'history'; d: HistoryRow }
  | { t: 'estimates'; d: EstimateBucket };

const TABLES = ['services', 'metrics', 'labels', 'spans', 'logs', 'keys', 'templates', 'versions', 'history', 'estimates'] as const;
const SKETCH_FIELDS: Record<string, string> = { metrics: 'series', labels: 'sketch', keys: 'sketch' };

/** What a backend's read side offers for export: its salt and every row, from one snapshot. */
export interface DumpSource {
  salt(): Promise<bigint | undefined>;
  rows(): AsyncIterable<DumpItem>;
}

export class DumpError extends Error {
  override name = 'DumpError';
}

function encodeItem(item: DumpItem): string {
  const f = SKETCH_FIELDS[item.t];
  if (!f) return JSON.stringify(item);
  const d = { ...(item.d as unknown as Record<string, unknown>) };
  const b = d[f] as Uint8Array;
  d[f] = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  return JSON.stringify({ t: item.t, d });
}

/** Writes the dump of `source` to `out` (a path); returns its header and row count. */
export async function writeDump(source: DumpSource, out: string, meta: { schema: number; precision: number; from: string }): Promise<{ header: DumpHeader; rows: number }> {
  const salt = await source.salt();
  if (salt === undefined) throw new DumpError('the store has no salt yet (nothing was ever written to it): nothing to export');
  const header: DumpHeader = { format: DUMP_FORMAT, version: DUMP_VERSION, schema: meta.schema, salt: salt.toString(), precision: meta.precision, dump_id: randomUUID(), created: Date.now(), from: meta.from };
  const hash = createHash('sha256');
  let rows = 0;
  async function* lines(): AsyncGenerator<string> {
    const h = JSON.stringify(header);
    hash.update(h + '\n');
    yield h + '\n';
    for await (const item of source.rows()) {
      const line = encodeItem(item) + '\n';
      hash.update(line);
      rows++;
      yield line;
    }
    yield JSON.stringify({ end: true, rows, sha256: hash.digest('hex') }) + '\n';
  }
  await pipeline(Readable.from(lines()), createGzip(), createWriteStream(out));
  return { header, rows };
}

export interface ParsedDump {
  header: DumpHeader;
  items: DumpItem[];
}

/** Reads and checks a whole dump; throws DumpError naming what is wrong. */
export async function readDump(file: string): Promise<ParsedDump> {
  const hash = createHash('sha256');
  const items: DumpItem[] = [];
  let header: DumpHeader | undefined;
  let trailer: { end: true; rows: number; sha256: string } | undefined;
  let n = 0;
  const input = createReadStream(file).pipe(createGunzip());
  const gunzipError = new Promise<never>((_, reject) => input.once('error', reject));
  gunzipError.catch(() => undefined);
  try {
    const rl = createInterface({ input, crlfDelay: Infinity });
    const reading = (async () => {
      for await (const line of rl) {
        n++;
        if (trailer) throw new DumpError(`${file}: line ${n}: data after the end of the dump`);
        let v: any;
        try {
          v = JSON.parse(line);
        } catch {
          throw new DumpError(`${file}: line ${n} is not JSON: the dump is corrupted`);
        }
        if (n === 1) {
          header = checkHeader(file, v);
          hash.update(line + '\n');
          continue;
        }
        if (v && v.end === true) {
          trailer = v;
          continue;
        }
        hash.update(line + '\n');
        items.push(decodeItem(file, n, v));
      }
    })();
    await Promise.race([reading, gunzipError]);
  } catch (err) {
    if (err instanceof DumpError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DumpError(`${file}: no such file`);
    if (code === 'Z_BUF_ERROR') throw new DumpError(`${file}: the dump is truncated (its gzip stream ends early)`);
    throw new DumpError(`${file}: not a readable gzip'd dump (${(err as Error).message}): the dump is corrupted`);
  }
  if (!header) throw new DumpError(`${file}: empty: not a keytally dump`);
  if (!trailer) throw new DumpError(`${file}: the dump is truncated (no end line after ${items.length} rows)`);
  if (trailer.rows !== items.length) throw new DumpError(`${file}: the dump says ${trailer.rows} rows but holds ${items.length}: truncated or corrupted`);
  if (trailer.sha256 !== hash.digest('hex')) throw new DumpError(`${file}: checksum mismatch: the dump is corrupted`);
  return { header, items };
}

function checkHeader(file: string, v: any): DumpHeader {
  if (!v || v.format !== DUMP_FORMAT) throw new DumpError(`${file}: not a keytally dump (no "${DUMP_FORMAT}" header)`);
  if (typeof v.version !== 'number' || v.version > DUMP_VERSION) {
    throw new DumpError(`${file}: dump format version ${v.version} is newer than this keytally reads (${DUMP_VERSION}): upgrade keytally to import it`);
  }
  if (typeof v.salt !== 'string' || !/^\d+$/.test(v.salt) || typeof v.dump_id !== 'string' || v.dump_id === '') {
    throw new DumpError(`${file}: the dump header lacks a salt or a dump id: the dump is corrupted`);
  }
  return v as DumpHeader;
}

function decodeItem(file: string, n: number, v: any): DumpItem {
  if (!v || typeof v !== 'object' || !(TABLES as readonly string[]).includes(v.t) || typeof v.d !== 'object' || v.d === null) {
    throw new DumpError(`${file}: line ${n}: not a dump row: the dump is corrupted`);
  }
  if (v.t === 'estimates') checkEstimate(file, n, v.d);
  const f = SKETCH_FIELDS[v.t];
  if (f) {
    if (typeof v.d[f] !== 'string') throw new DumpError(`${file}: line ${n}: a ${v.t} row without its sketch: the dump is corrupted`);
    v.d[f] = new Uint8Array(Buffer.from(v.d[f], 'base64'));
  }
  return v as DumpItem;
}

/** An estimate row goes into the table as it is (not through the merge path), so it is checked field by field. */
function checkEstimate(file: string, n: number, d: any): void {
  const ok =
    HISTORY_LEVELS.some((l) => l.name === d.level) && (ESTIMATE_KINDS as readonly string[]).includes(d.kind) &&
    typeof d.service === 'string' && typeof d.metric === 'string' && typeof d.label === 'string' &&
    Number.isSafeInteger(d.bucket) && Number.isSafeInteger(d.estimate) && d.estimate >= 0;
  if (!ok) throw new DumpError(`${file}: line ${n}: a malformed estimates row: the dump is corrupted`);
}

/**
 * Templates are placed by their text, not mined again: re-mining stored
 * templates could merge two that the source kept apart (a cluster whose row
 * outlived its merge, say). A text the target's miner already has adds to
 * that template; a new one gets the source's id when the target has it free.
 */
function placeTemplates(state: WriterState, templates: Array<TemplateDelta & { id?: number }>): Map<string, Cluster> {
  const placed = new Map<string, Cluster>();
  for (const d of templates) {
    const miner = state.miner(d.service, d.severity);
    const live = miner.clusters();
    let cluster = live.find((c) => c.template() === d.template);
    if (!cluster) {
      const taken = new Set(live.map((c) => c.id));
      const id = d.id !== undefined && !taken.has(d.id) ? d.id : Math.max(0, ...taken) + 1;
      miner.restore(id, d.template, 0);
      cluster = miner.clusters().find((c) => c.id === id)!;
    }
    const k = entityKey(d.service, d.severity, cluster.id);
    let row = state.templates.rows.get(k);
    if (!row) {
      row = { service: d.service, severity: d.severity, cluster, count: 0, bytes: 0, example: d.example, firstSeen: d.firstSeen, lastSeen: d.lastSeen };
      state.templates.rows.set(k, row);
    }
    if (d.id !== undefined) placed.set(entityKey(d.service, d.severity, d.id), cluster);
    row.count += d.count;
    row.bytes += d.bytes;
    state.placedTemplate(row, d.count, d.bytes, d.example, d);
    row.firstSeen = Math.min(row.firstSeen, d.firstSeen);
    row.lastSeen = Math.max(row.lastSeen, d.lastSeen);
    state.templates.dirty.add(row);
  }
  return placed;
}

export interface ImportOptions {
  precision: number;
  minerMaxClusters: number;
  minerMaxLineLength: number;
}

/** True when the store holds no row at all (so a dump with another salt may replace its salt). */
async function isEmpty(state: WriterState): Promise<boolean> {
  return state.services.rows.size === 0 && state.metrics.rows.size === 0 && state.keyCount === 0 && state.templates.rows.size === 0;
}

/**
 * Merges a checked dump into `store` through the normal merge path, in one
 * commit that also records the dump id (so a second import is refused).
 */
export async function importDump(store: WriteStore, dump: ParsedDump, opts: ImportOptions): Promise<{ rows: number }> {
  const { header, items } = dump;
  const state = new WriterState({ ...opts, sketchCacheRows: Number.MAX_SAFE_INTEGER }, store.loader());
  await store.load(state);
  const dumpKey = `dump:${header.dump_id}`;
  if ((await store.meta(dumpKey)) !== undefined) throw new DumpError(`dump ${header.dump_id} was already imported into this store: refused (it would count everything twice)`);
  const salt = BigInt(header.salt);
  const current = await store.meta('hash_salt');
  const meta: Record<string, string> = { [dumpKey]: String(Date.now()) };
  if (current !== undefined && BigInt(current) !== salt) {
    if (!(await isEmpty(state))) {
      throw new DumpError(`the dump's hash salt differs from this store's, and the store is not empty: sketches under two salts cannot merge (import into an empty store, or export both with one salt)`);
    }
    meta['hash_salt'] = header.salt;
  } else if (current === undefined) meta['hash_salt'] = header.salt;
  const batch: DeltaBatch = {
    worker: 0, seq: 0, acks: [], minute: 0, services: [], metrics: [], labels: [], spans: [], logs: [], keys: [], templates: [], versions: [], counters: emptyCounters(),
  } as unknown as DeltaBatch;
  const history: HistoryRow[] = [];
  const estimates: EstimateBucket[] = [];
  const templates: Array<Extract<DumpItem, { t: 'templates' }>['d']> = [];
  for (const it of items) {
    if (it.t === 'history') history.push(it.d);
    else if (it.t === 'estimates') estimates.push(it.d);
    else if (it.t === 'templates') templates.push(it.d);
    else (batch[it.t] as unknown[]).push(it.d);
  }
  state.applyBatch(batch);
  const placed = placeTemplates(state, templates);
  const changes = state.takeChanges();
  // The dump's own minute buckets, not the ones applyBatch derived from the batch's (meaningless) minute; a
  // template's under the id (and text) it was placed under here.
  changes.history = history.map((h) => {
    if (h.kind !== 'template') return h;
    const c = placed.get(entityKey(h.service, h.name, Number(h.sub)));
    return c ? { ...h, sub: String(c.id), template: c.template() } : h;
  });
  // Likewise the dump's estimates over time, merged bucket by bucket (largest wins), not samples at that minute.
  for (const r of changes.metrics) r.estimateMinute = undefined;
  for (const r of changes.labels) r.estimateMinute = undefined;
  changes.estimateSamples = [];
  changes.estimateBuckets = estimates;
  changes.meta = meta;
  await store.commit(changes);
  return { rows: items.length };
}
