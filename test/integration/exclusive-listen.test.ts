import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BIN, ROOT, startKeytally, tempDir, type Keytally } from '../helpers/server.js';
import { rmSync } from 'node:fs';

/** Runs `keytally serve` to its exit (it must not start), with what it printed. */
async function serveUntilExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = tempDir();
  const proc = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--otlp-grpc', '127.0.0.1:0', '--log-level', 'warn', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Should it start after all, the test must not leave it running.
  proc.stdout.on('data', () => {
    if (/keytally listening/.test(stdout)) proc.kill('SIGKILL');
  });
  const [code] = await once(proc, 'exit');
  rmSync(dir, { recursive: true, force: true });
  return { code: code as number | null, stdout, stderr };
}

describe('a second keytally on the same ports', () => {
  let first: Keytally;
  beforeAll(async () => {
    first = await startKeytally();
  });
  afterAll(async () => {
    await first.stop();
    first.cleanup();
  });

  it('refuses to start when the OTLP/HTTP port is taken: one line naming the port and the flag, exit 2', async () => {
    const r = await serveUntilExit(['--otlp-http', `127.0.0.1:${first.otlpPort}`, '--api', '127.0.0.1:0']);
    expect(r.stdout).not.toMatch(/keytally listening/);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${first.otlpPort}`);
    expect(lines[0]).toMatch(/OTLP\/HTTP/);
    expect(lines[0]).toMatch(/already in use/);
    expect(lines[0]).toMatch(/--otlp-http/);
  });

  it('refuses to start when the API port is taken, naming --api', async () => {
    const r = await serveUntilExit(['--otlp-http', '127.0.0.1:0', '--api', `127.0.0.1:${first.apiPort}`]);
    expect(r.stdout).not.toMatch(/keytally listening/);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${first.apiPort}`);
    expect(lines[0]).toMatch(/--api/);
    expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('leaves the first instance serving everything', async () => {
    const r = await first.get('/health');
    expect(r.status).toBe(200);
  });
});
