/**
 * Command-line options of `npm run bench` (bench/load.ts), parsed and checked
 * once. Knobs are in the units a user thinks in: records per second, records
 * per request, seconds.
 */
import type { Signal } from '../../src/model/otlp.js';

export type Format = 'protobuf' | 'json';
export type Protocol = 'http' | 'grpc';
export type Client = 'lean' | 'autocannon';
export type Mix = Record<Signal, number>;

export interface LoadOptions {
  /** Server knobs, passed through to `keytally serve`. */
  workers: number | undefined;
  flushMs: number | undefined;
  ack: 'accepted' | 'durable' | undefined;
  store: string | undefined;
  /** PostgreSQL store: its URL; unset, the bench starts a temporary cluster (scripts/postgres.sh). */
  postgresUrl: string | undefined;
  /** Sidecars sharing one PostgreSQL database, each driven with --connections / N (a fleet). */
  instances: number;
  /** Load shape. */
  protocol: Protocol;
  client: Client;
  batch: number;
  format: Format;
  gzip: boolean;
  mix: Mix;
  duration: number;
  warmup: number;
  connections: number;
  /** Open loop: records/s offered; 0 = closed loop. */
  rate: number;
  /** Distinct request bodies generated before the run. */
  pool: number;
  seed: number;
  /** API queries during the load (the reader loop); off with --no-reader. */
  reader: boolean;
  readerPauseMs: number;
  out: string | undefined;
  keep: boolean;
  /** Directory for `node --cpu-prof` profiles of the server (all its threads). */
  cpuProf: string | undefined;
  /** Pass/fail floor in committed records/s. */
  floor: number;
}

export const USAGE = `usage: npm run bench -- [options]

load (driven from a child process):
  --duration S         seconds of measured load (default 15)
  --warmup S           seconds of the same load before it, not measured (default 3; 0 = none)
  --connections N      concurrent connections, closed loop (default 16)
  --rate R             open loop at R records/s instead (requests/s = R / batch)
  --batch N            records per request (default 512, the SDK batch size)
  --protocol P         http (default: OTLP/HTTP) | grpc (OTLP/gRPC unary Export calls, one
                       HTTP/2 connection per --connections; protobuf only)
  --client C           OTLP/HTTP client: lean (default: keytally's own, requests built once, about
                       half of autocannon's CPU per request) | autocannon
  --format F           protobuf (default) | json
  --gzip               gzip the bodies (Content-Encoding: gzip)
  --mix SPEC           share of records per signal, e.g. logs=1,metrics=0,traces=0 (default)
                       or logs=0.6,metrics=0.3,traces=0.1
  --pool N             distinct request bodies generated before the run (default 128)
  --seed N             generator seed (default 1)
  --no-reader          do not query the API during the load
  --reader-pause MS    pause between API queries (default 50; 0 = tight loop)

server (passed to keytally serve; unset = keytally's default):
  --workers N  --flush-ms MS  --ack accepted|durable  --store sqlite|memory|postgres
  --postgres-url URL   the PostgreSQL store (default: a temporary cluster started by scripts/postgres.sh)
  --instances N        N sidecars on one PostgreSQL database, the load split between them (default 1)

output:
  --out FILE.json      write the results as JSON
  --keep               keep the data directory
  --cpu-prof DIR       run the server under node --cpu-prof, profiles in DIR, and print its CPU per record by
                       stage and thread (receive, admission, dispatch, decompress, decode+fold, mine, hash,
                       flush, merge, commit, ...)
  --floor EPS          fail below this many committed records/s (default 30000)

Exits 1 when committed records/s is under the floor (open loop: when it falls behind the offered
rate by more than 2 %) or when any accepted record was not committed.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function positiveInt(name: string, v: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${v}"`);
  return n;
}

