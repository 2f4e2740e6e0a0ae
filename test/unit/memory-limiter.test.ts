import { describe, expect, it } from 'vitest';
import { MemoryLimiter } from '../../src/server/memory-limiter.js';

const MB = 1024 * 1024;

/** A limiter of 100 MB (soft 80) whose RSS the test sets. */
function limiter(rssMb: number) {
  let rss = rssMb * MB;
  const l = new MemoryLimiter({ limitBytes: 100 * MB, softFraction: 0.8, costFactor: 2, compressedCostFactor: 16, sampleMs: 100, rss: () => rss });
  l.sample();
  return {
    l,
    setRss(mb: number) {
      rss = mb * MB;
      l.sample();
    },
  };
}

describe('MemoryLimiter', () => {
  it('admits under the soft limit and counts what is in flight against it', () => {
    const { l } = limiter(50);
    expect(l.softBytes).toBe(80 * MB);
    expect(l.admit(10 * MB)).toBe('ok');
    l.reserve(l.cost(10 * MB)); // 20 MB
    expect(l.admit(4 * MB)).toBe('ok'); // 50 + 20 + 8 = 78 MB
    expect(l.admit(5 * MB)).toBe('soft'); // 50 + 20 + 10 = 80 MB: at the limit
    l.reserve(l.cost(4 * MB)); // 28 MB reserved
    // 50 + 28 + 2 * 2 = 82 MB: over the soft limit although the RSS itself is not.
    expect(l.admit(2 * MB)).toBe('soft');
    expect(l.level).toBe('ok');
    expect(l.refusals).toEqual({ soft: 2, hard: 0 });
    l.release(l.cost(10 * MB));
    expect(l.admit(2 * MB)).toBe('ok');
  });

  it('counts a compressed body at its own factor (its inflated size is unknown)', () => {
    const { l } = limiter(50);
    l.reserve(1);
    expect(l.admit(1 * MB, false)).toBe('ok');
    expect(l.admit(2 * MB, true)).toBe('soft'); // 32 MB
  });

  it('lets one request in when nothing is in flight, if it fits under the hard limit', () => {
    const { l } = limiter(50);
    expect(l.admit(24 * MB)).toBe('ok'); // 50 + 48 = 98 MB: past the soft limit, under the hard one
    l.reserve(l.cost(24 * MB));
    expect(l.admit(1)).toBe('soft');
    l.release(l.cost(24 * MB));
    expect(l.admit(25 * MB)).toBe('soft'); // 100 MB: would reach the hard limit
  });

  it('answers soft when the RSS is at the soft limit and something is in flight; one at a time otherwise', () => {
    const { l } = limiter(85);
    expect(l.level).toBe('soft');
    expect(l.admit(1 * MB)).toBe('ok');
    l.reserve(l.cost(1 * MB));
    expect(l.admit(1)).toBe('soft');
  });

  it('sheds everything at the hard limit until the RSS is back under the soft one', () => {
    const t = limiter(50);
    t.setRss(100);
    expect(t.l.level).toBe('hard');
    expect(t.l.admit(1)).toBe('hard');
    t.setRss(90); // under hard, over soft: still shedding
    expect(t.l.admit(1)).toBe('hard');
    t.setRss(79);
    expect(t.l.level).toBe('ok');
    expect(t.l.admit(1)).toBe('ok');
    expect(t.l.refusals).toEqual({ soft: 0, hard: 2 });
    expect(t.l.peakRss).toBe(100 * MB);
  });

  it('ends hard shedding when, idle, the RSS stays under the hard limit without falling (heaps keep their pages)', () => {
    const t = limiter(50);
    t.setRss(100);
    t.l.sample();
    expect(t.l.level).toBe('hard');
    t.setRss(90);
    for (let i = 0; i < t.l.settleSamples - 1; i++) t.l.sample();
    expect(t.l.level).toBe('hard');
    t.l.sample();
    expect(t.l.level).toBe('soft');
    // Then the soft rules: one request at a time while over the soft limit, none that could reach the hard one.
    expect(t.l.admit(1)).toBe('ok');
    t.l.reserve(t.l.cost(1));
    expect(t.l.admit(1)).toBe('soft');
  });

  it('keeps shedding while the RSS falls, or while anything is in flight', () => {
    const t = limiter(50);
    t.setRss(100);
    t.l.sample();
    t.l.reserve(1);
    t.setRss(90);
    for (let i = 0; i < t.l.settleSamples * 2; i++) t.l.sample();
    expect(t.l.level).toBe('hard');
    t.l.reserved = 0;
    for (let i = 0; i < t.l.settleSamples * 2; i++) {
      t.setRss(90 - i * 0.1);
      t.l.sample();
    }
    expect(t.l.level).toBe('hard');
  });

  it('rejects a soft fraction out of range', () => {
    expect(() => new MemoryLimiter({ limitBytes: MB, softFraction: 0, costFactor: 1, compressedCostFactor: 1, sampleMs: 10 })).toThrow(/softFraction/);
  });
});
