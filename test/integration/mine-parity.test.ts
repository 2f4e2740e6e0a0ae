/**
 * Issue 15, point 4: `keytally mine` is the server's miner, structured bodies included.
 * The same lines — plain, JSON with a message field, logfmt, JSON without one, empty —
 * sent over OTLP (two workers, string bodies) and mined from a file give the same
 * templates with the same counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, post, startKeytally, tempDir, type Keytally } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { rng } from '../helpers/log-generator.js';

let k: Keytally;
const dir = tempDir('keytally-parity-');
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2'] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function lines(): string[] {
  const r = rng(3);
  const n = (max: number) => Math.floor(r() * max);
  const out: string[] = [];
  for (let i = 0; i < 600; i++) {
    switch (i % 7) {
      case 0: out.push(`{"level":"info","msg":"request done","path":"/a/${n(100)}","ms":${n(900)}}`); break;
      case 1: out.push(`level=warn msg="db timeout after ${n(60)}s" table=orders`); break;
      case 2: out.push(`{"level":"info","path":"/x/${n(9)}","status":${200 + n(3)}}`); break;
      case 3: out.push(`user ${n(1000)} logged in from 10.0.${n(255)}.${n(255)}`); break;
      case 4: out.push(`connect [2001:db8::${n(99)}]:443 refused`); break;
      case 5: out.push(i % 2 === 0 ? '' : `worker ${n(10)} ${['spawned', 'destroyed'][n(2)]} for job ${n(1e6)}`); break;
      default: out.push(`ts=2024-01-0${1 + n(8)}T10:00:00Z msg="cache miss" key=k${n(500)}`);
    }
  }
  return out;
}

describe('keytally mine and the server give the same templates', () => {
  it('for plain, JSON, logfmt and empty bodies', async () => {
    const all = lines();
    for (let i = 0; i < all.length; i += 100) {
      const req = logsRequest([{ resource: { 'service.name': 'parity' }, logs: all.slice(i, i + 100).map((body) => ({ body, severityText: 'INFO' })) }]);
      expect((await post(k, '/v1/logs', encodeProto('logs', req))).status).toBe(200);
    }
    const api = await k.get('/api/v1/logs/templates?service=parity&severity=INFO&limit=1000');
    expect(api.status).toBe(200);
    const server = new Map<string, number>((api.body.items as Array<{ template: string; count: number }>).map((t) => [t.template, t.count]));

    const file = join(dir, 'lines.log');
    writeFileSync(file, all.join('\n') + '\n');
    const r = spawnSync(process.execPath, [BIN, 'mine', file, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const mined = new Map<string, number>((JSON.parse(r.stdout).templates as Array<{ template: string; count: number }>).map((t) => [t.template, t.count]));

    expect(mined).toEqual(server);
    // What the reduction gives, so the test cannot pass by both sides mining raw JSON.
    expect(mined.get('request done')).toBe(86);
    expect(mined.get('{level, path, status}')).toBe(86);
    expect(mined.has('<empty>')).toBe(true);
    expect(mined.get('connect <IP> refused')).toBe(86);
    expect([...mined.values()].reduce((a, b) => a + b, 0)).toBe(600);
  });
});
