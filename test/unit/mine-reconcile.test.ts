/**
 * Point 8: a stream split round-robin over four worker miners, folded by a writer
 * with addTemplate at every drain, ends with the same templates and counts as one
 * miner over the whole stream; the writer's state survives a restart (restore).
 */
import { describe, expect, it } from 'vitest';
import { TemplateMiner } from '../../src/mine/miner.js';
import { generateLogs } from '../helpers/log-generator.js';

function snapshot(m: TemplateMiner): Array<[string, number]> {
  const byTpl = new Map<string, number>();
  for (const c of m.clusters()) byTpl.set(c.template(), (byTpl.get(c.template()) ?? 0) + c.count);
  return [...byTpl].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function viaWorkers(lines: string[], workers: number, drainEvery: number, writer = new TemplateMiner()): TemplateMiner {
  const ws = Array.from({ length: workers }, () => new TemplateMiner());
  const fold = (): void => {
    for (const w of ws) for (const d of w.drain()) writer.addTemplate(d.template, d.count, d.lastSeen);
  };
  lines.forEach((l, i) => {
    ws[i % workers]!.add(l, i);
    if ((i + 1) % drainEvery === 0) fold();
  });
  fold();
  return writer;
}

describe('writer folding templates from four workers', () => {
  for (const [seed, drainEvery] of [
    [1, 100],
    [2, 1000],
    [3, 37],
  ] as const) {
    it(`matches one miner (seed ${seed}, drain every ${drainEvery} lines)`, () => {
      const g = generateLogs({ seed, lines: 8000 });
      const single = new TemplateMiner();
      for (const l of g.lines) single.add(l);
      const writer = viaWorkers(g.lines, 4, drainEvery);
      expect(snapshot(writer)).toEqual(snapshot(single));
      expect(writer.clusters().reduce((a, c) => a + c.count, 0)).toBe(8000);
    });
  }

  it('keeps ids and templates across a restart (restore), then keeps folding', () => {
    const g = generateLogs({ seed: 5, lines: 6000 });
    const first = g.lines.slice(0, 3000);
    const rest = g.lines.slice(3000);
    const writer = viaWorkers(first, 4, 200);
    const saved = writer.clusters().map((c) => ({ id: c.id, template: c.template(), count: c.count }));

    const restarted = new TemplateMiner();
    for (const s of saved) restarted.restore(s.id, s.template, s.count);
    expect(restarted.clusters().map((c) => [c.id, c.template(), c.count]).sort()).toEqual(saved.map((s) => [s.id, s.template, s.count]).sort());
    const maxId = Math.max(...saved.map((s) => s.id));
    viaWorkers(rest, 4, 200, restarted);
    // Lines of known templates land in the restored clusters: same ids, counts add up.
    for (const s of saved) expect(restarted.clusters().find((c) => c.id === s.id)?.template()).toBe(s.template);
    for (const c of restarted.clusters()) if (!saved.some((s) => s.id === c.id)) expect(c.id).toBeGreaterThan(maxId);
    expect(restarted.clusters().reduce((a, c) => a + c.count, 0)).toBe(6000);
    const single = new TemplateMiner();
    for (const l of g.lines) single.add(l);
    expect(snapshot(restarted)).toEqual(snapshot(single));
  });
});
