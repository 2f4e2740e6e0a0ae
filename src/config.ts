/**
 * Configuration: one validated object, resolved once at start-up.
 *
 * Precedence: command-line flags, then KEYTALLY_* environment variables, then
 * a JSON config file (--config or KEYTALLY_CONFIG), then defaults. Every
 * setting is checked here and a bad one is named in the error, so the rest of
 * the code never re-validates.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):\d{1,5}$/, 'expected HOST:PORT')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 0 && port <= 65535;
  }, 'port out of range');

export const configSchema = z
  .object({
    otlpHttp: hostPort.default('127.0.0.1:4318'),
    /** OTLP/gRPC receiver, or `off`. Loopback by default, like every listener: all interfaces is an explicit choice. */
    otlpGrpc: z.union([z.literal('off'), hostPort]).default('127.0.0.1:4317'),
    api: hostPort.default('127.0.0.1:8090'),
    data: z.string().min(1).default('./keytally-data'),
    store: z.enum(['sqlite', 'memory', 'postgres']).default('sqlite'),
    /** postgres://user:password@host:port/database of the PostgreSQL store (--store postgres). */
    postgresUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
      .optional(),
    /** The memory store's bound: past it, the least recently updated rows are evicted (counted in /metrics). */
    memoryStoreMb: z.coerce.number().int().min(1).max(1_048_576).default(256),
    workers: z.coerce.number().int().min(1).max(64).default(Math.max(1, availableParallelism())),
    flushMs: z.coerce.number().int().min(5).max(60_000).default(200),
    /** Entities in a worker's delta map before it flushes early. */
    maxDeltaEntries: z.coerce.number().int().min(16).max(10_000_000).default(20_000),
    /** How often the writer commits what arrived. */
    commitMs: z.coerce.number().int().min(1).max(60_000).default(100),
    ack: z.enum(['accepted', 'durable']).default('accepted'),
    maxBodyBytes: z.coerce.number().int().min(1024).default(16 * 1024 * 1024),
    maxDecompressedBytes: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
    /** Bytes of request bodies received but not yet folded by a worker. */
    maxInflightBytes: z.coerce.number().int().min(1024).default(256 * 1024 * 1024),
    /** Tasks waiting for a worker (piscina maxQueue). */
    maxQueue: z.coerce.number().int().min(1).default(512),
    /** How long a request waits, in arrival order, for room in a full worker queue before its 429 (0: refuse at once). */
    queueWaitMs: z.coerce.number().int().min(0).max(60_000).default(1000),
    /** Delta batches waiting in the writer before ingest answers 503. */
    maxWriterBacklog: z.coerce.number().int().min(1).default(256),
    maxAttributes: z.coerce.number().int().min(1).max(100_000).default(256),
    /**
     * The whole process's RSS (every thread) that ingest keeps under (memory limiter): past
     * memorySoftPercent of it new requests get 429, at it 503 until RSS is back under the soft limit.
     * 0 turns the limiter off. It must leave room over the idle RSS (about 140 MB) for requests in
     * flight: a limit under it refuses everything (start-up warns).
     */
    memoryLimitMb: z.coerce
      .number()
      .int()
      .min(0)
      .default(512)
      .refine((v) => v === 0 || v >= 64, 'at least 64, or 0 for no limit'),
    memorySoftPercent: z.coerce.number().int().min(10).max(100).default(80),
    authToken: z.string().min(1).optional(),
    /**
     * The hash salt a new store is created with (decimal, 64-bit). Unset: a random one. Sketches compare only
     * under one salt, so runs whose estimates must match to the digit (tests, a fleet seeded by hand) set it.
     */
    hashSalt: z
      .string()
      .regex(/^\d{1,20}$/, 'expected a decimal 64-bit integer')
      .refine((s) => BigInt(s) < 2n ** 64n, 'must be below 2^64')
      .optional(),
    precision: z.coerce.number().int().min(4).max(18).default(14),
    minerMaxClusters: z.coerce.number().int().min(1).default(1000),
    minerMaxLineLength: z.coerce.number().int().min(16).default(4096),
    /** Key and label rows (each with its sketch) the writer keeps in memory; the rest are read back from the store when touched. */
    sketchCacheRows: z.coerce.number().int().min(100).default(20_000),
    /**
     * Page cache of each SQLite connection (the writer's and the reader's). An API page of 10,000 keys filled
     * the reader's: 8 MB kept the memory bench's peak 20 MB lower than 16 did, at the same ingest time.
     */
    sqliteCacheMb: z.coerce.number().int().min(1).default(8),
    /**
     * Page cache of the reader's (API) connection. SQLite empties a WAL reader's cache whenever the writer has
     * committed since its last query, so under ingest the cache only serves the query in progress. Replaying
     * the memory bench's API phase (all 101,120 keys in pages of 10,000) on its store, 3 alternating runs:
     * peak RSS over idle 33.1 / 33.2 / 37.3 MB at 2 against 39.4 / 39.6 / 39.5 MB at 8, the pages in the same time
     * (2.3-3.3 s against 3.0-3.6 s).
     */
    sqliteReaderCacheMb: z.coerce.number().int().min(1).default(2),
    /**
     * V8 young generation per worker thread. V8's default (up to 3 x 16 MB semi-spaces per isolate) times
     * five isolates was most of the sidecar's RSS under load; short-lived garbage is scavenged sooner instead.
     */
    youngGenerationMb: z.coerce.number().int().min(1).max(256).default(12),
    /**
     * V8 heap growing factor, as 1 + this / 100, for every thread (0: V8's own, which lets an old generation
     * grow 1.1-4x past its live size before it collects). Workers promote each large request's decoded
     * objects, so their old generation is mostly garbage; a low factor collects it sooner (memory bench:
     * about -35 MB peak RSS at 10).
     */
    heapGrowthPercent: z.coerce.number().int().min(0).max(300).default(10),
    /**
     * Memory-mapped reads of the database file. Off by default: mapped pages count in the process's RSS, so an
     * API query that scans the key table added the table's size to it (memory bench: +50 MB at 100,000 keys);
     * read through the page cache instead, the file's pages stay in the OS cache, outside the process.
     */
    sqliteMmapMb: z.coerce.number().int().min(0).default(0),
    sqliteBusyTimeoutMs: z.coerce.number().int().min(0).default(5000),
    /** WAL pages before a passive checkpoint; the WAL is truncated back to walLimitMb after. */
    walAutocheckpointPages: z.coerce.number().int().min(1).default(1000),
    walLimitMb: z.coerce.number().int().min(1).default(64),
    /**
     * `small` trades speed for memory: V8's optimize-for-size mode in every thread and the
     * SMALL_MEMORY defaults below (memory bench: peak RSS about -25 %, ingest rate about -45 %).
     */
    memory: z.enum(['default', 'small']).default('default'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Tests only: when on, an OTLP request's `x-keytally-received-at` header (unix ms) is its receive time,
     * and history's "now" is the latest such time, so a week of buckets can be replayed in seconds.
     */
    testClock: z.enum(['off', 'on']).default('off'),
    /**
     * How much history detail to keep, per level (DESIGN §9): minute detail for 6 hours, hour detail for 30 days,
     * day detail for 400 days. Older detail is thinned in the background (src/store/history.ts); totals stay.
     * (What a week costs on disk with these: README "Retention", measured by npm run bench:history.)
     */
    /** `off`: no time buckets are kept (totals only), for a same-session comparison of the cost of history. */
    history: z.enum(['on', 'off']).default('on'),
    retentionMinutes: z.coerce.number().int().min(1).max(525_600).default(360),
    retentionHours: z.coerce.number().int().min(1).max(87_600).default(720),
    retentionDays: z.coerce.number().int().min(1).max(36_500).default(400),
    /** Turns on the ClickHouse mirror of the history (src/mirror/clickhouse.ts), e.g. http://127.0.0.1:8123. */
    clickhouseUrl: z.string().url().optional(),
    clickhouseDatabase: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _').default('keytally'),
    /** Buckets waiting for ClickHouse (coalesced) before the buffer is dropped and re-read from the primary when it is back. */
    clickhouseBufferRows: z.coerce.number().int().min(10).max(10_000_000).default(100_000),
    clickhouseFlushMs: z.coerce.number().int().min(10).max(600_000).default(1000),
    /** Days of minute buckets and of hour buckets the mirror keeps (partitions dropped past them). */
    clickhouseMinuteDays: z.coerce.number().int().min(1).max(36_500).default(7),
    clickhouseHourDays: z.coerce.number().int().min(1).max(36_500).default(400),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** Flag name (kebab-case) for each setting. */
export const FLAG_NAMES: Record<keyof Config, string> = {
  otlpHttp: 'otlp-http',
  otlpGrpc: 'otlp-grpc',
  api: 'api',
  data: 'data',
  store: 'store',
  memoryStoreMb: 'memory-store-mb',
  postgresUrl: 'postgres-url',
  workers: 'workers',
  flushMs: 'flush-ms',
  maxDeltaEntries: 'max-delta-entries',
  commitMs: 'commit-ms',
  ack: 'ack',
  maxBodyBytes: 'max-body-bytes',
  maxDecompressedBytes: 'max-decompressed-bytes',
  maxInflightBytes: 'max-inflight-bytes',
  maxQueue: 'max-queue',
  queueWaitMs: 'queue-wait-ms',
  maxWriterBacklog: 'max-writer-backlog',
  maxAttributes: 'max-attributes',
  memoryLimitMb: 'memory-limit-mb',
  memorySoftPercent: 'memory-soft-percent',
  authToken: 'auth-token',
  hashSalt: 'hash-salt',
  precision: 'precision',
  minerMaxClusters: 'miner-max-clusters',
  minerMaxLineLength: 'miner-max-line-length',
  sketchCacheRows: 'sketch-cache-rows',
  sqliteCacheMb: 'sqlite-cache-mb',
  sqliteReaderCacheMb: 'sqlite-reader-cache-mb',
  youngGenerationMb: 'young-generation-mb',
  sqliteMmapMb: 'sqlite-mmap-mb',
  heapGrowthPercent: 'heap-growth-percent',
  sqliteBusyTimeoutMs: 'sqlite-busy-timeout-ms',
  walAutocheckpointPages: 'wal-autocheckpoint-pages',
  walLimitMb: 'wal-limit-mb',
  memory: 'memory',
  logLevel: 'log-level',
  testClock: 'test-clock',
  history: 'history',
  retentionMinutes: 'retention-minutes',
  retentionHours: 'retention-hours',
  retentionDays: 'retention-days',
  clickhouseUrl: 'clickhouse-url',
  clickhouseDatabase: 'clickhouse-database',
  clickhouseBufferRows: 'clickhouse-buffer-rows',
  clickhouseFlushMs: 'clickhouse-flush-ms',
  clickhouseMinuteDays: 'clickhouse-minute-days',
  clickhouseHourDays: 'clickhouse-hour-days',
};

/** Defaults that `--memory small` changes (an explicit setting still wins). */
export const SMALL_MEMORY: Partial<Record<keyof Config, number>> = {
  youngGenerationMb: 4,
  sqliteCacheMb: 4,
  sketchCacheRows: 5_000,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function envName(key: string): string {
  return 'KEYTALLY_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** Environment variables that set a setting under another name (the research note's USE_DB=sqlite|postgres|memory). */
export const ENV_ALIASES: Record<string, keyof Config> = { USE_DB: 'store' };

/**
 * KEYTALLY_* variables that are not settings but are read elsewhere (tests, benchmarks, tracing). Any other
 * KEYTALLY_* variable is a typo or a setting of another version: keytally warns about it by name.
 */
export const OTHER_ENV = new Set([
  'KEYTALLY_CONFIG',
  'KEYTALLY_TEST_CRASH_MARKER',
  'KEYTALLY_TEST_TASK_MS',
  'KEYTALLY_TRACE_HEAP',
  'KEYTALLY_BENCH_NODE_ARGS',
  'KEYTALLY_CHROMIUM',
  'KEYTALLY_UI_DOCS',
  'KEYTALLY_UI_SCREENSHOTS',
]);

/** Warnings about KEYTALLY_* variables that keytally does not read, each naming the variable. */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const settings = new Map((Object.keys(FLAG_NAMES) as Array<keyof Config>).map((k) => [envName(k), k]));
  const squash = (name: string) => name.replace(/_/g, '');
  const out: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('KEYTALLY_') || settings.has(name) || OTHER_ENV.has(name)) continue;
    const near = [...settings.keys()].find((known) => squash(known) === squash(name));
    out.push(`unknown environment variable ${name} is ignored${near ? ` (did you mean ${near}?)` : ''}`);
  }
  return out;
}

