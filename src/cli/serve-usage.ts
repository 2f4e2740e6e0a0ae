/**
 * `keytally serve --help` and `keytally migrate --help`. The option list is built from FLAG_NAMES,
 * so every setting the config knows is listed, with its description here when it has one.
 */
import { FLAG_NAMES } from '../config.js';

const DESCRIPTIONS: Record<string, string> = {
  'otlp-grpc': 'HOST:PORT of the OTLP/gRPC receiver, or off (default 127.0.0.1:4317)',
  'otlp-http': 'HOST:PORT of the OTLP/HTTP receiver (default 127.0.0.1:4318)',
  api: 'HOST:PORT of the API, /metrics, /health, /ready (default 127.0.0.1:8090)',
  data: 'data directory (default ./keytally-data)',
  store: 'sqlite|memory: where the shape is kept (default sqlite; USE_DB too)',
  'memory-store-mb': 'bound of the memory store (default 256)',
  'hash-salt': 'hash salt of a new store, decimal 64-bit (default: random)',
  'test-clock': 'off|on: tests only, take receive times from a request header',
  workers: 'ingest worker threads (default: CPU count)',
  'flush-ms': 'worker flush interval in ms (default 200)',
  'max-delta-entries': 'entities in a worker delta before an early flush (default 20000)',
  'commit-ms': "writer's group-commit interval in ms (default 100)",
  ack: 'accepted|durable: when to answer OTLP requests (default accepted)',
  'auth-token': 'bearer token required on ingest and /api/*',
  'max-body-bytes': 'request body limit (default 16 MiB)',
  'max-decompressed-bytes': 'decompressed body limit (default 64 MiB)',
  'max-inflight-bytes': 'request bytes in workers before 429 (default 256 MiB; at least --max-body-bytes)',
  'max-queue': 'tasks waiting for a worker; past it a request waits --queue-wait-ms, then 429 (default 512)',
  'queue-wait-ms': 'wait for room in a full worker queue, in arrival order, before 429 (default 1000; 0 refuses at once)',
  'memory-limit-mb': 'RSS of the whole process kept under it: soft limit 429, hard 503 (default 512; 0 off)',
  'memory-soft-percent': 'soft memory limit in percent of --memory-limit-mb (default 80)',
  'max-writer-backlog': 'uncommitted delta batches before 503 (default 256)',
  'max-attributes': 'attributes kept per record (default 256)',
  precision: 'HyperLogLog precision 4-18 (default 14)',
  'miner-max-clusters': 'templates per (service, severity) (default 1000)',
  'miner-max-line-length': 'characters of a log body that are mined, 16 or more (default 4096)',
  'sketch-cache-rows': 'key and label rows the writer keeps in memory (default 20000)',
  'sqlite-cache-mb': "SQLite page cache of the writer's connection (default 8)",
  'sqlite-reader-cache-mb': "SQLite page cache of the API's connection (default 2)",
  'sqlite-mmap-mb': 'SQLite memory-mapped reads (default 0: off)',
  'sqlite-busy-timeout-ms': 'SQLite lock wait (default 5000)',
  'young-generation-mb': 'V8 young generation per worker (default 12)',
  'heap-growth-percent': 'V8 heap growth past live data (default 10)',
  'wal-autocheckpoint-pages': 'WAL pages before a checkpoint (default 1000)',
  'wal-limit-mb': 'WAL size the writer truncates back to (default 64)',
  memory: 'default|small: trade ingest speed for memory',
  'log-level': 'fatal|error|warn|info|debug|trace|silent (default info)',
};

function optionLines(): string {
  const flags = Object.values(FLAG_NAMES);
  const width = Math.max(...flags.map((f) => f.length)) + 2;
  return flags.map((f) => `  --${f.padEnd(width)}${DESCRIPTIONS[f] ?? '(see README.md)'}`).join('\n');
}

export function serveUsage(): string {
  return `usage: keytally serve [options]

Runs the sidecar: OTLP/gRPC and OTLP/HTTP in, the API and web UI, /metrics. SIGTERM or SIGINT drains, commits and exits 0.
Each option is also KEYTALLY_<NAME> in the environment (KEYTALLY_FLUSH_MS=100) or a camelCase key
of a JSON file given with --config FILE; flags win over the environment, which wins over the file.

  --config FILE               JSON settings file
${optionLines()}
`;
}

export function migrateUsage(): string {
  return `usage: keytally migrate [--data DIR] [--config FILE]

Creates or upgrades the schema of a data directory's store (default ./keytally-data), then exits.
Takes the serve settings (flags, KEYTALLY_* variables, --config), of which it uses the store's.
`;
}
