/**
 * The ClickHouse mirror of the history (DESIGN §8, §9): minute and hour
 * buckets of counts and bytes per entity, for dashboards over months. A
 * consumer of the writer's commits, not a store: the writer hands it the
 * buckets each commit touched, after the commit; it never sits on the
 * ingest path and never holds a commit back.
 *
 * Rows carry the primary's ABSOLUTE values of a bucket (not increments) into
 * ReplacingMergeTree tables whose version is the primary's move epoch, then
 * count + bytes (mirrorVersion). So sending a bucket twice — a retry after an
 * insert whose answer was lost, a resync — is harmless, the mirror catches
 * up after an outage by re-sending, and a template merge or split that takes
 * counts out of buckets (zeroes them, for a merge) wins over what they held.
 * Read with FINAL (or argMax).
 *
 * ClickHouse down or slow: rows wait in a bounded buffer (coalesced per
 * bucket, newest value wins), inserts are retried with backoff, and the
 * buffer is counted in /metrics. Past the bound the buffer is dropped and
 * the mirror re-reads every bucket since the oldest dropped one from the
 * primary store when ClickHouse answers again (MirrorSource). Retention:
 * partitions (one per day of minutes, one per month of hours) older than
 * the mirror's own retention are dropped with ALTER TABLE … DROP PARTITION
 * (ClickHouse 18.16 has no TTL). Values are inlined, escaped (18.16 rejects
 * query parameters).
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { HOUR_MS, MINUTE_MS, bucketOf } from '../model/history.js';
import type { HistoryKind } from '../writer/state.js';

/** One bucket's absolute counts and bytes, as the primary holds them after a commit. */
export interface MirrorRow {
  level: 'minute' | 'hour';
  kind: HistoryKind;
  service: string;
  name: string;
  sub: string;
  bucket: number;
  count: number;
  bytes: number;
  /** The primary's move epoch when the value was read (src/store/history.ts, MIRROR_EPOCH_KEY). */
  epoch: number;
}

/**
 * A row's ReplacingMergeTree version: the epoch above, count + bytes below.
 * Between template moves a bucket only grows, so the larger value is the
 * newer; a move (merge or split) takes counts out of buckets, so every move
 * starts a new epoch and its values win over all before it. A UInt64, sent
 * as a string (JSON numbers stop at 2^53; 18.16 reads quoted UInt64).
 */
export function mirrorVersion(r: Pick<MirrorRow, 'epoch' | 'count' | 'bytes'>): string {
  const low = BigInt(Math.min(r.count + r.bytes, 2 ** 40 - 1));
  return ((BigInt(r.epoch) << 40n) | low).toString();
}

/** Pages of the primary's buckets since a time, for the resync after a dropped buffer. */
export interface MirrorSource {
  /** Up to `limit` rows of `level` with bucket >= from, ordered; `after` continues after the last row of the previous page. */
  historyPage(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): Promise<MirrorRow[]>;
}

export interface MirrorOptions {
  url: string;
  database: string;
  /** Rows waiting (coalesced) before the buffer is dropped for a resync. */
  bufferRows: number;
  /** How often buffered rows are sent. */
  flushMs: number;
  /** Partitions of the minute table older than this are dropped. */
  minuteRetentionMs: number;
  /** Partitions of the hour table older than this are dropped. */
  hourRetentionMs: number;
  /** The mirror's "now" for retention (the writer's clock: wall time or the test clock). */
  now: () => number;
  /** How often partitions are checked against retention (wall time). */
  retentionEveryMs: number;
}

export interface MirrorStats {
  up: boolean;
  bufferedRows: number;
  sentRows: number;
  failedInserts: number;
  droppedRows: number;
  resyncs: number;
  droppedPartitions: number;
}

const KINDS: HistoryKind[] = ['log', 'template', 'metric', 'span', 'key'];
const TABLE = { minute: 'keytally_minute', hour: 'keytally_hour' } as const;
const BATCH_ROWS = 20_000;
const MAX_BACKOFF_MS = 10_000;

/** A string literal for ClickHouse SQL: backslash and quote escaped. */
export function chString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

/** A database or table name: only what needs no quoting. */
function identifier(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new Error(`ClickHouse database name must be letters, digits and _: ${JSON.stringify(s)}`);
  return s;
}

export function schema(database: string): string[] {
  const db = identifier(database);
  const enumKinds = KINDS.map((k, i) => `'${k}' = ${i + 1}`).join(', ');
  const table = (name: string, partition: string) => `CREATE TABLE IF NOT EXISTS ${db}.${name} (
      bucket DateTime, kind Enum8(${enumKinds}), service String, name String, sub String,
      count UInt64, bytes UInt64, version UInt64
    ) ENGINE = ReplacingMergeTree(version) PARTITION BY ${partition}(bucket) ORDER BY (kind, service, name, sub, bucket)`;
  return [`CREATE DATABASE IF NOT EXISTS ${db}`, table(TABLE.minute, 'toYYYYMMDD'), table(TABLE.hour, 'toYYYYMM')];
}

const rowKey = (r: MirrorRow) => `${r.level}\u0000${r.kind}\u0000${r.service}\u0000${r.name}\u0000${r.sub}\u0000${r.bucket}`;

export class ClickHouseMirror {
  private readonly client: ClickHouseClient;
  private buffer = new Map<string, MirrorRow>();
  /** Set when the buffer was dropped: every bucket since then is re-read from the primary. */
  private resyncFrom: number | undefined;
  private ready = false;
  private busy = false;
  private backoffMs = 0;
  private nextTry = 0;
  private lastRetention = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: MirrorStats = { up: false, bufferedRows: 0, sentRows: 0, failedInserts: 0, droppedRows: 0, resyncs: 0, droppedPartitions: 0 };

