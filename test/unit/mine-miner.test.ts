import { describe, expect, it } from 'vitest';
import { TemplateMiner } from '../../src/mine/miner.js';
import { groupingAccuracy } from '../../src/mine/accuracy.js';
import { generateLogs } from '../helpers/log-generator.js';

function mineAll(lines: string[], miner = new TemplateMiner()): { miner: TemplateMiner; ids: number[] } {
  const raw = lines.map((l) => miner.add(l).id);
  return { miner, ids: raw.map((id) => miner.currentId(id)) };
}

function templateCounts(miner: TemplateMiner): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of miner.clusters()) m.set(c.template(), (m.get(c.template()) ?? 0) + c.count);
  return m;
}

describe('TemplateMiner accuracy on generated logs', () => {
  for (const seed of [1, 2, 3]) {
    it(`finds every known template exactly (seed ${seed})`, () => {
      const g = generateLogs({ seed, lines: 6000 });
      const { miner, ids } = mineAll(g.lines);
      expect(groupingAccuracy(ids, g.truth)).toBe(1);
      const found = [...templateCounts(miner).keys()].sort();
      expect(found).toEqual([...new Set(g.templates)].sort());
    });
  }

  it('counts every line once', () => {
    const g = generateLogs({ seed: 9, lines: 3000 });
    const { miner } = mineAll(g.lines);
    expect(miner.clusters().reduce((a, c) => a + c.count, 0)).toBe(3000);
  });
});
