/**
 * The store interface: the only thing the writer thread, the API reader and
 * the CLI import to reach a backend. One folder per backend implements it:
 * src/store/sqlite/, src/store/memory/, src/store/postgres/.
 *
 * Write side (WriteStore), used by the one writer thread:
 *   salt()     the install's hash salt, created by the first writer, read by the rest;
 *   load()     fills the writer's mirror (key sets, series sketches, canonical templates);
 *   loader()   synchronous look-ups of single sketched rows for the writer's bounded cache;
 *   commit()   applies one ChangeSet atomically (counts are increments, the rest full values);
 *   maintain() housekeeping after a commit and every second (SQLite: bound the WAL; PostgreSQL:
 *              learn other instances' templates) and checkpoint() at shutdown;
 *   size()     bytes held, for /metrics.
 * Read side (ReadStore), used by the API: read(fn) runs fn against one
 * consistent view; StoreQueries has one method per question a route asks.
 *
 * A backend states what it cannot do in BackendTraits, in one place, so the
 * conformance suite and the docs can say so instead of failing obscurely.
 */
import type { Config } from '../config.js';
import type { ChangeSet, SketchLoader, WriterState } from '../writer/state.js';
import type { DumpSource } from './dump.js';
import type {
  KeyItem,
  KeyQuery,
  LabelItem,
  ListResult,
  LogItem,
  LogQuery,
  SeverityItem,
  MetricItem,
  MetricQuery,
  ServiceItem,
  ServiceQuery,
  ServiceTotals,
  SpanItem,
  SpanQuery,
  TemplateItem,
  TemplateQuery,
} from './queries.js';
import type { ChangeLists, ChangesQuery, Retention, SeriesPoint, SeriesQuery, VersionItem } from './history.js';
import type { MirrorRow } from '../mirror/clickhouse.js';
import type { SeriesEstimateQuery, SeriesEstimateRaw } from './series-estimates.js';

export type StoreBackend = Config['store'];

export interface StoreSize {
  /** Bytes the store's data takes (file, estimate of memory, or database size). */
  bytes: number;
  /** Bytes of a write-ahead log not yet folded in (SQLite); 0 elsewhere. */
  walBytes: number;
}

export interface Maintained {
  /** A checkpoint ran (counted in /metrics). */
  checkpointed: boolean;
  /** The writer's mirror changed (rows marked dirty): the writer should commit soon. */
  changed: boolean;
}

export const NOTHING_MAINTAINED: Maintained = { checkpointed: false, changed: false };

export interface BackendTraits {
  /** Data survives a restart of the process. */
  durable: boolean;
  /** The read side can be opened by another thread or process on its own (false: it lives in the writer thread). */
  sharedReads: boolean;
}

export interface WriteStore {
  readonly backend: StoreBackend;
  readonly traits: BackendTraits;
  /**
   * The store's hash salt. A store without one yet takes `preferred` (or a
   * random one); one with another salt than `preferred` throws.
   */
  salt(preferred?: bigint): Promise<bigint>;
  load(state: WriterState): Promise<void>;
  loader(): SketchLoader | undefined;
  /**
   * Applies one ChangeSet atomically; resolves to the rows written. On failure
   * nothing of it is applied, so the writer can try the same ChangeSet again.
   */
  commit(changes: ChangeSet): Promise<number>;
  /** A value of the store's `meta` table (schema facts, salt, imported dump ids), or undefined. */
  meta(key: string): Promise<string | undefined>;
  /** True when `err` (from commit) means the store is unreachable for now: the writer retries; otherwise the error is fatal. */
  unavailable(err: unknown): boolean;
  /** Cheap housekeeping after a commit and every second. */
  maintain(): Promise<Maintained>;
  /**
   * Drops history buckets older than `now` minus the retention, whole buckets,
   * oldest first, for at most `budgetMs`; resolves to the rows dropped. Totals stay.
   */
  retain(now: number, retention: Retention, budgetMs: number): Promise<number>;
  /** The same for the series estimates over time (src/store/series-estimates.ts), under the same cutoffs. */
  retainEstimates(now: number, retention: Retention, budgetMs: number): Promise<number>;
  /** From now on, each commit remembers the absolute values of the minute and hour buckets it touched (the ClickHouse mirror's input). */
  trackHistoryTotals(): void;
  /** Those buckets since the last call. */
  takeHistoryTotals(): MirrorRow[];
  /** A page of history buckets of one level with bucket >= from, in primary-key order, after `after` (the mirror's resync). */
  historyPage(level: 'minute' | 'hour', from: number, limit: number, after?: MirrorRow): Promise<MirrorRow[]>;
  /** Folds everything into its final place (shutdown, drain). */
  checkpoint(): Promise<void>;
  size(): StoreSize;
  /** Rows dropped to stay within a bound (memory store), since start. */
  evictions(): number;
  /** The read side of this very store, for backends without sharedReads (served to the reader over a port). */
  localReader(): ReadStore | undefined;
  close(): Promise<void>;
}

