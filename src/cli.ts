/**
 * The keytally command: serve | mine | report | migrate | export | import | backup.
 */
import { parseArgs } from 'node:util';
import { ConfigError, FLAG_NAMES, loadConfig, type Config } from './config.js';
import { LISTEN_EXIT_CODE, ListenError } from './server/listen.js';
import { PATH_EXIT_CODE, PathError } from './util/paths.js';
import { packageVersion } from './util/version.js';

const USAGE = `usage: keytally <command> [options]

commands:
  serve     run the sidecar (OTLP/HTTP and OTLP/gRPC in, API, /metrics)
  mine      mine log templates from a file of lines (keytally mine --help)
  report    print the top keys, metrics and templates of a store; CI gate (keytally report --help)
  migrate   bring a store's schema up to date (keytally migrate --help); with --from URL --to URL, copy a whole store into another
  export    write a gzip'd dump of a store (--out FILE)
  import    merge a dump FILE into a store
  backup    consistent copy of a live SQLite store into the file OUT

  keytally COMMAND --help   the options of a command
  keytally --version        the version

serve options (keytally serve --help for all; each also KEYTALLY_<NAME> in the environment, or in a JSON --config file):
  --otlp-http HOST:PORT   OTLP/HTTP receiver (default 127.0.0.1:4318)
  --otlp-grpc HOST:PORT   OTLP/gRPC receiver (default 127.0.0.1:4317; off to disable)
  --api HOST:PORT         API, /metrics, /health, /ready (default 127.0.0.1:8090)
  --data DIR              data directory (default ./keytally-data)
  --store sqlite|memory|postgres   where to keep the data (default sqlite; or USE_DB=...)
  --postgres-url URL      postgres://user@host:port/db of the PostgreSQL store
  --memory-store-mb N     bound of the memory store (default 256)
  --workers N             ingest worker threads (default: CPU count)
  --flush-ms MS           worker flush interval (default 200)
  --ack accepted|durable  when to answer OTLP requests (default accepted)
  --auth-token TOKEN      bearer token required on ingest and API
  --max-body-bytes N      request body limit (default 16 MiB)
  --max-decompressed-bytes N   decompressed body limit (default 64 MiB)
  --precision P           HyperLogLog precision (default 14)
  --log-level LEVEL       fatal|error|warn|info|debug|trace|silent
  (see README.md for every setting)
`;

function printUsage(text: string): number {
  process.stdout.write(text);
  return 0;
}

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

/** `serve` on a SQLite store holds its lock until the process exits (a reference, so it lives as long). */
let servingLock: unknown;

/** The store's paths, checked before anything starts: a bad one is one line and exit 2 (PathError). */
async function checkStorePaths(config: Config): Promise<void> {
  if (config.store === 'sqlite') (await import('./store/sqlite/check.js')).checkSqlitePaths(config.data);
}

/** Parses `--name value` / `--name=value` pairs for the config loader. */
function flagsOf(args: string[]): Record<string, string> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const name of Object.values(FLAG_NAMES)) options[name] = { type: 'string' };
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string>;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/**
 * Takes a command's own `--name value` options and `positionals` positional
 * arguments out of `args`; the rest are store/serve flags for loadConfig.
 */
