/**
 * The memory store's entries by service (Tables.serviceEntries, serviceCount:
 * what a service's overview reads) against a walk of every entry, while rows
 * are put, updated in place, removed (a template merged away) and evicted
 * (the bound); and the overview's totals of the fast reader against the
 * plain one's walk (MemoryQueries with `plain`).
 */
import { describe, expect, it } from 'vitest';
import { Tables, type KeyRec, type LogRec, type TemplateRec } from '../../src/store/memory/tables.js';
import { MemoryQueries } from '../../src/store/memory/read.js';
import { MemoryHistory } from '../../src/store/memory/history.js';
import { MemoryEstimates } from '../../src/store/memory/series-estimates.js';

const key = (service: string, k: string): KeyRec => ({
  service, scope: 'log', key: k, sample_count: 1, bytes: 10, cardinality_estimate: 1, sketch: new Uint8Array(64), first_seen: 1, last_seen: 1,
});
const template = (service: string, id: number): TemplateRec => ({
  service, severity: 'INFO', template_id: id, template: `t ${id}`, count: 1, bytes: 10, example: 'x', first_seen: 1, last_seen: 1,
});

const log = (service: string, severity: string, n: number): LogRec => ({
  service, severity, attribute_keys: [], resource_keys: [], body_keys: [], sample_count: n, bytes: 10 * n, first_seen: 1, last_seen: 1,
});

function walked(t: Tables, table: 'keys' | 'templates'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of t.entries(table)) out.set(e.service, [...(out.get(e.service) ?? []), e.key].sort());
  return out;
}

function grouped(t: Tables, table: 'keys' | 'templates', services: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of services) {
    const keys = [...t.serviceEntries(table, s)].map((e) => e.key).sort();
    expect(t.serviceCount(table, s)).toBe(keys.length);
    if (keys.length > 0) out.set(s, keys);
  }
  return out;
}

describe('memory Tables: entries by service', () => {
  it('follow puts, updates, removals and evictions', async () => {
    const services = ['a', 'b', 'c', 'nobody'];
    // Room for about 60 rows: the oldest are evicted as more come.
    const t = new Tables(60 * 600);
    for (let i = 0; i < 200; i++) {
      const s = services[i % 3]!;
      const sev = ['INFO', 'WARN', 'ERROR', 'info'][i % 4]!;
      t.put('logs', `${s}/${sev}`, log(s, sev, i));
      t.put('keys', `${s}/k${i % 90}`, key(s, `k${i % 90}`));
      t.put('templates', `${s}/${i % 40}`, template(s, i % 40));
      const e = t.entry('keys', `${s}/k${(i * 7) % 90}`);
      if (e) {
        e.row.sample_count++;
        t.updated(e);
      }
      if (i % 9 === 0) t.remove('templates', `${services[(i + 1) % 3]}/${i % 40}`);
      t.evict();
      expect(grouped(t, 'keys', services)).toEqual(walked(t, 'keys'));
      expect(grouped(t, 'templates', services)).toEqual(walked(t, 'templates'));
    }
    expect(t.evictions).toBeGreaterThan(0);
    expect(t.serviceCount('keys', 'nobody')).toBe(0);

    // The overview's totals: the fast reader's counts of the groups are the plain reader's walk.
    const h = new MemoryHistory();
    const fast = new MemoryQueries(t, h, new Map(), new MemoryEstimates(1 << 20));
    const plain = new MemoryQueries(t, h, new Map(), new MemoryEstimates(1 << 20), true);
    for (const s of services) expect(await fast.serviceTotals(s)).toEqual(await plain.serviceTotals(s));
    // The severities of one service, from its entries, are the plain reader's walk (and of all services).
    for (const s of [...services, undefined]) expect(await fast.severities(s)).toEqual(await plain.severities(s));
    expect((await fast.severities('a')).length).toBeGreaterThan(0);
    for (const s of services) {
      for (const ask of [(q: MemoryQueries) => q.keys({ service: s, page: { limit: 10, offset: 0, sort: 'cardinality_estimate', order: 'desc' } }),
        (q: MemoryQueries) => q.templates({ service: s, page: { limit: 10, offset: 2, sort: 'percentage', order: 'desc' } })]) {
        expect(await ask(fast)).toEqual(await ask(plain));
      }
    }
  });
});
