/**
 * A real ClickHouse server for the mirror tests, started by
 * scripts/clickhouse.sh (installed from Debian when missing) on free loopback
 * ports in a temporary directory. Fails loudly when it cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server.js';

export interface ClickHouse {
  url: string;
  dir: string;
  /** Runs a query over HTTP; the text of the answer. */
  query(sql: string): Promise<string>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same directory and ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

export async function startClickHouse(): Promise<ClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-clickhouse-'));
  const http = await freePort();
  const tcp = await freePort();
  const url = `http://127.0.0.1:${http}`;
  let proc: ChildProcess | undefined;
  let err = '';

  const launch = async () => {
    err = '';
    const p = spawn('sh', [join(ROOT, 'scripts', 'clickhouse.sh'), 'start', dir, String(http), String(tcp)], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout!.on('data', () => undefined);
    let exited: number | null | undefined;
    p.once('exit', (code) => (exited = code));
    // Installing from apt can take minutes on a fresh machine; a started server answers /ping in seconds.
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`clickhouse.sh exited with ${exited} before the server answered:\n${err}`);
      try {
        const r = await fetch(`${url}/ping`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`ClickHouse did not answer on ${url} in time:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url,
    dir,
    async query(sql) {
      const r = await fetch(`${url}/?query=${encodeURIComponent(sql)}`);
      const text = await r.text();
      if (!r.ok) throw new Error(`ClickHouse: ${text}`);
      return text;
    },
    kill,
    restart: launch,
    async stop() {
      const p = proc;
      if (p && p.exitCode === null && p.signalCode === null) {
        const exited = once(p, 'exit');
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
