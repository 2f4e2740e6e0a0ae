/**
 * PostgreSQL for tests, through scripts/postgres.sh: a cluster in a temporary
 * directory on a free loopback port. One cluster serves the whole run (see
 * test/global-postgres.ts); each test file takes a database of its own in it
 * (freshDatabase), and a test that must stop the server starts its own.
 * A cluster that cannot start throws: the tests fail loudly, never skip.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';
import { ROOT } from './server.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts', 'postgres.sh');

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export interface Cluster {
  url: string;
  dir: string;
  port: number;
  /** Stops the server (the data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it if running and removes its directory. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-pg-'));
  const port = await freePort();
  let url: string;
  try {
    url = (await run(SCRIPT, ['start', dir, String(port)], { timeout: 600_000 })).stdout.trim();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start (scripts/postgres.sh start): ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
  let running = true;
  const pgctl = async (args: string[]) => {
    const cmd = ['/usr/lib/postgresql/15/bin/pg_ctl', '-D', join(dir, 'data'), '-w', '-t', '60', ...args];
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', ...cmd]);
    else await run(cmd[0]!, cmd.slice(1));
  };
  return {
    url,
    dir,
    port,
    async stop() {
      if (!running) return;
      await run(SCRIPT, ['stop', dir]);
      running = false;
    },
    async restart() {
      await pgctl(['-l', join(dir, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`, 'start']);
      running = true;
    },
    async destroy() {
      await this.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** A new, empty database in the run's cluster; returns its URL. */
export async function freshDatabase(prefix = 'kt'): Promise<string> {
  const admin = inject('postgresUrl');
  if (!admin) throw new Error('no PostgreSQL for this run: test/global-postgres.ts did not provide one');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase();
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs one query on `url` and closes the connection. */
export async function sql<T = Record<string, any>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}
