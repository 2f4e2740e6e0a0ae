/**
 * The keytally command: serve | mine | report | migrate.
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
  migrate   bring a data directory's schema up to date (keytally migrate --help)

  keytally COMMAND --help   the options of a command
  keytally --version        the version

serve options (keytally serve --help for all; each also KEYTALLY_<NAME> in the environment, or in a JSON --config file):
  --otlp-http HOST:PORT   OTLP/HTTP receiver (default 127.0.0.1:4318)
  --otlp-grpc HOST:PORT   OTLP/gRPC receiver (default 127.0.0.1:4317; off to disable)
  --api HOST:PORT         API, /metrics, /health, /ready (default 127.0.0.1:8090)
  --data DIR              data directory (default ./keytally-data)
  --store sqlite|memory   where to keep the data (default sqlite; or USE_DB=...)
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/serve-usage.js')).serveUsage());
        const { serve } = await import('./server/serve.js');
        const config = loadConfig(flagsOf(rest));
        await checkStorePaths(config);
        return await serve(config);
      }
      case 'migrate': {
        if (wantsHelp(rest)) return printUsage((await import('./cli/serve-usage.js')).migrateUsage());
        const { migrateStore } = await import('./store/migrate-schema.js');
        const config = loadConfig(flagsOf(rest));
        await checkStorePaths(config);
        let applied: string[];
        try {
          ({ applied } = await migrateStore(config));
        } catch (err) {
          // Read-only, locked, corrupt: name the store rather than print SQLite's stack.
          if (!/^SQLITE_/.test(String((err as { code?: string }).code))) throw err;
          throw new PathError(config.data, `--data ${config.data}: ${(err as Error).message}`);
        }
        process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
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
    if (err instanceof ListenError) {
      process.stderr.write(`keytally: ${err.message}\n`);
      return LISTEN_EXIT_CODE;
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