function splitArgs(args: string[], ownNames: string[], positionals: number): { own: Record<string, string>; positionals: string[]; store: string[] } {
  const own: Record<string, string> = {};
  const pos: string[] = [];
  const store: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m && ownNames.includes(m[1]!)) {
      const v = m[2] ?? args[++i];
      if (v === undefined) throw new ConfigError(`--${m[1]} needs a value`);
      own[m[1]!] = v;
    } else if (m) {
      store.push(a);
      if (m[2] === undefined && i + 1 < args.length) store.push(args[++i]!);
    } else pos.push(a);
  }
  if (pos.length !== positionals) {
    throw new ConfigError(positionals === 0 ? `unexpected argument ${pos[0]}` : `expected ${positionals} file argument${positionals > 1 ? 's' : ''}, got ${pos.length}`);
  }
  return { own, positionals: pos, store };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/serve-usage.js')).serveUsage());
        const { serve } = await import('./server/serve.js');
        const config = loadConfig(flagsOf(rest));
        await checkStorePaths(config);
        if (config.store === 'sqlite') servingLock = (await import('./store/sqlite/serving-lock.js')).ServingLock.take(config.data);
        return await serve(config);
      }
      case 'migrate': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/serve-usage.js')).migrateUsage());
        const { own, store } = splitArgs(rest, ['from', 'to'], 0);
        if (own['from'] !== undefined || own['to'] !== undefined) {
          if (own['from'] === undefined || own['to'] === undefined) throw new ConfigError('migrate needs both --from URL and --to URL');
          const { migrateStores, storeFromUrl } = await import('./cli/dump.js');
          const base = loadConfig(flagsOf(store));
          const { rows } = await migrateStores(storeFromUrl(own['from'], base), storeFromUrl(own['to'], base));
          process.stdout.write(`copied ${rows} rows from ${own['from']} into ${own['to']}\n`);
          return 0;
        }
        const { migrateStore } = await import('./store/migrate-schema.js');
        const config = loadConfig(flagsOf(store));
        await checkStorePaths(config);
        let applied: string[];
        // Not under a running server: it would go on with statements prepared for the old schema.
        const lock = config.store === 'sqlite' ? (await import('./store/sqlite/serving-lock.js')).ServingLock.take(config.data) : undefined;
        try {
          ({ applied } = await migrateStore(config));
        } catch (err) {
          // Read-only, locked, corrupt: name the store rather than print SQLite's stack.
          if (!/^SQLITE_/.test(String((err as { code?: string }).code))) throw err;
          throw new PathError(config.data, `--data ${config.data}: ${(err as Error).message}`);
        } finally {
          lock?.release();
        }
        process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
        return 0;
      }
      case 'export': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/dump.js')).DUMP_USAGE);
        const { own, store } = splitArgs(rest, ['out'], 0);
        const { exportStore } = await import('./cli/dump.js');
        const out = own['out'] ?? 'keytally-dump.jsonl.gz';
        const { rows, dumpId } = await exportStore(loadConfig(flagsOf(store)), out);
        process.stdout.write(`wrote ${rows} rows to ${out} (dump ${dumpId})\n`);
        return 0;
      }
      case 'import': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/dump.js')).DUMP_USAGE);
        const { positionals, store } = splitArgs(rest, [], 1);
        const { importFile } = await import('./cli/dump.js');
        const { rows } = await importFile(loadConfig(flagsOf(store)), positionals[0]!);
        process.stdout.write(`imported ${rows} rows from ${positionals[0]}\n`);
        return 0;
      }
      case 'backup': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/dump.js')).DUMP_USAGE);
        const { positionals, store } = splitArgs(rest, [], 1);
        const { backupSqlite } = await import('./cli/dump.js');
        await backupSqlite(loadConfig(flagsOf(store)), positionals[0]!);
        process.stdout.write(`backed up to ${positionals[0]}\n`);
        return 0;
      }
      case 'mine': {
        const { runMine } = await import('./cli/mine.js');
        return await runMine(rest);
      }
      case 'report': {
        const { runReport } = await import('./cli/report.js');
        return await runReport(rest);
      }
      case '--version':
      case '-V':
      case 'version':
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`keytally: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if ((err as Error)?.name === 'StoreBusyError') {
      // Another server, or an import, is writing this SQLite store (src/store/sqlite/serving-lock.ts).
      process.stderr.write(`keytally ${command}: ${(err as Error).message}\n`);
      return command === 'serve' ? 2 : 1;
    }
    if (err instanceof ListenError) {
      process.stderr.write(`keytally: ${err.message}\n`);
      return LISTEN_EXIT_CODE;
    }
    if ((err as Error)?.name === 'DumpError') {
      process.stderr.write(`keytally ${command}: ${(err as Error).message}\n`);
      return 1;
    }
    if (err instanceof PathError) {
      process.stderr.write(`keytally: ${err.message}\n`);
      return PATH_EXIT_CODE;
    }
    if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`keytally: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
