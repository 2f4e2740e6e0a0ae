/**
 * PostgreSQL for the bench: a temporary cluster (scripts/postgres.sh) when no
 * --postgres-url is given, the committed counts read back with SQL, and the
 * CPU the server's processes used (the postmaster and its backends).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readProc } from './monitor.js';
import type { SignalCounts } from './protocol.js';
import { ROOT } from './server.js';

export interface BenchPostgres {
  url: string;
  /** CPU seconds of the cluster's processes so far (the bench's own cluster only; 0 otherwise). */
  cpuSeconds(): number;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<BenchPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-bench-pg-'));
  const port = await freePort();
  const script = join(ROOT, 'scripts', 'postgres.sh');
  const admin = execFileSync(script, ['start', dir, String(port)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query('CREATE DATABASE bench');
  await c.end();
  const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  return {
    url: admin.replace(/\/postgres$/, '/bench'),
    cpuSeconds: () => {
      let s = readProc(postmaster)?.cpuSeconds ?? 0;
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
          const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
          if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) s += readProc(Number(name))?.cpuSeconds ?? 0;
        } catch {
          // gone meanwhile
        }
      }
      return s;
    },
    stop: () => {
      try {
        execFileSync(script, ['stop', dir], { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function committedInPostgres(url: string): Promise<SignalCounts> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('SELECT COALESCE(SUM(log_records), 0)::bigint AS logs, COALESCE(SUM(metric_points), 0)::bigint AS metrics, COALESCE(SUM(spans), 0)::bigint AS traces FROM services');
    const row = r.rows[0] as Record<string, string>;
    return { logs: Number(row['logs']), metrics: Number(row['metrics']), traces: Number(row['traces']) };
  } finally {
    await c.end();
  }
}

/** The memory store keeps nothing after the process: its counts are read from the API once everything accepted is committed. */
export async function committedViaApi(apiPort: number): Promise<SignalCounts> {
  const metrics = async () => {
    const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    return { accepted: sum('keytally_records_total'), committed: sum('keytally_committed_records_total') };
  };
  const deadline = Date.now() + 60_000;
  for (let m = await metrics(); m.committed < m.accepted && Date.now() < deadline; m = await metrics()) await new Promise((r) => setTimeout(r, 200));
  const body = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/services?limit=10000`)).json()) as { items: Array<{ log_records: number; metric_points: number; spans: number }> };
  const out = { logs: 0, metrics: 0, traces: 0 };
  for (const s of body.items) {
    out.logs += s.log_records;
    out.metrics += s.metric_points;
    out.traces += s.spans;
  }
  return out;
}