/** Every question the API asks. Counts are exact integers; lists are sorted and paged as the query says. */
export interface StoreQueries {
  services(q: ServiceQuery): Promise<ListResult<ServiceItem>>;
  serviceTotals(service: string): Promise<ServiceTotals>;
  metrics(q: MetricQuery): Promise<ListResult<MetricItem>>;
  /** A metric's label keys, highest cardinality first, then by key. */
  metricLabels(service: string, metric: string): Promise<LabelItem[]>;
  spans(q: SpanQuery): Promise<ListResult<SpanItem>>;
  logs(q: LogQuery): Promise<ListResult<LogItem>>;
  /** The severities of one service's logs (or every service's), each once, in code-point order, without their key lists. */
  severities(service: string | undefined): Promise<SeverityItem[]>;
  templates(q: TemplateQuery): Promise<ListResult<TemplateItem>>;
  keys(q: KeyQuery): Promise<ListResult<KeyItem>>;
  /** The rises and falls of /changes for one kind (see ChangeLists). */
  historyChanges(q: ChangesQuery): Promise<ChangeLists>;
  /** Non-empty buckets of q.step ms in [q.from, q.to), oldest first. */
  series(q: SeriesQuery): Promise<SeriesPoint[]>;
  /** The service.version values a service sent, oldest first. */
  versions(service: string): Promise<VersionItem[]>;
  /** A metric's (or one label key's) estimates per step in [q.from, q.to), and the last one before. */
  seriesEstimates(q: SeriesEstimateQuery): Promise<SeriesEstimateRaw>;
}

/** The names of the StoreQueries methods, for backends that forward questions (see remote.ts). */
export const QUERY_METHODS = [
  'services', 'serviceTotals', 'metrics', 'metricLabels', 'spans', 'logs', 'severities', 'templates', 'keys', 'historyChanges', 'series', 'versions', 'seriesEstimates',
] as const satisfies ReadonlyArray<keyof StoreQueries>;

export interface ReadStore {
  readonly backend: StoreBackend;
  /** Every row with its sketch, and the salt, from one snapshot: what `keytally export` writes. */
  dumpSource(): DumpSource;
  /** Runs `fn` against one consistent view: a list's total and items, an overview's parts, come from one snapshot. */
  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T>;
  /** Resolves when the store answers (for /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when a read side cannot answer yet (the writer has not created the schema): the API answers 503. */
export class StoreNotReady extends Error {
  override name = 'StoreNotReady';
}

/** The write side of the configured store. Migrates the schema first. */
export async function openWriteStore(config: Config): Promise<WriteStore> {
  switch (config.store) {
    case 'sqlite': {
      const { openSqliteWriteStore } = await import('./sqlite/write.js');
      return openSqliteWriteStore(config);
    }
    case 'memory': {
      const { MemoryStore } = await import('./memory/store.js');
      return new MemoryStore({ maxBytes: config.memoryStoreMb * 1024 * 1024 });
    }
    case 'postgres': {
      const { openPostgresWriteStore } = await import('./postgres/write.js');
      return openPostgresWriteStore(config);
    }
  }
}

/**
 * The read side of the configured store, for a thread or process other than
 * the writer. Backends without sharedReads have none: their reader is reached
 * through the writer (src/store/remote.ts).
 */
export async function openReadStore(config: Config): Promise<ReadStore> {
  switch (config.store) {
    case 'sqlite': {
      const { SqliteReadStore } = await import('./sqlite/read.js');
      return new SqliteReadStore(config.data, config);
    }
    case 'memory':
      throw new Error('the memory store has no read side of its own: it is read through the writer thread');
    case 'postgres': {
      const { PostgresReadStore } = await import('./postgres/read.js');
      return new PostgresReadStore(config.postgresUrl!);
    }
  }
}
