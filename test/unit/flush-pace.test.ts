import { describe, expect, it } from 'vitest';
import { MAX_STRETCH, flushDelay } from '../../src/util/flush-pace.js';

describe('flushDelay', () => {
  it('keeps flushMs for an idle worker and when nothing was measured', () => {
    expect(flushDelay(200, 0)).toBe(200);
    expect(flushDelay(200, Number.NaN)).toBe(200);
    expect(flushDelay(200, -0.1)).toBe(200);
  });

  it('stretches the interval as 1 / (1 - busy), up to MAX_STRETCH times flushMs', () => {
    expect(flushDelay(200, 0.2)).toBe(250);
    expect(flushDelay(200, 0.5)).toBe(400);
    expect(flushDelay(200, 0.75)).toBe(800);
    expect(flushDelay(200, 0.8)).toBe(200 * MAX_STRETCH);
    expect(flushDelay(200, 0.99)).toBe(200 * MAX_STRETCH);
    expect(flushDelay(200, 1)).toBe(200 * MAX_STRETCH);
    expect(flushDelay(200, 1.5)).toBe(200 * MAX_STRETCH);
    expect(MAX_STRETCH).toBe(5);
  });

  it('grows with the load, never shrinks below flushMs', () => {
    let prev = 0;
    for (let b = 0; b <= 1; b += 0.01) {
      const d = flushDelay(50, b);
      expect(d).toBeGreaterThanOrEqual(Math.max(prev, 50));
      prev = d;
    }
  });
});
