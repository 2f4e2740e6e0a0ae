/**
 * Starts the real keytally (compiled, as a user runs it) as a child process on
 * free ports and a temporary data directory, and waits for its "listening"
 * line rather than sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'keytally.js');

export interface Keytally {
  proc: ChildProcess;
  dataDir: string;
  otlpPort: number;
  /** The OTLP/gRPC port (0 when started with --otlp-grpc off). */
  grpcPort: number;
  apiPort: number;
  otlpUrl: string;
  apiUrl: string;
  stdout: () => string;
  stderr: () => string;
  /** GET an API path, parsed JSON. */
  get(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Removes the data directory (after stop). */
  cleanup(): void;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Stops every sidecar this test process started and has not seen exit (see test/setup.ts). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = once(p, 'exit');
      p.kill('SIGKILL');
      await exited;
    }),
  );
  running.clear();
}

export function tempDir(prefix = 'keytally-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A data directory whose install salt is fixed in advance. Tests that compare
 * estimates use it so that they are deterministic: with a random salt, which
 * values collide in a sketch (and so the exact error) changes every run.
 */
export async function dataDirWithSalt(salt: bigint): Promise<string> {
  const dir = tempDir();
  const file = join(dir, 'keytally.db');
  await migrateSqlite(file);
  const db = new Database(file);
  db.prepare(`INSERT INTO meta (key, value) VALUES ('hash_salt', ?)`).run(salt.toString());
  db.close();
  return dir;
}

export async function startKeytally(opts: { args?: string[]; dataDir?: string; env?: Record<string, string> } = {}): Promise<Keytally> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = [BIN, 'serve', '--data', dataDir, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'warn', ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ports = await new Promise<{ otlp: number; api: number; grpc: number }>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /keytally listening otlp=(\d+) api=(\d+) grpc=(\d+|off)/.exec(out);
      if (m) resolve({ otlp: Number(m[1]), api: Number(m[2]), grpc: m[3] === 'off' ? 0 : Number(m[3]) });
    });
    proc.once('exit', (code) => reject(new Error(`keytally exited with ${code} before listening:\n${err}`)));
  });
  let exitCode: Promise<number | null> | undefined;
  const exited = once(proc, 'exit').then(([code]) => {
    running.delete(proc);
    return code as number | null;
  });
  const k: Keytally = {
    proc,
    dataDir,
    otlpPort: ports.otlp,
    grpcPort: ports.grpc,
    apiPort: ports.api,
    otlpUrl: `http://127.0.0.1:${ports.otlp}`,
    apiUrl: `http://127.0.0.1:${ports.api}`,
    stdout: () => out,
    stderr: () => err,
    async get(path, init) {
      const r = await fetch(`http://127.0.0.1:${ports.api}${path}`, init);
      const text = await r.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (e.g. /metrics)
      }
      return { status: r.status, body };
    },
    stop(signal = 'SIGTERM') {
      exitCode ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        return exited;
      })();
      return exitCode;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return k;
}

/** POST a raw OTLP body. */
export async function post(
  k: Keytally,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = { 'content-type': 'application/x-protobuf' },
): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const r = await fetch(`${k.otlpUrl}${path}`, { method: 'POST', body, headers });
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()), headers: r.headers };
}

/** Polls an API path until `ok` says yes (the writer commits asynchronously in accepted mode). Bounded. */
export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await fn();
  }
  return last;
}
