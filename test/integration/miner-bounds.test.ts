import { describe, expect, it } from 'vitest';
import { startKeytally, post, waitFor } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango'];

/** Line i: a word sequence no other line shares, of varying length, so every line is its own template. */
function distinctLine(i: number): string {
  const n = 3 + (i % 5);
  return Array.from({ length: n }, (_, j) => `${WORDS[(i * 7 + j * 3) % WORDS.length]}${String.fromCharCode(97 + ((i + j) % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`).join(' ');
}

describe('miner bounds are visible', () => {
  it('evictions and overflow show in /metrics and every line is still counted once', async () => {
    const k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '1', '--miner-max-clusters', '3'] });
    const LINES = 200;
    for (let round = 0; round < LINES / 20; round++) {
      const logs = Array.from({ length: 20 }, (_, i) => ({ body: distinctLine(round * 20 + i), severityText: 'INFO' }));
      const res = await post(k, '/v1/logs', encodeProto('logs', logsRequest([{ resource: { 'service.name': 'chatty' }, logs }])));
      expect(res.status).toBe(200);
    }
    const t = await k.get('/api/v1/logs/templates?service=chatty&limit=1000');
    expect(t.body.items.reduce((a: number, i: any) => a + i.count, 0)).toBe(LINES);
    // Worker counters reach /metrics with the writer's stats, posted once a second: poll, bounded.
    const bounded = async () => {
      const text = (await k.get('/metrics')).body as string;
      const n = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return n('keytally_miner_evictions_total') + n('keytally_miner_overflow_total');
    };
    expect(await waitFor(bounded, (n) => n > 0, 10_000)).toBeGreaterThan(0);
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
