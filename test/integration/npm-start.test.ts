/**
 * `npm start` as the README shows it: SIGTERM to the npm process, and Ctrl-C (SIGINT to the whole
 * process group, as a terminal sends it), each drain keytally, leave no orphan and exit 0.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { ROOT, tempDir } from '../helpers/server.js';

async function npmStart(stop: (pid: number) => void): Promise<{ code: number | null; out: string; apiPort: number }> {
  const dir = tempDir();
  // detached: its own process group, which is what a terminal's Ctrl-C signals, and what cleanup kills.
  const proc = spawn('npm', ['start', '--', '--data', dir, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit');
  try {
    const apiPort = await new Promise<number>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /keytally listening otlp=\d+ api=(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', () => reject(new Error(`npm start exited before listening:\n${out}`)));
    });
    stop(proc.pid!);
    const [code] = await exited;
    return { code: code as number | null, out, apiPort };
  } finally {
    try {
      process.kill(-proc.pid!, 'SIGKILL'); // an orphaned keytally stays in the group
    } catch {
      // nothing left
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('SIGTERM to the npm process drains keytally, leaves no orphan and exits 0', async () => {
    const r = await npmStart((pid) => process.kill(pid, 'SIGTERM'));
    expect(r.out).toContain('keytally stopped');
    expect(await answers(r.apiPort)).toBe(false);
    expect(r.code, r.out).toBe(0);
  });

  it('Ctrl-C (SIGINT to the process group) drains keytally and exits 0', async () => {
    const r = await npmStart((pid) => process.kill(-pid, 'SIGINT'));
    expect(r.out).toContain('keytally stopped');
    expect(await answers(r.apiPort)).toBe(false);
    expect(r.code, r.out).toBe(0);
  });
});