const defaultWarn = (message: string) => process.stderr.write(`keytally: warning: ${message}\n`);

/**
 * Resolves the configuration from flags (already parsed into kebab-case
 * names), the environment and an optional config file.
 */
export function loadConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = defaultWarn): Config {
  const known = new Set(Object.values(FLAG_NAMES));
  for (const f of Object.keys(flags)) {
    if (f !== 'config' && !known.has(f)) throw new ConfigError(`unknown option --${f}`);
  }
  let file: Record<string, unknown> = {};
  const filePath = flags['config'] ?? env['KEYTALLY_CONFIG'];
  if (filePath) {
    try {
      file = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${filePath}: ${(err as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError(`config file ${filePath}: expected a JSON object`);
    }
  }
  const merged: Record<string, unknown> = { ...file };
  // Where each value came from, to name it as the user wrote it when it is bad.
  const source = new Map<string, string>();
  for (const key of Object.keys(file)) if (key in FLAG_NAMES) source.set(key, `"${key}" in the config file ${filePath} (--${FLAG_NAMES[key as keyof Config]})`);
  for (const [alias, key] of Object.entries(ENV_ALIASES)) {
    const v = env[alias];
    if (v !== undefined && v !== '') {
      merged[key] = v;
      source.set(key, `${alias} (--${FLAG_NAMES[key]})`);
    }
  }
  for (const key of Object.keys(FLAG_NAMES) as Array<keyof Config>) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') {
      merged[key] = fromEnv;
      source.set(key, `${envName(key)} (--${FLAG_NAMES[key]})`);
    }
    const fromFlag = flags[FLAG_NAMES[key]];
    if (fromFlag !== undefined) {
      merged[key] = fromFlag;
      source.set(key, `--${FLAG_NAMES[key]} (${envName(key)})`);
    }
  }
  const nameOf = (key: string) => source.get(key) ?? (key in FLAG_NAMES ? `--${FLAG_NAMES[key as keyof Config]} (${envName(key)})` : key || 'config');
  for (const w of unknownEnvWarnings(env)) warn(w);
  if (merged['memory'] === 'small') {
    for (const [k, v] of Object.entries(SMALL_MEMORY)) if (merged[k] === undefined) merged[k] = v;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const flag = nameOf(key);
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(`unknown setting ${(issue as { keys?: string[] }).keys?.join(', ')} in the config file`);
    }
    throw new ConfigError(`invalid setting ${flag}: ${issue.message}`);
  }
  const cfg = parsed.data;
  if (cfg.store === 'postgres' && cfg.postgresUrl === undefined) {
    throw new ConfigError(`--store postgres needs --postgres-url (${envName('postgresUrl')}), e.g. postgres://user@127.0.0.1:5432/keytally`);
  }
  // Combinations no single setting's check sees.
  if (cfg.maxInflightBytes < cfg.maxBodyBytes) {
    throw new ConfigError(
      `invalid settings: ${nameOf('maxInflightBytes')} (${cfg.maxInflightBytes}) is below ${nameOf('maxBodyBytes')} (${cfg.maxBodyBytes}): ` +
        'a request near the body limit would get 429 forever, even on an idle server; raise the first or lower the second',
    );
  }
  cfg.data = resolve(cfg.data);
  return cfg;
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  let host = hp.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(hp.slice(i + 1)) };
}