  constructor(
    private readonly opts: MirrorOptions,
    private readonly source: MirrorSource,
  ) {
    identifier(opts.database);
    this.client = createClient({ url: opts.url, compression: { request: true, response: true }, request_timeout: 10_000 });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.flushMs);
    this.timer.unref();
  }

  /** The buckets a commit touched (absolute values): queued, never awaited by the writer. */
  offer(rows: MirrorRow[]): void {
    for (const r of rows) this.buffer.set(rowKey(r), r);
    if (this.buffer.size > this.opts.bufferRows) {
      // Over the bound: forget the rows, remember from when to re-read them from the primary.
      let oldest = this.resyncFrom ?? Number.MAX_SAFE_INTEGER;
      for (const r of this.buffer.values()) if (r.bucket < oldest) oldest = r.bucket;
      this.stats.droppedRows += this.buffer.size;
      this.buffer = new Map();
      this.resyncFrom = bucketOf(oldest, HOUR_MS);
    }
    this.stats.bufferedRows = this.buffer.size;
  }

  /** Sends everything buffered now (tests and shutdown); resolves when done or ClickHouse failed. */
  async flush(): Promise<void> {
    await this.tick(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.client.close().catch(() => undefined);
  }

  private async tick(force = false): Promise<void> {
    if (this.busy || this.closed) return;
    if (!force && Date.now() < this.nextTry) return;
    this.busy = true;
    try {
      if (!this.ready) {
        for (const sql of schema(this.opts.database)) await this.client.command({ query: sql });
        this.ready = true;
      }
      if (this.resyncFrom !== undefined) await this.resync(this.resyncFrom);
      while (this.buffer.size > 0) {
        const batch: MirrorRow[] = [];
        for (const r of this.buffer.values()) {
          batch.push(r);
          if (batch.length >= BATCH_ROWS) break;
        }
        await this.insert(batch);
        // Rows offered again meanwhile (a newer value) stay for the next round.
        for (const r of batch) if (this.buffer.get(rowKey(r)) === r) this.buffer.delete(rowKey(r));
      }
      await this.retention();
      this.stats.up = true;
      this.backoffMs = 0;
      this.nextTry = 0;
    } catch {
      this.stats.up = false;
      // A server that came back empty (a new data directory) needs its tables again.
      this.ready = false;
      this.stats.failedInserts++;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
      this.nextTry = Date.now() + this.backoffMs;
    } finally {
      this.stats.bufferedRows = this.buffer.size;
      this.busy = false;
    }
  }

  private async insert(rows: MirrorRow[]): Promise<void> {
    for (const level of ['minute', 'hour'] as const) {
      const values = rows
        .filter((r) => r.level === level)
        .map((r) => ({
          bucket: Math.floor(r.bucket / 1000), kind: r.kind, service: r.service, name: r.name, sub: r.sub,
          count: r.count, bytes: r.bytes, version: mirrorVersion(r),
        }));
      if (values.length === 0) continue;
      await this.client.insert({ table: `${this.opts.database}.${TABLE[level]}`, values, format: 'JSONEachRow' });
      this.stats.sentRows += values.length;
    }
  }

  /** Re-sends every bucket since `from` from the primary (absolute values, so overlap is harmless). */
  private async resync(from: number): Promise<void> {
    for (const level of ['minute', 'hour'] as const) {
      let after: MirrorRow | undefined;
      for (;;) {
        const page = await this.source.historyPage(level, bucketOf(from, level === 'minute' ? MINUTE_MS : HOUR_MS), BATCH_ROWS, after);
        if (page.length === 0) break;
        await this.insert(page);
        after = page[page.length - 1];
      }
    }
    this.resyncFrom = undefined;
    this.stats.resyncs++;
  }

  /** Drops partitions past retention, at most once per retentionEveryMs of wall time. */
  private async retention(): Promise<void> {
    if (this.lastRetention !== 0 && Date.now() - this.lastRetention < this.opts.retentionEveryMs) return;
    this.lastRetention = Date.now();
    const now = this.opts.now();
    // The partition ids as the server computes them (its time zone), for the oldest buckets each table keeps.
    const minuteCut = Math.floor((now - this.opts.minuteRetentionMs) / 1000);
    const hourCut = Math.floor((now - this.opts.hourRetentionMs) / 1000);
    const c = await this.client.query({
      query: `SELECT toYYYYMMDD(toDateTime(${minuteCut})) AS minute, toYYYYMM(toDateTime(${hourCut})) AS hour`,
      format: 'JSONEachRow',
    });
    const [row] = (await c.json()) as Array<{ minute: number; hour: number }>;
    const cut = { minute: Number(row!.minute), hour: Number(row!.hour) };
    for (const level of ['minute', 'hour'] as const) {
      const table = TABLE[level];
      const r = await this.client.query({
        query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${chString(this.opts.database)} AND table = ${chString(table)} AND active`,
        format: 'JSONEachRow',
      });
      const parts = (await r.json()) as Array<{ partition: string }>;
      for (const p of parts) {
        // Partition ids are YYYYMMDD (minutes) or YYYYMM (hours): whole days or months older than the cut go.
        if (!/^\d+$/.test(p.partition) || Number(p.partition) >= cut[level]) continue;
        await this.client.command({ query: `ALTER TABLE ${this.opts.database}.${table} DROP PARTITION ${p.partition}` });
        this.stats.droppedPartitions++;
      }
    }
  }
}
