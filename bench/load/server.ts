/**
 * The sidecar under test: the real `keytally serve` (bin/keytally.js, the
 * command a user runs) as a child process on free ports and a fresh data
 * directory, ready when it prints its "listening" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LoadOptions } from './options.js';
import { sidecarCommand } from '../launch.js';

/** The checkout: this file runs as dist/bench/load/server.js. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface SidecarProcess {
  proc: ChildProcess;
  pid: number;
  otlpPort: number;
  grpcPort: number;
  apiPort: number;
  /** The last lines it wrote, for error messages. */
  output(): string;
  /** SIGTERM (drain, commit, checkpoint, exit); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function serverArgs(o: LoadOptions, dataDir: string): string[] {
  const args = baseArgs(dataDir);
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  if (o.flushMs !== undefined) args.push('--flush-ms', String(o.flushMs));
  if (o.ack !== undefined) args.push('--ack', o.ack);
  if (o.store !== undefined) args.push('--store', o.store);
  if (o.store === 'postgres' && o.postgresUrl !== undefined) args.push('--postgres-url', o.postgresUrl);
  return args;
}

function baseArgs(dataDir: string): string[] {
  return ['serve', '--data', dataDir, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0'];
}

export function startSidecar(o: LoadOptions, dataDir: string): Promise<SidecarProcess> {
  return spawnSidecar(serverArgs(o, dataDir), o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : []);
}

/** The sidecar with `keytally serve` flags of the caller's own (other benches). */
export function startSidecarWith(flags: string[], dataDir: string, nodeArgs: string[] = []): Promise<SidecarProcess> {
  return spawnSidecar([...baseArgs(dataDir), ...flags], nodeArgs);
}

async function spawnSidecar(args: string[], nodeArgs: string[]): Promise<SidecarProcess> {
  const c = sidecarCommand(args, nodeArgs);
  const proc = spawn(c.command, c.args, { cwd: ROOT, env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8000);
  };
  proc.stderr!.on('data', keep);
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const ports = await new Promise<{ otlp: number; api: number; grpc: number }>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      keep(d);
      out += d.toString();
      const m = /keytally listening otlp=(\d+) api=(\d+) grpc=(\d+)/.exec(out);
      if (m) {
        proc.stdout!.off('data', onData);
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        proc.stdout!.on('data', keep);
        resolve({ otlp: Number(m[1]), api: Number(m[2]), grpc: Number(m[3]) });
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`keytally exited with ${code} before listening:\n${tail}`)));
  });
  let stopping: Promise<number | null> | undefined;
  return {
    proc,
    pid: proc.pid!,
    otlpPort: ports.otlp,
    grpcPort: ports.grpc,
    apiPort: ports.api,
    output: () => tail,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        return exited;
      })();
      return stopping;
    },
  };
}
