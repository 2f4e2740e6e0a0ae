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

describe('miners of one thread share their scanners', () => {
  const linesA = Array.from({ length: 300 }, (_, i) => `user ${i} logged in from 10.0.${i % 7}.${i % 250} after ${i * 3} ms`);
  const linesB = Array.from({ length: 300 }, (_, i) => `disk /dev/sd${'abc'[i % 3]} at ${i}% usage, ${i % 5} errors`);
  const templates = (m: TemplateMiner) => m.clusters().map((c) => `${c.template()} x${c.count}`).sort();

  it('gives the same templates when two miners are used in turn as when each is used alone', () => {
    const aloneA = new TemplateMiner();
    for (const l of linesA) aloneA.add(l);
    const aloneB = new TemplateMiner();
    for (const l of linesB) aloneB.add(l);
    const a = new TemplateMiner();
    const b = new TemplateMiner();
    for (let i = 0; i < 300; i++) {
      a.add(linesA[i]!);
      b.add(linesB[i]!);
      // Drains (which scan examples) in between, too.
      if (i % 50 === 0) {
        a.drain();
        b.drain();
      }
    }
    expect(templates(a)).toEqual(templates(aloneA));
    expect(templates(b)).toEqual(templates(aloneB));
    // Examples are scanned in the shared example scanner: each miner's are its own lines.
    const exA = a.drain().map((d) => d.example);
    const exB = b.drain().map((d) => d.example);
    expect(exA.length).toBeGreaterThan(0);
    expect(exB.length).toBeGreaterThan(0);
    expect(exA.every((e) => e.startsWith('user '))).toBe(true);
    expect(exB.every((e) => e.startsWith('disk '))).toBe(true);
  });

  it('does not give each miner its own typed arrays', () => {
    const before = process.memoryUsage().arrayBuffers;
    const miners = Array.from({ length: 200 }, () => new TemplateMiner());
    for (const m of miners) m.add('connection from 10.1.2.3 closed');
    // One scanner of its own per miner was about 120 KB of typed arrays: 24 MB for 200.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 * 1024 * 1024);
  });
});
