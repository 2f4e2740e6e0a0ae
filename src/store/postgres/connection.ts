/**
 * Connections to PostgreSQL: one `pg` Pool per role (the writer's, the
 * reader's), with the type parsers keytally needs and errors that name the
 * server.
 */
import pg from 'pg';

// int8 (COUNT, bigint columns) comes back as a string by default: every count of ours fits a double exactly.
pg.types.setTypeParser(20, (v) => Number(v));
// float8 (percentages): the server prints the shortest exact form, parseFloat reads the same double back.
pg.types.setTypeParser(701, (v) => Number.parseFloat(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max: number;
  /** application_name, so `pg_stat_activity` shows which keytally role holds a connection. */
  name: string;
  /** Server settings for every connection of the pool (libpq's `options`, e.g. `-c jit=off`): no extra round trip. */
  options?: string;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const ignore = () => undefined;

/**
 * A client for one unit of work. pg-pool listens for errors only on idle
 * clients; a connection that dies while checked out emits 'error' on the
 * client itself, which would take the thread down: the query in flight fails
 * anyway, and that failure is what the caller handles.
 */
export async function checkout(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  client.on('error', ignore);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.off('error', ignore);
    release(err);
  };
  return client;
}

export function openPool(url: string, opts: PoolOptions): Pool {
  const pool = new pg.Pool({ connectionString: url, max: opts.max, application_name: opts.name, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000,
    ...(opts.options !== undefined ? { options: opts.options } : {}) });
  // An idle client that loses its server emits 'error' on the pool; without a listener it would take the thread down.
  pool.on('error', () => undefined);
  return pool;
}

/** SQLSTATE classes and codes after which the same transaction can simply be tried again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  if (code === '40001' || code === '40P01') return true; // serialization failure, deadlock
  return isConnectionError(err);
}

/** The server is gone or not reachable: reconnect and try again (the store is unavailable meanwhile). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  if (code.startsWith('08')) return true; // connection exception
  if (code === '57P01' || code === '57P02' || code === '57P03') return true; // admin shutdown, crash shutdown, cannot connect now
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code)) return true;
  const m = e?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(m);
}

/** Connects once, or throws an error that names the server and the reason (start-up: a bad URL must stop keytally). */
export async function checkReachable(pool: Pool, url: string): Promise<void> {
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message || (err as { code?: string }).code}`);
  }
}