function positiveNumber(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}: expected a positive number, got "${v}"`);
  return n;
}

/** "logs=1,metrics=0.5" → normalised shares (signals not named get 0). */
export function parseMix(spec: string): Mix {
  const mix: Mix = { logs: 0, metrics: 0, traces: 0 };
  for (const part of spec.split(',')) {
    const [rawName, rawValue] = part.split('=');
    const name = (rawName ?? '').trim() === 'spans' ? 'traces' : (rawName ?? '').trim();
    if (!(name in mix)) throw new UsageError(`--mix: unknown signal "${rawName}" (logs, metrics, traces)`);
    const v = rawValue === undefined ? 1 : Number(rawValue);
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--mix: bad share "${part}"`);
    mix[name as Signal] = v;
  }
  const total = mix.logs + mix.metrics + mix.traces;
  if (total <= 0) throw new UsageError('--mix: at least one signal needs a share above 0');
  return { logs: mix.logs / total, metrics: mix.metrics / total, traces: mix.traces / total };
}

export function parseOptions(argv: string[]): LoadOptions {
  const o: LoadOptions = {
    workers: undefined,
    flushMs: undefined,
    ack: undefined,
    store: undefined,
    postgresUrl: undefined,
    instances: 1,
    protocol: 'http',
    client: 'lean',
    batch: 512,
    format: 'protobuf',
    gzip: false,
    mix: { logs: 1, metrics: 0, traces: 0 },
    duration: 15,
    warmup: 3,
    connections: 16,
    rate: 0,
    pool: 128,
    seed: 1,
    reader: true,
    readerPauseMs: 50,
    out: undefined,
    keep: false,
    cpuProf: undefined,
    floor: 30_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    // Flags without a value.
    if (name === 'gzip' || name === 'keep' || name === 'no-reader') {
      if (name === 'gzip') o.gzip = true;
      else if (name === 'keep') o.keep = true;
      else o.reader = false;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    switch (name) {
      case 'workers':
        o.workers = positiveInt(name, value);
        break;
      case 'flush-ms':
        o.flushMs = positiveInt(name, value);
        break;
      case 'ack':
        if (value !== 'accepted' && value !== 'durable') throw new UsageError(`--ack: accepted or durable, got "${value}"`);
        o.ack = value;
        break;
      case 'store':
        if (!['sqlite', 'memory', 'postgres'].includes(value)) throw new UsageError(`--store: sqlite, memory or postgres, got "${value}"`);
        o.store = value;
        break;
      case 'postgres-url':
        o.postgresUrl = value;
        break;
      case 'instances':
        o.instances = positiveInt(name, value);
        break;
      case 'batch':
        o.batch = positiveInt(name, value);
        break;
      case 'protocol':
        if (value !== 'http' && value !== 'grpc') throw new UsageError(`--protocol: http or grpc, got "${value}"`);
        o.protocol = value;
        break;
      case 'client':
        if (value !== 'lean' && value !== 'autocannon') throw new UsageError(`--client: lean or autocannon, got "${value}"`);
        o.client = value;
        break;
      case 'format':
        if (value !== 'protobuf' && value !== 'json') throw new UsageError(`--format: protobuf or json, got "${value}"`);
        o.format = value;
        break;
      case 'mix':
        o.mix = parseMix(value);
        break;
      case 'duration':
        o.duration = positiveNumber(name, value);
        break;
      case 'warmup':
        o.warmup = Number(value);
        if (!Number.isFinite(o.warmup) || o.warmup < 0) throw new UsageError(`--warmup: expected seconds >= 0, got "${value}"`);
        break;
      case 'connections':
        o.connections = positiveInt(name, value);
        break;
      case 'rate':
        o.rate = positiveNumber(name, value);
        break;
      case 'pool':
        o.pool = positiveInt(name, value);
        break;
      case 'seed':
        o.seed = positiveInt(name, value, 0);
        break;
      case 'reader-pause':
        o.readerPauseMs = positiveInt(name, value, 0);
        break;
      case 'out':
        o.out = value;
        break;
      case 'cpu-prof':
        o.cpuProf = value;
        break;
      case 'floor':
        o.floor = positiveNumber(name, value);
        break;
      default:
        throw new UsageError(`unknown option --${name}`);
    }
  }
  if (o.protocol === 'grpc' && o.format === 'json') throw new UsageError('--protocol grpc sends protobuf only (OTLP/gRPC has no JSON)');
  if (o.instances > 1 && o.store !== 'postgres') throw new UsageError('--instances > 1 needs --store postgres (instances share one database)');
  return o;
}
