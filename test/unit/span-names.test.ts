/**
 * Issue 11, point 4: span names that embed ids or numbers are masked by the miner's
 * scanner, so one operation is one row of the span inventory with its count, and the
 * raw name never leaves the worker.
 */
import { describe, expect, it } from 'vitest';
import { Extractor } from '../../src/extract/extractor.js';
import { SpanNames } from '../../src/extract/span-names.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import type { TracesRequest } from '../../src/model/otlp.js';

const opts = { workerId: 1, precision: 12, minerMaxClusters: 100, minerMaxLineLength: 4096 };

function traces(names: string[]): TracesRequest {
  return {
    resources: [
      {
        attrs: [{ key: 'service.name', value: 'shop' }],
        scopes: [{ scopeName: 's', spans: names.map((name) => ({ name, kind: 2, startUnixMs: 0, attrs: [], events: [], statusCode: 0 })) }],
      },
    ],
  };
}

describe('span names in the inventory', () => {
  it('one row per operation, whatever ids and numbers the names embed', async () => {
    const e = new Extractor(await createKeyedHasher(7n), opts);
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      names.push(`GET /api/orders/${8000 + i}`);
      names.push(`SELECT * FROM orders WHERE id = ${i * 7}`);
      names.push(`POST /api/carts/${(0x1f3a9c2e00 + i).toString(16)}/items`);
    }
    names.push('GET /health');
    e.foldTraces(traces(names), 1);
    const batch = e.flush();
    const rows = batch.spans.map((s) => [s.name, s.count]).sort();
    expect(rows).toEqual([
      ['GET /api/orders/<NUM>', 200],
      ['GET /health', 1],
      ['POST /api/carts/<HEX>/items', 200],
      ['SELECT * FROM orders WHERE id = <NUM>', 200],
    ]);
    // The raw names are nowhere in what the worker sends.
    const sent = JSON.stringify(batch);
    expect(sent).not.toContain('8012');
    expect(sent).not.toContain('1f3a9c2e0');
  });

  it('names the same way every time (workers and restarts agree), whitespace-only names visibly', () => {
    const a = new SpanNames(4096);
    const b = new SpanNames(4096);
    for (let i = 0; i < 10_000; i++) a.of(`job ${i} done`); // past the memo's bound: it resets, names stay
    expect(a.of('GET /api/orders/77')).toBe(b.of('GET /api/orders/9'));
    expect(a.of('job 123456 done')).toBe('job <NUM> done');
    expect(a.of('  ')).toBe('<empty>');
    expect(a.of('checkout')).toBe('checkout');
  });
});
