import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeytally, type Keytally } from '../helpers/server.js';

// Refusals that ordinary HTTP/1.1 clients can read (issue 13, points 1 and 3). The sidecar runs with a memory limit
// under its idle RSS (64 MB), so the memory limiter sheds every request with 503 + Retry-After: deterministic, and the
// path an overload takes (the soft limit's 429 differs only in status and Retry-After; unit-tested). Before, a refusal was answered before the body was read and the connection
// closed, which broke the pipe under clients still writing large bodies.
let k: Keytally;
let dir: string;
beforeAll(async () => {
  k = await startKeytally({ args: ['--memory-limit-mb', '64'] });
  dir = mkdtempSync(join(tmpdir(), 'keytally-refusals-'));
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A 2 MB protobuf-looking body: the content does not matter, it is refused before anything reads it. */
const BODY = Buffer.alloc(2 * 1024 * 1024, 0x0a);

function post(agent: http.Agent, body: Buffer): Promise<{ status: number; retryAfter: string | undefined; reused: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: k.otlpPort, path: '/v1/logs', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], reused: req.reusedSocket, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('refused requests (memory limiter over its hard limit)', () => {
  it("Node's http client with keep-alive reads every 503 and its Retry-After, and the connections are kept", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const results = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const mine = [];
        for (let i = 0; i < 4; i++) mine.push(await post(agent, BODY));
        return mine;
      }),
    );
    agent.destroy();
    const all = results.flat();
    expect(all).toHaveLength(64);
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([503]));
    expect(new Set(all.map((r) => r.retryAfter))).toEqual(new Set(['2']));
    expect(JSON.parse(all[0]!.text)).toMatchObject({ code: 14, message: expect.stringMatching(/hard limit \(--memory-limit-mb 64\)/) });
    // Every connection was reused after its first request: the body was read, so the connection stayed usable.
    expect(all.filter((r) => r.reused)).toHaveLength(48);
  });

  it('curl gets the 503 with Retry-After and reuses the connection for the next request', () => {
    const file = join(dir, 'body.bin');
    writeFileSync(file, BODY);
    const url = `${k.otlpUrl}/v1/logs`;
    const r = spawnSync(
      'curl',
      ['-sS', '-o', '/dev/null', '-D', '-', '-H', 'Content-Type: application/x-protobuf', '--data-binary', `@${file}`, '-w', 'status=%{http_code} connects=%{num_connects}\n', url, '--next', '-sS', '-o', '/dev/null', '-H', 'Content-Type: application/x-protobuf', '--data-binary', `@${file}`, '-w', 'status=%{http_code} connects=%{num_connects}\n', url],
      { encoding: 'utf8' },
    );
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Retry-After: 2\r$/im);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('status='));
    expect(lines).toEqual(['status=503 connects=1', 'status=503 connects=0']);
  });

  it('/metrics shows the limiter shedding and counts its refusals; start-up warned', async () => {
    const m = await k.get('/metrics');
    const text = m.body as string;
    expect(text).toMatch(/^keytally_memory_limiter_state 2$/m);
    expect(text).toMatch(/^keytally_memory_limiter_limit_bytes\{level="hard"\} 67108864$/m);
    expect(text).toMatch(/^keytally_memory_limiter_limit_bytes\{level="soft"\} 53687091$/m);
    expect(text).toMatch(/^keytally_memory_limiter_refusals_total\{level="soft"\} 0$/m);
    const refused = Number(/^keytally_memory_limiter_refusals_total\{level="hard"\} (\d+)$/m.exec(text)?.[1]);
    expect(refused).toBe(66);
    const rss = Number(/^keytally_memory_limiter_rss_bytes (\d+)$/m.exec(text)?.[1]);
    expect(rss).toBeGreaterThan(67108864);
    expect(text).toMatch(/^keytally_dropped_requests_total\{protocol="http",signal="logs",reason="unavailable"\} 66$/m);
    expect(k.stderr()).toMatch(/already over the soft memory limit/);
  });
});
